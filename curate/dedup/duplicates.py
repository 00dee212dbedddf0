"""The duplicate steps: exact dedup alone, or exact + near dedup with its boilerplate pass.

Both follow curate/dedup/step.py. Pass 1 gives every live row its ``text_hash`` (kept
in the shards) and, for near dedup, its MinHash keys; the decision groups the whole
corpus and keeps one member per cluster by the one keeper rule (curate/dedup/keeper.py),
so an exact-only run keeps the same document as a near run for the same exact group.
The clustering runs on Ray over the staged keys files (curate/dedup/corpus_ray.py:
hash-partitioned shuffles, more partitions for a larger corpus, no process holds
every key or edge) and gives what curate/dedup/near.py gives in one process. The
decision is written per staged file in the work folder, so pass 2 reads only its
file's part and a run resumed after a crash does not decide again.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup.corpus_ray import decide_duplicates
from curate.dedup.decision_parts import DecisionParts, write_global
from curate.dedup.exact import text_hashes
from curate.dedup.line_keys import ALL_LINE_COLUMNS
from curate.dedup.one_task import decide_in_one_task
from curate.dedup.settings import DedupSettings, settings
from curate.dedup.signatures import dedup_keys, scatter_lists, scatter_signatures
from curate.dedup.step import StagedCorpus, batch_positions
from curate.io import fs
from curate.io.schema import SHARD_SCHEMA
from curate.stages.base import live_mask, set_column

DUPLICATES = "dedup"  # the steps' name: the stage that asks for them and the reasons' stage


@dataclass(frozen=True)
class Duplicates:
    """The decision: every member of a duplicate cluster (row, dup_cluster, dup_of,
    drop_reason; curate/dedup/keeper.py's OUTPUT_SCHEMA) in parts per staged file, and
    ``revised``, parts whose rows replace some of them (the domain cap's promotions)."""

    parts: DecisionParts
    revised: DecisionParts | None = None

    @classmethod
    def written(cls, members: pa.Table, row_counts: list[int], folder: str | None = None) -> Duplicates:
        """A decision made in one process (global rows; evaluations, benches, tests) written as parts."""
        folder = folder or tempfile.mkdtemp(prefix="duplicates-")
        return cls(write_global(DecisionParts(folder), members, row_counts, {}))

    def summary(self) -> dict:
        """The boilerplate pass's summary for the manifest."""
        return self.parts.summary()

    def members(self, file_index: int) -> tuple[np.ndarray, pa.Table] | None:
        """One staged file's members: local rows ascending and their table (cached per process)."""
        return _members(self.parts, self.revised, file_index)


@lru_cache(maxsize=4)
def _members(parts: DecisionParts, revised: DecisionParts | None, file_index: int):
    table = parts.part(file_index)
    if table is None:
        return None
    changed = revised.part(file_index) if revised is not None else None
    if changed is not None:
        kept = pc.invert(pc.is_in(table.column("row"), value_set=changed.column("row")))
        table = pa.concat_tables([table.filter(kept), changed.cast(table.schema)]).sort_by("row")
    return table.column("row").to_numpy(), table


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
        texts = table.column("text").to_pylist()
        return self._with_text_hash(table, live, text_hashes([t for t, keep in zip(texts, live) if keep]))

    @staticmethod
    def _with_text_hash(table: pa.Table, live: np.ndarray, live_hashes: np.ndarray) -> pa.Table:
        """``text_hash`` (the live rows' hashes, in order; null elsewhere) and ``n_chars``."""
        hashes = np.zeros(table.num_rows, dtype=np.uint64)
        hashes[np.flatnonzero(live)] = live_hashes
        table = set_column(table, "text_hash", pa.array(hashes, mask=~live))
        return table.append_column("n_chars", pc.utf8_length(table.column("text")).cast(pa.int64()))

    def decide(self, corpus: StagedCorpus, decided: dict) -> Duplicates:
        parts = DecisionParts(fs.join(corpus.work, DUPLICATES))
        if not parts.done():
            files = corpus.files()
            if sum(f.live for f in files) <= self.s.one_task_docs:
                decide_in_one_task(files, self.s, self.lang, parts)
            else:
                decide_duplicates(files, self.s, self.lang, parts)
        return Duplicates(parts)

    def apply(self, table: pa.Table, offset: int, decision: Duplicates) -> pa.Table:
        """Set dup_cluster and dup_of of this batch's cluster members, and drop_reason where no stage set one."""
        file_index, first_row = decision.parts.locate(offset)
        members = decision.members(file_index)
        if members is None:
            return table
        rows, values = members
        offset -= first_row  # the file's own row numbers
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
        return {"near_dedup": self.s.near, "dedup": decision.summary()}


@dataclass(frozen=True)
class NearDedup(ExactDedup):
    """Exact groups, then MinHash LSH near duplicates, clustered twice: the second time
    with the documents that carry boilerplate lines re-signed without them."""

    near = True

    @property
    def key_columns(self) -> tuple[str, ...]:
        core = ("core_minhash", "core_chars") if self.s.core_links else ()
        return ExactDedup.key_columns + ("minhash", "line_hashes") + core + self._all_lines

    @property
    def _all_lines(self) -> tuple[str, ...]:
        """Every line's hash, staged for the boilerplate pass's re-signing (one_task)."""
        return ALL_LINE_COLUMNS if self.s.boilerplate_clusters else ()

    def keys(self, table: pa.Table) -> pa.Table:
        live = live_mask(table)
        idx = np.flatnonzero(live)
        n = table.num_rows
        keys = dedup_keys(table.take(pa.array(idx, pa.int64())), self.s, self.lang, bool(self._all_lines))
        table = self._with_text_hash(table, live, keys.column("text_hash").to_numpy())
        table = table.append_column("minhash", scatter_signatures(keys.column("minhash"), idx, n))
        if "core_minhash" in keys.column_names:  # dropped rows get empty bodies (all 0xFFFFFFFF)
            table = table.append_column(
                "core_minhash", scatter_signatures(keys.column("core_minhash"), idx, n, 0xFFFFFFFF)
            )
            chars = np.zeros(n, dtype=np.int64)
            chars[idx] = keys.column("core_chars").to_numpy()
            table = table.append_column("core_chars", pa.array(chars, pa.int64()))
        for name in ("line_hashes", *self._all_lines):
            table = table.append_column(name, scatter_lists(keys.column(name), idx, n))
        return table
