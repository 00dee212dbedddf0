"""LayerNorm over the last dim: whole rows per program (several when short) forward;
backward computes dx per row and accumulates dw/db partials per program, summed by a second kernel.
Statistics are fp32 whatever the input dtype."""

import torch
import triton
import triton.language as tl

from ._partials import num_programs


@triton.jit
def _ln_fwd_kernel(X, W, B, Y, Mean, Rstd, stride_x, stride_y, M, N, eps,
                   BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    rows = tl.program_id(0).to(tl.int64) * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = tl.arange(0, BLOCK_N)
    row_mask = rows < M
    col_mask = cols < N
    mask = row_mask[:, None] & col_mask[None, :]
    x = tl.load(X + rows[:, None] * stride_x + cols[None, :], mask=mask, other=0.0).to(tl.float32)
    mean = tl.sum(x, axis=1) / N
    xc = tl.where(mask, x - mean[:, None], 0.0)
    var = tl.sum(xc * xc, axis=1) / N
    rstd = 1.0 / tl.sqrt(var + eps)
    w = tl.load(W + cols, mask=col_mask, other=0.0).to(tl.float32)
    b = tl.load(B + cols, mask=col_mask, other=0.0).to(tl.float32)
    y = xc * rstd[:, None] * w[None, :] + b[None, :]
    tl.store(Y + rows[:, None] * stride_y + cols[None, :], y.to(Y.dtype.element_ty), mask=mask)
    tl.store(Mean + rows, mean, mask=row_mask)
    tl.store(Rstd + rows, rstd, mask=row_mask)


@triton.jit
def _ln_bwd_kernel(X, W, DY, DX, Mean, Rstd, DW, DB, stride_x, stride_dy, stride_dx,
                   M, N, blocks_per_program, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid = tl.program_id(0)
    cols = tl.arange(0, BLOCK_N)
    col_mask = cols < N
    w = tl.load(W + cols, mask=col_mask, other=0.0).to(tl.float32)
    dw = tl.zeros([BLOCK_N], dtype=tl.float32)
    db = tl.zeros([BLOCK_N], dtype=tl.float32)
    row0 = pid.to(tl.int64) * blocks_per_program * BLOCK_M
    for i in range(0, blocks_per_program):
        rows = row0 + i * BLOCK_M + tl.arange(0, BLOCK_M)
        row_mask = rows < M
        mask = row_mask[:, None] & col_mask[None, :]  # rows past M load zeros and add nothing
        x = tl.load(X + rows[:, None] * stride_x + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        dy = tl.load(DY + rows[:, None] * stride_dy + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        mean = tl.load(Mean + rows, mask=row_mask, other=0.0)
        rstd = tl.load(Rstd + rows, mask=row_mask, other=0.0)
        xhat = tl.where(mask, (x - mean[:, None]) * rstd[:, None], 0.0)
        wdy = w[None, :] * dy
        c1 = tl.sum(xhat * wdy, axis=1) / N
        c2 = tl.sum(wdy, axis=1) / N
        dx = (wdy - (xhat * c1[:, None] + c2[:, None])) * rstd[:, None]
        tl.store(DX + rows[:, None] * stride_dx + cols[None, :], dx.to(DX.dtype.element_ty), mask=mask)
        dw += tl.sum(dy * xhat, axis=0)
        db += tl.sum(dy, axis=0)
    tl.store(DW + pid * N + cols, dw, mask=col_mask)
    tl.store(DB + pid * N + cols, db, mask=col_mask)


def _tile(N: int):
    """(BLOCK_M rows, BLOCK_N cols, warps): whole rows, several per program when short."""
    BLOCK_N = triton.next_power_of_2(N)
    BLOCK_M = max(1, min(16, 2048 // BLOCK_N))
    return BLOCK_M, BLOCK_N, min(max(BLOCK_M * BLOCK_N // 256, 1), 8)


class LayerNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        shape = x.shape
        N = shape[-1]
        x2 = x.reshape(-1, N)
        if x2.stride(-1) != 1:
            x2 = x2.contiguous()
        M = x2.shape[0]
        y = torch.empty((M, N), dtype=x.dtype, device=x.device)
        mean = torch.empty(M, dtype=torch.float32, device=x.device)
        rstd = torch.empty(M, dtype=torch.float32, device=x.device)
        BLOCK_M, BLOCK_N, warps = _tile(N)
        if M > 0:
            _ln_fwd_kernel[(triton.cdiv(M, BLOCK_M),)](x2, weight, bias, y, mean, rstd, x2.stride(0), y.stride(0),
                                                      M, N, eps, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, num_warps=warps)
        ctx.save_for_backward(x2, weight, mean, rstd)
        ctx.shape = shape
        ctx.bias_dtype = bias.dtype
        return y.view(shape)

    @staticmethod
    def backward(ctx, dy):
        x2, weight, mean, rstd = ctx.saved_tensors
        M, N = x2.shape
        dy2 = dy.reshape(-1, N)
        if dy2.stride(-1) != 1:
            dy2 = dy2.contiguous()
        dx = torch.empty_like(x2)
        BLOCK_M, BLOCK_N, warps = _tile(N)
        row_blocks = triton.cdiv(M, BLOCK_M)
        G = num_programs(x2.device, row_blocks)
        blocks_per_program = triton.cdiv(row_blocks, G)
        partials = torch.empty((2, G, N), dtype=torch.float32, device=x2.device)  # dw, db
        _ln_bwd_kernel[(G,)](x2, weight, dy2, dx, mean, rstd, partials[0], partials[1],
                             x2.stride(0), dy2.stride(0), dx.stride(0), M, N, blocks_per_program,
                             BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, num_warps=warps)
        sums = partials.sum(dim=1)
        dw, db = sums[0].to(weight.dtype), sums[1].to(ctx.bias_dtype)
        return dx.view(ctx.shape), dw, db, None
