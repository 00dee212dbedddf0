"""Exact-duplicate keys: a 64-bit hash of the text with case, width, spacing and
punctuation folded away, so "좋아요!!" and "좋아요 !" are the same document."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np

_NON_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """NFKC, case-folded: the form every dedup key and shingle is taken from."""
    return unicodedata.normalize("NFKC", text).casefold()


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
