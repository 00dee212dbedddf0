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
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from curate.dedup.exact import dedup_key, fold
from curate.dedup.shingles import segment_hashes

_DIGIT = re.compile(r"\d+")
_BREAK = 10  # "\n"
_ZERO = 48  # "0"
_PASS_CHARS = 4_000_000  # bounds the scratch arrays of one hashing pass

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


# Every line's key hash (0 without a key) and whether it has a key, per document: pass 1
# stages them for the documents the boilerplate pass re-signs, so it need not hash again.
ALL_LINE_COLUMNS = ("all_line_hashes", "keyed_lines")


class LineHashes(NamedTuple):
    """Every line of many texts, flat: text i's lines are ``offsets[i]:offsets[i + 1]``,
    each with the hash of its key (``key_hashes``) and whether it has one (a line with
    no letter or digit has none; its hash is 0)."""

    offsets: np.ndarray
    hashes: np.ndarray
    keyed: np.ndarray

    def of(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Text i's line hashes and which of its lines have a key."""
        lo, hi = self.offsets[i], self.offsets[i + 1]
        return self.hashes[lo:hi], self.keyed[lo:hi]

    def columns(self) -> dict[str, pa.ListArray]:
        """The lines as two list columns of one row per text (``ALL_LINE_COLUMNS``)."""
        offsets = pa.array(self.offsets.astype(np.int32))
        hashes, keyed = pa.array(self.hashes, pa.uint64()), pa.array(self.keyed, pa.bool_())
        return dict(zip(ALL_LINE_COLUMNS, (pa.ListArray.from_arrays(offsets, v) for v in (hashes, keyed))))

    @classmethod
    def from_columns(cls, hashes: pa.ListArray, keyed: pa.ListArray) -> LineHashes:
        """The lines that ``columns`` gave, back (lists of the same lengths)."""
        lengths = hashes.value_lengths().to_numpy(zero_copy_only=False).astype(np.int64)
        return cls(
            np.r_[0, np.cumsum(lengths)].astype(np.int64),
            hashes.flatten().to_numpy(zero_copy_only=False).astype(np.uint64),
            keyed.flatten().to_numpy(zero_copy_only=False).astype(bool),
        )


def _key_points(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The letters, digits and line breaks of ``points``, and the same with each run of
    digits as "0": the exact-dedup keys' and the line keys' code points, by line."""
    kept, decimal, _ = _tables()
    words = points[kept[points]]
    digit = decimal[words]
    masked = words[~(digit & np.r_[False, digit[:-1]])].copy()  # a run of digits leaves its first
    masked[decimal[masked]] = _ZERO
    return words, masked


def _line_hashes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hash of each line of keys' code points (lines split at breaks), and which are non-empty."""
    breaks = np.flatnonzero(points == _BREAK)
    starts, ends = np.r_[0, breaks + 1], np.r_[breaks, len(points)]
    keyed = ends > starts
    hashes = segment_hashes(points.astype(np.uint64), starts, ends)
    hashes[~keyed] = 0
    return hashes, keyed


def key_hashes(keys: list[str]) -> np.ndarray:
    """The uint64 hash of each line key: splitmix64 of its code points' polynomial hash
    (curate.dedup.shingles.segment_hashes), the hash pass 1 stages and the boilerplate
    pass looks up. Vectorized, unlike a cryptographic hash per line, which was most of
    the time of re-signing a corpus of review pages (a line is only ever compared with
    the lines of the same run)."""
    if not keys:
        return np.empty(0, dtype=np.uint64)
    return _line_hashes(_points("\n".join(keys)))[0]


def text_slices(texts: list[str], most_chars: int):
    """Consecutive slices of ``texts`` of at most ``most_chars`` characters (or one text):
    the passes of the batch functions that work on all their code points at once."""
    start = 0
    while start < len(texts):
        end, size = start + 1, len(texts[start])
        while end < len(texts) and size + len(texts[end]) <= most_chars:
            size += len(texts[end])
            end += 1
        yield texts[start:end]
        start = end


def hashed_lines(folded: list[str], exact: bool = False) -> tuple[LineHashes, list[str] | None]:
    """LineHashes of the folds (curate.dedup.exact.fold), and with ``exact`` each fold's
    exact-dedup key (its letters and digits), from one pass over their code points (in
    slices of a bounded size)."""
    hashes, keyed, exact_keys = [], [], [] if exact else None
    counts, at = [f.count("\n") + 1 for f in folded], 0
    for chunk in text_slices(folded, _PASS_CHARS):
        words, masked = _key_points(_points("\n".join(chunk)))
        h, k = _line_hashes(masked)
        hashes.append(h)
        keyed.append(k)
        if exact:
            exact_keys += _text_keys(words, counts[at : at + len(chunk)])
        at += len(chunk)
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
    if not folded:
        return LineHashes(offsets, np.empty(0, np.uint64), np.empty(0, bool)), exact_keys
    return LineHashes(offsets, np.concatenate(hashes), np.concatenate(keyed)), exact_keys


def _text_keys(words: np.ndarray, line_counts: list[int]) -> list[str]:
    """Each text's letters and digits, from ``words`` (those of texts joined by line breaks)."""
    joined = _text(words)
    breaks = np.flatnonzero(words == _BREAK)
    ends = np.cumsum(line_counts) - 1  # the break after each text's last line
    stops = np.r_[breaks[ends[:-1]], len(joined)].tolist()
    starts = [0] + [stop + 1 for stop in stops[:-1]]
    return [joined[a:b].replace("\n", "") for a, b in zip(starts, stops)]


def folded_keys(folded: list[str]) -> list[list[str]]:
    """For each fold (curate.dedup.exact.fold) its lines' keys (``line_key``)."""
    if not folded:
        return []
    _, masked = _key_points(_points("\n".join(folded)))
    return _per_text(folded, _text(masked).split("\n"))


def _per_text(folded: list[str], lines: list[str]) -> list[list[str]]:
    out, at = [], 0
    for f in folded:
        n = f.count("\n") + 1
        out.append(lines[at : at + n])
        at += n
    return out


def line_keys_of(texts: list[str]) -> list[list[str]]:
    """``line_key`` of every line of every text (``text.split("\\n")``), in one pass."""
    return folded_keys([fold(t) for t in texts])


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


def line_weights(text: str) -> list[int]:
    """``_weight`` of every line of ``text`` (its split on line breaks)."""
    return weights_of([text])[0]


def weights_of(texts: list[str]) -> list[list[int]]:
    """``line_weights`` of every text: the letters of all their lines counted in one pass
    over the code points (in slices of a bounded size), then the few lines with a link
    or an address counted again word by word."""
    out: list[list[int]] = []
    letter = _tables()[2]
    for chunk in text_slices(texts, _PASS_CHARS):
        points = _points("\n".join(chunk))
        counts = [t.count("\n") + 1 for t in chunk]
        line_of = np.cumsum(points == _BREAK)
        sizes = np.bincount(line_of[letter[points]], minlength=sum(counts)).tolist()
        at = 0
        for n in counts:
            out.append(sizes[at : at + n])
            at += n
    for text, sizes in zip(texts, out):
        if any(mark in text for mark in LINK_MARKS):
            for i, line in enumerate(text.split("\n")):
                if any(mark in line for mark in LINK_MARKS):
                    sizes[i] = _weight(line)
    return out
