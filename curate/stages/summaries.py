"""Mergeable summaries of a table: the building blocks of the per-shard statistics.

A stage's ``stats(table)`` (curate.stages.base) and the report's generic part
(curate.report.stats) build their statistics from these, so that every part merges
exactly whichever way the shards were split:

- counts keyed by a value add up (add_counts);
- histograms have FIXED bin edges and add bin by bin (histogram);
- sample documents are bottom-k samples by a hash of the document id (kept and dropped
  documents alike), so the merged sample is the same uniform sample however the data
  was split (bottom_k, merge_samples).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SAMPLES_PER_BUCKET = 3
SAMPLE_CHARS = 300
# Columns a sample document shows.
SAMPLE_COLUMNS = ("id", "text", "source", "lang", "lang_score", "quality_score", "drop_reason", "dup_cluster")


def floats(arr) -> np.ndarray:
    """A numeric column as float64, NaN where null."""
    return pc.fill_null(arr.cast(pa.float64()), float("nan")).to_numpy(zero_copy_only=False)


def edges_json(edges: list[float]) -> list:
    return [None if math.isinf(e) else e for e in edges]


def histogram(values: np.ndarray, edges: list[float]) -> dict:
    """Counts per bin [e_i, e_i+1) (NaN left out); the last bin is closed so 1.0 lands in it."""
    values = values[~np.isnan(values)]
    e = np.asarray(edges, dtype=np.float64)
    idx = np.searchsorted(e, values, side="right") - 1
    idx = np.clip(idx, 0, len(e) - 2)
    return {"edges": edges_json(edges), "counts": np.bincount(idx, minlength=len(e) - 1).astype(int).tolist()}


def value_counts(arr) -> dict[str, int]:
    """Rows per value (as a string; "null" for null)."""
    if len(arr) == 0:
        return {}
    vc = pc.value_counts(arr)
    vals = vc.field("values").to_pylist()
    counts = vc.field("counts").to_pylist()
    return {("null" if v is None else str(v)): int(c) for v, c in zip(vals, counts)}


def add_counts(parts: Iterable[dict | None]) -> dict:
    """Counts of several parts added key by key (a missing part counts as empty)."""
    out: dict = {}
    for part in parts:
        for k, v in (part or {}).items():
            out[k] = out.get(k, 0) + v
    return out


def sample_key(doc_id: str | None, text: str | None = None) -> int:
    """The 64-bit sampling key of one document: a hash of its id (of its text when it has
    none). Every document gets a key from the same distribution, kept or dropped, with or
    without a text_hash, so the smallest keys are a uniform sample of all of them."""
    data = (doc_id if doc_id is not None else "\x00" + (text or "")).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def sample_keys(table: pa.Table) -> np.ndarray:
    """sample_key() of every row."""
    ids = table.column("id").to_pylist()
    if any(i is None for i in ids):
        texts = table.column("text").to_pylist()
        return np.fromiter((sample_key(i, t) for i, t in zip(ids, texts)), dtype=np.uint64, count=len(ids))
    return np.fromiter((sample_key(i) for i in ids), dtype=np.uint64, count=len(ids))


def sample_doc(row: dict, key: int) -> dict:
    """What a sample shows of one document (its text cut to SAMPLE_CHARS)."""
    text = row.get("text") or ""
    return {
        "key": int(key),
        "id": row.get("id"),
        "source": row.get("source"),
        "lang": row.get("lang"),
        "lang_score": None if row.get("lang_score") is None else round(float(row["lang_score"]), 4),
        "quality_score": None if row.get("quality_score") is None else round(float(row["quality_score"]), 4),
        "drop_reason": row.get("drop_reason"),
        "dup_cluster": row.get("dup_cluster"),
        "chars": len(text),
        "text": text[:SAMPLE_CHARS] + ("…" if len(text) > SAMPLE_CHARS else ""),
        "rule_value": _failed_value(row),
    }


def _failed_value(row: dict) -> float | None:
    """The value of the signal a document failed (drop reason quality:min_X / max_X)."""
    reason = row.get("drop_reason") or ""
    if not reason.startswith("quality:") or not row.get("quality_signals"):
        return None
    signal = reason.split(":", 1)[1].partition("_")[2]
    v = row["quality_signals"].get(signal)
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 4)


def bottom_k(table: pa.Table, keys: np.ndarray, groups: np.ndarray, labels: list[str]) -> dict[str, list[dict]]:
    """For each group (integer codes into labels, -1 = none), the SAMPLES_PER_BUCKET rows
    with the smallest keys."""
    k = SAMPLES_PER_BUCKET
    out: dict[str, list[dict]] = {}
    cols = [c for c in (*SAMPLE_COLUMNS, "quality_signals") if c in table.column_names]
    order = np.lexsort((keys, groups))  # by group, then key
    g_sorted = groups[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]]) if len(order) else []
    for s in starts:
        g = int(g_sorted[s])
        if g < 0:
            continue
        end = s + k
        # rows tied with the k-th key come along, so that (key, id) decides as in merge_samples
        while end < len(order) and groups[order[end]] == g and keys[order[end]] == keys[order[end - 1]]:
            end += 1
        pick = order[s:end]
        pick = pick[groups[pick] == g]
        sub = table.select(cols).take(pa.array(pick)).to_pylist()
        docs = sorted((sample_doc(r, keys[i]) for r, i in zip(sub, pick)), key=lambda d: (d["key"], d["id"] or ""))
        out[labels[g]] = docs[:k]
    return out


def merge_samples(parts: list[dict]) -> dict:
    """Bottom-k samples of several parts merged group by group."""
    out: dict[str, list[dict]] = {}
    for p in parts:
        for g, docs in p.items():
            out.setdefault(g, []).extend(docs)
    return {g: sorted(d, key=lambda x: (x["key"], x["id"] or ""))[:SAMPLES_PER_BUCKET] for g, d in out.items()}
