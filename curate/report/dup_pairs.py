"""Near-duplicate pairs side by side: the duplicate clusters' second part of the per-shard
statistics.

For a bounded sample of clusters (the PAIR_CLUSTERS with the smallest hash of their
cluster id, so the sample does not depend on how the rows were split into shards) each
shard keeps the cluster's kept member and its dropped member with the smallest sampling
key, each with its first characters and a MinHash signature of its whole text. The
report pairs them and estimates their Jaccard similarity from the two signatures.

The signatures use the language's default shingles (curate.dedup.shingles) and 128
permutations, over the texts as stored (after the run's edits, boilerplate lines
included), so the similarity is that of what a reader sees, close to but not always
exactly what the dedup pass compared.
"""

from __future__ import annotations

import heapq

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup.minhash import jaccard, signatures
from curate.dedup.shingles import shingle_config, shingle_hashes
from curate.stages import summaries

PAIR_CLUSTERS = 20  # clusters sampled (the report shows the first PAIRS_SHOWN with a pair)
NUM_PERM = 128
_COLUMNS = ("id", "text", "lang", "drop_reason", "dup_cluster")


def _signature(text: str, lang: str | None) -> str:
    sh = shingle_config(None, lang or "")
    hashes, offsets = shingle_hashes([text], sh["kind"], sh["n"])
    return signatures(hashes, offsets, NUM_PERM)[0].astype("<u4").tobytes().hex()


def _member(row: dict) -> dict:
    text = row["text"] or ""
    return {
        "key": summaries.sample_key(row["id"], text),
        "id": row["id"],
        "drop_reason": row["drop_reason"],
        "chars": len(text),
        "text": text[: summaries.SAMPLE_CHARS] + ("…" if len(text) > summaries.SAMPLE_CHARS else ""),
        "sig": _signature(text, row["lang"]),
    }


def _better(cur: dict | None, new: dict | None) -> dict | None:
    """Of two candidates for one side of a pair, the one with the smaller key."""
    if cur is None or (new is not None and (new["key"], new["id"]) < (cur["key"], cur["id"])):
        return new
    return cur


def stats(table: pa.Table) -> dict:
    if "dup_cluster" not in table.column_names or table.num_rows == 0:
        return {"cluster_pairs": {}}
    dc = table.column("dup_cluster")
    ids = summaries.value_counts(dc.drop_null())
    chosen = heapq.nsmallest(PAIR_CLUSTERS, ids, key=lambda c: (summaries.sample_key(c), c))
    mask = pc.fill_null(pc.is_in(dc, value_set=pa.array(chosen, pa.string())), False)
    rows = table.select([c for c in _COLUMNS if c in table.column_names]).filter(mask).to_pylist()
    out: dict[str, dict] = {c: {"key": summaries.sample_key(c), "kept": None, "dropped": None} for c in chosen}
    for row in rows:
        side = "kept" if row["drop_reason"] is None else "dropped"
        entry = out[row["dup_cluster"]]
        if side == "kept" or row["drop_reason"] in ("near_dup", "exact_dup"):
            entry[side] = _better(entry[side], _member(row))
    return {"cluster_pairs": out}


def merge_stats(parts: list[dict]) -> dict:
    merged: dict[str, dict] = {}
    for p in parts:
        for c, e in (p.get("cluster_pairs") or {}).items():
            m = merged.setdefault(c, {"key": e["key"], "kept": None, "dropped": None})
            m["kept"] = _better(m["kept"], e["kept"])
            m["dropped"] = _better(m["dropped"], e["dropped"])
    chosen = heapq.nsmallest(PAIR_CLUSTERS, merged, key=lambda c: (merged[c]["key"], c))
    return {"cluster_pairs": {c: merged[c] for c in chosen}}


def similarity(a: dict, b: dict) -> float:
    """Estimated Jaccard similarity of two members' shingle sets, from their signatures."""
    sa, sb = (np.frombuffer(bytes.fromhex(m["sig"]), dtype="<u4") for m in (a, b))
    return float(jaccard(sa, sb))
