"""Triton kernels vs their torch references, forward and backward, on the CPU.

Triton must see TRITON_INTERPRET=1 before it is first imported, so each check runs
in a fresh interpreter (`python tests/test_kernels.py <check>`) with the variable
set; the pytest tests below only launch those and report their output. fp32
throughout (the interpreter simulates kernels with numpy); tolerances are stated
per check.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def _grads(fn, inputs, grad_out):
    inputs = [t.detach().clone().requires_grad_(t.is_floating_point()) for t in inputs]
    out = fn(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    torch.autograd.backward(outs, grad_out)
    return [o.detach() for o in outs], [t.grad for t in inputs if t.requires_grad]


def _assert_close(name, got, want, rtol, atol):
    for i, (g, w) in enumerate(zip(got, want)):
        err = (g - w).abs().max().item()
        print(f"{name}[{i}] shape={tuple(w.shape)} max_abs_err={err:.3e}")
        torch.testing.assert_close(g, w, rtol=rtol, atol=atol)


def check_layer_norm():
    from polyglot_kernels import ops as kernels
    from polyglot_kernels import reference

    gen = torch.Generator().manual_seed(0)
    # 3x37x130: rows and hidden both off powers of two; shifted mean stresses the variance.
    x = torch.randn(3, 37, 130, generator=gen) * 2 + 0.5
    w = torch.randn(130, generator=gen)
    b = torch.randn(130, generator=gen)
    dy = torch.randn(3, 37, 130, generator=gen)
    args = (x, w, b)
    out_k, g_k = _grads(lambda *a: kernels.layer_norm(*a, eps=1e-5), args, (dy,))
    out_r, g_r = _grads(lambda *a: reference.layer_norm(*a, eps=1e-5), args, (dy,))
    # fp32: 1e-5 relative/absolute; dw/db sum 111 rows in another order, so 1e-4 abs.
    _assert_close("layer_norm.out", out_k, out_r, rtol=1e-5, atol=1e-5)
    _assert_close("layer_norm.dx", g_k[:1], g_r[:1], rtol=1e-5, atol=1e-5)
    _assert_close("layer_norm.dw_db", g_k[1:], g_r[1:], rtol=1e-5, atol=1e-4)

    # Every tile bench/kernels.py may sweep on a GPU gives the same result: rows per
    # program that do not divide 111, pipelined loops, uneven grid-stride shares.
    from polyglot_kernels import _layer_norm_triton as ln

    x2, dy2 = x.reshape(-1, 130), dy.reshape(-1, 130)
    for tile in ln.candidate_tiles(130):
        y, stats = ln.forward(x2, w, b, 1e-5, tile)
        dx, partials = ln.backward(dy2, x2, w, stats, tile)
        got = [y.reshape(-1, 130), dx.reshape(-1, 130), partials.sum(dim=1)[0], partials.sum(dim=1)[1]]
        _assert_close(
            f"layer_norm{tile}",
            got,
            [out_r[0].reshape(-1, 130), g_r[0].reshape(-1, 130), *g_r[1:]],
            rtol=1e-5,
            atol=1e-4,
        )


def check_layer_norm_tiles():
    """Tiles the sweep records are read per GPU name and hidden size; a bad entry or
    another GPU falls back to the heuristic; results do not depend on the tile."""
    import json
    import tempfile

    from polyglot_kernels import _layer_norm_triton as ln
    from polyglot_kernels import reference

    recorded = {
        "GPU X": {
            "130": {
                "forward": {"BLOCK_M": 2, "num_warps": 4},
                "backward": {"BLOCK_M": 4, "num_warps": 2, "STAGES": 2, "programs_per_sm": 3},
            },
            "64": {"forward": {"BLOCK_M": 3, "num_warps": 4}},
        }
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tiles.json"
        path.write_text(json.dumps(recorded))
        os.environ["KERNELS_LN_TILES"] = str(path)
        for cached in (ln.measured_tiles, ln.forward_tile, ln.backward_tile):
            cached.cache_clear()
        fwd, bwd = ln.forward_tile(130, "GPU X"), ln.backward_tile(130, "GPU X")
        assert fwd == {"BLOCK_M": 2, "num_warps": 4, "BLOCK_N": 256}, fwd
        assert bwd == {"BLOCK_M": 4, "num_warps": 2, "STAGES": 2, "programs_per_sm": 3, "BLOCK_N": 256}, bwd
        assert ln.forward_tile(130, "GPU Y") == ln.forward_tile(130)  # another GPU
        assert ln.forward_tile(64, "GPU X") == ln.forward_tile(64)  # BLOCK_M 3: not a power of two
        assert ln.backward_tile(64, "GPU X") == ln.backward_tile(64)  # nothing recorded
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(37, 130, generator=gen)
    w, b, dy = torch.randn(130, generator=gen), torch.randn(130, generator=gen), torch.randn(37, 130, generator=gen)
    y, stats = ln.forward(x, w, b, 1e-5, fwd)
    dx, partials = ln.backward(dy, x, w, stats, bwd)
    out_r, g_r = _grads(lambda *a: reference.layer_norm(*a, eps=1e-5), (x, w, b), (dy,))
    _assert_close("layer_norm(recorded tiles)", [y, dx, *partials.sum(dim=1)], [out_r[0], *g_r], rtol=1e-5, atol=1e-4)


def check_rotary():
    from polyglot_kernels import ops as kernels
    from polyglot_kernels import reference

    gen = torch.Generator().manual_seed(1)
    batch, seq, heads, head_dim, max_pos = 2, 13, 3, 24, 20
    for rotary_dim in (12, 6, 24):
        inv_freq = 1.0 / (10000 ** (torch.arange(0, rotary_dim, 2).float() / rotary_dim))
        freqs = torch.outer(torch.arange(max_pos).float(), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)  # HF GPT-NeoX layout, longer than seq
        cos, sin = emb.cos(), emb.sin()
        # q, k as strided views of one fused projection, as the attention layer makes them.
        qkv = torch.randn(batch, seq, heads, 3 * head_dim, generator=gen)
        q, k = qkv[..., :head_dim], qkv[..., head_dim : 2 * head_dim]
        dq = torch.randn(batch, seq, heads, head_dim, generator=gen)
        dk = torch.randn(batch, seq, heads, head_dim, generator=gen)

        def run(fn):
            qq = q.detach().clone().requires_grad_()
            kk = k.detach().clone().requires_grad_()
            # keep the kernel's inputs strided: rebuild views of a leaf-derived fused tensor
            fused = torch.cat((qq, kk, torch.zeros_like(qq)), dim=-1)
            oq, ok = fn(fused[..., :head_dim], fused[..., head_dim : 2 * head_dim], cos, sin, rotary_dim)
            torch.autograd.backward((oq, ok), (dq, dk))
            return [oq.detach(), ok.detach()], [qq.grad, kk.grad]

        out_k, g_k = run(kernels.rotary)
        out_r, g_r = run(reference.rotary)
        assert out_k[0].shape == (batch, seq, heads, head_dim)
        # Pure fp32 multiply-adds, identical formula: 1e-6.
        _assert_close(f"rotary{rotary_dim}.out", out_k, out_r, rtol=1e-6, atol=1e-6)
        _assert_close(f"rotary{rotary_dim}.grad", g_k, g_r, rtol=1e-6, atol=1e-6)
        # the pass-through dims are copied bit for bit
        assert torch.equal(out_k[0][..., rotary_dim:], q[..., rotary_dim:])


def check_bias_gelu():
    from polyglot_kernels import ops as kernels
    from polyglot_kernels import reference

    gen = torch.Generator().manual_seed(2)
    x = torch.randn(3, 37, 130, generator=gen) * 3
    bias = torch.randn(130, generator=gen)
    dy = torch.randn(3, 37, 130, generator=gen)
    out_k, g_k = _grads(kernels.bias_gelu, (x, bias), (dy,))
    out_r, g_r = _grads(reference.bias_gelu, (x, bias), (dy,))
    # fp32 elementwise: 1e-5; dbias sums 111 rows in another order: 1e-4 abs.
    _assert_close("bias_gelu.out", out_k, out_r, rtol=1e-5, atol=1e-5)
    _assert_close("bias_gelu.dx", g_k[:1], g_r[:1], rtol=1e-5, atol=1e-5)
    _assert_close("bias_gelu.dbias", g_k[1:], g_r[1:], rtol=1e-5, atol=1e-4)


def check_fused_linear_cross_entropy():
    from polyglot_kernels import ops as kernels
    from polyglot_kernels import reference
    from polyglot_kernels._cross_entropy_triton import _chunk_rows

    gen = torch.Generator().manual_seed(3)
    batch, seq, hidden_size, vocab = 3, 37, 130, 1000 + 7
    assert _chunk_rows(batch * seq, hidden_size, vocab) < batch * seq  # several chunks run
    for use_bias in (False, True):
        hidden = torch.randn(batch, seq, hidden_size, generator=gen)
        weight = torch.randn(vocab, hidden_size, generator=gen) * 0.05
        target = torch.randint(0, vocab, (batch, seq), generator=gen)
        target[0, :5] = -100  # padding / masked prompt
        target[2, -1] = vocab - 1  # last column, past the last full block
        args = [hidden, weight, target] + ([torch.randn(vocab, generator=gen)] if use_bias else [])

        def fn_k(h, w, t, *b):
            return kernels.fused_linear_cross_entropy(h, w, t, -100, b[0] if b else None)

        def fn_r(h, w, t, *b):
            return reference.fused_linear_cross_entropy(h, w, t, -100, b[0] if b else None)

        grad_out = torch.tensor(1.7)  # a non-unit upstream gradient must scale every grad
        out_k, g_k = _grads(fn_k, args, (grad_out,))
        out_r, g_r = _grads(fn_r, args, (grad_out,))
        # Loss: fp32 log-sum-exp over 1007 logits, 1e-5. Grads (~1e-4 in size, scaled by 1/n):
        # chunked fp32 sums vs one matmul, rtol 1e-5 with atol 1e-7.
        _assert_close(f"flce(bias={use_bias}).loss", out_k, out_r, rtol=1e-5, atol=1e-5)
        _assert_close(f"flce(bias={use_bias}).grads", g_k, g_r, rtol=1e-5, atol=1e-7)

    # all targets ignored: torch gives nan, and so do we
    h = torch.randn(4, hidden_size, generator=gen)
    w = torch.randn(vocab, hidden_size, generator=gen)
    t = torch.full((4,), -100)
    assert torch.isnan(kernels.fused_linear_cross_entropy(h, w, t)).item()


CHECKS = {
    f.__name__: f
    for f in (check_layer_norm, check_layer_norm_tiles, check_rotary, check_bias_gelu, check_fused_linear_cross_entropy)
}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_kernel_under_interpreter(check):
    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH=str(ROOT))
    env.pop("KERNELS_REFERENCE", None)
    proc = subprocess.run(
        [sys.executable, __file__, check], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "max_abs_err" in proc.stdout  # the comparison really ran


def test_cpu_without_interpreter_uses_reference(monkeypatch):
    from polyglot_kernels import ops as kernels

    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    x = torch.randn(5, 7)
    assert not kernels.use_triton(x)
    w, b = torch.ones(7), torch.zeros(7)
    torch.testing.assert_close(kernels.layer_norm(x, w, b), torch.nn.functional.layer_norm(x, (7,), w, b))


def test_reference_can_be_forced(monkeypatch):
    from polyglot_kernels import ops as kernels

    monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setenv("KERNELS_REFERENCE", "1")
    assert not kernels.use_triton(torch.zeros(1))


if __name__ == "__main__":
    assert os.environ.get("TRITON_INTERPRET") == "1", "run with TRITON_INTERPRET=1"
    sys.path.insert(0, str(ROOT))
    from polyglot_kernels import ops as kernels

    assert kernels.use_triton(torch.zeros(1)), "triton path not taken"
    for name in sys.argv[1:] or sorted(CHECKS):
        CHECKS[name]()
        print(f"{name}: ok")
