"""The keeper rule, one for exact and near duplicates.

Within a group of exact duplicates, and then within a cluster of near duplicates, the
best member is kept: the highest ``quality_score`` (null lowest), then the most
characters, then the smallest row (input order). The rule reads only the keys, so the
result does not depend on how the work was split; exactly one member of every
cluster is kept. Both dedup paths (exact only, and exact + near) and both engines
(one process, Ray) use it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

OUTPUT_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64()),
        pa.field("dup_cluster", pa.string()),
        pa.field("dup_of", pa.string()),
        pa.field("drop_reason", pa.string()),
    ]
)


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
