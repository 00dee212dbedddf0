"""LayerNorm over the last dim. Forward: BLOCK_M whole rows per program. Backward:
a fixed number of persistent programs walk the row blocks grid-stride, write dx and
accumulate dw/db partials per program, which one column sum finishes.
Statistics are fp32 whatever the input dtype.

Tiles are plain dicts so that bench/kernels.py can sweep them on a GPU; the
defaults come from `forward_tile` / `backward_tile`."""

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
def _ln_bwd_kernel(X, W, DY, DX, Mean, Rstd, DW, DB, stride_x, stride_dy, stride_dx, M, N,
                   BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, STAGES: tl.constexpr):
    pid = tl.program_id(0)
    programs = tl.num_programs(0)
    cols = tl.arange(0, BLOCK_N)
    col_mask = cols < N
    w = tl.load(W + cols, mask=col_mask, other=0.0).to(tl.float32)
    dw = tl.zeros([BLOCK_N], dtype=tl.float32)
    db = tl.zeros([BLOCK_N], dtype=tl.float32)
    # grid-stride: neighbouring programs read neighbouring rows; STAGES > 1 lets the
    # compiler prefetch the next block while this one reduces.
    for block in tl.range(pid, tl.cdiv(M, BLOCK_M), programs, num_stages=STAGES):
        rows = (block * BLOCK_M + tl.arange(0, BLOCK_M)).to(tl.int64)  # int64 offsets: rows * stride
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


def _rows_per_program(N: int) -> int:
    """Several short rows per program so that each moves a few KB; one long row."""
    return max(1, min(16, 2048 // triton.next_power_of_2(N)))


def forward_tile(N: int) -> dict:
    BLOCK_M = _rows_per_program(N)
    return dict(BLOCK_M=BLOCK_M, num_warps=min(max(BLOCK_M * triton.next_power_of_2(N) // 256, 1), 8))


def backward_tile(N: int) -> dict:
    """programs_per_sm: persistent programs per SM (each owns one row of dw/db partials)."""
    return dict(forward_tile(N), STAGES=1, programs_per_sm=4)


def candidate_tiles(N: int) -> list[dict]:
    """The defaults plus the tiles bench/kernels.py --sweep times on a GPU: rows per
    program x warps x pipelining x persistent programs per SM, within ~16K elements."""
    block_n = triton.next_power_of_2(N)
    tiles = [backward_tile(N)]
    for rows in (1, 2, 4, 8):
        for warps in (4, 8, 16):
            for stages, per_sm in ((1, 2), (2, 2), (1, 8)):
                tile = dict(BLOCK_M=rows, num_warps=warps, STAGES=stages, programs_per_sm=per_sm)
                if rows * block_n <= 16384 and warps * 32 <= rows * block_n and tile not in tiles:
                    tiles.append(tile)
    return tiles


def forward(x2, weight, bias, eps, tile=None):
    """y, mean, rstd for a (M, N) input with unit stride along N."""
    M, N = x2.shape
    tile = tile or forward_tile(N)
    y = torch.empty((M, N), dtype=x2.dtype, device=x2.device)
    mean = torch.empty(M, dtype=torch.float32, device=x2.device)
    rstd = torch.empty(M, dtype=torch.float32, device=x2.device)
    if M > 0:
        _ln_fwd_kernel[(triton.cdiv(M, tile["BLOCK_M"]),)](
            x2, weight, bias, y, mean, rstd, x2.stride(0), y.stride(0), M, N, eps,
            BLOCK_M=tile["BLOCK_M"], BLOCK_N=triton.next_power_of_2(N), num_warps=tile["num_warps"])
    return y, mean, rstd


def backward(dy2, x2, weight, mean, rstd, tile=None):
    """dx and the fp32 (2, G, N) dw/db partials."""
    M, N = x2.shape
    tile = tile or backward_tile(N)
    dx = torch.empty_like(x2)
    G = num_programs(x2.device, triton.cdiv(M, tile["BLOCK_M"]), tile["programs_per_sm"])
    partials = torch.empty((2, G, N), dtype=torch.float32, device=x2.device)
    _ln_bwd_kernel[(G,)](x2, weight, dy2, dx, mean, rstd, partials[0], partials[1],
                         x2.stride(0), dy2.stride(0), dx.stride(0), M, N,
                         BLOCK_M=tile["BLOCK_M"], BLOCK_N=triton.next_power_of_2(N), STAGES=tile["STAGES"],
                         num_warps=tile["num_warps"])
    return dx, partials


class LayerNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        shape = x.shape
        x2 = x.reshape(-1, shape[-1])
        if x2.stride(-1) != 1:
            x2 = x2.contiguous()
        y, mean, rstd = forward(x2, weight, bias, eps)
        ctx.save_for_backward(x2, weight, mean, rstd)
        ctx.shape = shape
        ctx.bias_dtype = bias.dtype
        return y.view(shape)

    @staticmethod
    def backward(ctx, dy):
        x2, weight, mean, rstd = ctx.saved_tensors
        dy2 = dy.reshape(-1, x2.shape[1])
        if dy2.stride(-1) != 1:
            dy2 = dy2.contiguous()
        dx, partials = backward(dy2, x2, weight, mean, rstd)
        sums = partials.sum(dim=1)  # one reduction for both
        return dx.view(ctx.shape), sums[0].to(weight.dtype), sums[1].to(ctx.bias_dtype), None
