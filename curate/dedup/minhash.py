"""MinHash signatures for a whole batch of documents at once, and LSH banding.

Semantics follow datasketch.MinHash exactly (same permutations from
``np.random.RandomState(seed)``, same arithmetic), so a row of ``signatures``
equals ``datasketch.MinHash(num_perm, seed=seed, scheme=scheme)`` updated with the
same shingle hashes; tests/test_minhash.py proves it. Two schemes:

- ``affine32`` (datasketch >= 2.0 default): h = fmix32(hash); a * h + b mod 2^32.
- ``legacy`` (datasketch < 2.0): (a * hash + b) mod (2^61 - 1), truncated to 32 bits.

Instead of one Python call per shingle, all shingles of a batch go through one
compiled loop (affine32), or are permuted in a few numpy passes and reduced per
document with ``np.minimum.reduceat`` (legacy).
"""

from __future__ import annotations

import hashlib
import struct
from functools import lru_cache

import numpy as np

MERSENNE_PRIME = np.uint64((1 << 61) - 1)
MAX_HASH32 = np.uint32((1 << 32) - 1)
SCHEMES = ("affine32", "legacy")
_CHUNK_CELLS = 1 << 21  # shingles x permutations per numpy pass (8 MB of scratch)


def sha1_hash32(data: bytes) -> int:
    """datasketch's default shingle hash (datasketch.hashfunc.sha1_hash32)."""
    return struct.unpack("<I", hashlib.sha1(data).digest()[:4])[0]


def sha1_hashes32(shingles: list[bytes]) -> np.ndarray:
    return np.fromiter((sha1_hash32(s) for s in shingles), dtype=np.uint32, count=len(shingles))


@lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int, scheme: str = "affine32") -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) permutation parameters datasketch draws for (num_perm, seed, scheme)."""
    gen = np.random.RandomState(seed)
    if scheme == "legacy":
        ab = np.array(
            [
                (gen.randint(1, MERSENNE_PRIME, dtype=np.uint64), gen.randint(0, MERSENNE_PRIME, dtype=np.uint64))
                for _ in range(num_perm)
            ],
            dtype=np.uint64,
        ).T
        return ab[0].copy(), ab[1].copy()
    if scheme == "affine32":
        a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        return a, b
    raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")


def _xorshift_multiply(x: np.ndarray, shifts: tuple, multipliers: tuple) -> np.ndarray:
    """x ^= x >> s; x *= m for each pair, then a last xor-shift: the shape of both finalizers below."""
    for shift, multiplier in zip(shifts, multipliers):
        x = x ^ (x >> shift)
        x = x * multiplier
    return x ^ (x >> shifts[-1])


_FMIX32 = ((np.uint32(16), np.uint32(13), np.uint32(16)), (np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)))
_SPLITMIX64 = (
    (np.uint64(30), np.uint64(27), np.uint64(31)),
    (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)),
)
SPLITMIX64_CONSTANTS = (*_SPLITMIX64[0], *_SPLITMIX64[1])  # shifts, then multipliers: the compiled loops' mix


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 32-bit finalizer (datasketch pre-mixes with it in affine32)."""
    return _xorshift_multiply(h, *_FMIX32)


def _permute(hv: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """(shingles,) uint32 -> (num_perm, shingles) uint32 hashes permuted by the legacy
    scheme, written into ``out`` (scratch of at least num_perm * shingles).

    Permutations on the outer axis: the per-document min is then a reduction over
    contiguous memory, about 4x faster than the shingle-major layout.
    """
    phv = out[: len(a) * len(hv)].reshape(len(a), len(hv))
    x = np.multiply.outer(a, hv.astype(np.uint64))  # wraps mod 2^64, like datasketch
    x += b[:, None]
    # x mod (2^61 - 1) with shifts: x = hi * 2^61 + lo and 2^61 = 1 (mod p)
    x = (x & MERSENNE_PRIME) + (x >> np.uint64(61))
    x = np.where(x >= MERSENNE_PRIME, x - MERSENNE_PRIME, x)
    phv[...] = x & np.uint64(0xFFFFFFFF)
    return phv


def signatures(
    hashes: np.ndarray,
    offsets: np.ndarray,
    num_perm: int = 128,
    seed: int = 1,
    scheme: str = "affine32",
    ranges: tuple[np.ndarray, np.ndarray] | None = None,
):
    """MinHash signatures of many documents.

    ``hashes``: uint32 shingle hashes of all documents, concatenated.
    ``offsets``: int64 array of len(docs) + 1; document i owns hashes[offsets[i]:offsets[i+1]].
    Returns (docs, num_perm) uint32; a document without shingles gets all 2^32 - 1,
    as an empty datasketch.MinHash does. With ``ranges`` (first and end indices into
    ``hashes`` of non-empty ranges, ascending and disjoint), also the signature of the
    shingles of each range, from the same permuted hashes: (docs' signatures, ranges').

    affine32 runs as one compiled loop (curate/dedup/compiled.py). The legacy scheme's
    shingles go through numpy in chunks of equal size, cut anywhere: a document split
    over two chunks takes the smaller of its two partial minima. One scratch buffer
    serves every chunk (a fresh 8 MB array per chunk costs its page faults each time,
    about as much as the arithmetic).
    """
    a, b = permutations(num_perm, seed, scheme)
    hashes = np.ascontiguousarray(hashes, dtype=np.uint32)
    offsets = np.asarray(offsets, dtype=np.int64)
    out = np.full((len(offsets) - 1, num_perm), MAX_HASH32, dtype=np.uint32)
    if scheme == "affine32":
        return _compiled(fmix32(hashes), offsets, a, b, ranges, out)
    docs = np.flatnonzero(offsets[1:] > offsets[:-1])
    segments = [(out, docs, offsets[:-1][docs], offsets[1:][docs])]
    if ranges is not None:
        first, end = (np.asarray(x, np.int64) for x in ranges)
        segments.append(
            (np.full((len(first), num_perm), MAX_HASH32, dtype=np.uint32), np.arange(len(first)), first, end)
        )
    total = int(offsets[-1]) if len(offsets) else 0
    rows = min(total, max(1, _CHUNK_CELLS // num_perm))
    scratch = np.empty(num_perm * rows, dtype=np.uint32)
    for lo in range(0, total, max(rows, 1)):
        hi = min(lo + rows, total)
        phv = _permute(hashes[lo:hi], a, b, scratch)
        for target, at, starts, ends in segments:
            _take_minima(phv, lo, hi, target, at, starts, ends)
    return out if ranges is None else (out, segments[1][0])


def _compiled(hv: np.ndarray, offsets: np.ndarray, a, b, ranges, out: np.ndarray):
    """``signatures`` for affine32, by the compiled loop (curate/dedup/compiled.py)."""
    from curate.dedup.compiled import affine_minima

    first, end = (np.asarray(x, np.int64) for x in ranges) if ranges is not None else (np.zeros(0, np.int64),) * 2
    range_out = np.full((len(first), len(a)), MAX_HASH32, dtype=np.uint32)
    affine_minima(hv, offsets, a, b, first, end, out, range_out)
    return out if ranges is None else (out, range_out)


def _take_minima(phv, lo: int, hi: int, target, at, starts, ends) -> None:
    """target[at[k]] = min(itself, the minimum of phv over segment k of [starts, ends)
    within the chunk [lo, hi)), for the segments (non-empty, ascending, disjoint) that
    meet the chunk. One reduceat over [start, end, start, end, ...]: every other
    result is a segment's minimum, the others are the gaps between them."""
    first = int(np.searchsorted(ends, lo, side="right"))
    last = int(np.searchsorted(starts, hi, side="left"))
    if first >= last:
        return
    k = at[first:last]
    bounds = np.stack([np.maximum(starts[first:last], lo), np.minimum(ends[first:last], hi)], axis=1).ravel() - lo
    if bounds[-1] == hi - lo:
        bounds = bounds[:-1]  # the last segment runs to the chunk's end
    target[k] = np.minimum(target[k], np.minimum.reduceat(phv, bounds, axis=1)[:, ::2].T)


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of row pairs: the fraction of equal signature slots."""
    return (sig_a == sig_b).mean(axis=-1)


# ---------------------------------------------------------------- LSH banding


@lru_cache(maxsize=64)
def optimal_bands(
    threshold: float, num_perm: int, false_positive_weight: float = 0.5, false_negative_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) minimizing the weighted false-positive/negative areas under the
    LSH S-curve: the search of datasketch.MinHashLSH (``_optimal_param``), with the
    integrals done for all (b, r) at once by Gauss-Legendre quadrature instead of
    one scipy call each (tests check the same choice over a grid of thresholds)."""
    b, r = zip(*[(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)])
    b, r = np.array(b, dtype=np.float64)[:, None], np.array(r, dtype=np.float64)[:, None]
    x, w = np.polynomial.legendre.leggauss(64)

    def area(lo: float, hi: float, false_positive: bool) -> np.ndarray:
        s = (hi - lo) / 2 * x[None, :] + (hi + lo) / 2
        p = 1 - (1 - s**r) ** b  # probability of becoming a candidate
        return ((p if false_positive else 1 - p) * w[None, :]).sum(axis=1) * (hi - lo) / 2

    err = area(0.0, threshold, True) * false_positive_weight + area(threshold, 1.0, False) * false_negative_weight
    best = int(np.argmin(err))  # first minimum, as datasketch's strict < keeps the first
    return int(b[best, 0]), int(r[best, 0])


_BAND_MUL = np.uint64(0x9E3779B97F4A7C15)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer: a bijection on uint64 with good avalanche."""
    return _xorshift_multiply(x, *_SPLITMIX64)


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(docs, bands) uint64: one 64-bit key per band; equal keys = same LSH bucket.

    The band index is mixed in, so keys of different bands never meet in one bucket
    and all bands can be shuffled together.
    """
    n = sigs.shape[0]
    keys = np.empty((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for band in range(bands):
            h = np.full(n, np.uint64(band + 1) * _BAND_MUL, dtype=np.uint64)
            for j in range(band * rows, (band + 1) * rows):
                h = mix64(h ^ sigs[:, j].astype(np.uint64))
            keys[:, band] = h
    return keys
