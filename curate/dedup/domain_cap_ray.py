"""The domain cap's decision over the staged files, on Ray (the rule: curate/dedup/domain_cap_plan.py).

1. each staged file's task reads its rows' url and drop_reason and its part of the
   duplicate decision: the (domain, row) of every document still kept, and the
   duplicate cluster members with their id and domain;
2. (domain, row) pairs meet by domain: beyond the first ``cap`` rows of a domain (input
   order) a row is capped; each domain's count of kept documents comes with them;
3. the capped rows meet the members by row (a capped keeper names its cluster), its
   cluster's members meet it by cluster, the domains of those members meet their
   counts: one task then promotes, in capped-row order, exactly as ``promote`` does
   in one process, over the clusters whose keeper was capped and nothing else;
4. the capped rows and the changed duplicate decisions go back to their staged files.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup.corpus_ray import write_by_file
from curate.dedup.decision_parts import DecisionParts
from curate.dedup.domain_cap_plan import promote
from curate.dedup.duplicates import Duplicates
from curate.dedup.exact import key_hash
from curate.dedup.keeper import OUTPUT_SCHEMA
from curate.dedup.shuffle_ray import concat_pieces, shuffle
from curate.dedup.spill_ray import disk_task, scratch
from curate.dedup.step import StagedFile
from curate.io import fs
from curate.stages.urlfilter import domain_of

ROWS_PER_PARTITION = 500_000  # a (domain, row) pair is a few dozen bytes


def _hashes(values: list) -> pa.Array:
    return pa.array([key_hash(v) if v is not None else 0 for v in values], pa.uint64())


@disk_task(num_returns=2)
def _file_rows(f: StagedFile, duplicates: Duplicates | None) -> tuple[pa.Table, pa.Table]:
    """(kept: domain_key, domain, row) and the duplicate cluster members (_member_schema)."""
    t = fs.parquet_file(f.staged).read(columns=["id", "url", "drop_reason"])
    domains = [domain_of(u) if u else None for u in t.column("url").to_pylist()]
    staged = t.column("drop_reason").to_pylist()
    reason = list(staged)
    found = duplicates.members(f.index) if duplicates is not None else None
    m_at = np.empty(0, np.int64)
    if found is not None:
        rows, table = found
        live = np.array([staged[r] is None for r in rows], dtype=bool)  # as the keys: live rows only
        m_at, table = rows[live], table.filter(pa.array(live))
        for r, d in zip(m_at, table.column("drop_reason").to_pylist()):
            reason[r] = d
        ids = t.column("id").take(pa.array(m_at, pa.int64())).cast(pa.string())
        m_domains = [domains[r] for r in m_at]
        members = pa.table(
            {
                "row": pa.array(m_at + f.first_row, pa.int64()),
                "cluster_key": _hashes(table.column("dup_cluster").to_pylist()),
                "dup_cluster": table.column("dup_cluster"),
                "dup_of": table.column("dup_of"),
                "id": ids,
                "domain": pa.array(m_domains, pa.string()),
                "domain_key": _hashes(m_domains),
                "reason": table.column("drop_reason"),
            }
        )
    else:
        members = _member_schema().empty_table()
    kept = np.array([r is None and d is not None for r, d in zip(reason, domains)], dtype=bool)
    at = np.flatnonzero(kept)
    kept_domains = [domains[i] for i in at]
    return pa.table(
        {
            "domain_key": _hashes(kept_domains),
            "domain": pa.array(kept_domains, pa.string()),
            "row": pa.array(at + f.first_row, pa.int64()),
        }
    ), members


def _member_schema() -> pa.Schema:
    return pa.schema(
        [
            ("row", pa.int64()),
            ("cluster_key", pa.uint64()),
            ("dup_cluster", pa.string()),
            ("dup_of", pa.string()),
            ("id", pa.string()),
            ("domain", pa.string()),
            ("domain_key", pa.uint64()),
            ("reason", pa.string()),
        ]
    )


@disk_task(num_returns=2)
def _rank(cap: int, *pieces: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(capped: row) beyond each domain's first ``cap`` rows, and (domain_key, domain, count)."""
    t = concat_pieces(pieces).sort_by([("domain", "ascending"), ("row", "ascending")])
    domains = np.asarray(t.column("domain").to_pylist(), dtype=object)
    n = len(domains)
    starts = np.flatnonzero(np.r_[True, domains[1:] != domains[:-1]]) if n else np.empty(0, np.int64)
    sizes = np.diff(np.r_[starts, n])
    rank = np.arange(n) - np.repeat(starts, sizes)
    capped = pa.table({"row": t.column("row").filter(pa.array(rank >= cap))})
    counts = pa.table(
        {
            "domain_key": t.column("domain_key").take(pa.array(starts, pa.int64())),
            "domain": pa.array(domains[starts].tolist(), pa.string()),
            "count": pa.array(sizes, pa.int64()),
        }
    )
    return capped, counts


@disk_task
def _capped_keepers(n_capped: int, *pieces: pa.Table) -> pa.Table:
    """The members that keep their cluster and are capped, with ``capped_row``."""
    capped, members = concat_pieces(pieces[:n_capped]), concat_pieces(pieces[n_capped:], _member_schema())
    hit = np.isin(members.column("row").to_numpy(), capped.column("row").to_numpy())
    keeps = pc.is_null(members.column("reason")).to_numpy(zero_copy_only=False).astype(bool)
    keepers = members.filter(pa.array(hit & keeps))
    return keepers.append_column("capped_row", keepers.column("row"))


@disk_task
def _affected(n_keepers: int, *pieces: pa.Table) -> pa.Table:
    """Every member of a cluster (by name) whose keeper was capped."""
    keepers, members = concat_pieces(pieces[:n_keepers]), concat_pieces(pieces[n_keepers:], _member_schema())
    return members.filter(pc.is_in(members.column("dup_cluster"), value_set=keepers.column("dup_cluster")))


@disk_task
def _needed_counts(n_members: int, *pieces: pa.Table) -> pa.Table:
    members, counts = concat_pieces(pieces[:n_members], _member_schema()), concat_pieces(pieces[n_members:])
    wanted = set(members.column("domain").to_pylist())
    return counts.filter(pa.array([d in wanted for d in counts.column("domain").to_pylist()], pa.bool_()))


@disk_task
def _promote(cap: int, n_keepers: int, n_affected: int, *pieces: pa.Table) -> pa.Table:
    """The changed duplicate decisions (global rows, OUTPUT_SCHEMA) of the promotions;
    pieces: the capped keepers, the affected members, their domains' counts."""
    keepers, affected, counts = (
        pieces[:n_keepers],
        pieces[n_keepers : n_keepers + n_affected],
        pieces[n_keepers + n_affected :],
    )
    capped = sorted({r for t in keepers for r in t.column("capped_row").to_pylist()})
    decisions, members, member_info = {}, {}, {}
    for t in affected:
        columns = (t.column(n).to_pylist() for n in ("row", "dup_cluster", "dup_of", "reason", "id", "domain"))
        for r, c, of, reason, i, d in zip(*columns):
            decisions[r] = (c, of, reason)
            member_info[r] = (i, d)
    for r, (c, _, _) in sorted(decisions.items()):
        members.setdefault(c, []).append(r)
    per_domain: Counter = Counter()
    for t in counts:
        per_domain.update(dict(zip(t.column("domain").to_pylist(), t.column("count").to_pylist())))
    before = dict(decisions)
    promote(capped, decisions, members, member_info, per_domain, cap)
    changed = sorted(r for r in decisions if decisions[r] != before[r])
    values = list(zip(*(decisions[r] for r in changed))) or [(), (), ()]
    columns = {name: pa.array(v, pa.string()) for name, v in zip(OUTPUT_SCHEMA.names[1:], values)}
    return pa.table({"row": pa.array(changed, pa.int64()), **columns}, schema=OUTPUT_SCHEMA)


def _joined(task, left: list[list], right: list[list]) -> list:
    """One task per partition, handed how many pieces of ``left`` it gets, then its pieces of both shuffles."""
    return [task.at(p).remote(len(lp), *lp, *rp) for p, (lp, rp) in enumerate(zip(left, right))]


def decide_domain_cap(
    files: list[StagedFile], cap: int, duplicates: Duplicates | None, out: DecisionParts, promoted: DecisionParts | None
) -> None:
    """Write the capped rows as ``out``'s parts and, with a duplicate decision, the
    decisions its promotions change as ``promoted``'s (finished first)."""
    out.start()
    starts = [f.first_row for f in files]
    with scratch(fs.suffixed(out.folder, ".scratch")):
        parts = max(1, -(-sum(f.rows for f in files) // ROWS_PER_PARTITION))
        read = [_file_rows.remote(f, duplicates) for f in files]
        kept, members = [r[0] for r in read], [r[1] for r in read]
        ranked = [_rank.at(i).remote(cap, *p) for i, p in enumerate(shuffle(kept, "domain_key", parts))]
        capped, counts = [r[0] for r in ranked], [r[1] for r in ranked]
        if duplicates is not None:
            promoted.start()
            keepers = _joined(_capped_keepers, shuffle(capped, "row", parts), shuffle(members, "row", parts))
            by_cluster = shuffle(members, "cluster_key", parts)
            affected = _joined(_affected, shuffle(keepers, "cluster_key", parts), by_cluster)
            counts_by_domain = shuffle(counts, "domain_key", parts)
            needed = _joined(_needed_counts, shuffle(affected, "domain_key", parts), counts_by_domain)
            changes = _promote.remote(cap, len(keepers), len(affected), *keepers, *affected, *needed)
            write_by_file([changes], files, OUTPUT_SCHEMA.names, promoted, parts)
            promoted.finish(starts, {})
        write_by_file(capped, files, ["row"], out, parts)
    out.finish(starts, {})
