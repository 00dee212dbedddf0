"""The domain cap's rule in one process: which rows it drops and which duplicates it promotes.

The cap counts the documents that survive every other stage and dedup, first ones
in input order, so a site's duplicate pages do not use up its quota. When the cap
drops the kept member of a duplicate cluster, the cluster's other members were
dropped only because of that member: the first of them whose domain still has
room is promoted to kept instead, so the content survives while no domain goes
over its cap. ``plan_domain_cap`` is the reference a test holds the Ray decision
(curate/dedup/domain_cap_ray.py) to; ``promote`` is the promotion rule both use.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import pyarrow as pa

from curate.stages.urlfilter import domain_of

DUP_REASONS = ("near_dup", "exact_dup")


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

    promote(sorted(capped), decisions, members, member_info, per_domain, cap)
    return capped


def promote(capped: list[int], decisions: dict, members: dict, member_info: dict, per_domain: Counter, cap: int):
    """For each capped row (ascending) that keeps a duplicate cluster, the first other
    member (input order) whose domain has room is kept instead: ``decisions`` and
    ``per_domain`` are updated in place. members: cluster -> member rows in input
    order; member_info: row -> (id, domain); per_domain: documents kept per domain."""
    for r in capped:
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
