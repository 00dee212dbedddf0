"""Training throughput: our GPT-NeoX against transformers' GPTNeoXForCausalLM.

CPU (always): the tiny config, both models built from the same weights and trained with
the trainer's AdamW on the same packed batches of real Korean news text against the same
targets, in one process (same threads), steps interleaved and alternating who goes
first so machine load hits both alike, warm-up steps left out; prints the median
tokens/s of each and the ratio (ours / HF), by wall time and by the process's CPU time
(which a machine shared with other work disturbs less: time spent waiting for a core
is not counted, spinning threads are).
CUDA (when present): the 1.3b model on one GPU, bf16 FSDP2 as the trainer runs it,
sequence 2048; tokens/s and MFU per setting (Triton kernels on/off, activation
checkpointing, torch.compile), each measured on its own so one failure spoils nothing.

    PYTHONPATH=. .venv/bin/python bench/train.py [--steps 8] [--threads 1] [--skip-gpu]
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
# run as a script, bench/ comes first on sys.path, and bench/kernels.py would then hide
# Hugging Face's `kernels` package, which transformers imports: the repo root replaces it
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)
else:
    sys.path.insert(0, str(ROOT))

from train import data as D  # noqa: E402
from train.config import get_config  # noqa: E402
from train.model import GPTNeoX, count_params, n_params, save_hf  # noqa: E402

SHARED = Path(__file__).parents[1] / ".." / "shared" / "corpora" / "ko-news-sentences.jsonl.gz"
BUNDLED = ROOT / "tests" / "data" / "train" / "ko-news-sentences.jsonl"


def real_text() -> tuple[list[str], str]:
    if SHARED.exists():
        with gzip.open(SHARED, "rt", encoding="utf-8") as f:
            return [json.loads(line)["text"] for line in f], str(SHARED.resolve())
    with open(BUNDLED, encoding="utf-8") as f:  # the device machine may lack shared/
        return [json.loads(line)["text"] for line in f], str(BUNDLED)


def token_stream(texts: list[str], vocab: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        tok = D.train_small_tokenizer(texts, os.path.join(tmp, "tok"), vocab_size=vocab)
        ids, _, _ = D.encode_texts(tok, texts)
    return ids


def batches(ids: np.ndarray, batch: int, seq: int, n: int, seed: int = 0):
    if len(ids) <= batch * seq:  # the small bundled text: read it again rather than fail
        ids = np.tile(ids, batch * seq // len(ids) + 2)
    loader = D.PackedLoader(D.TokenStream([ids]), seq, batch, seed=seed)
    return [loader.next_batch() for _ in range(n)]


# ----------------------------------------------------------------------------- CPU: ours vs transformers


def cpu_vs_transformers(args, ids: np.ndarray) -> None:
    from transformers import GPTNeoXForCausalLM

    from train.train import CPU_FUSED_ADAMW, build_optimizer

    cfg = get_config("tiny")
    ours = GPTNeoX(cfg)
    with tempfile.TemporaryDirectory() as tmp:  # same weights, through the HF format
        save_hf(ours, tmp)
        theirs = GPTNeoXForCausalLM.from_pretrained(tmp)  # default attention: sdpa
    theirs.train()  # from_pretrained returns eval mode; ours is in train mode (no dropout in either)
    data = batches(ids, args.batch, args.seq, args.warmup + args.steps)

    def step_ours(opt, x, y):
        loss = ours(x, targets=y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    def step_theirs(opt, x, y):
        # the same targets as ours: shift_labels are used as given (labels= alone would be shifted
        # again and drop the last position), so both losses cover the same batch * seq tokens
        loss = theirs(input_ids=x, labels=y, shift_labels=y).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    # the trainer's AdamW (parameter groups, betas, fused as the trainer runs it on CPU) for both
    opt_ours = build_optimizer(ours, 1e-3, 0.1, fused=CPU_FUSED_ADAMW)
    opt_theirs = build_optimizer(theirs, 1e-3, 0.1, fused=CPU_FUSED_ADAMW)
    times = {"ours": [], "transformers": []}
    cpu_times = {"ours": [], "transformers": []}
    losses = {"ours": [], "transformers": []}
    runs = [("ours", step_ours, opt_ours), ("transformers", step_theirs, opt_theirs)]
    for i, (x, y) in enumerate(data):
        for name, fn, opt in runs if i % 2 else runs[::-1]:  # alternate who goes first
            t, c = time.perf_counter(), time.process_time()
            losses[name].append(fn(opt, x, y))
            if i >= args.warmup:
                times[name].append(time.perf_counter() - t)
                cpu_times[name].append(time.process_time() - c)
    tokens = args.batch * args.seq
    tps = {k: tokens / np.median(v) for k, v in times.items()}
    # each step's pair ran back to back, so their ratio sees the same machine load
    paired = np.median(np.array(times["transformers"]) / np.array(times["ours"]))
    cpu = {k: float(np.median(v)) for k, v in cpu_times.items()}
    cpu_paired = np.median(np.array(cpu_times["transformers"]) / np.array(cpu_times["ours"]))
    print(
        f"CPU tiny ({n_params(ours):,} params, batch {args.batch} x {args.seq}, {torch.get_num_threads()} threads,"
        f" AdamW fused={CPU_FUSED_ADAMW}, median of {args.steps} steps after {args.warmup} warm-up):"
    )
    for k in tps:
        print(f"  {k:13s} {tps[k]:10,.0f} tokens/s   first/last loss {losses[k][0]:.4f} / {losses[k][-1]:.4f}")
    print(
        f"  ratio ours / transformers: {tps['ours'] / tps['transformers']:.2f}x tokens/s"
        f" (median of the {args.steps} step-by-step ratios: {paired:.2f}x)"
    )
    print(
        f"  CPU time per step: ours {1e3 * cpu['ours']:,.0f} ms, transformers {1e3 * cpu['transformers']:,.0f} ms;"
        f" ratio {cpu['transformers'] / cpu['ours']:.2f}x (step-by-step: {cpu_paired:.2f}x)"
    )


# ----------------------------------------------------------------------------- GPU: 1.3b on one device


def gpu_1p3b(args, ids: np.ndarray) -> None:
    import torch.distributed as dist

    from train.fsdp import available_memory, init_distributed, parallelize, plan_memory
    from train.ops import op_table
    from train.train import build_optimizer, flops_per_token, peak_flops

    env = init_distributed()
    cfg = get_config("1.3b")
    params = count_params(cfg)
    fpt = flops_per_token(cfg, params - cfg.vocab_size * cfg.d_model, args.gpu_seq)
    peak = peak_flops(env.device)
    name = torch.cuda.get_device_name(env.device)
    print(
        f"\nGPU 1.3b ({params:,} params) on {name}, bf16 FSDP2 (1 rank), seq {args.gpu_seq}, "
        f"peak {peak / 1e12 if peak else float('nan'):.0f} TFLOP/s, {fpt / 1e9:.2f} GFLOP/token"
    )

    def measure(label, micro_batch, kernels=True, ac=False, compile_blocks=False):
        model = opt = None
        try:
            avail = available_memory(env.device, 1)
            plan = plan_memory(cfg, params, micro_batch, args.gpu_seq, 1, True, ac, avail)
            with torch.device("meta"):
                model = GPTNeoX(cfg, op_table(kernels))
            parallelize(model, env.mesh, bf16=True, compile_blocks=compile_blocks, ac=ac)
            model.to_empty(device=env.device)
            model.init_weights()
            opt = build_optimizer(model, 2e-4, 0.1, fused=True)
            data = batches(ids, micro_batch, args.gpu_seq, args.gpu_warmup + args.gpu_steps)
            torch.cuda.reset_peak_memory_stats(env.device)
            times, losses = [], []
            for i, (x, y) in enumerate(data):
                torch.cuda.synchronize()
                t = time.perf_counter()
                loss = model(x.to(env.device), targets=y.to(env.device))
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                opt.zero_grad(set_to_none=True)
                losses.append(loss.item())  # syncs
                if i >= args.gpu_warmup:
                    times.append(time.perf_counter() - t)
            tps = micro_batch * args.gpu_seq / float(np.median(times))
            mfu = f"{100 * tps * fpt / peak:.1f}%" if peak else "n/a (unknown peak)"
            print(
                f"  {label:38s} mb {micro_batch}: {tps:9,.0f} tokens/s  MFU {mfu}  "
                f"peak mem {torch.cuda.max_memory_allocated(env.device) / 2**30:.1f} GiB "
                f"(estimate {plan.needed_bytes / 2**30:.1f})  loss {losses[0]:.3f} -> {losses[-1]:.3f}",
                flush=True,
            )
            return tps
        except torch.cuda.OutOfMemoryError:
            print(f"  {label:38s} mb {micro_batch}: out of memory", flush=True)
        except Exception as e:  # report and go on to the next setting
            print(f"  {label:38s} mb {micro_batch}: FAILED {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(limit=3)
        finally:
            del model, opt
            gc.collect()
            torch.cuda.empty_cache()
        return None

    try:
        want = set(args.gpu_settings.split(","))
        best_mb = None
        for mb in (8, 4, 2):  # the largest micro-batch that runs without activation checkpointing
            if "kernels" not in want or measure("Triton kernels", mb):
                best_mb = mb
                break
        if best_mb:
            if "torch" in want:
                measure("torch ops only (no kernels)", best_mb, kernels=False)
            if "ac" in want:
                measure("Triton kernels + activation ckpt", best_mb * 2, ac=True)
            if "compile" in want:
                measure("Triton kernels + torch.compile blocks", best_mb, compile_blocks=True)
    finally:
        dist.destroy_process_group()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--skip-cpu", action="store_true")
    ap.add_argument("--skip-gpu", action="store_true")
    ap.add_argument("--gpu-seq", type=int, default=2048)
    ap.add_argument("--gpu-steps", type=int, default=6)
    ap.add_argument("--gpu-warmup", type=int, default=3)
    ap.add_argument(
        "--gpu-settings",
        default="kernels,torch,ac,compile",
        help="comma list of GPU settings to measure: kernels, torch, ac, compile",
    )
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    texts, source = real_text()
    print(f"text: {len(texts):,} documents from {source}")
    if not args.skip_cpu:
        try:
            cpu_vs_transformers(args, token_stream(texts, get_config("tiny").vocab_size))
        except Exception:
            print("CPU comparison FAILED:")
            traceback.print_exc()
    if torch.cuda.is_available() and not args.skip_gpu:
        try:
            gpu_1p3b(args, token_stream(texts, 4096))
        except Exception:
            print("GPU measurement FAILED:")
            traceback.print_exc()
    elif not args.skip_gpu:
        print("no CUDA device: 1.3b tokens/s and MFU not measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
