"""gelu(x + bias) with exact erf GELU. Forward is one elementwise pass; backward
writes dx and per-program column partials of dx, summed into dbias by a second
kernel. Only x is saved (the pre-bias input), as the eager op saves x + bias."""

import torch
import triton
import triton.language as tl

from ._grid import cdiv
from ._partials import column_sum, num_programs


@triton.jit
def _bias_gelu_fwd_kernel(X, Bias, Y, M, N, stride_x, stride_y, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    rows = tl.program_id(0).to(tl.int64) * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    mask = (rows[:, None] < M) & (cols[None, :] < N)
    x = tl.load(X + rows[:, None] * stride_x + cols[None, :], mask=mask, other=0.0).to(tl.float32)
    b = tl.load(Bias + cols, mask=cols < N, other=0.0).to(tl.float32)
    u = x + b[None, :]
    y = 0.5 * u * (1.0 + tl.math.erf(u * 0.7071067811865476))
    tl.store(Y + rows[:, None] * stride_y + cols[None, :], y.to(Y.dtype.element_ty), mask=mask)


@triton.jit
def _bias_gelu_bwd_kernel(
    X,
    Bias,
    DY,
    DX,
    DB,
    M,
    N,
    stride_x,
    stride_dy,
    stride_dx,
    blocks_per_program,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
):
    pid = tl.program_id(0)
    cols = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    col_mask = cols < N
    b = tl.load(Bias + cols, mask=col_mask, other=0.0).to(tl.float32)
    db = tl.zeros([BLOCK_N], dtype=tl.float32)
    row0 = pid.to(tl.int64) * blocks_per_program * BLOCK_M
    for i in range(0, blocks_per_program):
        rows = row0 + i * BLOCK_M + tl.arange(0, BLOCK_M)
        mask = (rows[:, None] < M) & col_mask[None, :]
        x = tl.load(X + rows[:, None] * stride_x + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        dy = tl.load(DY + rows[:, None] * stride_dy + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        u = x + b[None, :]
        cdf = 0.5 * (1.0 + tl.math.erf(u * 0.7071067811865476))
        pdf = tl.exp(-0.5 * u * u) * 0.3989422804014327
        dx = dy * (cdf + u * pdf)
        tl.store(DX + rows[:, None] * stride_dx + cols[None, :], dx.to(DX.dtype.element_ty), mask=mask)
        db += tl.sum(tl.where(mask, dx, 0.0), axis=0)
    tl.store(DB + pid * N + cols, db, mask=col_mask)


_BLOCK_M, _BLOCK_N = 16, 256


def _rows(x):
    x2 = x.reshape(-1, x.shape[-1])
    return x2 if x2.stride(-1) == 1 else x2.contiguous()


class BiasGeluFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, bias):
        x2 = _rows(x)
        M, N = x2.shape
        y = torch.empty((M, N), dtype=x.dtype, device=x.device)
        if M > 0:
            grid = (cdiv(M, _BLOCK_M), cdiv(N, _BLOCK_N))
            _bias_gelu_fwd_kernel[grid](
                x2, bias, y, M, N, x2.stride(0), y.stride(0), BLOCK_M=_BLOCK_M, BLOCK_N=_BLOCK_N, num_warps=4
            )
        ctx.save_for_backward(x2, bias)
        ctx.shape = x.shape
        return y.view(x.shape)

    @staticmethod
    def backward(ctx, dy):
        x2, bias = ctx.saved_tensors
        M, N = x2.shape
        dy2 = _rows(dy)
        dx = torch.empty_like(x2)
        row_blocks = cdiv(M, _BLOCK_M)
        G = num_programs(x2.device, row_blocks)
        blocks_per_program = cdiv(row_blocks, G) if M > 0 else 0
        db_part = torch.empty((G, N), dtype=torch.float32, device=x2.device)
        _bias_gelu_bwd_kernel[(G, cdiv(N, _BLOCK_N))](
            x2,
            bias,
            dy2,
            dx,
            db_part,
            M,
            N,
            x2.stride(0),
            dy2.stride(0),
            dx.stride(0),
            blocks_per_program,
            BLOCK_M=_BLOCK_M,
            BLOCK_N=_BLOCK_N,
            num_warps=4,
        )
        return dx.view(ctx.shape), column_sum(db_part, bias.dtype)
