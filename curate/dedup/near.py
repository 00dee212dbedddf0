"""Exact and near-duplicate clustering: the single-process algorithm.

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

Best is the one keeper rule of curate/dedup/keeper.py. The keys come from
curate/dedup/signatures.py, the pairs from curate/dedup/pairs.py;
curate/dedup/near_ray.py runs the same steps on Ray.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup.boilerplate import boilerplate_lines, cluster_labels, rows_with
from curate.dedup.keeper import assign, exact_rep_positions, key_columns
from curate.dedup.pairs import components, has_shingles, near_pairs, near_pairs_after_change
from curate.dedup.settings import DedupSettings
from curate.dedup.signatures import from_fixed_list, keys_for_texts, stripped_keys, to_fixed_list


def cluster(keys: pa.Table, s: DedupSettings) -> pa.Table:
    """Single-process dedup over the keys of the whole corpus (see module docstring).

    keys: row, id, text_hash, minhash, quality_score, n_chars.
    Returns row, dup_cluster, dup_of, drop_reason for members of clusters of size >= 2.
    """
    return _cluster(keys, s)[0]


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


def _nodes(keys: pa.Table, s: DedupSettings, reps: np.ndarray, n_chars: np.ndarray):
    """Signatures, n_chars and presence of the graph's nodes: the representatives'
    full signatures, then (with core links) their bodies'; presence None without."""
    sigs = from_fixed_list(keys.column("minhash"))[reps]
    if not s.core_links or "core_minhash" not in keys.column_names:
        return sigs, n_chars[reps], None
    body = from_fixed_list(keys.column("core_minhash"))[reps]
    body_chars = pc.fill_null(keys.column("core_chars"), 0).to_numpy().astype(np.int64)[reps]
    present = np.r_[np.ones(len(reps), bool), has_shingles(body)]
    return np.concatenate([sigs, body]), np.r_[n_chars[reps], body_chars], present


def _cluster(
    keys: pa.Table, s: DedupSettings, previous: NearGraph | None = None, threads: int = 1
) -> tuple[pa.Table, NearGraph | None]:
    """``cluster``, and the near graph it built. previous: the graph of a run on the
    same keys except the signatures and n_chars of some rows; its pairs are reused.
    threads: near_pairs's."""
    rows, quality, n_chars = key_columns(keys)
    order_key = (quality, n_chars, rows)
    n = len(rows)
    if s.exact:
        rep = exact_rep_positions(keys.column("text_hash"), order_key)
    else:
        rep = np.arange(n, dtype=np.int64)
    a, b = [rep], [np.arange(n, dtype=np.int64)]
    graph = None
    if s.near:
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
        na, nb, node_keys = pairs if pairs is not None else near_pairs(sigs, chars, s, present, n_full, threads)
        graph = NearGraph(reps, sigs, chars, present, node_keys, na, nb)
        owner = reps if n_full is None else np.r_[reps, reps]  # a body's node stands for its document
        a.append(owner[na])
        b.append(owner[nb])
    a, b = np.concatenate(a), np.concatenate(b)
    live = a != b
    label = components(n, a[live], b[live])
    return assign(rows, keys.column("id").to_pylist(), rep, label, order_key), graph


def cluster_without_boilerplate(
    keys: pa.Table, s: DedupSettings, resign, cluster_fn=cluster, lines_fn=boilerplate_lines, info: dict | None = None
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
    if cluster_fn is cluster:  # one process: the second pass reuses the first one's pairs
        first, graph, boiler, carriers = first_pass(keys, s, lines_fn)
    else:
        first, graph = cluster_fn(keys, s), None
        boiler, carriers = _boilerplate(keys, s, first, lines_fn)
    if boiler is None:
        return first
    new = resign(carriers, boiler)
    if info is not None:
        info.update(boilerplate_lines=int(len(boiler[0])), resigned_docs=int(new.num_rows))
    if not new.num_rows:
        return first
    return second_pass(keys, s, graph, new) if cluster_fn is cluster else cluster_fn(with_resigned(keys, new), s)


def first_pass(keys: pa.Table, s: DedupSettings, lines_fn=None, threads: int = 1):
    """The first clustering of ``cluster_without_boilerplate`` in one process: its
    members, its near graph, the boilerplate lines (hashes, cluster counts) and the rows
    that carry one (both None when there is no second pass). lines_fn: what finds the
    boilerplate lines (default ``boilerplate_lines``); threads: for the numpy work."""
    lines_fn = lines_fn or functools.partial(boilerplate_lines, threads=threads)
    first, graph = _cluster(keys, s, threads=threads)
    return (first, graph, *_boilerplate(keys, s, first, lines_fn, threads))


def _boilerplate(keys: pa.Table, s: DedupSettings, first: pa.Table, lines_fn, threads: int = 1):
    k = s.boilerplate_clusters
    if not k or not s.near or "line_hashes" not in keys.column_names or not keys.num_rows:
        return None, None
    rows = keys.column("row").to_numpy().astype(np.int64)
    line_lists = keys.column("line_hashes")
    boiler = lines_fn(line_lists, cluster_labels(rows, first.select(["row", "dup_cluster"])), k)
    return boiler, rows[rows_with(line_lists, boiler[0], threads)]


def second_pass(keys: pa.Table, s: DedupSettings, graph: NearGraph | None, new: pa.Table, threads: int = 1) -> pa.Table:
    """The second clustering, on the keys with the rows of ``new`` (a ``stripped_keys``
    table) re-signed, reusing the first pass's pairs."""
    return _cluster(with_resigned(keys, new), s, graph, threads)[0]


def with_resigned(keys: pa.Table, new: pa.Table) -> pa.Table:
    """The keys with the signatures and n_chars (and core columns) of the rows in ``new``
    (a ``stripped_keys`` table) replaced."""
    rows = keys.column("row").to_numpy().astype(np.int64)
    order = np.argsort(rows)
    at = order[np.searchsorted(rows[order], new.column("row").to_numpy())]
    names = ["minhash", "n_chars"]
    if "core_minhash" in keys.column_names and "core_minhash" in new.column_names:
        names += ["core_minhash", "core_chars"]
    for name in names:
        column = keys.column(name)
        if pa.types.is_fixed_size_list(column.type):
            values = from_fixed_list(column).copy()
            values[at] = from_fixed_list(new.column(name))
            column = to_fixed_list(values)
        else:
            values = pc.fill_null(column, 0).to_numpy().astype(np.int64)
            values[at] = new.column(name).to_numpy()
            column = pa.array(values, pa.int64())
        keys = keys.set_column(keys.schema.get_field_index(name), name, column)
    return keys


def dedup_texts(texts: list[str], ids: list[str], s: DedupSettings, lang: str, quality: list | None = None) -> pa.Table:
    """``cluster_without_boilerplate`` over plain texts (evaluations, benches, tests); on
    Ray above ``distributed_above_docs`` texts when Ray is up."""
    import ray

    keys = keys_for_texts(texts, ids, s, lang, quality=quality)
    engines = ()
    if ray.is_initialized() and len(texts) >= s.distributed_above_docs:
        from curate.dedup.near_ray import boilerplate_lines as lines_on_ray
        from curate.dedup.near_ray import global_dedup

        engines = (global_dedup, lines_on_ray)
    return cluster_without_boilerplate(
        keys, s, lambda rows, boiler: stripped_keys([texts[r] for r in rows], rows, boiler, s, lang), *engines
    )
