"""Fused kernels vs torch eager and torch.compile of the reference, at 1.3b shapes.

For each op: forward+backward time (median of triton.testing.do_bench, CPU launch
overhead included), the same replayed as a CUDA graph (GPU time alone; in training the
CPU runs ahead of the matmuls, so this is the figure that counts there), peak CUDA
memory above the inputs, and the error against an fp32 run of the reference (measured
before timing, for the kernel and for eager alike). bf16 throughout.

    python bench/kernels.py [--batch 4 --seq 2048] [--out bench_kernels.txt]

Targets on an H100: layer_norm and rotary >= 2x eager; fused linear cross entropy
<= 1/4 of eager's peak memory and no slower. Without a CUDA GPU it says so and exits 0.
"""

import argparse
import sys
import traceback
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _gpu import warm_up_gpu  # noqa: E402  (bench/, the script's own folder)

from polyglot_kernels import ops as kernels  # noqa: E402
from polyglot_kernels import reference  # noqa: E402

HIDDEN, HEADS, HEAD_DIM, ROTARY_DIM, VOCAB, FFN = 2048, 16, 128, 64, 30080, 8192


def make_cases(batch, seq, device):
    """name -> (kernel fn, reference fn, make_inputs() -> (leaves, extra args), grad_out maker)."""
    dt = torch.bfloat16
    gen = torch.Generator(device=device).manual_seed(0)

    def rand(*shape, scale=1.0, dtype=dt):
        return (torch.randn(*shape, generator=gen, device=device, dtype=torch.float32) * scale).to(dtype)

    tokens = batch * seq

    def ln_inputs():
        return [rand(batch, seq, HIDDEN), 1 + rand(HIDDEN, scale=0.1), rand(HIDDEN, scale=0.1)], ()

    def rotary_inputs():
        # q, k are strided views of the fused qkv projection, as in the model.
        qkv = rand(batch, seq, HEADS, 3 * HEAD_DIM)
        inv_freq = 1.0 / (10000 ** (torch.arange(0, ROTARY_DIM, 2, device=device).float() / ROTARY_DIM))
        freqs = torch.outer(torch.arange(seq, device=device).float(), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        return [qkv[..., :HEAD_DIM], qkv[..., HEAD_DIM : 2 * HEAD_DIM]], (emb.cos(), emb.sin(), ROTARY_DIM)

    def gelu_inputs():
        return [rand(tokens, FFN), rand(FFN, scale=0.1)], ()

    def ce_inputs():
        target = torch.randint(0, VOCAB, (tokens,), generator=gen, device=device)
        target[::17] = -100  # some ignored positions
        return [rand(tokens, HIDDEN), rand(VOCAB, HIDDEN, scale=0.02)], (target,)

    return {
        "layer_norm": (
            lambda x, w, b: kernels.layer_norm(x, w, b, 1e-5),
            lambda x, w, b: reference.layer_norm(x, w, b, 1e-5),
            ln_inputs,
        ),
        "rotary": (kernels.rotary, reference.rotary, rotary_inputs),
        "bias_gelu": (kernels.bias_gelu, reference.bias_gelu, gelu_inputs),
        "fused_linear_ce": (kernels.fused_linear_cross_entropy, reference.fused_linear_cross_entropy, ce_inputs),
    }


def leaves_of(tensors):
    return [t.detach().requires_grad_() for t in tensors]


def run_step(fn, leaves, extra, grad_outs=None):
    outs = fn(*leaves, *extra)
    outs = outs if isinstance(outs, tuple) else (outs,)
    if grad_outs is None:
        gen = torch.Generator(device=outs[0].device).manual_seed(1)
        grad_outs = [
            torch.randn(o.shape, generator=gen, device=o.device, dtype=torch.float32).to(o.dtype) for o in outs
        ]
    torch.autograd.backward(outs, grad_outs)
    return outs, grad_outs


def results(fn, inputs, extra, grad_outs, upcast=False):
    leaves = leaves_of([t.float() if upcast else t for t in inputs])
    if upcast:
        extra = tuple(e.float() if torch.is_tensor(e) and e.is_floating_point() else e for e in extra)
        grad_outs = [g.float() for g in grad_outs]
    outs, _ = run_step(fn, leaves, extra, grad_outs)
    return [o.detach().float() for o in outs] + [t.grad.float() for t in leaves]


def max_err(got, want):
    """Worst, over outputs and grads, of max abs error relative to the tensor's max abs value."""
    return max(((g - w).abs().max() / w.abs().max().clamp_min(1e-30)).item() for g, w in zip(got, want))


def time_and_memory(fn, inputs, extra, grad_outs):
    import triton

    leaves = leaves_of(inputs)

    def step():
        run_step(fn, leaves, extra, grad_outs)

    step()  # compile / autotune outside the measurement
    try:
        ms = triton.testing.do_bench(step, warmup=25, rep=100, grad_to_none=leaves, return_mode="median")
    except TypeError:  # older signature
        ms = triton.testing.do_bench(step, warmup=25, rep=100, grad_to_none=leaves, quantiles=[0.5])
    for t in leaves:
        t.grad = None
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    step()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - base
    for t in leaves:
        t.grad = None
    return float(ms), peak / 2**20


def graph_time(fn, inputs, extra, grad_outs):
    """Median ms of fwd+bwd replayed as a CUDA graph, or None where capture fails."""
    import triton

    leaves = leaves_of(inputs)

    def step():
        # grads None when the graph is captured: each replay writes them afresh, with no
        # accumulation kernel in the measured work
        for t in leaves:
            t.grad = None
        run_step(fn, leaves, extra, grad_outs)

    try:
        return float(triton.testing.do_bench_cudagraph(step, rep=50, return_mode="median"))
    except Exception as e:  # capture refused by some op: report, keep going
        print(f"graph capture failed: {type(e).__name__}: {e}", flush=True)
        torch.cuda.synchronize()
        return None
    finally:
        for t in leaves:
            t.grad = None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--only", nargs="*", help="subset of ops to run")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile column")
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args()

    if not torch.cuda.is_available():
        msg = "bench/kernels.py: no CUDA GPU available, nothing measured."
        print(msg)
        if args.out:
            args.out.write_text(msg + "\n")
        return 0

    import triton

    device = torch.device("cuda")
    gpu = torch.cuda.get_device_name(device)
    header = (
        f"# {gpu}, torch {torch.__version__}, triton {triton.__version__}; bf16, batch {args.batch} x seq "
        f"{args.seq} (tokens {args.batch * args.seq}), hidden {HIDDEN}, heads {HEADS}x{HEAD_DIM}, "
        f"rotary_dim {ROTARY_DIM}, ffn {FFN}, vocab {VOCAB}\n"
        "# time: fwd+bwd median ms (do_bench, launch overhead included); graph ms: the same replayed as a "
        "CUDA graph (GPU time alone);\n# peak: MiB allocated above the inputs during fwd+bwd; err: max abs "
        "error / max abs value vs an fp32 run of the reference, worst over outputs and input grads"
    )
    from polyglot_kernels import _layer_norm_triton as ln

    tiles = ln.forward_tile(HIDDEN, gpu), ln.backward_tile(HIDDEN, gpu)
    header += f"\n# LayerNorm tiles (forward, backward): {tiles[0]}, {tiles[1]}"
    print(header, flush=True)
    warm_up_gpu()
    rows, checks, failed, graph_jobs = [], [], [], []
    cases = make_cases(args.batch, args.seq, device)
    for name, (kernel_fn, ref_fn, make_inputs) in cases.items():
        if args.only and name not in args.only:
            continue
        try:
            inputs, extra = make_inputs()
            _, grad_outs = run_step(ref_fn, leaves_of(inputs), extra)  # fixed upstream grads
            want = results(ref_fn, inputs, extra, grad_outs, upcast=True)
            impls = [("triton", kernel_fn), ("eager", ref_fn)]
            if name == "fused_linear_ce":  # half the default chunk: less memory, more grad_weight accumulations
                impls.append(
                    ("triton_chunk1024", lambda h, w, t: kernels.fused_linear_cross_entropy(h, w, t, chunk_rows=1024))
                )
            if not args.no_compile:
                impls.append(("compile", torch.compile(ref_fn)))
            measured = {}
            for impl, fn in impls:
                err = max_err(results(fn, inputs, extra, grad_outs), want)
                ms, mib = time_and_memory(fn, inputs, extra, grad_outs)
                measured[impl] = (ms, mib, err)
                graph_jobs.append((name, impl, fn, inputs, extra, grad_outs))
                print(f"  {name:16s} {impl:8s} {ms:8.3f} ms {mib:9.1f} MiB  err {err:.3e}", flush=True)
            del want
            e_ms, e_mib, e_err = measured["eager"]
            for impl, (ms, mib, err) in measured.items():
                rows.append(
                    f"| {name} | {impl} | {ms:.3f} | {e_ms / ms:.2f}x | {mib:.1f} | "
                    f"{mib / e_mib if e_mib else float('nan'):.3f} | {err:.2e} |"
                )
            t_ms, t_mib, t_err = measured["triton"]
            if t_err > 2 * e_err + 1e-2:
                checks.append(f"WARN {name}: triton error {t_err:.2e} well above eager's {e_err:.2e}")
            if name in ("layer_norm", "rotary"):
                ok = e_ms / t_ms >= 2
                checks.append(f"{'PASS' if ok else 'MISS'} {name}: {e_ms / t_ms:.2f}x eager (target >= 2x)")
            if name == "fused_linear_ce":
                ok = t_mib <= e_mib / 4 and t_ms <= e_ms
                checks.append(
                    f"{'PASS' if ok else 'MISS'} {name}: memory {t_mib / e_mib:.3f} of eager "
                    f"(target <= 0.25), time {e_ms / t_ms:.2f}x eager (target >= 1x)"
                )
        except Exception:
            failed.append(name)
            traceback.print_exc()
            checks.append(f"FAIL {name}: raised, see traceback")
        torch.cuda.empty_cache()

    table = "\n".join(
        [
            header,
            "",
            "| op | impl | fwd+bwd ms | speedup vs eager | peak MiB | memory vs eager | max abs err |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            *checks,
        ]
    )
    print("\n" + table, flush=True)
    if args.out:
        args.out.write_text(table + "\n")
    # GPU time alone, last: a failed graph capture must not spoil the table above.
    graph_lines = ["", "| op | impl | graph ms | speedup vs eager (GPU time) |", "|---|---|---|---|"]
    graph_ms = {}
    for name, impl, fn, inputs, extra, grad_outs in graph_jobs:
        graph_ms[name, impl] = graph_time(fn, inputs, extra, grad_outs)
    for (name, impl), ms in graph_ms.items():
        eager = graph_ms.get((name, "eager"))
        ratio = f"{eager / ms:.2f}x" if ms and eager else "n/a"
        graph_lines.append(f"| {name} | {impl} | {f'{ms:.3f}' if ms else 'n/a'} | {ratio} |")
    print("\n".join(graph_lines), flush=True)
    if args.out:
        args.out.write_text(table + "\n" + "\n".join(graph_lines) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
