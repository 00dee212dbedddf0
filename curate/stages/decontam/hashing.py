"""Polynomial n-gram hashes of unit sequences, vectorized over a whole batch."""

from __future__ import annotations

import numpy as np

from curate.dedup.minhash import mix64

_B = np.uint64(0x100000001B3)  # odd multiplier (FNV-64 prime) for the polynomial hash
_MASK32 = np.uint64(0xFFFFFFFF)


def _powers(k: int) -> np.ndarray:
    """B^0 .. B^(k-1) mod 2^64."""
    p = np.full(max(k, 1), _B, np.uint64)
    p[0] = 1
    return np.cumprod(p, dtype=np.uint64)  # wraps mod 2^64, as the hash wants


def window_hashes(values: np.ndarray, n: int) -> np.ndarray:
    """Hash of every window values[i:i+n], all windows at once (len(values)-n+1 of them)."""
    m = len(values) - n + 1
    if m <= 0:
        return np.zeros(0, np.uint64)
    with np.errstate(over="ignore"):
        blocks = {1: values.astype(np.uint64)}
        size = 1
        while size * 2 <= n:  # blocks[2s][i] = hash of values[i:i+2s]
            h = blocks[size]
            blocks[size * 2] = h[:-size] * (_B ** np.uint64(size)) + h[size:]
            size *= 2
        out, used = None, 0
        for s in sorted(blocks, reverse=True):
            if n - used >= s:
                part = blocks[s][used : used + m]
                out = part.copy() if out is None else out * (_B ** np.uint64(s)) + part
                used += s
    return mix64(out)
