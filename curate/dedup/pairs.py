"""Near-duplicate pairs: LSH buckets, verified candidate pairs and their components.

The single-process building blocks of curate/dedup/near.py (curate/dedup/near_ray.py
uses the same ones inside its reducers).
"""

from __future__ import annotations

import numpy as np

from curate.dedup.arrays import distinct, thread_map
from curate.dedup.minhash import band_keys, jaccard
from curate.dedup.settings import DedupSettings


def has_shingles(sigs: np.ndarray) -> np.ndarray:
    """Rows whose signature saw at least one shingle (an empty set matches every empty set)."""
    return (sigs != np.uint32(0xFFFFFFFF)).any(axis=1)


def bucket_pairs(
    keys: np.ndarray, members: np.ndarray, max_all_pairs: int = 16, members_ascending: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs (a < b) of members sharing a key.

    Buckets up to ``max_all_pairs`` give every pair; larger ones a star around the
    smallest member plus a chain, enough to connect members that really are
    similar without a quadratic blow-up on huge buckets. ``members_ascending``: the
    members are already in ascending order, so a stable sort on the keys alone
    gives the same order as sorting on (key, member), at half the cost.
    """
    order = np.argsort(keys, kind="stable") if members_ascending else np.lexsort((members, keys))
    k, m = keys[order], members[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    sizes = np.diff(np.r_[starts, len(k)])
    a_out, b_out = [], []
    multi = sizes >= 2
    small = multi & (sizes <= max_all_pairs)
    for size in np.unique(sizes[small]):
        s = starts[small & (sizes == size)]
        i, j = np.triu_indices(size, 1)
        a_out.append(m[s[:, None] + i[None, :]].ravel())
        b_out.append(m[s[:, None] + j[None, :]].ravel())
    large = multi & ~small
    if large.any():
        # positions after the first member of each large bucket, with their bucket's first
        firsts = np.repeat(starts[large], sizes[large] - 1)
        pos = (
            firsts
            + (np.arange(len(firsts)) - np.repeat(np.cumsum(sizes[large] - 1) - (sizes[large] - 1), sizes[large] - 1))
            + 1
        )
        a_out.append(m[firsts])  # star
        b_out.append(m[pos])
        chain = pos - 1 != firsts
        a_out.append(m[pos[chain] - 1])  # chain
        b_out.append(m[pos[chain]])
    if not a_out:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    a, b = np.concatenate(a_out), np.concatenate(b_out)
    return np.minimum(a, b), np.maximum(a, b)


def unique_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pairs with a != b, sorted by (a, b)."""
    if len(a) == 0:
        return a, b
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    if a.min() >= 0 and b.min() >= 0 and max(a.max(), b.max()) < (1 << 31):
        code = distinct((a << 32) | b)  # one sort of 64-bit codes beats a row-wise unique
        a, b = code >> 32, code & 0xFFFFFFFF
    else:
        pairs = np.unique(np.stack([a, b], axis=1), axis=0)
        a, b = pairs[:, 0], pairs[:, 1]
    live = a != b
    return a[live], b[live]


def pair_thresholds(n_a: np.ndarray, n_b: np.ndarray, s: DedupSettings) -> np.ndarray:
    """The Jaccard each pair must reach: stricter where either text is short."""
    short = np.minimum(n_a, n_b) < int(s.short_chars)
    return np.where(short, float(s.short_threshold), float(s.threshold))


def verified(sigs_a: np.ndarray, sigs_b: np.ndarray, threshold, chunk: int = 65536) -> np.ndarray:
    """Mask of pairs whose estimated Jaccard reaches the threshold (a number or one per pair)."""
    threshold = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (len(sigs_a),))
    out = np.empty(len(sigs_a), dtype=bool)
    for s in range(0, len(sigs_a), chunk):
        out[s : s + chunk] = jaccard(sigs_a[s : s + chunk], sigs_b[s : s + chunk]) >= threshold[s : s + chunk]
    return out


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Union-find over edge arrays: the smallest node index of each node's component."""
    parent = np.arange(n, dtype=np.int64)
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    while len(a):
        pa_, pb_ = parent[a], parent[b]
        lo, hi = np.minimum(pa_, pb_), np.maximum(pa_, pb_)
        live = lo != hi
        if not live.any():
            break
        a, b = a[live], b[live]  # edges already inside one tree never matter again
        np.minimum.at(parent, hi[live], lo[live])  # hook the larger root under the smaller
        while True:  # pointer jumping until every node points at its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return parent


def near_pairs_after_change(
    sigs: np.ndarray,
    n_chars: np.ndarray,
    s: DedupSettings,
    old_keys: np.ndarray,
    old_a: np.ndarray,
    old_b: np.ndarray,
    changed: np.ndarray,
    present: np.ndarray | None = None,
    n_full: int | None = None,
):
    """What ``near_pairs(sigs, n_chars, s, present, n_full)`` gives, from what it gave
    before the signatures (or n_chars, or presence) at positions ``changed`` were
    replaced (old band keys, old pairs): pairs of two unchanged documents stand, since
    their keys, buckets and verification are the same; only the buckets a changed
    document leaves or joins are paired again. None where such a bucket is larger than
    max_bucket_all_pairs before or after (its star-and-chain pairs depend on every
    member), or where most documents changed (most buckets are touched: near_pairs
    does less): run near_pairs then."""
    n, B, R = len(sigs), s.bands, s.rows
    if 2 * len(changed) > n:
        return None
    max_all = s.max_bucket_all_pairs
    keys = old_keys.copy()
    keys[:, changed] = band_keys(sigs[changed], B, R).T
    if present is not None:
        gone = changed[~present[changed]]
        keys[:, gone] = _absent_keys(gone, B)
    before = old_keys[:, changed]
    is_changed = np.zeros(n, dtype=bool)
    is_changed[changed] = True
    a_out, b_out = [], []
    table = np.zeros(1 << 22, dtype=bool)  # direct-address filter on the keys' low bits
    low = np.uint64((1 << 22) - 1)
    for band in range(B):
        touched = distinct(np.r_[before[band], keys[band, changed]])
        slots = (touched & low).astype(np.intp)
        table[slots] = True
        maybe = np.flatnonzero(table[(keys[band] & low).astype(np.intp)])
        table[slots] = False
        at = np.minimum(np.searchsorted(touched, keys[band, maybe]), len(touched) - 1)
        members = maybe[touched[at] == keys[band, maybe]]  # after: every member of a touched bucket
        stayed = members[~is_changed[members]]
        old_members = np.r_[keys[band, stayed], before[band]]  # before: the same unchanged ones + the old keys
        if (
            np.unique(keys[band, members], return_counts=True)[1].max(initial=0) > max_all
            or np.unique(old_members, return_counts=True)[1].max(initial=0) > max_all
        ):
            return None
        pa_, pb_ = bucket_pairs(keys[band, members], members, max_all, members_ascending=True)
        mine = is_changed[pa_] | is_changed[pb_]
        a_out.append(pa_[mine])
        b_out.append(pb_[mine])
    a, b = _linkable(*unique_pairs(np.concatenate(a_out), np.concatenate(b_out)), n_full)
    ok = verified(sigs[a], sigs[b], pair_thresholds(n_chars[a], n_chars[b], s))
    ok[ok] = not_frame_only(sigs, present, n_full, a[ok], b[ok], s)
    kept = ~is_changed[old_a] & ~is_changed[old_b]
    return np.r_[old_a[kept], a[ok]], np.r_[old_b[kept], b[ok]], keys


def not_frame_only(
    sigs: np.ndarray, present: np.ndarray | None, n_full: int | None, a: np.ndarray, b: np.ndarray, s: DedupSettings
) -> np.ndarray:
    """Mask of verified pairs that are more than a shared frame: a pair of full
    signatures where at least one document has a body (n_full + i) must also match on
    the bodies (a document without one stands in with its full text) at
    ``frame_threshold``."""
    ok = np.ones(len(a), dtype=bool)
    if present is None or not s.frame_threshold or not len(a):
        return ok
    full = b < n_full
    fa, fb = a[full], b[full]
    has_a, has_b = present[fa + n_full], present[fb + n_full]
    check = has_a | has_b
    body_a = np.where(has_a[check], fa[check] + n_full, fa[check])
    body_b = np.where(has_b[check], fb[check] + n_full, fb[check])
    sub = np.ones(int(full.sum()), dtype=bool)
    sub[check] = verified(sigs[body_a], sigs[body_b], float(s.frame_threshold))
    ok[full] = sub
    return ok


def _absent_keys(nodes: np.ndarray, bands: int) -> np.ndarray:
    """(bands, len(nodes)) band keys that share no bucket: for nodes that take no part
    (a document with no body signature), so positions stay fixed between passes."""
    code = np.asarray(nodes, np.uint64)[None, :] * np.uint64(bands) + np.arange(bands, dtype=np.uint64)[:, None]
    return code | np.uint64(1 << 63)


def _linkable(a: np.ndarray, b: np.ndarray, n_full: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a < b) that may link. Nodes from n_full on are the bodies of nodes
    0..n_full-1 (node n_full + i is the body of node i): a body links to another
    document's full signature only, never to a body or to its own document."""
    if n_full is None or len(a) == 0:
        return a, b
    ok = (a < n_full) & (b - n_full != a)
    return a[ok], b[ok]


def near_pairs(
    sigs: np.ndarray,
    n_chars: np.ndarray,
    s: DedupSettings,
    present: np.ndarray | None = None,
    n_full: int | None = None,
    threads: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Verified near-duplicate pairs (positions into sigs and n_chars), and the
    (bands, nodes) band keys they came from. present: the nodes that take part (the
    others get keys of their own); n_full: see _linkable; threads: the band keys of
    slices of the nodes, and the bands' buckets, on that many threads."""
    members = np.arange(len(sigs), dtype=np.int64) if present is None else np.flatnonzero(present)
    keys = np.empty((s.bands, len(sigs)), dtype=np.uint64)
    slices = np.array_split(members, max(1, threads))
    for part, part_keys in zip(slices, thread_map(lambda m: band_keys(sigs[m], s.bands, s.rows), slices, threads)):
        keys[:, part] = part_keys.T
    if present is not None:
        absent = np.flatnonzero(~present)
        keys[:, absent] = _absent_keys(absent, s.bands)
    # Band keys never collide across bands (the band index is mixed in), so each band
    # is bucketed on its own: many small sorts beat one over docs x bands entries.
    per_band = thread_map(
        lambda band: bucket_pairs(
            keys[band] if present is None else keys[band, members],
            members,
            s.max_bucket_all_pairs,
            members_ascending=True,
        ),
        range(s.bands),
        threads,
    )
    a, b = unique_pairs(np.concatenate([p[0] for p in per_band]), np.concatenate([p[1] for p in per_band]))
    a, b = _linkable(a, b, n_full)
    ok = verified(sigs[a], sigs[b], pair_thresholds(n_chars[a], n_chars[b], s))
    ok[ok] = not_frame_only(sigs, present, n_full, a[ok], b[ok], s)
    return a[ok], b[ok], keys
