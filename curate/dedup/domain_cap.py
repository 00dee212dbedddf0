"""Per-domain caps applied after dedup, without losing a duplicate family: the corpus step.

The rule (which rows go, which duplicate is promoted when the cap drops its cluster's
keeper) is curate/dedup/domain_cap_plan.py's; the decision is made on Ray over the
staged files (curate/dedup/domain_cap_ray.py) and written per staged file: the
capped rows, and the duplicate decisions the promotions change, which the duplicate
decision handed to pass 2 then carries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup.decision_parts import DecisionParts
from curate.dedup.domain_cap_ray import decide_domain_cap
from curate.dedup.duplicates import DUPLICATES, Duplicates
from curate.dedup.step import StagedCorpus, batch_positions
from curate.io import fs

CAP_REASON = "urlfilter:domain_cap"


def apply_domain_cap(table: pa.Table, offset: int, capped: np.ndarray) -> pa.Table:
    """Set CAP_REASON on this batch's capped rows (``capped``: global rows, ascending)."""
    lo, hi = batch_positions(capped, offset, table.num_rows)
    if lo == hi:
        return table
    hit = np.zeros(table.num_rows, dtype=bool)
    hit[capped[lo:hi] - offset] = True
    idx = table.schema.get_field_index("drop_reason")
    reason = pc.if_else(pa.array(hit), pa.scalar(CAP_REASON, pa.string()), table.column(idx))
    return table.set_column(idx, table.schema.field(idx), reason)


@dataclass(frozen=True)
class DomainCap:
    """The corpus step (curate/dedup/step.py) of ``urlfilter.max_per_domain``."""

    cap: int
    name = "domain_cap"
    key_columns = ()

    @classmethod
    def build(cls, recipe: dict, stages: list[str], lang: str):
        cap = (recipe.get("urlfilter") or {}).get("max_per_domain") if "urlfilter" in stages else None
        return cls(int(cap)) if cap else None

    def keys(self, table: pa.Table) -> pa.Table:
        return table  # reads the staged id, url and drop_reason instead

    def decide(self, corpus: StagedCorpus, decided: dict) -> DecisionParts:
        """The capped rows; the duplicate decision in ``decided`` is replaced by one that
        carries the promotions."""
        out = DecisionParts(fs.join(corpus.work, self.name))
        duplicates = decided.get(DUPLICATES)
        promoted = DecisionParts(fs.join(corpus.work, f"{self.name}-promoted")) if duplicates is not None else None
        if not out.done():
            decide_domain_cap(corpus.files(), self.cap, duplicates, out, promoted)
        if duplicates is not None:
            decided[DUPLICATES] = Duplicates(duplicates.parts, promoted)
        return out

    def apply(self, table: pa.Table, offset: int, decision: DecisionParts) -> pa.Table:
        file_index, first_row = decision.locate(offset)
        capped = decision.part(file_index)
        if capped is None:
            return table
        return apply_domain_cap(table, offset - first_row, capped.column("row").to_numpy())

    def manifest(self, decision: DecisionParts) -> dict:
        return {}
