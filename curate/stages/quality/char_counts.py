"""Characters of each script class in each text of a batch, counted in one pass.

A table holds one bit per class for every code point, set from the classes' own
regular expressions; the batch's code points are looked up at once and summed per
text. The count is the number of characters the pattern matches, as
``sum(map(len, pattern.findall(text)))`` gives it, without a regex run per text and
class (four times the table's time on bench/quality.py's Japanese documents).
"""

from __future__ import annotations

import functools

import numpy as np

from curate.stages.quality.chars import (
    _DIGIT,
    _HANGUL,
    _HIRAGANA,
    _JAMO_RUN,
    _KANA,
    _KANJI,
    _LATIN,
    _WORDISH,
    _mojibake_pattern,
    _non_jis_kanji,
)

# Each pattern is a character class (or a run of one), so a character's membership
# does not depend on its neighbours.
CLASSES = {
    "wordish": lambda: _WORDISH,
    "digit": lambda: _DIGIT,
    "hangul": lambda: _HANGUL,
    "jamo": lambda: _JAMO_RUN,
    "kana": lambda: _KANA,
    "hiragana": lambda: _HIRAGANA,
    "kanji": lambda: _KANJI,
    "latin": lambda: _LATIN,
    "ja_mojibake": lambda: _mojibake_pattern("ja"),
    "non_jis_kanji": _non_jis_kanji,
}
_N_CODE_POINTS = 0x110000


@functools.cache
def _table() -> np.ndarray:
    """Bit k of entry c: code point c is in the k-th class of CLASSES."""
    # every code point as one string (decoding the numbers is ten times the join of chr's)
    everything = np.arange(_N_CODE_POINTS, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    table = np.zeros(_N_CODE_POINTS, dtype=np.uint16)
    for bit, pattern in enumerate(CLASSES.values()):
        for m in pattern().finditer(everything):
            table[m.start() : m.end()] |= 1 << bit
    return table


def class_counts(texts: list[str]) -> list[dict[str, int]]:
    """Per text, the characters of each class of CLASSES."""
    out: list[dict[str, int]] = []
    start = 0
    while start < len(texts):  # texts of up to CHUNK_CHARS together, a longer one alone
        end, size = start + 1, len(texts[start])
        while end < len(texts) and size + len(texts[end]) <= CHUNK_CHARS:
            size += len(texts[end])
            end += 1
        out.extend(_chunk_counts(texts[start:end]))
        start = end
    return out


# Characters looked up at once: the arrays stay a few bytes a character of this many,
# however long the batch's texts.
CHUNK_CHARS = 1 << 20


def _chunk_counts(texts: list[str]) -> list[dict[str, int]]:
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    # surrogatepass: a lone surrogate is one code point, as the regexes see it
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype="<u4")
    flags = _table()[codes]
    nonempty = np.flatnonzero(lengths)  # reduceat needs each text's first character
    starts = (np.cumsum(lengths) - lengths)[nonempty]
    counts = np.zeros((len(CLASSES), len(texts)), dtype=np.int64)
    for bit in range(len(CLASSES) if len(nonempty) else 0):
        counts[bit, nonempty] = np.add.reduceat((flags >> bit) & 1, starts, dtype=np.int64)
    return [dict(zip(CLASSES, row)) for row in counts.T.tolist()]
