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


def exact_clusters(
    rows: np.ndarray, hashes: np.ndarray, ids: list[str]
) -> dict[int, tuple[str, str | None, str | None]]:
    """For every row whose hash repeats: row -> (dup_cluster, dup_of, drop_reason).

    The first row in input order is kept, so the result does not depend on how the
    work was split.
    """
    order = np.lexsort((rows, hashes))
    h_sorted = hashes[order]
    starts = np.flatnonzero(np.r_[True, h_sorted[1:] != h_sorted[:-1]])
    ends = np.r_[starts[1:], len(order)]
    out: dict[int, tuple[str, str | None, str | None]] = {}
    for s, e in zip(starts, ends):
        if e - s < 2:
            continue
        members = order[s:e]
        keeper = ids[members[0]]
        out[int(rows[members[0]])] = (keeper, None, None)
        for m in members[1:]:
            out[int(rows[m])] = (keeper, keeper, "exact_dup")
    return out
