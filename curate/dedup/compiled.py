"""The dedup keys' innermost loops, compiled (numba): shingle hashes and MinHash minima.

Shingles: the polynomial hash of each n-gram of a segment, by Horner's rule on the
n units in place (numpy needed prefix sums, powers of B and index arrays as long as
the text). MinHash (affine32 scheme): numpy permutes a chunk of shingles into a (permutations x shingles) array, then
reduces it per document: two passes over memory for every shingle and permutation,
most of the dedup keys' time. Here each shingle is permuted and folded into its
document's minima in registers, the permutations vectorised by the compiler: about
5x the numpy form's speed. tests/test_minhash.py compares the shingles with the
scalar reference (curate/dedup/shingles.py) and the signatures with datasketch.MinHash.

Compiled once per machine: ``cache=True`` keeps the machine code beside this file
(or in numba's user cache where that is read-only), so a Ray worker loads it.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def ngram_hashes32(values, seg_offsets, n, out_offsets, base, mix):  # pragma: no cover (compiled)
    """The top 32 bits of splitmix64(h) for each n-gram of each segment of ``values``
    (uint64), h = sum v_j * base^(k-1-j) mod 2^64 over its k units; a segment shorter
    than n gives one hash of all of it, an empty one none (``out_offsets`` says where
    each segment's hashes go). ``mix``: splitmix64's shifts and multipliers."""
    out = np.empty(out_offsets[-1], np.uint32)
    s1, s2, s3, m1, m2 = mix
    o = 0
    for s in range(seg_offsets.shape[0] - 1):
        lo, hi = seg_offsets[s], seg_offsets[s + 1]
        width = min(n, hi - lo)
        for i in range(lo, hi - width + 1 if hi > lo else lo):
            h = np.uint64(0)
            for j in range(i, i + width):
                h = h * base + values[j]
            h = (h ^ (h >> s1)) * m1
            h = (h ^ (h >> s2)) * m2
            out[o] = np.uint32((h ^ (h >> s3)) >> np.uint64(32))
            o += 1
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
