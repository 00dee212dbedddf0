"""Partial rotary embedding (GPT-NeoX rotate_half over the first rotary_dim dims).

Each program handles a tile of (batch, position, head) rows of both q and k, so
one launch covers both. Inputs may be strided views (e.g. slices of a fused qkv
projection): they are read in place, never copied; outputs are fresh contiguous
(batch, seq, heads, head_dim) tensors, the pass-through dims copied alongside.
Backward is the same kernel with the rotation transposed.
"""

import torch
import triton
import triton.language as tl

from ._grid import cdiv, next_power_of_2


@triton.jit
def _rotate(X, O, cos, sin_sel, sign, x_off, o_off, d, d_partner, mask, rot_mask, sx_d):
    x = tl.load(X + x_off + d * sx_d, mask=mask, other=0.0).to(tl.float32)
    xp = tl.load(X + x_off + d_partner * sx_d, mask=mask & rot_mask, other=0.0).to(tl.float32)
    out = x * cos + sign * xp * sin_sel
    tl.store(O + o_off + d, out.to(O.dtype.element_ty), mask=mask)


@triton.jit
def _rotary_kernel(
    Q,
    K,
    OQ,
    OK,
    COS,
    SIN,
    R,
    S,
    H,
    D,
    sq_b,
    sq_s,
    sq_h,
    sq_d,
    sk_b,
    sk_s,
    sk_h,
    sk_d,
    scos,
    ssin,
    HALF: tl.constexpr,
    BLOCK_R: tl.constexpr,
    BLOCK_D: tl.constexpr,
    BACKWARD: tl.constexpr,
):
    # A tile of BLOCK_R (batch, position, head) rows by the head dim.
    r = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)
    r_mask = r < R
    h = r % H
    s = (r // H) % S
    b = r // (H * S)
    h, s, b, r_mask = h[:, None], s[:, None], b[:, None], r_mask[:, None]
    d = tl.arange(0, BLOCK_D)[None, :]
    mask = r_mask & (d < D)
    rot_mask = r_mask & (d < 2 * HALF)
    first = d < HALF
    d_partner = tl.where(first, d + HALF, d - HALF)
    # Dims past rotary_dim pass through: cos=1, sin=0.
    cos = tl.load(COS + s * scos + d, mask=rot_mask, other=1.0).to(tl.float32)
    if BACKWARD:
        # dx[i] = g[i]cos[i] + g[i+h]sin[i+h];  dx[i+h] = g[i+h]cos[i+h] - g[i]sin[i]
        sin_sel = tl.load(SIN + s * ssin + d_partner, mask=rot_mask, other=0.0).to(tl.float32)
        sign = tl.where(first, 1.0, -1.0)
    else:
        # y[i] = x[i]cos[i] - x[i+h]sin[i];  y[i+h] = x[i+h]cos[i+h] + x[i]sin[i+h]
        sin_sel = tl.load(SIN + s * ssin + d, mask=rot_mask, other=0.0).to(tl.float32)
        sign = tl.where(first, -1.0, 1.0)
    o_off = r[:, None] * D  # outputs are contiguous (batch, seq, heads, head_dim)
    _rotate(Q, OQ, cos, sin_sel, sign, b * sq_b + s * sq_s + h * sq_h, o_off, d, d_partner, mask, rot_mask, sq_d)
    _rotate(K, OK, cos, sin_sel, sign, b * sk_b + s * sk_s + h * sk_h, o_off, d, d_partner, mask, rot_mask, sk_d)


def _launch(q, k, cos, sin, rotary_dim, backward):
    B, S, H, D = q.shape
    oq = torch.empty((B, S, H, D), dtype=q.dtype, device=q.device)
    ok = torch.empty((B, S, H, D), dtype=k.dtype, device=k.device)
    R = B * S * H
    if R == 0:
        return oq, ok
    BLOCK_D = next_power_of_2(D)
    BLOCK_R = max(1, 4096 // BLOCK_D)
    _rotary_kernel[(cdiv(R, BLOCK_R),)](
        q,
        k,
        oq,
        ok,
        cos,
        sin,
        R,
        S,
        H,
        D,
        *q.stride(),
        *k.stride(),
        cos.stride(0),
        sin.stride(0),
        HALF=rotary_dim // 2,
        BLOCK_R=BLOCK_R,
        BLOCK_D=BLOCK_D,
        BACKWARD=backward,
        num_warps=8,
    )
    return oq, ok


class RotaryFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, cos, sin, rotary_dim):
        ctx.save_for_backward(cos, sin)
        ctx.rotary_dim = rotary_dim
        return _launch(q, k, cos, sin, rotary_dim, backward=False)

    @staticmethod
    def backward(ctx, dq, dk):
        cos, sin = ctx.saved_tensors
        gq, gk = _launch(dq, dk, cos, sin, ctx.rotary_dim, backward=True)
        return gq, gk, None, None, None
