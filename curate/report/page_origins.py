"""The page's sections on where documents came from: per source and per web domain."""

from __future__ import annotations

from curate.report.fmt import fmt_number
from curate.report.html_table import esc, html_table


def sources_section(r: dict, plots: dict) -> list[str]:
    if not r.get("sources"):
        return []
    return [
        '<h2 id="sources">Sources</h2><p class="meta">Documents per value of the input\'s '
        "<code>source</code> field.</p>",
        html_table(
            ["source", "kept", "rejected", "kept share"],
            [[s, v["kept"], v["rejected"], f"{100 * v['kept_share']:.1f}%"] for s, v in r["sources"].items()],
            {1, 2},
        ),
    ]


def domains_section(r: dict, plots: dict) -> list[str]:
    """The largest domains by documents read: kept, dropped, kept share and the most
    frequent drop reason; the rest in one row."""
    d = r.get("domains")
    if not d or not d["rows"]:
        return []
    rows = [
        [
            x["domain"],
            x["docs"],
            x["kept"],
            x["dropped"],
            f"{100 * x['kept_share']:.1f}%",
            f"{x['top_reason']} ({fmt_number(x['top_reason_docs'])})" if x["top_reason"] else "",
        ]
        for x in d["rows"]
    ]
    other = d["other"]
    if other["docs"]:
        n = f"{fmt_number(other['domains'])} other domains" if other["domains"] is not None else "other domains"
        rows.append([n, other["docs"], other["kept"], other["docs"] - other["kept"], "", ""])
    note = (
        ""
        if d["exact"]
        else " Each shard kept only its largest domains: counts are lower bounds, the other row an upper bound."
    )
    return [
        '<h2 id="domains">Domains</h2><p class="meta">Documents per domain of their URL (the largest '
        f'{len(d["rows"])}; "no domain": documents without a URL).{esc(note)}</p>',
        html_table(["domain", "read", "kept", "dropped", "kept share", "top drop reason"], rows, {1, 2, 3}),
    ]
