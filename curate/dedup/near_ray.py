"""Corpus-wide dedup on Ray, with no process holding every key, pair or edge.

The same steps as curate.dedup.near.cluster, each a hash-partitioned shuffle of plain
Ray tasks (map: split a block into P parts by a key; reduce: one task per part
with every row of that key, vectorized in numpy):

1. exact     rows by text_hash         -> each row learns its group's representative
2. buckets   (band_key, row) by key    -> candidate pairs inside each LSH bucket
3. verify    pairs by a, then by b,    -> signatures joined per side, pairs deduped,
             signatures by row            kept where the estimated Jaccard >= threshold
4. components  edges by node, repeated -> "large-star / small-star" (Kiveris et al.,
                                          2014) until the edge list stops changing:
                                          then every node points at its component's min
5. keepers   labels + attributes by row, then by label -> one kept member per cluster

A reducer holds 1/P of one step's rows: P grows with the documents (``partition_docs``)
and, for the pair joins, the candidate pairs (``partition_pairs``), so the settings
bound a task's memory, not the corpus. A corpus run's pieces travel as files in a
scratch folder (curate/dedup/spill_ray.py), an in-process evaluation's in Ray's store.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import ray

from curate.dedup.boilerplate import frequent, line_label_pairs
from curate.dedup.boilerplate import unique_pairs as unique_line_pairs
from curate.dedup.keeper import OUTPUT_SCHEMA, best_first, exact_rep_positions, key_columns
from curate.dedup.minhash import band_keys, mix64
from curate.dedup.pairs import bucket_pairs, components, has_shingles, pair_thresholds, unique_pairs, verified
from curate.dedup.settings import DedupSettings
from curate.dedup.shuffle_ray import concat_pieces, shuffle
from curate.dedup.signatures import from_fixed_list, to_fixed_list
from curate.dedup.spill_ray import OnDisk, disk_task

KEY_COLUMNS = ["row", "id", "text_hash", "minhash", "quality_score", "n_chars"]
CORE_COLUMNS = ["core_minhash", "core_chars"]
# A document's body (curate.dedup.near core links) is a node of its own in steps 2-3, named
# row + BODY: it may pair with another document's full signature only, and its edges go
# to its document. Names sort as curate.dedup.near orders its nodes (every full signature,
# then the bodies), so large buckets get the same star-and-chain pairs on both paths.
BODY = 1 << 40
BUCKET_CHUNK_ROWS = 25_000  # band rows whose candidate pairs _bucket_reduce forms at once
MEMBER_SCHEMA = OUTPUT_SCHEMA.append(pa.field("label", pa.int64()))  # label: the cluster's smallest row


def _body_node(rows: np.ndarray) -> np.ndarray:
    return rows + BODY


def _owner(nodes: np.ndarray) -> np.ndarray:
    return np.where(nodes >= BODY, nodes - BODY, nodes)


# ---------------------------------------------------------------- reducers


@disk_task
def _exact_reduce(do_exact: bool, *pieces: pa.Table) -> pa.Table:
    t = concat_pieces(pieces)
    rows, quality, n_chars = key_columns(t)
    if do_exact and t.num_rows:
        rep = rows[exact_rep_positions(t.column("text_hash"), (quality, n_chars, rows))]
    else:
        rep = rows
    return t.append_column("rep", pa.array(rep, pa.int64()))


def _nodes(table: pa.Table, width: int, bodies: bool) -> dict[str, np.ndarray]:
    """Per node of a block (its representatives with a shingle, then with bodies their
    bodies that have one): name, signature, n_chars, and for the frame check the body
    signature each full node is compared on (its own where it has none) and whether it
    has one."""
    reps = table.filter(pc.equal(table.column("row"), table.column("rep")))
    if not reps.num_rows:
        empty = np.empty((0, width), np.uint32)
        return {
            "row": np.empty(0, np.int64),
            "minhash": empty,
            "n_chars": np.empty(0, np.int64),
            "body": empty,
            "has_body": np.empty(0, bool),
        }
    rows = reps.column("row").to_numpy()
    sigs = from_fixed_list(reps.column("minhash"))
    n_chars = pc.fill_null(reps.column("n_chars"), 0).to_numpy().astype(np.int64)
    live = has_shingles(sigs)
    out = {"row": [rows[live]], "minhash": [sigs[live]], "n_chars": [n_chars[live]]}
    if bodies:
        body = from_fixed_list(reps.column("core_minhash"))
        has = live & has_shingles(body)
        out["row"].append(_body_node(rows[has]))
        out["minhash"].append(body[has])
        out["n_chars"].append(pc.fill_null(reps.column("core_chars"), 0).to_numpy().astype(np.int64)[has])
        out["body"] = [np.where(has[live][:, None], body[live], sigs[live]), body[has]]
        out["has_body"] = [has[live], np.zeros(int(has.sum()), bool)]
    return {k: np.concatenate(v) for k, v in out.items()}


@disk_task
def _band_rows(table: pa.Table, bands: int, rows_per_band: int, bodies: bool) -> pa.Table:
    nodes = _nodes(table, bands * rows_per_band, bodies)
    keys = band_keys(nodes["minhash"], bands, rows_per_band)
    return pa.table(
        {"band_key": pa.array(keys.ravel(), pa.uint64()), "row": pa.array(np.repeat(nodes["row"], bands), pa.int64())}
    )


@disk_task
def _signature_rows(table: pa.Table, width: int, bodies: bool) -> pa.Table:
    nodes = _nodes(table, width, bodies)
    cols = {
        "row": pa.array(nodes["row"], pa.int64()),
        "minhash": to_fixed_list(nodes["minhash"]),
        "n_chars": pa.array(nodes["n_chars"], pa.int64()),
    }
    if bodies:
        cols |= {"body": to_fixed_list(nodes["body"]), "has_body": pa.array(nodes["has_body"], pa.bool_())}
    return pa.table(cols)


def _bucket_chunks(keys: np.ndarray, rows: int) -> list[tuple[int, int]]:
    """(start, stop) of runs of about ``rows`` sorted keys, never splitting a bucket."""
    cuts = np.unique(np.searchsorted(keys, keys[np.arange(rows, len(keys), rows)], side="left"))
    bounds = np.r_[0, cuts[cuts > 0], len(keys)]
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


@disk_task
def _bucket_reduce(max_all_pairs: int, *pieces: pa.Table) -> pa.Table:
    t = concat_pieces(pieces)
    keys, rows = t.column("band_key").to_numpy(), t.column("row").to_numpy()
    order = np.lexsort((rows, keys))
    keys, rows = keys[order], rows[order]
    del order, t
    found_a, found_b, pending = [np.empty(0, np.int64)], [np.empty(0, np.int64)], 0
    # bucket by bucket in chunks: a bucket of max_all_pairs members gives ~max_all_pairs / 2
    # pairs per band row, and one pair recurs in many bands (other chunks): the pairs are
    # formed a chunk at a time and merged into the distinct ones every BUCKET_CHUNK_ROWS x 8
    for lo, hi in _bucket_chunks(keys, BUCKET_CHUNK_ROWS):
        a, b = bucket_pairs(keys[lo:hi], rows[lo:hi], max_all_pairs, members_ascending=True)
        ok = (a < BODY) & (b - BODY != a)  # a < b: a body pairs with a full signature only, not its own document's
        found_a.append(a[ok])
        found_b.append(b[ok])
        pending += int(ok.sum())
        if pending > 8 * BUCKET_CHUNK_ROWS:
            a, b = unique_pairs(np.concatenate(found_a), np.concatenate(found_b))
            found_a, found_b, pending = [a], [b], 0
    a, b = unique_pairs(np.concatenate(found_a), np.concatenate(found_b))  # a pair of several bands travels once
    return pa.table({"a": pa.array(a, pa.int64()), "b": pa.array(b, pa.int64())})


def _lookup(sig_table: pa.Table, rows: np.ndarray) -> dict[str, np.ndarray]:
    """The signature-table columns (minhash, n_chars, and body, has_body) of `rows`."""
    sig_rows = sig_table.column("row").to_numpy()
    order = np.argsort(sig_rows)
    pos = order[np.searchsorted(sig_rows[order], rows)] if len(rows) else np.empty(0, np.int64)
    out = {"n_chars": pc.fill_null(sig_table.column("n_chars"), 0).to_numpy().astype(np.int64)[pos]}
    for name in ("minhash", "body"):
        if name in sig_table.column_names:
            out[name] = from_fixed_list(sig_table.column(name))[pos]
    if "has_body" in sig_table.column_names:
        out["has_body"] = sig_table.column("has_body").to_numpy(zero_copy_only=False)[pos]
    return out


@disk_task
def _join_a(n_pairs: int, *pieces: pa.Table) -> pa.Table:
    pairs, sigs = concat_pieces(pieces[:n_pairs]), concat_pieces(pieces[n_pairs:])
    a, b = unique_pairs(pairs.column("a").to_numpy(), pairs.column("b").to_numpy())  # all copies of a pair meet here
    found = _lookup(sigs, a)
    cols = {
        "a": pa.array(a, pa.int64()),
        "b": pa.array(b, pa.int64()),
        "sig_a": to_fixed_list(found["minhash"]),
        "n_a": pa.array(found["n_chars"], pa.int64()),
    }
    if "body" in found:
        cols |= {"body_a": to_fixed_list(found["body"]), "has_a": pa.array(found["has_body"], pa.bool_())}
    return pa.table(cols)


@disk_task
def _join_b_verify(n_pairs: int, s: DedupSettings, *pieces: pa.Table) -> pa.Table:
    pairs, sigs = concat_pieces(pieces[:n_pairs]), concat_pieces(pieces[n_pairs:])
    a, b = pairs.column("a").to_numpy(), pairs.column("b").to_numpy()
    if len(a) == 0:
        return pa.table({"u": pa.array([], pa.int64()), "v": pa.array([], pa.int64())})
    found = _lookup(sigs, b)
    ok = verified(
        from_fixed_list(pairs.column("sig_a")),
        found["minhash"],
        pair_thresholds(pairs.column("n_a").to_numpy(), found["n_chars"], s),
    )
    if "body_a" in pairs.column_names and s.frame_threshold:
        # curate.dedup.pairs.not_frame_only: two full signatures where a body is known must match on bodies too
        full = ok & (b < BODY)
        check = full & (pairs.column("has_a").to_numpy(zero_copy_only=False) | found["has_body"])
        idx = np.flatnonzero(check)
        ok[idx] = verified(from_fixed_list(pairs.column("body_a"))[idx], found["body"][idx], float(s.frame_threshold))
    return pa.table(
        {"u": pa.array(a[ok], pa.int64()), "v": pa.array(_owner(b[ok]), pa.int64())}
    )  # a < b: b may be a body


@disk_task
def _exact_edges(table: pa.Table) -> pa.Table:
    rows, rep = table.column("row").to_numpy(), table.column("rep").to_numpy()
    dup = rows != rep
    return pa.table({"u": pa.array(rep[dup], pa.int64()), "v": pa.array(rows[dup], pa.int64())})


# ---------------------------------------------------------------- connected components


def _edges(u: np.ndarray, v: np.ndarray) -> pa.Table:
    if len(u):
        e = np.unique(np.stack([np.minimum(u, v), np.maximum(u, v)], axis=1), axis=0)
        e = e[e[:, 0] != e[:, 1]]
        u, v = e[:, 0], e[:, 1]
    return pa.table({"u": pa.array(u, pa.int64()), "v": pa.array(v, pa.int64())})


@disk_task
def _both_directions(table: pa.Table) -> pa.Table:
    u, v = table.column("u").to_numpy(), table.column("v").to_numpy()
    return pa.table({"node": np.r_[u, v], "nbr": np.r_[v, u]})


@disk_task
def _larger_end(table: pa.Table) -> pa.Table:
    u, v = table.column("u").to_numpy(), table.column("v").to_numpy()
    return pa.table({"node": np.maximum(u, v), "nbr": np.minimum(u, v)})


def _group_min(node: np.ndarray, nbr: np.ndarray):
    order = np.argsort(node, kind="stable")
    node, nbr = node[order], nbr[order]
    starts = np.flatnonzero(np.r_[True, node[1:] != node[:-1]])
    sizes = np.diff(np.r_[starts, len(node)])
    m = np.minimum(np.minimum.reduceat(nbr, starts), node[starts])
    return node, nbr, np.repeat(m, sizes), starts


def _neighborhoods(pieces) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The edge pieces grouped by node, with each neighborhood's minimum (see _group_min)."""
    t = concat_pieces(pieces)
    if t.num_rows == 0:
        empty = np.empty(0, np.int64)
        return empty, empty, empty, empty
    return _group_min(t.column("node").to_numpy(), t.column("nbr").to_numpy())


@disk_task
def _large_star(*pieces: pa.Table) -> pa.Table:
    """Every neighbor larger than the node is linked to the neighborhood's minimum."""
    node, nbr, m, _ = _neighborhoods(pieces)
    keep = nbr > node
    return _edges(nbr[keep], m[keep])


@disk_task
def _small_star(*pieces: pa.Table) -> pa.Table:
    """The node and its smaller neighbors are all linked to their minimum."""
    node, nbr, m, starts = _neighborhoods(pieces)
    u = np.r_[nbr, node[starts]]
    mm = np.r_[m, m[starts]]
    keep = u != mm
    return _edges(u[keep], mm[keep])


@disk_task
def _fingerprint(table: pa.Table) -> tuple[int, int]:
    u, v = table.column("u").to_numpy().astype(np.uint64), table.column("v").to_numpy().astype(np.uint64)
    with np.errstate(over="ignore"):
        h = mix64(u * np.uint64(0x9E3779B97F4A7C15) ^ v) >> np.uint64(20)
    return len(u), int(h.sum(dtype=np.uint64))


@disk_task
def _components_in_one(*pieces: pa.Table) -> pa.Table:
    """Every edge in one task: union-find (curate.dedup.pairs.components) gives the stars directly."""
    t = concat_pieces(pieces)
    u, v = t.column("u").to_numpy(), t.column("v").to_numpy()
    nodes, at = np.unique(np.r_[u, v], return_inverse=True)
    root = nodes[components(len(nodes), at[: len(u)], at[len(u) :])]
    star = root != nodes
    return _edges(root[star], nodes[star])


def connected_components(edges: list, parts: int, max_rounds: int = 100) -> list:
    """Edge blocks (u, v) -> edge blocks (node, component min) forming stars. With one
    partition, one task holds every edge anyway and needs no rounds."""
    if parts == 1:
        return [_components_in_one.remote(*edges)]
    previous = None
    for _ in range(max_rounds):
        large = [
            _large_star.at(i).remote(*p)
            for i, p in enumerate(shuffle([_both_directions.remote(e) for e in edges], "node", parts))
        ]
        edges = [
            _small_star.at(i).remote(*p)
            for i, p in enumerate(shuffle([_larger_end.remote(e) for e in large], "node", parts))
        ]
        fps = ray.get([_fingerprint.remote(e) for e in edges])
        fp = (sum(c for c, _ in fps), sum(h for _, h in fps) % (1 << 64))
        if fp == previous:
            return edges
        previous = fp
    raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")


# ---------------------------------------------------------------- keepers


@disk_task
def _attributes(table: pa.Table) -> pa.Table:
    return table.select(["row", "id", "quality_score", "n_chars", "rep"])


@disk_task
def _labels(table: pa.Table) -> pa.Table:
    u, v = table.column("u").to_numpy(), table.column("v").to_numpy()  # u: component min < v
    return pa.table({"row": np.r_[v, u], "label": np.r_[u, u]})


@disk_task
def _attach(n_labels: int, *pieces: pa.Table) -> pa.Table:
    labels, attrs = concat_pieces(pieces[:n_labels]), concat_pieces(pieces[n_labels:])
    rows, lab = labels.column("row").to_numpy(), labels.column("label").to_numpy()
    rows, first = np.unique(rows, return_index=True)
    lab = lab[first]
    a_rows = attrs.column("row").to_numpy()
    hit = np.isin(a_rows, rows)
    attrs = attrs.filter(pa.array(hit))
    a_rows = a_rows[hit]
    return attrs.append_column("label", pa.array(lab[np.searchsorted(rows, a_rows)], pa.int64()))


@disk_task
def _keepers(*pieces: pa.Table) -> pa.Table:
    t = concat_pieces(pieces)
    if t.num_rows == 0:
        return MEMBER_SCHEMA.empty_table()
    rows, quality, n_chars = key_columns(t)
    label, rep = t.column("label").to_numpy(), t.column("rep").to_numpy()
    ids = np.asarray(t.column("id").to_pylist(), dtype=object)
    order = best_first(quality, n_chars, rows, label)
    lab = label[order]
    starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])
    keeper = np.repeat(order[starts], np.diff(np.r_[starts, len(order)]))
    kept = keeper == order
    reason = np.where(kept, None, np.where(rep[order] != rows[order], "exact_dup", "near_dup"))
    return pa.table(
        {
            "row": pa.array(rows[order], pa.int64()),
            "dup_cluster": pa.array(ids[keeper], pa.string()),
            "dup_of": pa.array(np.where(kept, None, ids[keeper]), pa.string()),
            "drop_reason": pa.array(reason, pa.string()),
            "label": pa.array(lab, pa.int64()),
        },
        schema=MEMBER_SCHEMA,
    )


# ---------------------------------------------------------------- entry point


def _input_blocks(keys, columns: list[str], parts: int) -> list:
    if isinstance(keys, pa.Table):
        keys = keys.select(columns)
        step = max(1, -(-keys.num_rows // parts))
        return [ray.put(keys.slice(s, step)) for s in range(0, max(1, keys.num_rows), step)]
    return keys.select_columns(columns).to_arrow_refs()


def global_dedup(keys, s: DedupSettings) -> pa.Table:
    """Dedup the keys of a whole corpus (a ray.data.Dataset or a pa.Table).

    keys: row, id, text_hash, minhash, quality_score, n_chars (and core_minhash,
    core_chars for core links). Returns row,
    dup_cluster, dup_of, drop_reason for every member of a cluster of two or more;
    equal to curate.dedup.near.cluster on the same keys.
    """
    n = keys.num_rows if isinstance(keys, pa.Table) else keys.count()
    parts = partitions_for(n, s)
    names = keys.column_names if isinstance(keys, pa.Table) else keys.schema().names
    bodies = bool(s.core_links) and all(c in names for c in CORE_COLUMNS)
    blocks = _input_blocks(keys, KEY_COLUMNS + (CORE_COLUMNS if bodies else []), parts)
    tables = [t for t in ray.get(cluster_blocks(blocks, s, parts, bodies)) if t.num_rows]
    if not tables:
        return OUTPUT_SCHEMA.empty_table()
    return pa.concat_tables(tables).select(OUTPUT_SCHEMA.names).sort_by("row")


def partitions_for(n_docs: int, s: DedupSettings) -> int:
    """Hash partitions per shuffle: ``partitions`` when set, else one per
    ``partition_docs`` documents, so a reducer's share stays the same as the corpus grows."""
    return int(s.partitions) if s.partitions else max(1, -(-n_docs // s.partition_docs))


@ray.remote
def _num_rows(table: pa.Table | OnDisk) -> int:
    return table.rows if isinstance(table, OnDisk) else table.num_rows  # a handle's count, not its table


def _join_partitions(pairs: list, parts: int, s: DedupSettings) -> int:
    """Partitions for the pair joins: more than ``parts`` where the candidate pairs (each
    joined with a signature) would give a reducer over ``partition_pairs`` of them, as
    a corpus dense in near duplicates does."""
    if s.partitions:
        return parts
    return max(parts, -(-sum(ray.get([_num_rows.remote(t) for t in pairs])) // s.partition_pairs))


def cluster_blocks(blocks: list, s: DedupSettings, parts: int, bodies: bool) -> list:
    """The clustering of key blocks (ObjectRefs; see global_dedup), left on Ray: one
    ObjectRef per partition, each a table of OUTPUT_SCHEMA plus ``label`` (the
    cluster's smallest row) for the members of the clusters of that partition."""
    # 1. exact groups
    exact = [_exact_reduce.at(i).remote(bool(s.exact), *p) for i, p in enumerate(shuffle(blocks, "text_hash", parts))]
    edges = [_exact_edges.remote(t) for t in exact]
    # 2-3. LSH buckets -> candidate pairs -> verified near edges
    if s.near:
        bands = [_band_rows.remote(t, s.bands, s.rows, bodies) for t in exact]
        pairs = [
            _bucket_reduce.at(i).remote(s.max_bucket_all_pairs, *p)
            for i, p in enumerate(shuffle(bands, "band_key", parts))
        ]
        join = _join_partitions(pairs, parts, s)
        sig_by_row = shuffle([_signature_rows.remote(t, s.num_perm, bodies) for t in exact], "row", join)
        by_a = shuffle(pairs, "a", join)
        with_a = [_join_a.at(p).remote(len(by_a[p]), *by_a[p], *sig_by_row[p]) for p in range(join)]
        by_b = shuffle(with_a, "b", join)
        edges += [_join_b_verify.at(p).remote(len(by_b[p]), s, *by_b[p], *sig_by_row[p]) for p in range(join)]
    # 4. connected components over exact + near edges
    stars = connected_components(edges, parts)
    # 5. one keeper per component
    labels = shuffle([_labels.remote(e) for e in stars], "row", parts)
    attrs = shuffle([_attributes.remote(t) for t in exact], "row", parts)
    members = [_attach.at(p).remote(len(labels[p]), *labels[p], *attrs[p]) for p in range(parts)]
    return [_keepers.at(i).remote(*p) for i, p in enumerate(shuffle(members, "label", parts))]


# ---------------------------------------------------------------- boilerplate lines


@disk_task
def _line_pairs(line_lists: pa.ListArray, labels: np.ndarray) -> pa.Table:
    h, lab = line_label_pairs(line_lists, labels)
    return pa.table({"line_hash": pa.array(h, pa.uint64()), "label": pa.array(lab, pa.int64())})


@disk_task
def frequent_lines(k: int, *pieces: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """The lines of one line-hash partition of (line_hash, label) pairs found under k labels or more."""
    t = concat_pieces(pieces)
    h, _ = unique_line_pairs(t.column("line_hash").to_numpy(), t.column("label").to_numpy())
    return frequent(h, k)


def boilerplate_lines(line_lists, labels: np.ndarray, k: int, parts: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """curate.dedup.boilerplate.boilerplate_lines as a shuffle: (line, cluster) pairs by line hash,
    each reducer counting the distinct clusters of its lines."""
    if isinstance(line_lists, pa.ChunkedArray):
        line_lists = line_lists.combine_chunks()
    step = max(1, -(-len(labels) // parts))
    blocks = [_line_pairs.remote(line_lists.slice(s, step), labels[s : s + step]) for s in range(0, len(labels), step)]
    return merged_lines(
        ray.get([frequent_lines.at(i).remote(k, *p) for i, p in enumerate(shuffle(blocks, "line_hash", parts))])
    )


def merged_lines(found: list) -> tuple[np.ndarray, np.ndarray]:
    """The partitions' (hashes, counts) as one pair of arrays sorted by hash."""
    hashes = np.concatenate([h for h, _ in found]).astype(np.uint64) if found else np.empty(0, np.uint64)
    counts = np.concatenate([c for _, c in found]).astype(np.int64) if found else np.empty(0, np.int64)
    order = np.argsort(hashes)
    return hashes[order], counts[order]
