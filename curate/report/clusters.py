"""The duplicate clusters' part of the per-shard statistics.

Duplicate clusters are a cluster-id -> member-count map (ids come from the global dedup
pass, so adding counts by id is exact across shards), plus one example document for
each of the largest clusters of a shard.
"""

from __future__ import annotations

import heapq

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.stages import summaries

CLUSTER_EXAMPLES = 50  # clusters per shard that carry an example text


def stats(table: pa.Table) -> dict:
    if "dup_cluster" not in table.column_names:
        return {"dup_clusters": {}, "cluster_examples": {}}
    dc = table.column("dup_cluster")
    clusters = summaries.value_counts(dc.drop_null())
    return {"dup_clusters": clusters, "cluster_examples": _examples(table, dc, clusters) if clusters else {}}


def _examples(table: pa.Table, dc, clusters: dict[str, int]) -> dict[str, dict]:
    """A sample document of each of the CLUSTER_EXAMPLES largest clusters."""
    top = heapq.nlargest(CLUSTER_EXAMPLES, clusters.items(), key=lambda kv: (kv[1], kv[0]))
    mask = pc.fill_null(pc.is_in(dc, value_set=pa.array([c for c, _ in top])), False).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(mask)
    examples: dict[str, dict] = {}
    if not len(rows):
        return examples
    cols = [c for c in summaries.SAMPLE_COLUMNS if c in table.column_names]
    for r in table.select(cols).take(pa.array(rows)).to_pylist():
        ex = examples.get(r["dup_cluster"])
        # prefer the member that was kept, then the smallest key
        cand = summaries.sample_doc(r, summaries.sample_key(r["id"], r["text"]))
        if (
            ex is None
            or (ex["drop_reason"] is not None and r["drop_reason"] is None)
            or ((ex["drop_reason"] is None) == (r["drop_reason"] is None) and cand["key"] < ex["key"])
        ):
            examples[r["dup_cluster"]] = cand
    return examples


def merge_stats(parts: list[dict]) -> dict:
    examples: dict[str, dict] = {}
    for p in parts:
        for c, ex in (p.get("cluster_examples") or {}).items():
            cur = examples.get(c)
            if cur is None or (cur["drop_reason"] is not None and ex["drop_reason"] is None):
                examples[c] = ex
    return {"dup_clusters": summaries.add_counts(p.get("dup_clusters") for p in parts), "cluster_examples": examples}
