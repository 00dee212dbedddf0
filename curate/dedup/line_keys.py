"""Every line's key, and every line's letters, for many texts in one pass over their code points.

A line's key (``line_key``) is its exact-dedup key (curate/dedup/exact.py: NFKC,
case-folded, every character that is not a letter or digit removed) with each run of
digits masked as "0", so a date or a counter does not make a line new. Pass 1 keys
the edge lines of every document, the boilerplate pass the lines of every document it
re-signs, the report the lines of every shard: the same work over most of a corpus's
text, so it is done on numpy arrays of code points, with tables of ``str.isalnum``,
``str.isdecimal`` and ``str.isalpha`` over all of Unicode (what ``re``'s ``\\w`` and
``\\d`` and the scalar functions test), built once per process. NFKC and case folding
never make or join a line break, so a text's fold split on its line breaks gives the
folds of its lines.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from curate.dedup.exact import dedup_key, fold

_DIGIT = re.compile(r"\d+")
_BREAK = 10  # "\n"
_ZERO = 48  # "0"

# A link or an address is never a page's text, however long: a word (run of non-space)
# holding one of these is left out of a line's letters.
LINK_MARKS = ("://", "www.", "@")


def line_key(line: str) -> str:
    """The key one line is counted under (the scalar form of ``line_keys``)."""
    return _DIGIT.sub("0", dedup_key(line))


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Over every code point: kept in a key (a letter or digit, or a line break), a
    decimal digit, a letter. ``re``'s ``[^\\W_]`` is ``str.isalnum`` and ``\\d`` is
    ``str.isdecimal`` (both test CPython's own predicates), found in one scan of all of
    Unicode; ``str.isalpha`` is asked only of the alphanumerics, its superset (~0.05 s
    once per process, a sixth of asking every code point)."""
    everything = _text(np.arange(0x110000, dtype=np.uint32))
    kept = _matched(_ALNUM, everything)
    decimal = _matched(_DECIMAL, everything)
    letter = np.zeros_like(kept)
    alnum = np.flatnonzero(kept)
    letter[alnum] = np.fromiter((chr(i).isalpha() for i in alnum.tolist()), dtype=bool, count=len(alnum))
    kept[_BREAK] = True
    return kept, decimal, letter


_ALNUM = re.compile(r"[^\W_]+")
_DECIMAL = re.compile(r"\d+")


def _matched(pattern: re.Pattern, everything: str) -> np.ndarray:
    out = np.zeros(len(everything), dtype=bool)
    for m in pattern.finditer(everything):
        out[m.start() : m.end()] = True
    return out


def _points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _text(points: np.ndarray) -> str:
    return points.tobytes().decode("utf-32-le", "surrogatepass")


def folded_lines(folded: list[str]) -> tuple[list[list[str]], list[list[str]]]:
    """For each fold (curate.dedup.exact.fold) its lines' letters and digits, and its
    lines' keys (the same with each run of digits as "0"): a text's exact-dedup key is
    the join of the first, its line keys are the second."""
    if not folded:
        return [], []
    kept, decimal, _ = _tables()
    points = _points("\n".join(folded))
    words = points[kept[points]]
    digit = decimal[words]
    masked = words[~(digit & np.r_[False, digit[:-1]])].copy()  # a run of digits leaves its first
    masked[decimal[masked]] = _ZERO
    return _per_text(folded, _text(words).split("\n")), _per_text(folded, _text(masked).split("\n"))


def _per_text(folded: list[str], lines: list[str]) -> list[list[str]]:
    out, at = [], 0
    for f in folded:
        n = f.count("\n") + 1
        out.append(lines[at : at + n])
        at += n
    return out


def line_keys_of(texts: list[str]) -> list[list[str]]:
    """``line_key`` of every line of every text (``text.split("\\n")``), in one pass."""
    return folded_lines([fold(t) for t in texts])[1] if texts else []


def line_keys(text: str) -> list[str]:
    """``line_key`` of every line of one text."""
    return line_keys_of([text])[0]


def _weight(line: str) -> int:
    """Letters outside links and addresses: dates and counters weigh nothing either.
    (Word by word, not by a regex: a pattern around these marks backtracks quadratically
    in an unspaced Japanese line.)"""
    if not any(mark in line for mark in LINK_MARKS):
        return sum(map(str.isalpha, line))
    return sum(sum(map(str.isalpha, w)) for w in line.split() if not any(mark in w for mark in LINK_MARKS))


def line_weights(text: str, lines: list[str]) -> list[int]:
    """``_weight`` of every line of ``text`` (``lines``: its split on line breaks): the
    letters of all lines counted in one pass over the code points, then the few lines
    with a link or an address counted again word by word."""
    points = _points(text)
    line_of = np.cumsum(points == _BREAK)
    sizes = np.bincount(line_of[_tables()[2][points]], minlength=len(lines)).tolist()
    if any(mark in text for mark in LINK_MARKS):
        for i, line in enumerate(lines):
            if any(mark in line for mark in LINK_MARKS):
                sizes[i] = _weight(line)
    return sizes
