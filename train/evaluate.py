"""Held-out loss and bits per character, on each held-out slice of a mixture.

A slice is read as one stream (EOS, then each document and its EOS) cut into windows of
the training sequence length; every token after the first is predicted exactly once
(each window's first target is the previous window's last input). Bits per character
is the slice's total loss in nats / ln 2 / its documents' characters: the characters
are the same whatever the tokenizer, so models with different tokenizers compare.

    python -m train.evaluate --ckpt out/train/tiny/checkpoints/step-0000200   (make eval CKPT=...)

writes CKPT/eval.json and CKPT/eval.png (bits per character per slice, and over training
when the run evaluated as it went).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.distributed as dist

from train.inference import bits_per_char, load_checkpoint_model
from train.mix_stream import HeldOut, heldout_slices, is_mixture, load_mix_manifest

IGNORE = -100


def _window(held: HeldOut, w: int, seq_len: int, eos_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets of window w, padded to seq_len (padding targets ignored)."""
    n = len(held.stream)
    rows = held.stream.window(w * seq_len, min((w + 1) * seq_len + 1, n))
    x = np.full(seq_len, eos_id, dtype=np.int64)
    y = np.full(seq_len, IGNORE, dtype=np.int64)
    x[: len(rows) - 1], y[: len(rows) - 1] = rows[:-1], rows[1:]
    return x, y


@torch.no_grad()
def evaluate_slice(model, held: HeldOut, seq_len: int, batch: int, eos_id: int, env) -> dict:
    """{loss (nats per token), bits_per_char, tokens, chars, docs}. Every rank runs the same
    number of forwards (FSDP gathers each block's weights in all of them), the windows
    dealt out rank by rank; ranks past the end run an all-ignored batch."""
    windows = math.ceil((len(held.stream) - 1) / seq_len)
    per_round = env.world * batch
    totals = torch.zeros(2, dtype=torch.float64, device=env.device)  # nats, predicted tokens
    for first in range(0, windows, per_round):
        mine = range(first + env.rank * batch, first + (env.rank + 1) * batch)
        pairs = [_window(held, w, seq_len, eos_id) for w in mine if w < windows]
        pad = (np.full(seq_len, eos_id, np.int64), np.full(seq_len, IGNORE, np.int64))
        pairs += [pad] * (batch - len(pairs))
        x = torch.from_numpy(np.stack([p[0] for p in pairs])).to(env.device)
        y = torch.from_numpy(np.stack([p[1] for p in pairs])).to(env.device)
        loss = model(x, targets=y)
        valid = int((y != IGNORE).sum())
        if valid:
            totals += torch.tensor([float(loss) * valid, valid], dtype=torch.float64, device=env.device)
    dist.all_reduce(totals)
    nats, tokens = float(totals[0]), int(totals[1])
    return {
        "loss": nats / tokens if tokens else float("nan"),
        "bits_per_char": bits_per_char(nats, held.chars),
        "tokens": tokens,
        "chars": held.chars,
        "docs": held.docs,
    }


def evaluate(model, slices: dict[str, HeldOut], seq_len: int, batch: int, eos_id: int, env) -> dict[str, dict]:
    was_training = model.training
    model.eval()
    try:
        return {name: evaluate_slice(model, held, seq_len, batch, eos_id, env) for name, held in slices.items()}
    finally:
        model.train(was_training)


def describe(results: dict[str, dict]) -> str:
    return " | ".join(f"{name} loss {r['loss']:.4f} bpc {r['bits_per_char']:.4f}" for name, r in results.items())


def mixture_slices(tokens_dir: str | None) -> tuple[dict[str, HeldOut], int]:
    """The held-out slices of the mixture at tokens_dir, and its EOS id."""
    if not tokens_dir or not is_mixture(tokens_dir):
        raise SystemExit(f"{tokens_dir}: held-out slices come from a mixture (make mix), and this is none")
    return heldout_slices(tokens_dir), int(load_mix_manifest(tokens_dir)["eos_id"])


# ----------------------------------------------------------------------------- make eval


def plot(results: dict[str, dict], history: list[dict], path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2 if history else 1, figsize=(11 if history else 6, 4), squeeze=False)
    names = list(results)
    axes[0][0].bar(names, [results[n]["bits_per_char"] for n in names], color="#4c72b0")
    axes[0][0].set_ylabel("bits per character")
    axes[0][0].set_title(title)
    if history:
        for name in names:
            points = [(h["step"], h["eval"][name]["bits_per_char"]) for h in history if name in h["eval"]]
            axes[0][1].plot(*zip(*points), marker="o", label=name)
        axes[0][1].set_xlabel("step")
        axes[0][1].set_ylabel("held-out bits per character")
        axes[0][1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def eval_history(run_out: str) -> list[dict]:
    path = os.path.join(run_out, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [r for r in map(json.loads, f) if "eval" in r]


def main(argv=None) -> int:
    from train.fsdp import close_distributed, init_distributed

    ap = argparse.ArgumentParser(prog="python -m train.evaluate", description="held-out bits per character")
    ap.add_argument("--ckpt", required=True, help="a checkpoint folder (OUT/checkpoints/step-NNNNNNN)")
    ap.add_argument("--mix", default=None, help="the mixture whose held-out slices to read (default: the run's)")
    ap.add_argument("--batch", type=int, default=8, help="windows per forward")
    ap.add_argument("--cpu", action="store_true")
    args = ap.parse_args(argv)
    ckpt = os.path.normpath(args.ckpt)
    env = init_distributed(cpu=args.cpu)
    finished = False
    try:
        model, trainer = load_checkpoint_model(ckpt, env.device)
        mix = args.mix or trainer.get("tokens")
        slices, eos_id = mixture_slices(mix)
        if load_mix_manifest(mix)["tokenizer_hash"] != trainer["run"]["tokenizer_hash"]:
            raise SystemExit(f"{mix}: tokenized with another tokenizer than the checkpoint's model")
        results = evaluate(model, slices, trainer["run"]["seq_len"], args.batch, eos_id, env)
        finished = True
    finally:
        close_distributed(finished)
    report = {"checkpoint": os.path.abspath(ckpt), "step": trainer["step"], "mixture": os.path.abspath(mix)}
    report["slices"] = results
    with open(os.path.join(ckpt, "eval.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    run_out = os.path.dirname(os.path.dirname(os.path.abspath(ckpt)))
    plot(results, eval_history(run_out), os.path.join(ckpt, "eval.png"), f"step {trainer['step']}")
    print(f"step {trainer['step']}: {describe(results)} -> {os.path.join(ckpt, 'eval.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
