"""The kernels on a real GPU, at small odd shapes and in every dtype they take.

The tests run the kernels under TRITON_INTERPRET=1 (fp32, numpy); this runs the
compiled kernels: fp32, bf16 and fp16 inputs, rows and widths off powers of two,
strided rotary inputs, every LayerNorm tile the sweep may pick, forward and backward.
Each result is compared with an fp32 run of the torch reference: in fp32 within a
stated tolerance, in bf16/fp16 no further off than torch eager in the same dtype
(error <= 2x eager's + 1e-3 of the output's scale).

    python bench/kernels_check.py     # exit 1 on any failure
    TRITON_INTERPRET=1 python bench/kernels_check.py --cpu   # the same, fp32 only, interpreted

Without a CUDA GPU (and without --cpu) it says so and exits 0.
"""

import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FP32_TOL = 2e-5  # fp32 kernels vs the fp32 reference, relative to the output's max abs value
LOW_FLOOR = 1e-3  # bf16/fp16: allowed on top of 2x eager's own error


def rel_err(got, want):
    return ((got.float() - want.float()).abs().max() / want.float().abs().max().clamp_min(1e-30)).item()


def outputs_and_grads(fn, inputs, grad_outs, dtype=None):
    """fn's outputs and the grads of its floating inputs, inputs cast to dtype first."""
    leaves = [
        t.detach().to(dtype if dtype and t.is_floating_point() else t.dtype).requires_grad_(t.is_floating_point())
        for t in inputs
    ]
    outs = fn(*leaves)
    outs = outs if isinstance(outs, tuple) else (outs,)
    torch.autograd.backward(outs, [g.to(o.dtype) for g, o in zip(grad_outs, outs)])
    return [o.detach() for o in outs] + [t.grad for t in leaves if t.requires_grad]


class Checker:
    def __init__(self, dtypes):
        self.failures = 0
        self.dtypes = dtypes

    def compare(self, name, kernel, reference, inputs, grad_outs):
        want = outputs_and_grads(reference, inputs, grad_outs, torch.float32)
        for dtype in self.dtypes:
            got = outputs_and_grads(kernel, inputs, grad_outs, dtype)
            errs = [rel_err(g, w) for g, w in zip(got, want)]
            if dtype == torch.float32:
                limit = [FP32_TOL] * len(errs)
            else:
                eager = outputs_and_grads(reference, inputs, grad_outs, dtype)
                limit = [2 * rel_err(e, w) + LOW_FLOOR for e, w in zip(eager, want)]
            bad = [i for i, (e, lim) in enumerate(zip(errs, limit)) if not e <= lim]
            self.failures += bool(bad)
            detail = ", ".join(f"{e:.1e}<={lim:.1e}" for e, lim in zip(errs, limit))
            print(f"{'FAIL' if bad else 'ok  '} {name} {str(dtype).replace('torch.', '')}: {detail}", flush=True)


def main():
    cpu = "--cpu" in sys.argv[1:]
    if cpu and os.environ.get("TRITON_INTERPRET") != "1":
        # without the interpreter triton looks for a GPU driver and fails with a driver count
        print("bench/kernels_check.py: --cpu needs TRITON_INTERPRET=1 in the environment.")
        return 2
    if not cpu and not torch.cuda.is_available():
        print("bench/kernels_check.py: no CUDA GPU available, nothing checked.")
        return 0
    from polyglot_kernels import _layer_norm_triton as ln
    from polyglot_kernels import ops as kernels
    from polyglot_kernels import reference

    dev = torch.device("cpu" if cpu else "cuda")
    gen = torch.Generator(device=dev).manual_seed(0)

    def rand(*shape, scale=1.0, shift=0.0):
        return torch.randn(*shape, generator=gen, device=dev) * scale + shift

    # the interpreter has no bf16/fp16 math
    check = Checker((torch.float32,) if cpu else (torch.float32, torch.bfloat16, torch.float16))
    print(f"# {'CPU, interpreted' if cpu else torch.cuda.get_device_name(dev)}, torch {torch.__version__}")

    for shape in ((3, 37, 130), (2, 50, 2048), (1, 1, 8), (7, 3000)):
        n = shape[-1]
        inputs = [rand(*shape, scale=2, shift=0.5), rand(n, scale=0.2, shift=1), rand(n, scale=0.2)]
        check.compare(
            f"layer_norm{shape}",
            lambda x, w, b: kernels.layer_norm(x, w, b, 1e-5),
            lambda x, w, b: reference.layer_norm(x, w, b, 1e-5),
            inputs,
            [rand(*shape)],
        )
    # every tile the sweep times, with row counts no tile divides
    for n, m in ((130, 111), (2048, 333)):
        x, w, b, dy = rand(m, n, scale=2, shift=0.5), rand(n, scale=0.2, shift=1), rand(n, scale=0.2), rand(m, n)
        want = outputs_and_grads(lambda x, w, b: reference.layer_norm(x, w, b, 1e-5), [x, w, b], [dy], torch.float32)
        tiles = ln.candidate_tiles(n)
        before = check.failures
        for tile in tiles:
            y, stats = ln.forward(x, w, b, 1e-5, tile)
            dx, partials = ln.backward(dy, x, w, stats, tile)
            sums = partials.sum(dim=1)
            errs = [rel_err(g, v) for g, v in zip((y, dx, sums[0], sums[1]), want)]
            bad = max(errs) > FP32_TOL
            check.failures += bad
            if bad:
                print(f"FAIL layer_norm tile {tile} at {m}x{n}: {errs}")
        if check.failures == before:
            print(f"ok   layer_norm: all {len(tiles)} tiles at {m}x{n} fp32", flush=True)

    for batch, seq, heads, head_dim, rotary_dim in ((2, 13, 3, 24, 6), (2, 37, 4, 128, 64), (1, 5, 2, 64, 64)):
        inv_freq = 1.0 / (10000 ** (torch.arange(0, rotary_dim, 2, device=dev).float() / rotary_dim))
        emb = torch.outer(torch.arange(seq + 7, device=dev).float(), inv_freq)
        emb = torch.cat((emb, emb), dim=-1)
        cos, sin = emb.cos(), emb.sin()

        def strided(fn):
            def run(q, k):  # q, k read as views of one fused projection, as the model does
                fused = torch.cat((q, k, torch.zeros_like(q)), dim=-1)
                return fn(fused[..., :head_dim], fused[..., head_dim : 2 * head_dim], cos, sin, rotary_dim)

            return run

        qk = [rand(batch, seq, heads, head_dim), rand(batch, seq, heads, head_dim)]
        check.compare(
            f"rotary({batch},{seq},{heads},{head_dim}; rotary_dim {rotary_dim})",
            strided(kernels.rotary),
            strided(reference.rotary),
            qk,
            [rand(batch, seq, heads, head_dim) for _ in range(2)],
        )

    for shape in ((3, 37, 130), (5, 8200)):
        check.compare(
            f"bias_gelu{shape}",
            kernels.bias_gelu,
            reference.bias_gelu,
            [rand(*shape, scale=3), rand(shape[-1])],
            [rand(*shape)],
        )

    for batch, seq, hidden, vocab, use_bias in ((3, 37, 130, 1007, False), (2, 300, 256, 30080 + 7, True)):
        target = torch.randint(0, vocab, (batch, seq), generator=gen, device=dev)
        target[0, :5] = -100
        target[-1, -1] = vocab - 1
        inputs = [rand(batch, seq, hidden), rand(vocab, hidden, scale=0.05)] + ([rand(vocab)] if use_bias else [])

        def flce(fn):
            return lambda h, w, *b: fn(h, w, target, -100, b[0] if b else None)

        check.compare(
            f"fused_linear_ce({batch}x{seq}, hidden {hidden}, vocab {vocab}, bias {use_bias})",
            flce(kernels.fused_linear_cross_entropy),
            flce(reference.fused_linear_cross_entropy),
            inputs,
            [torch.tensor(1.7, device=dev)],
        )

    print(f"\n{check.failures} failed" if check.failures else "\nall kernel checks passed")
    return 1 if check.failures else 0


if __name__ == "__main__":
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 reference and kernels' torch matmuls alike
    sys.exit(main())
