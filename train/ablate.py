"""Ablate a curation recipe: the same input curated with recipe A and with recipe B, the
same tiny model trained on each with several seeds (same config, token budget and
tokenizer, so the arms differ in their data only), every run evaluated on the same text.

    python -m train.ablate --a pipelines/recipes/ablations/ko-raw.yaml --b pipelines/recipes/ko.yaml \
        --lang ko --input reviews.jsonl.gz news.jsonl.gz --reference wiki.jsonl.gz --out out/ablate/raw-vs-ko
    (make ablate A=... B=... INPUT=... REFERENCE=...)

Evaluation text: documents held out of the input by id hash before curation (neither arm
trains on them, nor on a copy of their text), and a clean reference slice from other
files (--reference). Bits per character (train.evaluate) on each, per run; OUT/ablate.json,
OUT/ablate.md (the table printed) and OUT/ablate.png (train.ablate_report).

Every step is kept in CACHE under a hash of what it depends on, written under a temporary
name and renamed when whole, so a rerun (or another ablation of the same input) reuses
the split, each arm's corpus and token shards, and each finished run:
    CACHE/split-KEY/         train.ablate_split; the tokenizer both arms use, trained on
                             the training documents before curation
    CACHE/corpus-KEY/        curate corpus with one recipe;  CACHE/tokens-KEY/: its tokens
    CACHE/run-KEY/run.json   one seed's losses and bits per character (checkpoint removed)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np

from curate.recipe import load_recipe
from train import ablate_split as S
from train.ablate_report import build_report, write_report

ROOT = Path(__file__).resolve().parents[1]


def digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def trainer_code_sha256() -> str:
    """The trainer's and kernels' sources, this module's own left out (a report change
    should not retrain every arm)."""
    h = hashlib.sha256()
    for folder in ("train", "kernels"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not path.name.startswith("ablate"):
                h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def recipe_key(path: str, lang: str) -> str:
    """The recipe as the curator reads it (includes resolved), not its file's bytes."""
    recipe = load_recipe(lang, path)
    recipe.pop("_path", None)
    return digest(recipe)


def in_place(final: str, make) -> str:
    """final when it exists (a finished step), else make(tmp) and rename tmp to final. Two
    ablations sharing the cache may make one step at once: the first rename wins, and the
    other's copy (the same step) is dropped."""
    if os.path.exists(final):
        return final
    tmp = f"{final}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        make(tmp)
        try:
            os.replace(tmp, final)
        except OSError:
            if not os.path.isdir(final):
                raise
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return final


# ----------------------------------------------------------------------------- the steps


def make_split(args, cache: str) -> tuple[str, dict]:
    opts = {
        "heldout": args.heldout,
        "heldout_max_chars": args.heldout_max_chars,
        "reference_max_chars": args.reference_max_chars,
    }
    folder = os.path.join(cache, "split-" + S.split_key(args.input, args.reference or [], opts))
    if not os.path.exists(folder):
        S.split_input(args.input, args.reference or [], folder, opts)
    with open(os.path.join(folder, "split.json"), encoding="utf-8") as f:
        return folder, json.load(f)


def shared_tokenizer(split: str) -> str:
    """A small BPE on the training documents before curation: one tokenizer for both arms."""
    from train import data as D

    folder = os.path.join(split, "tokenizer")
    if not os.path.exists(folder):
        D.train_small_tokenizer(S.read_texts(os.path.join(split, "train.jsonl")), folder)
    return folder


def curate(recipe: str, lang: str, split: str, cache: str, workers: int | None) -> tuple[str, str]:
    """CACHE/corpus-KEY for the recipe on the split's training documents, and KEY."""
    key = digest([recipe_key(recipe, lang), os.path.basename(split)])

    def run_curate(tmp: str) -> None:
        cmd = [sys.executable, "-m", "curate.cli", "corpus", "--lang", lang, "--recipe", recipe]
        cmd += ["--input", os.path.join(split, "train.jsonl"), "--output", tmp, "--no-progress"]
        cmd += ["--workers", str(workers)] if workers else []
        print(f"curating with {recipe} -> {tmp}", flush=True)
        subprocess.run(cmd, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})

    return in_place(os.path.join(cache, f"corpus-{key}"), run_curate), key


def tokenize(corpus: str, key: str, tokenizer: str, cache: str) -> str:
    from train.token_shards import write_token_shards

    final = os.path.join(cache, f"tokens-{key}")
    if not os.path.exists(final):
        write_token_shards(corpus, tokenizer, final, workers=1)
    return final


def eval_slices(split: str, tokenizer: str) -> dict:
    """{name: HeldOut}: the held-out documents and the reference, each one stream
    (EOS, then each document and its EOS) in the shared tokenizer."""
    from train import data as D
    from train.mix_stream import HeldOut

    slices = {}
    for name, file in (("held-out", "heldout.jsonl"), ("reference", "reference.jsonl")):
        texts = S.read_texts(os.path.join(split, file))
        if texts:
            ids, eos_id, _ = D.encode_texts(tokenizer, texts)
            stream = D.TokenStream([np.array([eos_id], dtype=np.int64), ids])
            slices[name] = HeldOut(stream, sum(map(len, texts)), len(texts))
    return slices


def train_args(args, tokens: str, seed: int, out: str) -> list[str]:
    argv = ["--size", args.size, "--tokens", tokens, "--steps", str(args.steps), "--seed", str(seed)]
    argv += ["--global-batch-tokens", str(args.global_batch_tokens), "--out", out, "--eval-every", "0"]
    argv += ["--ckpt-every", str(args.steps), "--keep-checkpoints", "1", "--no-export"]
    argv += ["--cpu"] if args.cpu else []
    argv += ["--seq-len", str(args.seq_len)] if args.seq_len else []
    argv += ["--lr", str(args.lr)] if args.lr else []
    return argv


def run_config(args) -> dict:
    """What makes two runs on one corpus the same run, beside the seed."""
    return {
        "size": args.size,
        "steps": args.steps,
        "global_batch_tokens": args.global_batch_tokens,
        "seq_len": args.seq_len,
        "lr": args.lr,
        "cpu": args.cpu,
        "trainer_code": trainer_code_sha256(),
    }


def evaluate_checkpoint(ckpt: str, slices: dict, eos_id: int, cpu: bool) -> tuple[dict, dict]:
    from train.evaluate import evaluate
    from train.fsdp import close_distributed, init_distributed
    from train.inference import load_checkpoint_model

    env = init_distributed(cpu=cpu)
    finished = False
    try:
        model, trainer = load_checkpoint_model(ckpt, env.device)
        results = evaluate(model, slices, trainer["run"]["seq_len"], 8, eos_id, env)
        finished = True
    finally:
        close_distributed(finished)
    return results, trainer


def train_and_eval(args, tokens: str, key: str, seed: int, slices: dict, cache: str) -> dict:
    """One seed on one arm: CACHE/run-KEY/run.json (reused when there)."""
    from train import train as T
    from train.mix_stream import open_tokens

    final = os.path.join(cache, "run-" + digest([key, seed, run_config(args)]))

    def run(tmp: str) -> None:
        print(f"training {os.path.basename(tokens)} seed {seed} -> {tmp}", flush=True)
        result = T.run(train_args(args, tokens, seed, tmp))
        corpus = open_tokens(tokens)
        ckpt = os.path.join(tmp, "checkpoints", f"step-{result['step']:07d}")
        scores, trainer = evaluate_checkpoint(ckpt, slices, corpus.eos_id, args.cpu)
        record = {"seed": seed, "steps": result["step"], "losses": result["losses"], "eval": scores}
        record["run"] = {k: trainer["run"][k] for k in ("tokenizer_hash", "global_batch_tokens", "seq_len", "seed")}
        record["run"]["model_config"] = trainer["run"]["model_config"]
        record["train_tokens"] = trainer["run"]["global_batch_tokens"] * result["step"]
        shutil.rmtree(os.path.join(tmp, "checkpoints"))  # run.json holds what the report needs
        with open(os.path.join(tmp, "run.json"), "w", encoding="utf-8") as f:
            json.dump(record, f)

    in_place(final, run)
    with open(os.path.join(final, "run.json"), encoding="utf-8") as f:
        return json.load(f)


def run_arm(args, recipe: str, split: str, tokenizer: str, slices: dict) -> dict:
    corpus, key = curate(recipe, args.lang, split, args.cache, args.workers)
    tokens = tokenize(corpus, key, tokenizer, args.cache)
    with open(os.path.join(tokens, "manifest.json"), encoding="utf-8") as f:
        tm = json.load(f)
    runs = [train_and_eval(args, tokens, key, seed, slices, args.cache) for seed in seeds(args)]
    return {
        "recipe": os.path.abspath(recipe),
        "recipe_key": key,
        "corpus": os.path.abspath(corpus),
        "tokens": os.path.abspath(tokens),
        "docs": tm["n_docs"],
        "unique_tokens": tm["n_tokens"],
        "chars": tm["n_chars"],
        "tokenizer_hash": tm["tokenizer_hash"],
        "runs": runs,
    }


def seeds(args) -> list[int]:
    return list(range(args.first_seed, args.first_seed + args.seeds))


# ----------------------------------------------------------------------------- main


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m train.ablate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", required=True, help="recipe A (the baseline)")
    ap.add_argument("--b", required=True, help="recipe B (the change)")
    ap.add_argument("--lang", required=True)
    ap.add_argument("--input", nargs="+", required=True, help="JSON Lines (.gz) with id and text")
    ap.add_argument("--reference", nargs="*", default=[], help="clean reference text (JSON Lines) also evaluated")
    ap.add_argument("--out", required=True, help="ablate.json, ablate.md, ablate.png")
    ap.add_argument("--cache", default="out/ablate/cache", help="finished steps, shared between ablations")
    ap.add_argument("--seeds", type=int, default=3, help="runs per arm, seeds FIRST_SEED, FIRST_SEED+1, ...")
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--size", default="tiny")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--global-batch-tokens", type=int, default=2048, help="tokens per step; x steps = the budget")
    ap.add_argument("--seq-len", type=int, default=None, help="default: the trainer's (256 for tiny)")
    ap.add_argument("--lr", type=float, default=None, help="default: the trainer's")
    ap.add_argument("--heldout", type=float, default=0.02, help="fraction of the input's ids held out")
    ap.add_argument("--heldout-max-chars", type=int, default=100_000, help="held-out characters evaluated")
    ap.add_argument("--reference-max-chars", type=int, default=100_000, help="reference characters evaluated")
    ap.add_argument("--quote", choices=("held-out", "reference"), default=None, help="the slice the summary quotes")
    ap.add_argument("--workers", type=int, default=None, help="curate corpus --workers")
    ap.add_argument("--cpu", action="store_true", help="train on CPU even where CUDA exists")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = ap.parse_args(argv)
    if args.seeds < 1 or args.steps < 1:
        ap.error("--seeds and --steps must be at least 1")
    for path in [args.a, args.b, *args.input, *args.reference]:
        if not os.path.isfile(path):
            ap.error(f"{path}: no such file")
    args.quote = args.quote or ("reference" if args.reference else "held-out")
    return args


def main(argv=None) -> int:
    import torch

    args = parse_args(argv)
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads or threads)
    try:
        return ablate(args, argv)
    finally:
        torch.set_num_threads(threads)  # as it was, for a caller that goes on


def ablate(args, argv) -> int:
    os.makedirs(args.cache, exist_ok=True)
    split, split_manifest = make_split(args, args.cache)
    tokenizer = shared_tokenizer(split)
    slices = eval_slices(split, tokenizer)
    arms = {name: run_arm(args, recipe, split, tokenizer, slices) for name, recipe in (("A", args.a), ("B", args.b))}
    report = build_report(arms, split_manifest, run_config(args), args.quote)
    report["command"] = " ".join(["python -m train.ablate", *(argv if argv is not None else sys.argv[1:])])
    table = write_report(report, args.out)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
