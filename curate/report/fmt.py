"""How counts read in the report's text (the page and `curate compare`)."""

from __future__ import annotations


def fmt_number(x) -> str:
    """A count with thousands separators, a float to 3 places, None as a dash."""
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.3f}"
    return f"{x:,}"


def plural(n: int, word: str, words: str | None = None) -> str:
    """'1 time', '2 times', '1,000 documents'."""
    return f"{fmt_number(n)} {word if n == 1 else (words or word + 's')}"
