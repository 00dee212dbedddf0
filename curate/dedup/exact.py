"""Exact-duplicate keys: a 64-bit hash of the text with case, width, spacing and
punctuation folded away, so "좋아요!!" and "좋아요 !" are the same document."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np

_NON_WORD = re.compile(r"[\W_]+")


def dedup_key(text: str) -> str:
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def key_hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def text_hash(text: str) -> int:
    return key_hash(dedup_key(text))


def text_hashes(texts: list[str]) -> np.ndarray:
    return np.fromiter((text_hash(t) for t in texts), dtype=np.uint64, count=len(texts))
