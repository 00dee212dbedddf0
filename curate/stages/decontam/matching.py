"""Finding benchmark text in documents: runs of matching n-grams, and cutting them out."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from curate.stages.decontam.index import Index
from curate.stages.decontam.units import _clean_text, _normalize_char, normalize_units, unit_ngrams

# ---------------------------------------------------------------- matching


@dataclass
class Match:
    doc: int
    benchmark: str
    start: int  # original-text span of a run of matched units
    end: int
    ngrams: int


def find_matches(texts: list[str], index: Index) -> list[Match]:
    """Runs of >= index.min_match units covered by a benchmark's n-grams.

    Covered stretches of one text separated by at most index.max_gap uncovered
    units (a typo, a changed particle) count as one run.
    """
    if not texts:
        return []
    units = normalize_units(texts, index.unit)
    hashes, first = unit_ngrams(units, index.n)
    matches = []
    nu = len(units.values)
    doc = units.doc
    for name, pos in index.lookup(hashes).items():
        if not len(pos):
            continue
        starts = first[pos]
        cover = np.zeros(nu + 1, np.int64)
        cover[starts] += 1
        cover[starts + index.n] -= 1  # starts are unique, so plain fancy assignment is exact
        covered = np.cumsum(cover[:-1]) > 0
        new_doc = np.ones(nu + 1, bool)
        new_doc[1:-1] = doc[1:] != doc[:-1]
        cov = np.concatenate([[False], covered, [False]])
        run_start = np.flatnonzero(cov[1:-1] & (~cov[:-2] | new_doc[:-1]))
        run_end = np.flatnonzero(cov[1:-1] & (~cov[2:] | new_doc[1:]))
        join = (run_start[1:] - run_end[:-1] - 1 <= index.max_gap) & (doc[run_start[1:]] == doc[run_end[:-1]])
        group = np.concatenate([[0], np.cumsum(~join)])
        last_of_group = np.append(np.flatnonzero(~join), len(run_start) - 1)
        m_start = run_start[np.concatenate([[0], np.flatnonzero(~join) + 1])]
        m_end = run_end[last_of_group]
        ngrams = np.bincount(group[np.searchsorted(run_start, starts, "right") - 1], minlength=len(m_start))
        for r in np.flatnonzero(m_end - m_start + 1 >= index.min_match):
            s_, e_ = m_start[r], m_end[r]
            matches.append(Match(int(doc[s_]), name, int(units.start[s_]), int(units.end[e_]), int(ngrams[r])))
    return matches


def reference_matches(
    texts: list[str], benchmarks: dict[str, list[str]], n: int, min_match: int, max_gap: int = 0
) -> dict:
    """Plain-Python reference for char units: {(doc, benchmark): matched units}.

    A set of n-gram strings per benchmark and per-char loops; the vectorized path
    (normalize_units + window_hashes + Index) must find the same runs.
    """

    def norm(t: str) -> str:
        return unicodedata.normalize("NFC", "".join(_normalize_char(c) for c in _clean_text(t)))

    sets = {}
    for name, items in benchmarks.items():
        stream = norm("\n".join(items))
        sets[name] = {stream[i : i + n] for i in range(len(stream) - n + 1)}
    found = {}
    for d, t in enumerate(texts):
        u = norm(t)
        for name, grams in sets.items():
            covered = [False] * len(u)
            for i in range(len(u) - n + 1):
                if u[i : i + n] in grams:
                    covered[i : i + n] = [True] * n
            for i in range(len(u)):  # fill gaps of <= max_gap units between covered stretches
                if not covered[i] and i > 0 and covered[i - 1]:
                    j = i
                    while j < len(u) and not covered[j]:
                        j += 1
                    if j < len(u) and j - i <= max_gap:
                        covered[i:j] = [True] * (j - i)
            run = total = 0
            for c in covered + [False]:
                if c:
                    run += 1
                else:
                    total += run if run >= min_match else 0
                    run = 0
            if total:
                found[(d, name)] = total
    return found


def cut_spans(text: str, spans: list[tuple[int, int]], margin: int) -> str:
    """Remove each span widened by ``margin`` chars; the pieces left are joined by newlines."""
    widened = sorted((max(0, s - margin), min(len(text), e + margin)) for s, e in spans)
    pieces, pos = [], 0
    for s, e in widened:
        if s > pos:
            pieces.append(text[pos:s].strip())
        pos = max(pos, e)
    pieces.append(text[pos:].strip())
    return "\n".join(p for p in pieces if p)
