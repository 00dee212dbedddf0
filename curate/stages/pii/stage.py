"""The pii stage: identifiers replaced by tokens in every live document, counted per kind."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from curate.io.schema import PII_KINDS
from curate.stages import summaries
from curate.stages.base import BatchStage, Section, SettingError, live_mask, merge_drop_reasons, set_column
from curate.stages.pii.spans import scrub


@dataclass(frozen=True)
class PIISettings:
    lang: str
    mode: str = "replace"  # replace | drop
    max_identifiers: int | None = None  # drop mode: more than this many drops a document (None: 0)
    kinds: tuple[str, ...] | None = None  # None: every kind in PII_KINDS

    @classmethod
    def from_section(cls, section: dict, lang: str) -> PIISettings:
        s = Section(section, {"mode", "max_identifiers", "kinds"})
        mode = s.choice("mode", "replace", ("replace", "drop"))
        limit = s.integer("max_identifiers", None, minimum=0)
        if mode == "drop" and limit is None:
            limit = 0  # drop mode without a limit drops any document with PII
        kinds = s.strings("kinds", None)
        unknown = set(kinds or ()) - set(PII_KINDS)
        if unknown:
            raise SettingError("kinds", f"unknown pii kinds {sorted(unknown)}; known: {list(PII_KINDS)}")
        return cls(lang, mode, limit, kinds or None)


class PIIStage(BatchStage):
    """Recipe keys: mode (replace | drop), max_identifiers, kinds (default: all PII_KINDS).

    Every live row gets its identifiers replaced and ``pii_counts`` set (kinds with a
    count > 0; an empty map when none). With ``mode: drop`` a row with more than
    ``max_identifiers`` identifiers (0 when unset) is also dropped as
    "pii:too_many_identifiers"; its text is scrubbed all the same, so rejected shards
    carry no identifiers either.
    """

    name = "pii"
    Settings = PIISettings

    def __call__(self, table: pa.Table) -> pa.Table:
        s = self.settings
        live = live_mask(table)
        texts = table.column("text").to_pylist()
        old_counts = table.column("pii_counts").to_pylist()
        new_texts, counts, reasons = [], [], []
        for keep, text, old in zip(live, texts, old_counts):
            if not keep or text is None:
                new_texts.append(text)
                counts.append(old)
                reasons.append(None)
                continue
            scrubbed, c = scrub(text, s.lang, s.kinds)
            new_texts.append(scrubbed)
            counts.append(sorted(c.items()))
            too_many = s.mode == "drop" and sum(c.values()) > s.max_identifiers
            reasons.append("pii:too_many_identifiers" if too_many else None)
        table = set_column(table, "text", new_texts)
        table = set_column(table, "pii_counts", counts)
        return merge_drop_reasons(table, reasons)

    @staticmethod
    def stats(table: pa.Table) -> dict:
        """Identifiers replaced per kind ("pii") and documents that had each kind ("pii_docs")."""
        totals, docs = _kind_counts(table)
        return {"pii": totals, "pii_docs": docs}

    @staticmethod
    def merge_stats(parts: list[dict]) -> dict:
        return {key: summaries.add_counts(p.get(key) for p in parts) for key in ("pii", "pii_docs")}


def _kind_counts(table: pa.Table) -> tuple[dict, dict]:
    if "pii_counts" not in table.column_names:
        return {}, {}
    col = table.column("pii_counts")
    keys, items = [], []
    for chunk in col.chunks:
        # .keys/.items ignore a slice's offset: cut them to this chunk's value range
        off = chunk.offsets
        start, stop = off[0].as_py(), off[-1].as_py()
        keys.append(chunk.keys.slice(start, stop - start))
        items.append(chunk.items.slice(start, stop - start))
    if not keys or sum(len(k) for k in keys) == 0:
        return {}, {}
    kv = pa.table({"kind": pa.concat_arrays(keys), "n": pa.concat_arrays(items).cast(pa.int64())})
    kv = kv.filter(pc.greater(kv.column("n"), 0))
    agg = kv.group_by("kind").aggregate([("n", "sum"), ("n", "count")])
    totals = dict(zip(agg.column("kind").to_pylist(), agg.column("n_sum").to_pylist()))
    docs = dict(zip(agg.column("kind").to_pylist(), agg.column("n_count").to_pylist()))
    return {k: int(v) for k, v in totals.items()}, {k: int(v) for k, v in docs.items()}
