"""LayerNorm over the last dim of a contiguous tensor. Forward: BLOCK_M whole rows per program. Backward:
a fixed number of persistent programs walk the row blocks grid-stride, write dx and
accumulate dw/db partials per program, which one column sum finishes.
Statistics are fp32 whatever the input dtype.

Tiles are plain dicts so that bench/layer_norm_sweep.py can time them one by one on a
GPU and record the fastest in layer_norm_tiles.json; `forward_tile` / `backward_tile`
read that, or fall back to a heuristic."""

import json
import os
import warnings
from functools import cache
from pathlib import Path

import torch
import triton
import triton.language as tl

from ._grid import cdiv, next_power_of_2
from ._partials import column_sum, num_programs


@triton.jit
def _ln_fwd_kernel(X, W, B, Y, Stats, M, N, eps, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    rows = tl.program_id(0).to(tl.int64) * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = tl.arange(0, BLOCK_N)
    row_mask = rows < M
    col_mask = cols < N
    mask = row_mask[:, None] & col_mask[None, :]
    x = tl.load(X + rows[:, None] * N + cols[None, :], mask=mask, other=0.0).to(tl.float32)  # contiguous rows
    mean = tl.sum(x, axis=1) / N
    xc = tl.where(mask, x - mean[:, None], 0.0)
    var = tl.sum(xc * xc, axis=1) / N
    rstd = 1.0 / tl.sqrt(var + eps)
    w = tl.load(W + cols, mask=col_mask, other=0.0).to(tl.float32)
    b = tl.load(B + cols, mask=col_mask, other=0.0).to(tl.float32)
    y = xc * rstd[:, None] * w[None, :] + b[None, :]
    tl.store(Y + rows[:, None] * N + cols[None, :], y.to(Y.dtype.element_ty), mask=mask)
    tl.store(Stats + rows, mean, mask=row_mask)  # (2, M): means, then rstds
    tl.store(Stats + M + rows, rstd, mask=row_mask)


@triton.jit
def _ln_bwd_kernel(
    X, W, DY, DX, Stats, Partials, M, N, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, STAGES: tl.constexpr
):
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
        rows = (block * BLOCK_M + tl.arange(0, BLOCK_M)).to(tl.int64)  # int64 offsets: rows * N
        row_mask = rows < M
        mask = row_mask[:, None] & col_mask[None, :]  # rows past M load zeros and add nothing
        x = tl.load(X + rows[:, None] * N + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        dy = tl.load(DY + rows[:, None] * N + cols[None, :], mask=mask, other=0.0).to(tl.float32)
        mean = tl.load(Stats + rows, mask=row_mask, other=0.0)
        rstd = tl.load(Stats + M + rows, mask=row_mask, other=0.0)
        xhat = tl.where(mask, (x - mean[:, None]) * rstd[:, None], 0.0)
        wdy = w[None, :] * dy
        c1 = tl.sum(xhat * wdy, axis=1) / N
        c2 = tl.sum(wdy, axis=1) / N
        dx = (wdy - (xhat * c1[:, None] + c2[:, None])) * rstd[:, None]
        tl.store(DX + rows[:, None] * N + cols[None, :], dx.to(DX.dtype.element_ty), mask=mask)
        dw += tl.sum(dy * xhat, axis=0)
        db += tl.sum(dy, axis=0)
    tl.store(Partials + pid * N + cols, dw, mask=col_mask)  # (2, programs, N): dw rows, then db rows
    tl.store(Partials + (programs + pid) * N + cols, db, mask=col_mask)


# Tiles measured by bench/layer_norm_sweep.py --tiles-out, per GPU name and hidden size;
# KERNELS_LN_TILES names another file. Anything not listed takes the heuristic below.
TILES_FILE = Path(__file__).with_name("layer_norm_tiles.json")
_FORWARD_KEYS, _BACKWARD_KEYS = ("BLOCK_M", "num_warps"), ("BLOCK_M", "num_warps", "STAGES", "programs_per_sm")


@cache
def measured_tiles() -> dict:
    path = Path(os.environ.get("KERNELS_LN_TILES") or TILES_FILE)
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        warnings.warn(f"{path}: unreadable LayerNorm tiles, using the defaults ({e})", stacklevel=2)
        return {}


def _measured(device: str | None, N: int, kind: str, keys: tuple) -> dict | None:
    entry = measured_tiles().get(device or "", {}).get(str(N), {}).get(kind)
    ok = (
        isinstance(entry, dict)
        and all(isinstance(entry.get(k), int) and entry[k] > 0 for k in keys)
        and entry["BLOCK_M"] & (entry["BLOCK_M"] - 1) == 0
        and entry["num_warps"] in (1, 2, 4, 8, 16, 32)
    )
    return {k: entry[k] for k in keys} if ok else None


@cache
def forward_tile(N: int, device: str | None = None) -> dict:
    """The measured tile for this GPU, else several short rows per program so that each
    moves a few KB, one long row. Cached: the launch path runs once per layer per
    step. Treat as read-only."""
    tile = _measured(device, N, "forward", _FORWARD_KEYS)
    if tile is None:
        BLOCK_M = max(1, min(16, 2048 // next_power_of_2(N)))
        tile = dict(BLOCK_M=BLOCK_M, num_warps=min(max(BLOCK_M * next_power_of_2(N) // 256, 1), 8))
    return dict(tile, BLOCK_N=next_power_of_2(N))


@cache
def backward_tile(N: int, device: str | None = None) -> dict:
    """programs_per_sm: persistent programs per SM (each owns one row of dw/db partials)."""
    tile = _measured(device, N, "backward", _BACKWARD_KEYS)
    if tile is None:
        # the best or near-best tile of the H100 and H200 sweeps at hidden 2048: about 8K
        # elements per iteration, few persistent programs (fewer dw/db partials to sum)
        block_n = next_power_of_2(N)
        tile = dict(
            BLOCK_M=max(1, min(16, 8192 // block_n)), num_warps=4 if block_n <= 4096 else 8, STAGES=2, programs_per_sm=2
        )
    return dict(tile, BLOCK_N=next_power_of_2(N))


@cache
def device_name(device: torch.device) -> str | None:
    """The GPU's name, the key of measured tiles; None off CUDA (the interpreter)."""
    return torch.cuda.get_device_name(device) if device.type == "cuda" else None


def candidate_tiles(N: int) -> list[dict]:
    """The defaults plus the tiles bench/layer_norm_sweep.py times on a GPU: rows per
    program x warps x pipelining x persistent programs per SM, within ~16K elements."""
    block_n = next_power_of_2(N)
    tiles = [backward_tile(N)]
    for rows in (1, 2, 4, 8):
        for warps in (4, 8, 16):
            for stages, per_sm in ((1, 2), (2, 2), (2, 4), (1, 8)):
                tile = dict(BLOCK_M=rows, num_warps=warps, STAGES=stages, programs_per_sm=per_sm, BLOCK_N=block_n)
                if rows * block_n <= 16384 and warps * 32 <= rows * block_n and tile not in tiles:
                    tiles.append(tile)
    return tiles


def _launch_settings(tile: dict, *names: str) -> dict:
    """The tile entries a kernel launch takes (block sizes, pipeline stages, warps)."""
    return {name: tile[name] for name in names}


def forward(x, weight, bias, eps, tile=None):
    """y (x's shape) and the fp32 (2, M) mean/rstd of a contiguous x, rows of N = x.shape[-1]."""
    N = x.shape[-1]
    M = x.numel() // N if N else 0
    dev = x.device
    tile = tile or forward_tile(N, device_name(dev))
    y = torch.empty(x.shape, dtype=x.dtype, device=dev)
    stats = torch.empty((2, M), dtype=torch.float32, device=dev)
    if M > 0:
        meta = _launch_settings(tile, "BLOCK_M", "BLOCK_N", "num_warps")
        _ln_fwd_kernel[(cdiv(M, tile["BLOCK_M"]),)](x, weight, bias, y, stats, M, N, eps, **meta)
    return y, stats


def backward(dy, x, weight, stats, tile=None):
    """dx (x's shape) and the fp32 (2, G, N) dw/db partials; dy and x contiguous."""
    N = x.shape[-1]
    M = stats.shape[1]
    dev = x.device
    tile = tile or backward_tile(N, device_name(dev))
    dx = torch.empty(x.shape, dtype=x.dtype, device=dev)
    G = num_programs(dev, cdiv(M, tile["BLOCK_M"]), tile["programs_per_sm"])
    partials = torch.empty((2, G, N), dtype=torch.float32, device=dev)
    if M > 0:
        meta = _launch_settings(tile, "BLOCK_M", "BLOCK_N", "STAGES", "num_warps")
        _ln_bwd_kernel[(G,)](x, weight, dy, dx, stats, partials, M, N, **meta)
    else:
        partials.zero_()
    return dx, partials


class LayerNormFunction(torch.autograd.Function):
    """Host work is kept to a few allocations and two launches (no views or reshapes:
    each costs microseconds of dispatch): at 1.3b shapes the GPU finishes a
    LayerNorm in tens of microseconds."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        if not x.is_contiguous():
            x = x.contiguous()
        y, stats = forward(x, weight, bias, eps)
        ctx.save_for_backward(x, weight, stats)
        ctx.bias_dtype = bias.dtype
        return y

    @staticmethod
    def backward(ctx, dy):
        x, weight, stats = ctx.saved_tensors
        if not dy.is_contiguous():
            dy = dy.contiguous()
        dx, partials = backward(dy, x, weight, stats)
        if ctx.bias_dtype == weight.dtype:  # one reduction for dw and db
            dw, db = column_sum(partials, weight.dtype).unbind(0)
        else:
            dw, db = column_sum(partials[0], weight.dtype), column_sum(partials[1], ctx.bias_dtype)
        return dx, dw, db, None
