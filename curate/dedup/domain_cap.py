"""Per-domain caps applied after dedup, without losing a duplicate family.

The cap counts the documents that survive every other stage and dedup, first ones
in input order, so a site's duplicate pages do not use up its quota. When the cap
drops the kept member of a duplicate cluster, the cluster's other members were
dropped only because of that member: the first of them whose domain still has
room is promoted to kept instead, so the content survives while no domain goes
over its cap. Memory: one counter per domain plus a few fields per cluster member.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup.duplicates import DUPLICATES
from curate.dedup.step import StagedCorpus, batch_positions
from curate.stages.urlfilter import domain_of

DUP_REASONS = ("near_dup", "exact_dup")
CAP_REASON = "urlfilter:domain_cap"


def plan_domain_cap(tables: Iterable[pa.Table], decisions: dict, cap: int) -> set[int]:
    """Rows (global input order) the cap drops. `tables` are the staged rows in order
    (columns id, url, drop_reason); `decisions` (row -> (dup_cluster, dup_of,
    drop_reason)) is updated in place when a member is promoted to kept."""
    per_domain: Counter = Counter()
    capped: set[int] = set()
    members: dict[str, list[int]] = {}  # cluster -> member rows, input order
    member_info: dict[int, tuple[str | None, str | None]] = {}  # row -> (id, domain)
    row = 0
    for table in tables:
        ids = table.column("id").to_pylist()
        urls = table.column("url").to_pylist()
        staged_reasons = table.column("drop_reason").to_pylist()
        for i, (doc_id, url, staged) in enumerate(zip(ids, urls, staged_reasons)):
            r = row + i
            decision = decisions.get(r)
            domain = domain_of(url) if url else None
            if decision is not None and staged is None:
                members.setdefault(decision[0], []).append(r)
                member_info[r] = (doc_id, domain)
            reason = staged if staged is not None else (decision[2] if decision else None)
            if reason is None and domain is not None:
                per_domain[domain] += 1
                if per_domain[domain] > cap:
                    capped.add(r)
        row += len(ids)

    for r in sorted(capped):
        cluster, _, _ = decisions.get(r, (None, None, None))
        if cluster is None:
            continue
        for m in members[cluster]:  # first member, in input order, whose domain has room
            if m == r or decisions[m][2] not in DUP_REASONS:
                continue
            domain = member_info[m][1]
            if domain is not None and per_domain[domain] >= cap:
                continue
            if domain is not None:
                per_domain[domain] += 1
            keeper_id = member_info[m][0]
            for other in members[cluster]:
                c, _, d = decisions[other]
                if other == m:
                    decisions[other] = (c, None, None)
                elif d in DUP_REASONS:
                    decisions[other] = (c, keeper_id, d)
            break
    return capped


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

    def decide(self, corpus: StagedCorpus, decided: dict) -> np.ndarray:
        """The capped rows, ascending; promotes duplicates in the duplicate decision (in place)."""
        duplicates = decided.get(DUPLICATES)
        by_row = duplicates.by_row if duplicates is not None else {}
        rows = corpus.iter_rows(65536, columns=["id", "url", "drop_reason"])
        return np.array(sorted(plan_domain_cap(rows, by_row, self.cap)), dtype=np.int64)

    def apply(self, table: pa.Table, offset: int, decision: np.ndarray) -> pa.Table:
        return apply_domain_cap(table, offset, decision)

    def manifest(self, decision: np.ndarray) -> dict:
        return {}
