"""Train GPT-NeoX on curated shards with FSDP2; resume exactly; export to Hugging Face.

    python -m train.train --size tiny --data out/corpus/ko --steps 200 --out out/train/tiny
    torchrun --nproc_per_node 8 -m train.train --size 1.3b --tokens out/mix/ko-ja --out out/train/1.3b
    ... --resume       # continue from OUT/checkpoints/latest (the same run: see train.run_spec)
    ... --init-hf DIR  # start from a Hugging Face GPT-NeoX checkpoint (e.g. Polyglot-Ko)

The global batch (--global-batch-tokens) is fixed; the world size and the micro-batch
only decide the accumulation. Every checkpoint (DCP, train.checkpoint) holds model,
optimizer, scheduler, data position and RNG states, and the run's definition. On a
mixture (train.mix) the held-out slices are evaluated every --eval-every steps.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time

import torch
import torch.distributed as dist
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

from train import data as D
from train.checkpoint import load_checkpoint, load_init_hf, resume_from, save_checkpoint
from train.config import SIZES, get_config
from train.evaluate import describe, evaluate, mixture_slices
from train.fsdp import available_memory, close_distributed, init_distributed, parallelize, plan_memory
from train.mix_stream import is_mixture, open_tokens
from train.model import GPTNeoX, config_from_hf, count_params, save_hf
from train.ops import KernelUnavailable, op_table, resolve_ops
from train.run_spec import code_sha256, git_commit, parse_allowed

# dense bf16 peaks, first match in the device name wins (PCIe H100 before the SXM default)
PEAK_BF16_FLOPS = {"H100 PCIe": 756e12, "H100": 989e12, "H200": 989e12, "A100": 312e12}


def peak_flops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_BF16_FLOPS.items() if k in name), None)


def flops_per_token(cfg, params_nonembed: int, seq_len: int) -> float:
    """6N for the matmuls forward + backward, plus 12 L d T for attention scores (PaLM, appendix B)."""
    return 6 * params_nonembed + 12 * cfg.n_layer * cfg.d_model * seq_len


def lr_at(step: int, lr: float, warmup: int, total: int, min_ratio: float = 0.1) -> float:
    """Linear warmup, then cosine down to min_ratio * lr at `total`."""
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


CPU_FUSED_ADAMW = True  # torch's fused CPU AdamW: one kernel per parameter instead of a dozen ops


def build_optimizer(model, lr: float, weight_decay: float, fused: bool):
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embed_in" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embed_in" not in n)]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95), eps=1e-8, fused=fused or None)


# ----------------------------------------------------------------------------- export


def export_hf(model, path: str, corpus: D.Corpus, rank: int) -> None:
    sd = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    if rank == 0:
        save_hf(model, path, state_dict=sd, eos_id=corpus.eos_id)
        for name in os.listdir(corpus.tokenizer_dir):
            src = os.path.join(corpus.tokenizer_dir, name)
            if os.path.isfile(src):
                shutil.copy(src, os.path.join(path, name))
    dist.barrier()


# ----------------------------------------------------------------------------- main


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="FSDP2 GPT-NeoX trainer")
    ap.add_argument("--size", default="tiny", choices=list(SIZES))
    ap.add_argument("--data", default="out/corpus/ko", help="curated corpus (shards/*.parquet, manifest.json)")
    ap.add_argument(
        "--tokens",
        default=None,
        help="token shards (train.token_shards) or a mixture (train.mix); preferred over --data",
    )
    ap.add_argument(
        "--tokenizer",
        default=None,
        help="HF tokenizer folder (default: the token shards' own, "
        "or a small BPE trained on --data into OUT/tokenizer)",
    )
    ap.add_argument("--out", default=None, help="default out/train/SIZE")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--seq-len", type=int, default=None, help="default 256 for tiny, else the context (2048)")
    ap.add_argument(
        "--micro-batch",
        type=int,
        default=None,
        help="sequences per rank per micro-step (default: 8 for tiny, else the largest that fits)",
    )
    ap.add_argument(
        "--global-batch-tokens",
        type=int,
        default=None,
        help="tokens per optimizer step, whatever the world size and micro-batch (accumulation "
        "makes up the rest; they must divide it). Default: 8 sequences for tiny, 1024 otherwise",
    )
    ap.add_argument("--lr", type=float, default=None, help="default 1e-3 tiny, 2e-4 otherwise")
    ap.add_argument("--warmup", type=int, default=None, help="default 10%% of --steps (at most 2000)")
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--ac", action="store_true", help="activation checkpointing (per block)")
    ap.add_argument(
        "--kernels",
        choices=("auto", "triton", "torch"),
        default="auto",
        help="auto: the Triton kernels on CUDA, torch ops elsewhere; triton: the kernels "
        "everywhere (CPU: TRITON_INTERPRET=1). Asked-for kernels that cannot run stop the "
        "trainer before it starts, naming the op",
    )
    ap.add_argument("--no-kernels", action="store_true", help="torch ops only, even on CUDA (= --kernels torch)")
    ap.add_argument("--compile", action="store_true", help="torch.compile each block")
    ap.add_argument("--cpu", action="store_true", help="train on CPU even where CUDA exists")
    ap.add_argument("--force-cpu", action="store_true", help="try sizes above tiny on CPU when memory allows")
    ap.add_argument("--ckpt-every", type=int, default=100, help="0: no checkpoints at all")
    ap.add_argument(
        "--eval-every",
        type=int,
        default=None,
        help="held-out loss and bits per character every N steps and at the end "
        "(--tokens a mixture; default 100 there, 0: never)",
    )
    ap.add_argument("--keep-checkpoints", type=int, default=3, help="keep the newest K checkpoints (0: all)")
    ap.add_argument(
        "--allow-change",
        default=None,
        metavar="FIELD[,FIELD]",
        help="run fields a resume may change (e.g. steps); any other change is refused",
    )
    ap.add_argument(
        "--resume",
        nargs="?",
        const="latest",
        default=None,
        help="continue from OUT/checkpoints/latest, or from the checkpoint folder given",
    )
    ap.add_argument("--init-hf", default=None, help="initial weights from a HF GPT-NeoX folder")
    ap.add_argument("--no-export", action="store_true", help="skip the HF export at the end")
    return ap.parse_args(argv)


def open_corpus(args, out: str, rank: int) -> D.Corpus:
    if args.init_hf and not args.tokenizer and os.path.exists(os.path.join(args.init_hf, "tokenizer.json")):
        args.tokenizer = args.init_hf  # continue with the checkpoint's own tokenizer
    if not args.tokens and not os.path.isdir(os.path.join(args.data, "shards")):
        raise SystemExit(f"{args.data}/shards: no curated shards (make corpus), and no --tokens given")
    if args.tokens:
        try:
            corpus = open_tokens(args.tokens, args.tokenizer)
        except D.TokenizerMismatch as e:
            raise SystemExit(f"refusing to train: {e}") from None
    else:
        if args.size != "tiny" and not args.tokenizer:
            raise SystemExit(scratch_refusal(args.size, "no --tokenizer or --tokens given"))
        tok_dir = args.tokenizer or os.path.join(out, "tokenizer")
        if not args.tokenizer and rank == 0:
            os.makedirs(out, exist_ok=True)
            D.train_small_tokenizer(D.read_shard_texts(args.data), tok_dir)
        dist.barrier()
        corpus = D.open_parquet(args.data, tok_dir)
    if args.size != "tiny" and D.is_scratch_tokenizer(corpus.tokenizer_dir):
        raise SystemExit(scratch_refusal(args.size, f"{corpus.tokenizer_dir} was trained on the fly"))
    return corpus


def scratch_refusal(size: str, why: str) -> str:
    return (
        f"refusing to train {size} on a throwaway tokenizer ({why}): train one on the corpus "
        "(make tokenizer, make tokens) and pass --tokens, or --tokenizer"
    )


def choose_micro_batch(cfg, params, seq_len, env, bf16, ac, global_seqs) -> tuple[int, bool, object]:
    """The largest micro-batch (16 down to 1) that fits and divides the global batch over
    the ranks, without activation checkpointing first."""
    avail = available_memory(env.device, env.local_world)
    plan = None
    sizes = [mb for mb in (16, 8, 4, 2, 1) if global_seqs % (env.world * mb) == 0]
    if not sizes:
        raise SystemExit(f"a global batch of {global_seqs} sequences does not split over {env.world} ranks")
    for use_ac in [ac] if ac else [False, True]:
        for mb in sizes:
            plan = plan_memory(cfg, params, mb, seq_len, env.world, bf16, use_ac, avail)
            if plan.fits:
                return mb, use_ac, plan
    return sizes[-1], True, plan


def global_batch_seqs(args, seq_len: int, world: int) -> int:
    """Sequences per optimizer step, from --global-batch-tokens (a multiple of the sequence length)."""
    tokens = args.global_batch_tokens or (8 if args.size == "tiny" else 1024) * seq_len
    seqs, ragged = divmod(tokens, seq_len)
    if ragged or not seqs:
        raise SystemExit(f"--global-batch-tokens {tokens} is not a whole number of {seq_len}-token sequences")
    if seqs % world:
        raise SystemExit(
            f"--global-batch-tokens {tokens} ({seqs} sequences of {seq_len}) does not split over {world} ranks"
        )
    if args.micro_batch and seqs % (world * args.micro_batch):
        raise SystemExit(
            f"--global-batch-tokens {tokens} ({seqs} sequences of {seq_len}) does not split into "
            f"{world} rank(s) x micro-batch {args.micro_batch}: pick a micro-batch that divides it"
        )
    return seqs


def run(argv=None) -> dict:
    """Parse, train, tear down; returns the per-step losses (the CLI and tests share it)."""
    args = parse_args(argv)
    env = init_distributed(cpu=args.cpu)
    finished = False
    try:
        result = train(args, env)
        finished = True
        return result
    finally:
        close_distributed(finished)


def main(argv=None) -> int:
    run(argv)
    return 0


def choose_ops(args, env, log) -> tuple[dict, dict]:
    """(op table, {op: implementation}); asked-for kernels that cannot run stop the run
    here, before anything else, loudly."""
    kernels = "torch" if args.no_kernels else args.kernels
    use_kernels = kernels == "triton" or (kernels == "auto" and env.device.type == "cuda")
    try:
        impls = resolve_ops(use_kernels, env.device)
    except KernelUnavailable as e:
        log(f"refusing to train: {e} (--kernels torch runs the torch ops)", file=sys.stderr)
        raise SystemExit(2) from None
    return op_table(use_kernels), impls


def model_config(args, corpus: D.Corpus):
    cfg = get_config(args.size)
    if args.init_hf:
        with open(os.path.join(args.init_hf, "config.json"), encoding="utf-8") as f:
            cfg = config_from_hf(json.load(f))
    elif args.size == "tiny":  # the vocabulary follows the tokenizer, padded to 128
        cfg = cfg.replace(vocab_size=-(-corpus.vocab_size // 128) * 128)
    if corpus.vocab_size > cfg.vocab_size:
        raise SystemExit(f"tokenizer has {corpus.vocab_size} tokens, the {args.size} model only {cfg.vocab_size}")
    return cfg


def plan_batch(args, cfg, params: int, seq_len: int, global_seqs: int, env, bf16: bool, log) -> tuple[int, bool]:
    """(micro-batch, activation checkpointing), or SystemExit saying why the size cannot train here."""
    tiny = args.size == "tiny"
    if args.micro_batch or tiny:
        mb, ac = args.micro_batch or math.gcd(8, global_seqs // env.world) or 1, args.ac
        plan = plan_memory(cfg, params, mb, seq_len, env.world, bf16, ac, available_memory(env.device, env.local_world))
    else:
        mb, ac, plan = choose_micro_batch(cfg, params, seq_len, env, bf16, args.ac, global_seqs)
    flops_step = 6 * params * seq_len * global_seqs
    if env.device.type == "cpu" and not tiny and not args.force_cpu:
        log(
            f"{args.size} will not train on CPU: {plan.describe(env.world)}; one optimizer step is "
            f"~{flops_step / 1e12:,.0f} TFLOP (minutes to hours on a CPU). Run it on GPUs "
            f"(torchrun --nproc_per_node N), or pass --force-cpu.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    if not plan.fits:
        where = (
            f"{env.world} x {torch.cuda.get_device_name(env.device)}"
            if env.device.type == "cuda"
            else f"{env.world} CPU process(es)"
        )
        log(
            f"{args.size} does not fit on {where}: {plan.describe(env.world)}.\n"
            f"Use more GPUs (torchrun --nproc_per_node / --nnodes), --ac, or a smaller --micro-batch/--seq-len.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return mb, ac


def build_model(args, cfg, params: int, ops: dict, ac: bool, env, bf16: bool):
    """The model with the chosen ops, checkpointed, compiled and sharded as asked.
    Small models: identical init whatever the world size; large: the shards initialised in place."""
    torch.manual_seed(args.seed)
    if params * 4 < 2 * 2**30:
        model = GPTNeoX(cfg, ops)
        model.init_weights(seed=args.seed)
        model.to(env.device)
        # one fp32 CPU process: nothing to shard or cast
        parallelize(model, env.mesh, bf16, args.compile, ac, shard=env.world > 1 or bf16)
    else:
        with torch.device("meta"):
            model = GPTNeoX(cfg, ops)
        parallelize(model, env.mesh, bf16, args.compile, ac)
        model.to_empty(device=env.device)
        model.init_weights()
    if args.init_hf:
        load_init_hf(model, args.init_hf, env.rank)
    return model


def run_spec(args, cfg, corpus: D.Corpus, seq_len: int, global_seqs: int) -> dict:
    """The fields that define this run (train.run_spec.RUN_FIELDS), as checked on resume."""
    return {
        "size": args.size,
        "model_config": vars(cfg),
        "seq_len": seq_len,
        "global_batch_tokens": global_seqs * seq_len,
        "lr": args.lr,
        "warmup": args.warmup,
        "steps": args.steps,
        "weight_decay": args.weight_decay,
        "clip": args.clip,
        "seed": args.seed,
        "data_sha256": corpus.data_sha256,
        "tokenizer_hash": corpus.tokenizer_hash,
        "init_hf": os.path.abspath(args.init_hf) if args.init_hf else None,
        "code_sha256": code_sha256(),
    }


def train(args, env) -> dict:
    log = print if env.is_main else (lambda *a, **k: None)
    out = args.out or os.path.join("out", "train", args.size)
    allowed = parse_allowed(args.allow_change)
    bf16 = env.device.type == "cuda"
    ops, impls = choose_ops(args, env, log)
    corpus = open_corpus(args, out, env.rank)
    cfg = model_config(args, corpus)
    seq_len = args.seq_len or (256 if args.size == "tiny" else cfg.max_seq_len)
    global_seqs = global_batch_seqs(args, seq_len, env.world)
    params = count_params(cfg)
    mb, ac = plan_batch(args, cfg, params, seq_len, global_seqs, env, bf16, log)
    model = build_model(args, cfg, params, ops, ac, env, bf16)

    args.lr = args.lr or (1e-3 if args.size == "tiny" else 2e-4)
    args.warmup = args.warmup if args.warmup is not None else min(2000, max(1, args.steps // 10))
    # fused AdamW on CUDA, and on one CPU process (plain tensors, no FSDP DTensors)
    fused = env.device.type == "cuda" or (env.device.type == "cpu" and env.world == 1 and CPU_FUSED_ADAMW)
    optimizer = build_optimizer(model, args.lr, args.weight_decay, fused=fused)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_at(s, 1.0, args.warmup, args.steps))
    loader = D.PackedLoader(corpus.stream, seq_len, mb, env.rank, env.world, args.seed, global_seqs)
    meta = {
        "run": run_spec(args, cfg, corpus, seq_len, global_seqs),
        "curated_manifest_sha256": corpus.curated_manifest_sha256,
        "tokens": os.path.abspath(args.tokens) if args.tokens else None,
        "git_commit": git_commit(),
        "world": env.world,
        "micro_batch": mb,
        "grad_accum": loader.accum,
        "ops": impls,
    }
    run = (model, optimizer, scheduler, loader)
    ckpt_root = os.path.join(out, "checkpoints")
    step = 0
    resume = resume_from(args.resume, ckpt_root)
    if resume:
        step, changed = load_checkpoint(resume, run, meta, env.rank, allowed)
        log(f"resumed from {resume} at step {step}" + (f" (changed: {', '.join(changed)})" if changed else ""))
    os.makedirs(ckpt_root, exist_ok=True)

    log(
        f"{args.size}: {params:,} params | {env.world} rank(s) on {env.device.type} | micro-batch {mb} x {seq_len}"
        f" | accum {loader.accum} | {global_seqs * seq_len:,} tokens/step | ac {ac}"
        f" | ops {' '.join(f'{k}={v}' for k, v in impls.items())} | bf16 {bf16}"
        f" | {len(corpus.stream):,} tokens in corpus | data {corpus.data_sha256}"
    )
    fpt = flops_per_token(cfg, params - cfg.vocab_size * cfg.d_model, seq_len)

    def save(at_step: int) -> None:
        save_checkpoint(ckpt_root, at_step, run, meta, env.rank, args.keep_checkpoints)

    record = metrics_log(out, env.rank, fresh=not resume)
    hooks = (save, held_out_eval(args, env, model, corpus, (seq_len, mb), log, record), log, record)
    history, step = train_steps(args, env, run, step, fpt, hooks)

    if not args.no_export:
        export_hf(model, os.path.join(out, "hf"), corpus, env.rank)
        log(f"exported {os.path.join(out, 'hf')} (transformers.GPTNeoXForCausalLM)")
    return {"losses": [h["loss"] for h in history], "lrs": [h["lr"] for h in history], "step": step, "out": out}


def metrics_log(out: str, rank: int, fresh: bool):
    """A function appending one JSON line to OUT/metrics.jsonl (rank 0; a no-op elsewhere);
    a fresh run (not a resume) starts the file anew."""
    if rank:
        return lambda record: None
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "metrics.jsonl")
    if fresh and os.path.exists(path):
        os.remove(path)

    def write(record: dict) -> None:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    return write


def held_out_eval(args, env, model, corpus: D.Corpus, shape: tuple[int, int], log, record):
    """A function evaluating the mixture's held-out slices at a step (logged and recorded),
    or None when the run does not evaluate."""
    every = args.eval_every
    if every is None:
        every = 100 if args.tokens and is_mixture(args.tokens) else 0
    args.eval_every = every
    if not every:
        return None
    slices, _ = mixture_slices(args.tokens)
    seq_len, micro_batch = shape

    def run_eval(at_step: int) -> None:
        results = evaluate(model, slices, seq_len, micro_batch, corpus.eos_id, env)
        log(f"eval {at_step}/{args.steps} | {describe(results)}", flush=True)
        record({"step": at_step, "eval": results})

    return run_eval


def train_steps(args, env, run, step: int, fpt: float, hooks) -> tuple[list[dict], int]:
    """Steps from `step` to args.steps, each logged with the lr it used; save(step) every
    --ckpt-every, evaluate(step) every --eval-every, both at the end. Returns each step's
    record, and the step reached."""
    save, run_eval, log, record = hooks
    model, optimizer, scheduler, loader = run
    peak = peak_flops(env.device)
    tokens_per_step = loader.global_seqs * loader.seq_len
    history = []
    model.train()
    while step < args.steps:
        t0 = time.perf_counter()
        lr = scheduler.get_last_lr()[0]  # what this step's optimizer.step() uses
        loss_sum = torch.zeros((), device=env.device)
        for _ in range(loader.accum):
            x, y = loader.next_batch()
            loss = model(x.to(env.device, non_blocking=True), targets=y.to(env.device, non_blocking=True))
            (loss / loader.accum).backward()
            loss_sum += loss.detach()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        dist.all_reduce(loss_sum)  # SUM: AVG is NCCL-only
        loss_val = loss_sum.item() / (env.world * loader.accum)
        if hasattr(gnorm, "full_tensor"):
            gnorm = gnorm.full_tensor()
        tps = tokens_per_step / (time.perf_counter() - t0)
        history.append({"step": step, "loss": loss_val, "lr": lr, "gnorm": gnorm.item(), "tokens_per_s": tps})
        record(history[-1])
        mfu = f"{100 * tps / env.world * fpt / peak:.1f}%" if peak else "n/a"
        log(
            f"step {step}/{args.steps} | loss {loss_val:.4f} | lr {lr:.2e} | "
            f"gnorm {gnorm.item():.3f} | {tps:,.0f} tok/s | mfu {mfu}",
            flush=True,
        )
        if run_eval and (step % args.eval_every == 0 or step == args.steps):
            run_eval(step)
        if args.ckpt_every and (step % args.ckpt_every == 0 or step == args.steps):
            save(step)
    return history, step


if __name__ == "__main__":
    sys.exit(main())
