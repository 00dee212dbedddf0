"""The dedup keys' innermost loops, compiled (numba): shingle hashes and MinHash minima.

Shingles, words and line keys: the polynomial hash of each n-gram or segment, by
Horner's rule on its units in place (numpy needed prefix sums, powers of B and index
arrays as long as the text). MinHash (affine32 scheme): numpy permuted a chunk of
shingles into a (permutations x shingles) array, then reduced it per document: two
passes over memory for every shingle and permutation, most of the dedup keys' time.
Here each shingle is permuted and folded into its document's minima in registers, the
permutations vectorised by the compiler: about 5x the numpy form's speed.
tests/test_minhash.py compares the shingles with the scalar reference
(curate/dedup/shingles.py) and the signatures with datasketch.MinHash.

Compiled once per machine: ``cache=True`` keeps the machine code beside this file
(or in numba's user cache where that is read-only), so a Ray worker loads it.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, inline="always")
def _poly_mix(values, lo, hi, base, mix):  # pragma: no cover (compiled)
    """splitmix64 of h = sum v_j * base^(hi-1-j) mod 2^64 over values[lo:hi]."""
    s1, s2, s3, m1, m2 = mix
    h = np.uint64(0)
    for j in range(lo, hi):
        h = h * base + values[j]
    h = (h ^ (h >> s1)) * m1
    h = (h ^ (h >> s2)) * m2
    return h ^ (h >> s3)


@numba.njit(cache=True, nogil=True)
def ngram_hashes32(values, seg_offsets, n, out_offsets, base, mix):  # pragma: no cover (compiled)
    """The top 32 bits of _poly_mix of each n-gram of each segment of ``values``
    (uint64); a segment shorter than n gives one hash of all of it, an empty one none
    (``out_offsets`` says where each segment's hashes go). ``mix``: splitmix64's shifts
    and multipliers."""
    out = np.empty(out_offsets[-1], np.uint32)
    o = 0
    for s in range(seg_offsets.shape[0] - 1):
        lo, hi = seg_offsets[s], seg_offsets[s + 1]
        width = min(n, hi - lo)
        for i in range(lo, hi - width + 1 if hi > lo else lo):
            out[o] = np.uint32(_poly_mix(values, i, i + width, base, mix) >> np.uint64(32))
            o += 1
    return out


@numba.njit(cache=True, nogil=True)
def segment_hashes64(values, starts, ends, base, mix):  # pragma: no cover (compiled)
    """_poly_mix of each segment values[starts[k]:ends[k]] (uint64)."""
    out = np.empty(starts.shape[0], np.uint64)
    for k in range(starts.shape[0]):
        out[k] = _poly_mix(values, starts[k], ends[k], base, mix)
    return out


@numba.njit(cache=True, nogil=True)
def affine_minima(hv, offsets, a, b, first, end, out, range_out):  # pragma: no cover (compiled)
    """out[d] = min over document d's shingles (hv[offsets[d]:offsets[d + 1]], pre-mixed
    uint32) of (a * h + b) mod 2^32, per permutation; range_out[r] the same over
    hv[first[r]:end[r]] (ranges ascending and disjoint). Both start at 2^32 - 1."""
    perms = a.shape[0]
    ranges = first.shape[0]
    r = 0
    for d in range(offsets.shape[0] - 1):
        row = out[d]
        for k in range(offsets[d], offsets[d + 1]):
            h = hv[k]
            while r < ranges and end[r] <= k:
                r += 1
            # two copies of the loop, not a test per permutation: each stays a plain
            # vectorisable min
            if r < ranges and first[r] <= k:
                also = range_out[r]
                for p in range(perms):
                    v = np.uint32(a[p] * h + b[p])
                    if v < row[p]:
                        row[p] = v
                    if v < also[p]:
                        also[p] = v
            else:
                for p in range(perms):
                    v = np.uint32(a[p] * h + b[p])
                    if v < row[p]:
                        row[p] = v
