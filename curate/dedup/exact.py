"""Exact-duplicate keys: a 64-bit hash of the text with case, width, spacing and
punctuation folded away, so "좋아요!!" and "좋아요 !" are the same document."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np

_NON_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """NFKC, case-folded: the form every dedup key and shingle is taken from.

    A text that is not NFKC already (ㅋㅋ and ㅠㅠ are compatibility jamo) is normalized
    line by line, only the lines that need it: normalizing a whole text decomposes and
    recomposes every Hangul syllable in it. A line break is never part of a
    decomposition or a composition, so the lines' forms joined are the text's."""
    if text.isascii():
        return text.lower()  # NFKC leaves ASCII as it is; casefold is lower there
    if unicodedata.is_normalized("NFKC", text):
        return text.casefold()
    lines = [
        line if unicodedata.is_normalized("NFKC", line) else unicodedata.normalize("NFKC", line)
        for line in text.split("\n")
    ]
    return "\n".join(lines).casefold()


def folded_key(folded: str) -> str:
    """The dedup key of a text already folded: its letters and digits only."""
    return _NON_WORD.sub("", folded)


def dedup_key(text: str) -> str:
    return folded_key(fold(text))


def key_hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def text_hash(text: str) -> int:
    return key_hash(dedup_key(text))


def text_hashes(texts: list[str]) -> np.ndarray:
    return np.fromiter((text_hash(t) for t in texts), dtype=np.uint64, count=len(texts))
