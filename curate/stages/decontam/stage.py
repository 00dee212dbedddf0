"""The decontam stage: drop a document that holds benchmark text, or cut the text out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from curate.io.schema import SHARD_SCHEMA
from curate.stages.base import BatchStage, Section, SettingError, live_mask, merge_drop_reasons, set_column
from curate.stages.decontam.build import build_index, defaults, unit_for, with_defaults
from curate.stages.decontam.index import Index
from curate.stages.decontam.matching import cut_spans, find_matches

NAME = "decontam"
CONTAMINATION_TYPE = SHARD_SCHEMA.field("contamination").type


@dataclass(frozen=True)
class DecontamSettings:
    lang: str
    section: dict  # pipelines/recipes/decontam/defaults.yaml with the recipe's keys over it
    unit: str  # char | word, for this language unless the recipe says
    action: str = "drop"  # drop | cut
    margin_chars: int = 200
    min_keep_chars: int = 200

    @classmethod
    def from_section(cls, section: dict, lang: str) -> DecontamSettings:
        merged = with_defaults(section)
        s = Section(merged, set(defaults()))
        for unit in ("char", "word"):
            _check_unit(Section(merged[unit], {"n", "min_match", "max_gap"}), unit)
        s.choice("unit", "auto", ("auto", "char", "word"))
        s.strings("fields", None)
        s.strings("exclude_fields", None)
        s.integer("bloom_above_ngrams", 0, minimum=0)
        s.integer("bloom_bits_per_ngram", 16, minimum=1)
        s.existing_file("index")
        for path in s.strings("benchmarks", None) or ():
            if not Path(path).exists():
                raise SettingError("benchmarks", f"{path}: benchmark file not found")
        return cls(
            lang=lang,
            section=merged,
            unit=unit_for(lang, merged),
            action=s.choice("action", "drop", ("drop", "cut")),
            margin_chars=s.integer("margin_chars", 200, minimum=0),
            min_keep_chars=s.integer("min_keep_chars", 200, minimum=0),
        )


def _check_unit(s: Section, unit: str) -> None:
    n = s.integer("n", None, minimum=1)
    min_match = s.integer("min_match", None, minimum=1)
    s.integer("max_gap", 0, minimum=0)
    if n is not None and min_match is not None and min_match < n:
        raise SettingError(f"{unit}.min_match", f"must be >= {unit}.n ({n}), got {min_match}")


class DecontamStage(BatchStage):
    name = NAME
    Settings = DecontamSettings

    def __init__(self, settings: DecontamSettings, index: Index | None = None):
        super().__init__(settings)
        self._index = index

    @property
    def index(self) -> Index:
        if self._index is None:  # loaded once per process, on first use
            cfg = self.settings.section
            if cfg.get("index"):
                self._index = Index.load(cfg["index"])
            elif cfg.get("benchmarks"):
                self._index = build_index(cfg["benchmarks"], cfg, self.settings.unit)
            else:
                raise ValueError("decontam: the recipe names no `index` and no `benchmarks`")
        return self._index

    def __call__(self, table: pa.Table) -> pa.Table:
        if "contamination" not in table.column_names:
            table = table.append_column(
                pa.field("contamination", CONTAMINATION_TYPE), pa.nulls(table.num_rows, CONTAMINATION_TYPE)
            )
        live = np.flatnonzero(live_mask(table))
        all_texts = table.column("text").to_pylist()
        texts = [all_texts[i] or "" for i in live]
        per_doc: dict[int, dict[str, list]] = {}
        for m in find_matches(texts, self.index):
            per_doc.setdefault(m.doc, {}).setdefault(m.benchmark, []).append(m)
        if not per_doc:
            return table
        contamination = table.column("contamination").to_pylist()
        reasons: list[str | None] = [None] * table.num_rows
        new_texts = list(all_texts)
        for d, by_bench in per_doc.items():
            row = int(live[d])
            record = sorted(
                (
                    {
                        "benchmark": b,
                        "matched_chars": sum(m.end - m.start for m in ms),
                        "ngrams": sum(m.ngrams for m in ms),
                    }
                    for b, ms in by_bench.items()
                ),
                key=lambda r: -r["matched_chars"],
            )
            contamination[row] = record
            reason = f"{NAME}:{record[0]['benchmark']}"
            if self.settings.action == "drop":
                reasons[row] = reason
                continue
            spans = [(m.start, m.end) for ms in by_bench.values() for m in ms]
            rest = cut_spans(texts[d], spans, self.settings.margin_chars)
            if len(rest) < self.settings.min_keep_chars:
                reasons[row] = reason  # too little left to be worth keeping
            else:
                new_texts[row] = rest
        table = set_column(table, "contamination", pa.array(contamination, CONTAMINATION_TYPE))
        if self.settings.action == "cut":
            table = set_column(table, "text", new_texts)
        return merge_drop_reasons(table, reasons)


def decontam_totals(table: pa.Table) -> dict[str, dict[str, int]]:
    """Documents and matched characters per benchmark, for report.json."""
    totals: dict[str, dict[str, int]] = {}
    if "contamination" not in table.column_names:
        return totals
    for record in table.column("contamination").to_pylist():
        for r in record or ():
            t = totals.setdefault(r["benchmark"], {"docs": 0, "chars": 0})
            t["docs"] += 1
            t["chars"] += int(r["matched_chars"])
    return totals
