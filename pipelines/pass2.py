"""Pass 2's output: each decided batch split into shards, rejected and quarantine
files, with the counts the manifest reports (per drop reason, per stage, per language)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.io.readers import QUARANTINE, is_quarantined
from curate.io.writer import QUARANTINE_SCHEMA, ShardWriter, to_quarantine
from curate.stages.base import reason_stage


class InvariantError(RuntimeError):
    pass


class RunOutput:
    """Writes pass 2's rows and tallies them. Counters fill in the order reasons and
    languages first appear, as the manifest lists ties."""

    def __init__(self, staging: Path, shard_rows: int, stats_fn, stages: list[str]):
        stats_dir = str(staging / "stats")
        self.writers = {
            kind: ShardWriter(str(staging), kind, max_rows=shard_rows, stats_fn=stats_fn, stats_dir=stats_dir)
            for kind in ("shards", "rejected")
        }
        self.writers["quarantine"] = ShardWriter(
            str(staging), "quarantine", schema=QUARANTINE_SCHEMA, max_rows=shard_rows
        )
        self.stages = stages
        self.reasons: Counter = Counter()
        self.stage_chars: Counter = Counter()  # characters that survive each stage, on the final text
        self.lang_mix: Counter = Counter()

    def write(self, table: pa.Table) -> None:
        reason = table.column("drop_reason")
        quarantined = pc.fill_null(pc.starts_with(reason, pattern=QUARANTINE), False)
        kept = pc.is_null(reason)
        self.writers["quarantine"].write(to_quarantine(table.filter(quarantined)))
        self.writers["rejected"].write(table.filter(pc.and_not(pc.invert(kept), quarantined)))
        self.writers["shards"].write(table.filter(kept))
        self._tally_reasons(reason)
        self._tally_chars(table, quarantined.to_numpy(zero_copy_only=False))
        for lang, n in _counts(table.filter(kept).column("lang")):
            self.lang_mix[lang or "und"] += n

    def _tally_reasons(self, reason) -> None:
        for value, n in _counts(reason):
            if value is not None:
                self.reasons["quarantine" if is_quarantined(value) else value] += n

    def _tally_chars(self, table: pa.Table, quarantined: np.ndarray) -> None:
        """Each row's characters count for every stage before the one that dropped it."""
        lengths = pc.fill_null(pc.utf8_length(table.column("text")), 0).to_numpy(zero_copy_only=False)
        encoded = table.column("drop_reason").combine_chunks().dictionary_encode()
        last_of = [self._last(r) for r in encoded.dictionary.to_pylist()] + [len(self.stages)]
        codes = pc.fill_null(encoded.indices, len(last_of) - 1).to_numpy(zero_copy_only=False)
        last = np.asarray(last_of, dtype=np.int64)[codes][~quarantined]
        lengths = lengths[~quarantined].astype(np.int64)
        self.stage_chars["_in"] += int(lengths.sum())
        for k, stage in enumerate(self.stages):
            self.stage_chars[stage] += int(lengths[last > k].sum())

    def _last(self, reason: str) -> int:
        stage = reason_stage(reason)
        return self.stages.index(stage) if stage in self.stages else len(self.stages)

    def close(self, n_read: int) -> tuple[dict, dict, dict]:
        """The shard entries per kind, the manifest's counts and its lang_mix."""
        entries = {kind: w.close() for kind, w in self.writers.items()}
        return entries, self._counts(entries, n_read), dict(self.lang_mix.most_common())

    def _counts(self, entries: dict, n_read: int) -> dict:
        kept = sum(e["rows"] for e in entries["shards"])
        rejected = sum(e["rows"] for e in entries["rejected"])
        quarantined = sum(e["rows"] for e in entries["quarantine"])
        if n_read != kept + rejected + quarantined:
            raise InvariantError(
                f"documents read ({n_read}) != kept ({kept}) + rejected ({rejected}) + quarantined ({quarantined})"
            )
        per_stage = {}
        docs_in, chars_in = n_read - quarantined, self.stage_chars["_in"]
        for s in self.stages:
            dropped = sum(n for r, n in self.reasons.items() if r != "quarantine" and reason_stage(r) == s)
            per_stage[s] = {
                "in": docs_in,
                "dropped": dropped,
                "out": docs_in - dropped,
                "chars_in": chars_in,
                "chars_out": self.stage_chars[s],
            }
            docs_in, chars_in = docs_in - dropped, self.stage_chars[s]
        return {
            "read": n_read,
            "kept": kept,
            "rejected": rejected,
            "quarantined": quarantined,
            "per_stage": per_stage,
            "drop_reasons": dict(self.reasons.most_common()),
        }


def _counts(column) -> list[tuple]:
    """(value, count) in the order values first appear (null included)."""
    counts = pc.value_counts(column)
    return list(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()))
