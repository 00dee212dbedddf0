"""HTML pieces the report's page is built of: escaped text and tables."""

from __future__ import annotations

import html

from curate.report.fmt import fmt_number


def esc(x) -> str:
    """Text for HTML (None as empty)."""
    return html.escape("" if x is None else str(x))


def html_table(header: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{fmt_number(c)}</td>' if i in numeric else f"<td>{c if isinstance(c, Raw) else esc(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


class Raw(str):
    """Already-escaped HTML."""
