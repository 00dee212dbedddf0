"""The duplicate steps: exact dedup alone, or exact + near dedup with its boilerplate pass.

Both follow curate/dedup/step.py. Pass 1 gives every live row its ``text_hash`` (kept
in the shards) and, for near dedup, its MinHash keys; the decision groups the whole
corpus and keeps one member per cluster by the one keeper rule (curate/dedup/keeper.py),
so an exact-only run keeps the same document as a near run for the same exact group.
Above ``distributed_above_docs`` documents (with Ray up) the clustering runs on Ray
(curate/dedup/near_ray.py, hash-partitioned shuffles, no process holds every edge),
below it in one process; both give the same result. The decision is kept in the work
folder, so a run resumed after a crash does not decide again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.dedup.exact import text_hashes
from curate.dedup.keeper import OUTPUT_SCHEMA
from curate.dedup.near import cluster, cluster_without_boilerplate
from curate.dedup.settings import DedupSettings, settings
from curate.dedup.signatures import dedup_keys, scatter_signatures, stripped_keys
from curate.dedup.step import StagedCorpus, batch_positions
from curate.io.schema import SHARD_SCHEMA
from curate.stages.base import live_mask, set_column

DUPLICATES = "dedup"  # the steps' name: the stage that asks for them and the reasons' stage
DECISIONS_FILE = "dedup.parquet"
_RESIGN_TASK_ROWS = 8192  # texts per Ray task that re-signs documents without boilerplate


@dataclass
class Duplicates:
    """The decision: row -> (dup_cluster, dup_of, drop_reason) for every member of a
    duplicate cluster, and a summary of the boilerplate pass for the manifest."""

    by_row: dict[int, tuple[str, str | None, str | None]]
    summary: dict
    _sorted: tuple | None = field(default=None, repr=False)

    @classmethod
    def of(cls, table: pa.Table, summary: dict) -> Duplicates:
        """From a table of row, dup_cluster, dup_of, drop_reason (OUTPUT_SCHEMA)."""
        columns = [table.column(name).to_pylist() for name in OUTPUT_SCHEMA.names]
        return cls({r: (c, o, d) for r, c, o, d in zip(*columns)}, summary)

    def sorted_columns(self) -> tuple[np.ndarray, pa.Table]:
        """Rows ascending and their three columns; built once, when pass 2 starts
        (after every step has decided, the domain cap's promotions included)."""
        if self._sorted is None:
            rows = sorted(self.by_row)
            values = [self.by_row[r] for r in rows]
            table = pa.table(
                {name: pa.array([v[i] for v in values], pa.string()) for i, name in enumerate(OUTPUT_SCHEMA.names[1:])}
            )
            self._sorted = (np.array(rows, dtype=np.int64), table)
        return self._sorted


@dataclass(frozen=True)
class ExactDedup:
    """Documents with the same text_hash (curate/dedup/exact.py) are one cluster."""

    s: DedupSettings
    lang: str
    name = DUPLICATES
    key_columns = ("id", "text_hash", "quality_score", "n_chars")
    near = False  # which of the two the recipe's dedup.near asks for

    @classmethod
    def build(cls, recipe: dict, stages: list[str], lang: str):
        if DUPLICATES not in stages:
            return None
        s = settings(recipe.get("dedup"))
        return cls(s, lang) if s.near == cls.near else None

    def keys(self, table: pa.Table) -> pa.Table:
        live = live_mask(table)
        idx = np.flatnonzero(live)
        texts = table.column("text").to_pylist()
        hashes = np.zeros(table.num_rows, dtype=np.uint64)
        hashes[idx] = text_hashes([texts[i] for i in idx])
        table = set_column(table, "text_hash", pa.array(hashes, mask=~live))
        return table.append_column("n_chars", pc.utf8_length(table.column("text")).cast(pa.int64()))

    def decide(self, corpus: StagedCorpus, decided: dict) -> Duplicates:
        path = corpus.work / DECISIONS_FILE
        if not path.exists():
            keys = corpus.all_keys()
            summary: dict = {}
            result = self.cluster(keys, corpus, summary) if keys is not None and keys.num_rows else None
            table = (result if result is not None else OUTPUT_SCHEMA.empty_table()).cast(OUTPUT_SCHEMA)
            table = table.replace_schema_metadata({"summary": json.dumps(summary, ensure_ascii=False)})
            pq.write_table(table, f"{path}.tmp")
            os.replace(f"{path}.tmp", path)
        t = pq.read_table(path)
        return Duplicates.of(t, json.loads((t.schema.metadata or {}).get(b"summary", b"{}")))

    def cluster(self, keys: pa.Table, corpus: StagedCorpus | None, summary: dict) -> pa.Table:
        """row, dup_cluster, dup_of, drop_reason for every member of a cluster (exact
        dedup reads only the keys; near dedup reads texts back from the corpus)."""
        return self._engine(keys)[0](keys, self.s)

    def _engine(self, keys: pa.Table):
        """(cluster, boilerplate_lines) on Ray for a large corpus, else in this process."""
        import ray

        if ray.is_initialized() and keys.num_rows >= self.s.distributed_above_docs:
            from curate.dedup.near_ray import boilerplate_lines, global_dedup

            return global_dedup, boilerplate_lines
        from curate.dedup.boilerplate import boilerplate_lines

        return cluster, boilerplate_lines

    def apply(self, table: pa.Table, offset: int, decision: Duplicates) -> pa.Table:
        """Set dup_cluster and dup_of of this batch's cluster members, and drop_reason where no stage set one."""
        rows, values = decision.sorted_columns()
        lo, hi = batch_positions(rows, offset, table.num_rows)
        if lo == hi:
            return table
        at = np.full(table.num_rows, -1, dtype=np.int64)
        at[rows[lo:hi] - offset] = np.arange(hi - lo)
        pick, hit = pa.array(at, mask=at < 0), pa.array(at >= 0)
        new = values.slice(lo, hi - lo).take(pick)
        settable = {
            "dup_cluster": hit,
            "dup_of": hit,
            "drop_reason": pc.and_(hit, pc.is_null(table.column("drop_reason"))),
        }
        for name, where in settable.items():
            column = pc.if_else(where, new.column(name), table.column(name))
            table = table.set_column(table.schema.get_field_index(name), SHARD_SCHEMA.field(name), column)
        return table

    def manifest(self, decision: Duplicates) -> dict:
        return {"near_dedup": self.s.near, "dedup": decision.summary}


@dataclass(frozen=True)
class NearDedup(ExactDedup):
    """Exact groups, then MinHash LSH near duplicates, clustered twice: the second time
    with the documents that carry boilerplate lines re-signed without them."""

    near = True

    @property
    def key_columns(self) -> tuple[str, ...]:
        core = ("core_minhash", "core_chars") if self.s.core_links else ()
        return ExactDedup.key_columns + ("minhash", "line_hashes") + core

    def keys(self, table: pa.Table) -> pa.Table:
        table = super().keys(table)
        idx = np.flatnonzero(live_mask(table))
        n = table.num_rows
        keys = dedup_keys(table.take(pa.array(idx, pa.int64())), self.s, self.lang)
        table = table.append_column("minhash", scatter_signatures(keys.column("minhash"), idx, n))
        if "core_minhash" in keys.column_names:  # dropped rows get empty bodies (all 0xFFFFFFFF)
            table = table.append_column(
                "core_minhash", scatter_signatures(keys.column("core_minhash"), idx, n, 0xFFFFFFFF)
            )
            chars = np.zeros(n, dtype=np.int64)
            chars[idx] = keys.column("core_chars").to_numpy()
            table = table.append_column("core_chars", pa.array(chars, pa.int64()))
        per_row = [[] for _ in range(n)]
        for i, hashes in zip(idx, keys.column("line_hashes").to_pylist()):
            per_row[i] = hashes
        return table.append_column("line_hashes", pa.array(per_row, keys.schema.field("line_hashes").type))

    def cluster(self, keys: pa.Table, corpus: StagedCorpus, summary: dict) -> pa.Table:
        cluster_fn, lines_fn = self._engine(keys)
        resign = self._resign(corpus, summary)
        return cluster_without_boilerplate(keys, self.s, resign, cluster_fn, lines_fn, summary)

    def _resign(self, corpus: StagedCorpus, summary: dict):
        """resign(rows, boilerplate) for cluster_without_boilerplate: reads the staged
        texts of those rows and signs them without their boilerplate lines, in Ray
        tasks when Ray is up. The most widespread lines go to summary["top_boilerplate"]."""
        import ray

        from curate.dedup.boilerplate import top_lines

        s, lang, step = self.s, self.lang, _RESIGN_TASK_ROWS

        def resign(rows: np.ndarray, boilerplate: tuple) -> pa.Table:
            distributed = ray.is_initialized()
            if distributed:
                task, boiler = ray.remote(stripped_keys), ray.put(boilerplate)
            parts, sample = [], []  # sample: the first texts read, where the report's examples come from
            for file_rows, texts in corpus.texts_of(np.sort(rows)):  # each staged file read once
                sample += texts[: 5000 - len(sample)]
                if distributed:
                    parts += [
                        task.remote(texts[i : i + step], file_rows[i : i + step], boiler, s, lang)
                        for i in range(0, len(texts), step)
                    ]
                else:
                    parts.append(stripped_keys(texts, file_rows, boilerplate, s, lang))
            summary["top_boilerplate"] = top_lines(sample, boilerplate)
            parts = ray.get(parts) if distributed else parts
            return pa.concat_tables(parts) if parts else stripped_keys([], [], boilerplate, s, lang)

        return resign
