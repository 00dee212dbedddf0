"""Exact and near-duplicate clustering: the single-process algorithm.

``dedup_keys`` turns a batch of documents into MinHash signatures (pure, per batch).
``cluster`` takes the keys of a whole corpus and returns, for every document in a
cluster of two or more, its cluster, the kept document and why the others go:

1. exact: documents with the same ``text_hash`` form a group; its best member is
   the group's representative, the others are ``exact_dup``.
2. near: representatives are banded (MinHash LSH); every candidate pair that shares
   a bucket is verified by the Jaccard estimated from the full signatures and
   linked only at ``threshold`` or above, so bucket collisions remove nothing.
   With core links on, each multi-line representative is also banded on its body
   (curate.dedup.boilerplate.core_text), which may link to another document's full text.
3. connected components over all links (union-find); the best member of each
   component is kept, every other representative is ``near_dup``.

Best = highest quality_score (null lowest), then most characters, then smallest
row, so the result does not depend on how the work was split. Exactly one member
of every cluster is kept. curate/dedup/near_ray.py runs the same steps on Ray.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup.boilerplate import (
    boilerplate_lines,
    cluster_labels,
    core_text,
    line_hash_array,
    rows_with,
    strip_lines,
)
from curate.dedup.minhash import band_keys, jaccard, optimal_bands, signatures
from curate.dedup.shingles import shingle_config, shingle_hashes

DEFAULTS = {
    "exact": True,
    "near": True,
    # Verified Jaccard to link two documents. Unrelated pairs stay < 0.12
    # (bench/dedup_shingles.py); a short text with boilerplate lines or 5% of its
    # characters changed sits near 0.65-0.7, where a 128-slot estimate (spread ~0.04)
    # falls under 0.6 a few percent of the time: 0.55 finds them all (tests/test_dedup_eval.py).
    "threshold": 0.55,
    "lsh_threshold": 0.4,  # given without bands/rows: datasketch's optimal banding for it
    "num_perm": 128,
    # Below ~50 characters a text is mostly template: captions and one-line reviews that
    # differ by one word score 0.6-0.7 (JGLUE: 男性がスケートボードをしています。 vs
    # ヘルメットをつけた男性が…), so a pair with a text that short needs 0.8. Spacing and
    # punctuation edits fold away and 10% truncation keeps ~0.85, so those still link.
    "short_chars": 50,
    "short_threshold": 0.8,
    "seed": 1,
    "scheme": "affine32",  # datasketch >= 2 default; "legacy" for datasketch < 2 sketches
    # 32 bands x 4 rows (datasketch's optimum for 0.4 at 128): P(candidate) 0.95 at
    # J = 0.55, 0.988 at 0.6, 0.9995 at 0.68.
    "bands": 32,
    "rows": 4,
    "max_bucket_all_pairs": 16,  # larger buckets are linked as a star + chain
    "partitions": 16,  # hash partitions per shuffle in curate/dedup/near_ray.py
    "shingles": None,  # per language, e.g. {ko: {kind: char, n: 4}}; null = curate.dedup.shingles defaults
    "distributed_above_docs": 2_000_000,  # pipelines/corpus.py: cluster on Ray above this many documents
    # A line found in this many distinct first-pass clusters is boilerplate: documents
    # carrying it are re-signed without it and clustered again (curate/dedup/boilerplate.py).
    # Site chrome recurs in hundreds; 3 already works on the audit sets, 5 leaves a
    # margin for a short page copied to a few sites. 0 turns the second pass off.
    "boilerplate_clusters": 5,
    # Each multi-line page is also signed on its body without short edge lines
    # (curate.dedup.boilerplate.core_text): chrome too rare to count as boilerplate (a byline,
    # one site's tag line) still lets a short page link to a bare copy of itself. A body
    # links only to another page's full signature, never to another body, so two pages
    # of one site cannot meet through what is left of their frames.
    "core_links": True,
    "core_ratio": 0.7,
    "core_max_edge": 80,
    # Two pages that match on their full texts but whose bodies share less than this
    # match on their frame: a small site whose chrome outweighs its short pages (too few
    # pages for the chrome to count as boilerplate). Such a pair is not linked; a copy
    # with edits or other chrome keeps its body. 0 turns the check off.
    "frame_threshold": 0.2,
}
_MAX_CHARS_PER_PASS = 4_000_000  # bounds the scratch arrays of one shingling pass

OUTPUT_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64()),
        pa.field("dup_cluster", pa.string()),
        pa.field("dup_of", pa.string()),
        pa.field("drop_reason", pa.string()),
    ]
)


_UNIT_INTERVAL = ("threshold", "lsh_threshold", "short_threshold", "frame_threshold", "core_ratio")
_POSITIVE_INTS = ("num_perm", "max_bucket_all_pairs", "partitions")
_COUNTS = ("distributed_above_docs", "boilerplate_clusters", "short_chars", "core_max_edge")  # 0 allowed


def settings(cfg: dict | None) -> dict:
    unknown = sorted(set(cfg or {}) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)} (known: {', '.join(sorted(DEFAULTS))})")
    out = {**DEFAULTS, **{k: v for k, v in (cfg or {}).items() if v is not None}}
    for key in _UNIT_INTERVAL:
        if not isinstance(out[key], (int, float)) or isinstance(out[key], bool) or not 0 <= out[key] <= 1:
            raise ValueError(f"{key} must be a number from 0 to 1, got {out[key]!r}")
    for key in _POSITIVE_INTS + ("bands", "rows"):
        if out[key] is not None and (not isinstance(out[key], int) or isinstance(out[key], bool) or out[key] < 1):
            raise ValueError(f"{key} must be a positive whole number, got {out[key]!r}")
    for key in _COUNTS:
        if not isinstance(out[key], int) or isinstance(out[key], bool) or out[key] < 0:
            raise ValueError(f"{key} must be a whole number >= 0, got {out[key]!r}")
    given = cfg or {}
    banding_given = given.get("bands") or given.get("rows")
    if not banding_given and ("lsh_threshold" in given or out["bands"] * out["rows"] > out["num_perm"]):
        out["bands"] = out["rows"] = None  # datasketch's optimum for the given threshold / signature
    if not out.get("bands") or not out.get("rows"):
        out["bands"], out["rows"] = optimal_bands(out["lsh_threshold"], out["num_perm"])
    if out["bands"] * out["rows"] > out["num_perm"]:
        raise ValueError("bands x rows must not exceed num_perm")
    return out


# ---------------------------------------------------------------- per batch


def minhash_type(num_perm: int) -> pa.DataType:
    return pa.list_(pa.uint32(), num_perm)


def to_fixed_list(sigs: np.ndarray) -> pa.FixedSizeListArray:
    return pa.FixedSizeListArray.from_arrays(pa.array(sigs.reshape(-1), type=pa.uint32()), sigs.shape[1])


def from_fixed_list(col) -> np.ndarray:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    width = col.type.list_size
    flat = col.flatten()
    return np.asarray(flat.to_numpy(zero_copy_only=False), dtype=np.uint32).reshape(-1, width)


def text_signatures(texts: list[str], cfg: dict, lang: str) -> np.ndarray:
    s = settings(cfg)
    sh = shingle_config(s, lang)
    out, start = [], 0
    while start < len(texts) or not out:
        end, size = start, 0
        while end < len(texts) and (end == start or size + len(texts[end]) <= _MAX_CHARS_PER_PASS):
            size += len(texts[end])
            end += 1
        hashes, offsets = shingle_hashes(texts[start:end], sh["kind"], sh["n"], sh.get("hash", "poly"))
        out.append(signatures(hashes, offsets, s["num_perm"], s["seed"], s["scheme"]))
        start = end
        if end >= len(texts):
            break
    return np.concatenate(out) if out else np.empty((0, s["num_perm"]), np.uint32)


def core_columns(texts: list[str], cfg: dict, lang: str) -> dict[str, pa.Array]:
    """``core_minhash`` and ``core_chars`` of each text's body (see core_text); a text
    with no short edge line gets an empty signature (all 0xFFFFFFFF) and 0 characters."""
    s = settings(cfg)
    bodies = [core_text(t or "", s["core_ratio"], s["core_max_edge"]) if t and "\n" in t else None for t in texts]
    have = [i for i, b in enumerate(bodies) if b is not None]
    sigs = np.full((len(texts), s["num_perm"]), 0xFFFFFFFF, dtype=np.uint32)
    chars = np.zeros(len(texts), dtype=np.int64)
    if have:
        sigs[have] = text_signatures([bodies[i] for i in have], cfg, lang)
        chars[have] = [len(bodies[i]) for i in have]
    return {"core_minhash": to_fixed_list(sigs), "core_chars": pa.array(chars, pa.int64())}


def _core_on(cfg: dict) -> bool:
    return bool(settings(cfg)["core_links"])


def keys_for_texts(
    texts: list[str], ids: list[str], cfg: dict, lang: str, rows: np.ndarray | None = None, quality: list | None = None
) -> pa.Table:
    """The global-dedup keys (see ``cluster``) of plain texts: for evaluations and benches."""
    from curate.dedup.exact import text_hashes

    n = len(texts)
    return pa.table(
        {
            "row": pa.array(np.arange(n) if rows is None else rows, pa.int64()),
            "id": pa.array(ids, pa.string()),
            "text_hash": pa.array(text_hashes(texts), pa.uint64()),
            "minhash": to_fixed_list(text_signatures(texts, cfg, lang)),
            "quality_score": pa.array(quality if quality is not None else [None] * n, pa.float32()),
            "n_chars": pa.array([len(t) for t in texts], pa.int64()),
            "line_hashes": line_hash_array(texts),
            **(core_columns(texts, cfg, lang) if _core_on(cfg) else {}),
        }
    )


def dedup_texts(texts: list[str], ids: list[str], cfg: dict, lang: str, quality: list | None = None) -> pa.Table:
    """``cluster_without_boilerplate`` over plain texts (evaluations, benches, tests)."""
    keys = keys_for_texts(texts, ids, cfg, lang, quality=quality)
    return cluster_without_boilerplate(
        keys, cfg, lambda rows, boiler: stripped_keys([texts[r] for r in rows], rows, boiler, cfg, lang)
    )


def dedup_keys(table: pa.Table, cfg: dict, lang: str) -> pa.Table:
    """``id``, ``minhash`` (fixed_size_list<uint32>[num_perm]), ``line_hashes`` and, with
    core links on, ``core_minhash`` and ``core_chars`` for every row given."""
    texts = [t or "" for t in table.column("text").to_pylist()]
    sigs = text_signatures(texts, cfg, lang)
    return pa.table(
        {
            "id": table.column("id").cast(pa.string()),
            "minhash": to_fixed_list(sigs),
            "line_hashes": line_hash_array(texts),
            **(core_columns(texts, cfg, lang) if _core_on(cfg) else {}),
        }
    )


def stripped_keys(texts: list[str], rows, boilerplate: tuple[np.ndarray, np.ndarray], cfg: dict, lang: str) -> pa.Table:
    """row, minhash and n_chars (and the core columns, with core links on) of the texts
    without their boilerplate lines (hashes and cluster counts), for the rows where a
    line was stripped."""
    boiler = dict(zip(boilerplate[0].tolist(), boilerplate[1].tolist()))
    out_rows, out_texts, out_chars = [], [], []
    for row, text in zip(rows, texts):
        stripped = strip_lines(text or "", boiler)
        if stripped is not None:
            out_rows.append(int(row))
            out_texts.append(stripped)
            # A page that was mostly chrome is judged by its content's length (a caption
            # in a site frame takes the short-text threshold); a title line less does
            # not move a paragraph across that boundary.
            out_chars.append(len(stripped) if 2 * len(stripped) <= len(text) else len(text))
    return pa.table(
        {
            "row": pa.array(out_rows, pa.int64()),
            "minhash": to_fixed_list(text_signatures(out_texts, cfg, lang))
            if out_texts
            else pa.array([], minhash_type(settings(cfg)["num_perm"])),
            "n_chars": pa.array(out_chars, pa.int64()),
            **(core_columns(out_texts, cfg, lang) if _core_on(cfg) else {}),
        }
    )


# ---------------------------------------------------------------- building blocks


def best_first(quality: np.ndarray, n_chars: np.ndarray, rows: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Order sorting by group, then best member first (quality, length, row)."""
    q = np.where(np.isnan(quality), -np.inf, quality)
    return np.lexsort((rows, -n_chars, -q, group))


def exact_rep_positions(text_hash_column, order_key: tuple) -> np.ndarray:
    """Position of each row's exact-group representative; a null text_hash is unique."""
    valid = pc.is_valid(text_hash_column).to_numpy(zero_copy_only=False)
    rep = np.arange(len(valid), dtype=np.int64)
    idx = np.flatnonzero(valid)
    if len(idx):
        hashes = pc.fill_null(text_hash_column, 0).to_numpy().astype(np.uint64)[idx]
        rep[idx] = idx[exact_representatives(hashes, tuple(k[idx] for k in order_key))]
    return rep


def has_shingles(sigs: np.ndarray) -> np.ndarray:
    """Rows whose signature saw at least one shingle (an empty set matches every empty set)."""
    return (sigs != np.uint32(0xFFFFFFFF)).any(axis=1)


def exact_representatives(text_hash: np.ndarray, order_key: tuple) -> np.ndarray:
    """For each position, the position of its exact group's best member."""
    quality, n_chars, rows = order_key
    order = best_first(quality, n_chars, rows, text_hash)
    h = text_hash[order]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    rep = np.empty(len(order), dtype=np.int64)
    rep[order] = np.repeat(order[starts], sizes)
    return rep


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
        code = np.unique((a << 32) | b)  # one sort of 64-bit codes beats a row-wise unique
        a, b = code >> 32, code & 0xFFFFFFFF
    else:
        pairs = np.unique(np.stack([a, b], axis=1), axis=0)
        a, b = pairs[:, 0], pairs[:, 1]
    live = a != b
    return a[live], b[live]


def pair_thresholds(n_a: np.ndarray, n_b: np.ndarray, s: dict) -> np.ndarray:
    """The Jaccard each pair must reach: stricter where either text is short."""
    short = np.minimum(n_a, n_b) < int(s["short_chars"])
    return np.where(short, float(s["short_threshold"]), float(s["threshold"]))


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
    s: dict,
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
    member): run near_pairs then."""
    n, B, R = len(sigs), s["bands"], s["rows"]
    max_all = s["max_bucket_all_pairs"]
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
        touched = np.unique(np.r_[before[band], keys[band, changed]])
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
    sigs: np.ndarray, present: np.ndarray | None, n_full: int | None, a: np.ndarray, b: np.ndarray, s: dict
) -> np.ndarray:
    """Mask of verified pairs that are more than a shared frame: a pair of full
    signatures where at least one document has a body (n_full + i) must also match on
    the bodies (a document without one stands in with its full text) at
    ``frame_threshold``."""
    ok = np.ones(len(a), dtype=bool)
    if present is None or not s["frame_threshold"] or not len(a):
        return ok
    full = b < n_full
    fa, fb = a[full], b[full]
    has_a, has_b = present[fa + n_full], present[fb + n_full]
    check = has_a | has_b
    body_a = np.where(has_a[check], fa[check] + n_full, fa[check])
    body_b = np.where(has_b[check], fb[check] + n_full, fb[check])
    sub = np.ones(int(full.sum()), dtype=bool)
    sub[check] = verified(sigs[body_a], sigs[body_b], float(s["frame_threshold"]))
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
    sigs: np.ndarray, n_chars: np.ndarray, s: dict, present: np.ndarray | None = None, n_full: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Verified near-duplicate pairs (positions into sigs and n_chars), and the
    (bands, nodes) band keys they came from. present: the nodes that take part (the
    others get keys of their own); n_full: see _linkable."""
    members = np.arange(len(sigs), dtype=np.int64) if present is None else np.flatnonzero(present)
    keys = np.empty((s["bands"], len(sigs)), dtype=np.uint64)
    keys[:, members] = band_keys(sigs[members], s["bands"], s["rows"]).T
    if present is not None:
        absent = np.flatnonzero(~present)
        keys[:, absent] = _absent_keys(absent, s["bands"])
    # Band keys never collide across bands (the band index is mixed in), so each band
    # is bucketed on its own: many small sorts beat one over docs x bands entries.
    per_band = [
        bucket_pairs(
            keys[band] if present is None else keys[band, members],
            members,
            s["max_bucket_all_pairs"],
            members_ascending=True,
        )
        for band in range(s["bands"])
    ]
    a, b = unique_pairs(np.concatenate([p[0] for p in per_band]), np.concatenate([p[1] for p in per_band]))
    a, b = _linkable(a, b, n_full)
    ok = verified(sigs[a], sigs[b], pair_thresholds(n_chars[a], n_chars[b], s))
    ok[ok] = not_frame_only(sigs, present, n_full, a[ok], b[ok], s)
    return a[ok], b[ok], keys


def assign(rows, ids, rep, label, order_key) -> pa.Table:
    """Output rows for members of components of size >= 2."""
    quality, n_chars, _ = order_key
    sizes = np.bincount(label, minlength=len(label))
    in_cluster = np.flatnonzero(sizes[label] >= 2)
    if len(in_cluster) == 0:
        return OUTPUT_SCHEMA.empty_table()
    lab = label[in_cluster]
    order = in_cluster[best_first(quality[in_cluster], n_chars[in_cluster], rows[in_cluster], lab)]
    lab_sorted = label[order]
    starts = np.flatnonzero(np.r_[True, lab_sorted[1:] != lab_sorted[:-1]])
    keeper = np.repeat(order[starts], np.diff(np.r_[starts, len(order)]))
    ids = np.asarray(ids, dtype=object)
    kept = keeper == order
    reason = np.where(kept, None, np.where(rep[order] != order, "exact_dup", "near_dup"))
    return pa.table(
        {
            "row": pa.array(rows[order], pa.int64()),
            "dup_cluster": pa.array(ids[keeper], pa.string()),
            "dup_of": pa.array(np.where(kept, None, ids[keeper]), pa.string()),
            "drop_reason": pa.array(reason, pa.string()),
        }
    ).sort_by("row")


def key_columns(keys: pa.Table):
    rows = keys.column("row").to_numpy().astype(np.int64)
    quality = pc.fill_null(keys.column("quality_score").cast(pa.float32()), float("nan")).to_numpy().astype(np.float64)
    n_chars = pc.fill_null(keys.column("n_chars"), 0).to_numpy().astype(np.int64)
    return rows, quality, n_chars


def cluster(keys: pa.Table, cfg: dict) -> pa.Table:
    """Single-process dedup over the keys of the whole corpus (see module docstring).

    keys: row, id, text_hash, minhash, quality_score, n_chars.
    Returns row, dup_cluster, dup_of, drop_reason for members of clusters of size >= 2.
    """
    return _cluster(keys, settings(cfg))[0]


class NearGraph(NamedTuple):
    """What one near-dedup pass built, for a second pass to reuse: the representative
    positions, then per node (each representative, then with core links its body)
    signature, n_chars and presence, the (bands, nodes) band keys and the verified pairs."""

    reps: np.ndarray
    sigs: np.ndarray
    n_chars: np.ndarray
    present: np.ndarray | None
    band_keys: np.ndarray
    a: np.ndarray
    b: np.ndarray


def _nodes(keys: pa.Table, s: dict, reps: np.ndarray, n_chars: np.ndarray):
    """Signatures, n_chars and presence of the graph's nodes: the representatives'
    full signatures, then (with core links) their bodies'; presence None without."""
    sigs = from_fixed_list(keys.column("minhash"))[reps]
    if not s["core_links"] or "core_minhash" not in keys.column_names:
        return sigs, n_chars[reps], None
    body = from_fixed_list(keys.column("core_minhash"))[reps]
    body_chars = pc.fill_null(keys.column("core_chars"), 0).to_numpy().astype(np.int64)[reps]
    present = np.r_[np.ones(len(reps), bool), has_shingles(body)]
    return np.concatenate([sigs, body]), np.r_[n_chars[reps], body_chars], present


def _cluster(keys: pa.Table, s: dict, previous: NearGraph | None = None) -> tuple[pa.Table, NearGraph | None]:
    """``cluster``, and the near graph it built. previous: the graph of a run on the
    same keys except the signatures and n_chars of some rows; its pairs are reused."""
    rows, quality, n_chars = key_columns(keys)
    order_key = (quality, n_chars, rows)
    n = len(rows)
    if s["exact"]:
        rep = exact_rep_positions(keys.column("text_hash"), order_key)
    else:
        rep = np.arange(n, dtype=np.int64)
    a, b = [rep], [np.arange(n, dtype=np.int64)]
    graph = None
    if s["near"]:
        reps = np.flatnonzero(rep == np.arange(n))
        reps = reps[has_shingles(from_fixed_list(keys.column("minhash"))[reps])]
        sigs, chars, present = _nodes(keys, s, reps, n_chars)
        n_full = None if present is None else len(reps)
        pairs = None
        if (
            previous is not None
            and np.array_equal(previous.reps, reps)
            and (previous.present is None) == (present is None)
        ):
            moved = (previous.sigs != sigs).any(axis=1) | (previous.n_chars != chars)
            if present is not None:
                moved |= previous.present != present
                moved[:n_full] |= moved[n_full:]  # its pairs' frame check reads the body
            pairs = near_pairs_after_change(
                sigs, chars, s, previous.band_keys, previous.a, previous.b, np.flatnonzero(moved), present, n_full
            )
        na, nb, node_keys = pairs if pairs is not None else near_pairs(sigs, chars, s, present, n_full)
        graph = NearGraph(reps, sigs, chars, present, node_keys, na, nb)
        owner = reps if n_full is None else np.r_[reps, reps]  # a body's node stands for its document
        a.append(owner[na])
        b.append(owner[nb])
    a, b = np.concatenate(a), np.concatenate(b)
    live = a != b
    label = components(n, a[live], b[live])
    return assign(rows, keys.column("id").to_pylist(), rep, label, order_key), graph


def cluster_without_boilerplate(
    keys: pa.Table, cfg: dict, resign, cluster_fn=cluster, lines_fn=boilerplate_lines, info: dict | None = None
) -> pa.Table:
    """Cluster, find the boilerplate lines (curate/dedup/boilerplate.py), then cluster again
    with the documents that carry them re-signed on their text without them.

    resign(rows, (hashes, counts)) -> table of row, minhash, n_chars (and the core
    columns) for those rows (rows with nothing stripped may be absent: they keep their keys). cluster_fn is
    ``cluster`` or the Ray version; lines_fn(line_lists, labels, k) returns the
    boilerplate hashes and their cluster counts. n_chars is the one resign gives
    (see stripped_keys): it sets the pair thresholds and the keeper order. info, when
    given, receives the counts boilerplate_lines and resigned_docs.
    """
    s = settings(cfg)
    graph = None
    if cluster_fn is cluster:  # one process: the second pass reuses the first one's pairs
        first, graph = _cluster(keys, s)
    else:
        first = cluster_fn(keys, cfg)
    k = int(s.get("boilerplate_clusters") or 0)
    if not k or not s["near"] or "line_hashes" not in keys.column_names or not keys.num_rows:
        return first
    rows = keys.column("row").to_numpy().astype(np.int64)
    line_lists = keys.column("line_hashes")
    boiler = lines_fn(line_lists, cluster_labels(rows, first.select(["row", "dup_cluster"])), k)
    new = resign(rows[rows_with(line_lists, boiler[0])], boiler)
    if info is not None:
        info.update(boilerplate_lines=int(len(boiler[0])), resigned_docs=int(new.num_rows))
    if not new.num_rows:
        return first
    order = np.argsort(rows)
    at = order[np.searchsorted(rows[order], new.column("row").to_numpy())]
    sigs = from_fixed_list(keys.column("minhash")).copy()
    sigs[at] = from_fixed_list(new.column("minhash"))
    n_chars = pc.fill_null(keys.column("n_chars"), 0).to_numpy().astype(np.int64)
    n_chars[at] = new.column("n_chars").to_numpy()
    keys = keys.set_column(keys.schema.get_field_index("minhash"), "minhash", to_fixed_list(sigs))
    keys = keys.set_column(keys.schema.get_field_index("n_chars"), "n_chars", pa.array(n_chars, pa.int64()))
    if "core_minhash" in keys.column_names and "core_minhash" in new.column_names:
        body = from_fixed_list(keys.column("core_minhash")).copy()
        body[at] = from_fixed_list(new.column("core_minhash"))
        body_chars = pc.fill_null(keys.column("core_chars"), 0).to_numpy().astype(np.int64)
        body_chars[at] = new.column("core_chars").to_numpy()
        keys = keys.set_column(keys.schema.get_field_index("core_minhash"), "core_minhash", to_fixed_list(body))
        keys = keys.set_column(
            keys.schema.get_field_index("core_chars"), "core_chars", pa.array(body_chars, pa.int64())
        )
    return _cluster(keys, s, graph)[0] if cluster_fn is cluster else cluster_fn(keys, cfg)
