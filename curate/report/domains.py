"""Documents per web domain: the domains' part of the per-shard statistics, and the
report's table of the largest domains.

A crawl has more domains than a summary should hold, so each shard keeps its TOP_DOMAINS
largest domains, each with its kept count and drop reasons, and a floor (the most
documents a domain it left out can have there); documents without a URL (or whose URL
names no host) are one row, "no domain", always kept. Merged counts of a domain are
lower bounds, `err` their slack (the floors of the shards that left it out), as in the
repeated-lines summary of curate.report.stats.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from curate.stages.urlfilter import domain_of

NO_DOMAIN = "no domain"
TOP_DOMAINS = 200  # domains a shard's summary keeps
EMPTY = {"items": {}, "floor": 0, "k": TOP_DOMAINS}


def _domains(table: pa.Table) -> pa.Array:
    """Each row's domain (urlfilter.domain_of, as the per-domain cap counts them); NO_DOMAIN
    without one. domain_of runs once per distinct URL."""
    if "url" not in table.column_names:
        return pa.array([NO_DOMAIN] * table.num_rows, pa.string())
    urls = table.column("url").combine_chunks()
    distinct = pc.unique(urls.drop_null())
    hosts = pa.array([domain_of(u) if u else None for u in distinct.to_pylist()], pa.string())
    return pc.fill_null(pc.take(hosts, pc.index_in(urls, value_set=distinct)), NO_DOMAIN)


def stats(table: pa.Table) -> dict:
    if table.num_rows == 0:
        return {"domains": EMPTY}
    reasons = pc.fill_null(table.column("drop_reason"), "").combine_chunks()
    grouped = pa.table({"d": _domains(table), "r": reasons}).group_by(["d", "r"]).aggregate([([], "count_all")])
    items: dict[str, dict] = {}
    for d, r, n in zip(*(grouped.column(c).to_pylist() for c in ("d", "r", "count_all"))):
        item = items.setdefault(d, {"docs": 0, "kept": 0, "reasons": {}})
        item["docs"] += n
        if r:
            item["reasons"][r] = n
        else:
            item["kept"] += n
    return {"domains": _top(items, floor=0)}


def _top(items: dict[str, dict], floor: int) -> dict:
    """The TOP_DOMAINS largest (and NO_DOMAIN) with the floor of those left out."""
    ranked = sorted(items, key=lambda d: (-items[d]["docs"], d))
    keep = set(ranked[:TOP_DOMAINS]) | ({NO_DOMAIN} & set(items))
    left = [items[d]["docs"] + items[d].get("err", 0) for d in ranked if d not in keep]
    return {"items": {d: items[d] for d in ranked if d in keep}, "floor": max([floor, *left]), "k": TOP_DOMAINS}


def merge_stats(parts: list[dict]) -> dict:
    summaries = [p.get("domains") or EMPTY for p in parts]
    total_floor = sum(s["floor"] for s in summaries)
    merged: dict[str, dict] = {}
    for s in summaries:
        for d, item in s["items"].items():
            m = merged.setdefault(d, {"docs": 0, "kept": 0, "reasons": {}, "err": total_floor})
            m["docs"] += item["docs"]
            m["kept"] += item["kept"]
            m["err"] += item.get("err", 0) - s["floor"]  # a summary that holds it adds no slack
            for r, n in item["reasons"].items():
                m["reasons"][r] = m["reasons"].get(r, 0) + n
    if NO_DOMAIN in merged:
        merged[NO_DOMAIN]["err"] = 0  # every summary keeps it: exact
    return {"domains": _top(merged, total_floor)}


def by_domain(summary: dict, total_docs: int, total_kept: int, shown: int) -> dict:
    """The report's rows: the `shown` largest domains (documents read, kept, dropped, the
    most frequent drop reason), the rest as one total, and whether the counts are exact."""
    items = summary.get("items") or {}
    ranked = sorted(items, key=lambda d: (-items[d]["docs"], d))[:shown]
    rows = []
    for d in ranked:
        it = items[d]
        top = min(it["reasons"].items(), key=lambda kv: (-kv[1], kv[0]), default=(None, 0))
        rows.append(
            {
                "domain": d,
                "docs": it["docs"],
                "kept": it["kept"],
                "dropped": it["docs"] - it["kept"],
                "kept_share": it["kept"] / it["docs"] if it["docs"] else None,
                "top_reason": top[0],
                "top_reason_docs": top[1],
                "err": it.get("err", 0),
            }
        )
    shown_docs = sum(r["docs"] for r in rows)
    shown_kept = sum(r["kept"] for r in rows)
    exact = summary.get("floor", 0) == 0
    return {
        "rows": rows,
        "other": {
            "domains": len(items) - len(rows) if exact else None,
            "docs": total_docs - shown_docs,
            "kept": total_kept - shown_kept,
        },
        "exact": exact,
    }
