"""Language-aware shingles, hashed to 32 bits for a whole batch in numpy.

Text is NFKC-normalized and case-folded, then split into "kept" characters (letters
and digits) and separators (spaces, punctuation, symbols).

- ``char`` shingles: n-grams of kept characters with separators removed, so spacing
  and punctuation edits do not change them. Used for Korean (spacing is
  inconsistent and particles glue onto words) and Japanese (no spaces at all).
- ``word`` shingles: n-grams of words (runs of kept characters), for spaced
  languages.

A document shorter than n gives one shingle (all of it); an empty one gives none.

Hash of a sequence c_0..c_{k-1}: h = sum c_j * B^(k-1-j) mod 2^64, then the top 32
bits of splitmix64(h). The n-grams of a whole batch, and words and line keys
(``segment_hashes``), are hashed by compiled loops (curate/dedup/compiled.py).
``shingle_strings`` + ``hash32`` are the scalar reference the tests compare with.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from curate.dedup.exact import fold
from curate.dedup.minhash import SPLITMIX64_CONSTANTS, mix64, sha1_hashes32

_B = 0x100000001B3  # odd multiplier (FNV-64 prime)
_M64 = (1 << 64) - 1

# Shingle settings per language: measured in bench/dedup_shingles.py.
DEFAULT_SHINGLES = {
    "ko": {"kind": "char", "n": 4},
    "ja": {"kind": "char", "n": 4},
    "zh": {"kind": "char", "n": 4},
    "default": {"kind": "word", "n": 3},
}


def shingle_config(shingles: dict | None, lang: str) -> dict:
    """Shingle settings for ``lang``: the recipe's ``shingles: {lang: {...}}`` over the defaults."""
    override = shingles or {}
    if lang in DEFAULT_SHINGLES:
        base = dict(DEFAULT_SHINGLES[lang])
    else:
        base = {**DEFAULT_SHINGLES["default"], **(override.get("default") or {})}
    return {**base, **(override.get(lang) or {})}


@lru_cache(maxsize=1)
def _kept_table() -> np.ndarray:
    """Boolean table over the BMP: True for letters and digits."""
    return np.array([chr(c).isalnum() for c in range(0x10000)], dtype=bool)


def _kept(cps: np.ndarray) -> np.ndarray:
    table = _kept_table()
    bmp = cps < 0x10000
    kept = np.zeros(len(cps), dtype=bool)
    kept[bmp] = table[cps[bmp]]
    astral = ~bmp
    kept[astral] = (cps[astral] >= 0x20000) & (cps[astral] < 0x40000)  # CJK extension ideographs
    return kept


# ------------------------------------------------------------- scalar reference


def _is_kept(ch: str) -> bool:
    c = ord(ch)
    return chr(c).isalnum() if c < 0x10000 else 0x20000 <= c < 0x40000


def _words(text: str) -> list[str]:
    words, cur = [], []
    for ch in fold(text):
        if _is_kept(ch):
            cur.append(ch)
        elif cur:
            words.append("".join(cur))
            cur = []
    if cur:
        words.append("".join(cur))
    return words


def _poly(values) -> int:
    h = 0
    for v in values:
        h = (h * _B + v) & _M64
    return h


def _mix_int(h: int) -> int:
    return int(mix64(np.array([h], dtype=np.uint64))[0])


def shingle_strings(text: str, kind: str = "char", n: int = 5) -> list[str]:
    """The shingles of one text, as strings (word n-grams joined by a space)."""
    if kind == "char":
        s = "".join(_words(text))
        if not s:
            return []
        return [s] if len(s) < n else [s[i : i + n] for i in range(len(s) - n + 1)]
    words = _words(text)
    if not words:
        return []
    if len(words) < n:
        return [" ".join(words)]
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


def hash32(shingle: str, kind: str = "char") -> int:
    """Scalar 32-bit hash of one shingle string; equals what ``shingle_hashes`` computes."""
    if kind == "char":
        h = _poly(ord(c) for c in shingle)
    else:
        h = _poly(_mix_int(_poly(ord(c) for c in w)) for w in shingle.split(" "))
    return _mix_int(h) >> 32


# ------------------------------------------------------------- batch


def _ngram_hashes32(values: np.ndarray, seg_offsets: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes (the top bits of splitmix64 of the polynomial hash) of every n-gram
    inside each segment of ``values`` (uint64), by the compiled loop of
    curate/dedup/compiled.py. Segments shorter than n give one hash of the whole
    segment; empty ones none. Returns (hashes, per-segment offsets into hashes)."""
    from curate.dedup.compiled import ngram_hashes32

    lens = np.diff(seg_offsets)
    counts = np.where(lens >= n, lens - n + 1, (lens > 0).astype(np.int64))
    out_offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
    values = np.ascontiguousarray(values, dtype=np.uint64)
    seg_offsets = np.ascontiguousarray(seg_offsets, dtype=np.int64)
    return ngram_hashes32(values, seg_offsets, n, out_offsets, np.uint64(_B), SPLITMIX64_CONSTANTS), out_offsets


def _runs(kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end indices of runs of True."""
    edges = np.diff(np.r_[0, kept.astype(np.int8), 0])
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def shingle_hashes(
    texts: list[str], kind: str = "char", n: int = 5, hash: str = "poly", folded: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """uint32 shingle hashes of every text, concatenated, and offsets (len(texts) + 1).
    ``folded``: the texts' folds (curate.dedup.exact.fold), when the caller has them.

    ``hash="sha1"`` hashes the shingle strings with datasketch's sha1_hash32 instead
    (a Python loop: for compatibility checks, not for speed).
    """
    if hash == "sha1":
        per_doc = [shingle_strings(t, kind, n) for t in texts]
        offsets = np.r_[0, np.cumsum([len(s) for s in per_doc])].astype(np.int64)
        flat = [s.encode("utf-8") for doc in per_doc for s in doc]
        return sha1_hashes32(flat), offsets
    hashes, offsets, _ = span_shingles([fold(t) for t in texts] if folded is None else folded, kind, n)
    return hashes, offsets


def span_shingles(
    folded: list[str], kind: str, n: int, spans: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """``shingle_hashes`` of folds, and where the shingles of some spans of them lie.

    ``spans``: (fold index, first character, end character) of spans that start at a
    line's start and end at a line's end, ascending by fold. Such a span's shingles are
    a range of its fold's (a line break is a separator): returned as global indices
    [first, end), or -1 and -1 where the span has fewer than n units (its one shingle
    is all of it, which its fold does not have).
    """
    # a separator after each text so no word runs across two documents
    cps = np.frombuffer("\n".join(folded).encode("utf-32-le") + b"\n\0\0\0", dtype=np.uint32).astype(np.uint64)
    doc_char_offsets = np.r_[0, np.cumsum([len(t) + 1 for t in folded])].astype(np.int64)
    kept = _kept(cps)
    if kind == "char":
        # drop separators; segments are the documents
        kept_before = np.r_[0, np.cumsum(kept)].astype(np.int64)
        seg_offsets = kept_before[doc_char_offsets]
        out, offsets = _ngram_hashes32(cps[kept], seg_offsets, n)
        unit_at = kept_before.__getitem__
    elif kind == "word":
        starts, ends = _runs(kept)
        seg_offsets = np.searchsorted(starts, doc_char_offsets).astype(np.int64)
        out, offsets = _ngram_hashes32(segment_hashes(cps, starts, ends), seg_offsets, n)
        unit_at = starts.searchsorted
    else:
        raise ValueError(f"shingle kind must be 'char' or 'word', got {kind!r}")
    if spans is None:
        return out, offsets, None
    doc, first, end = (np.asarray(x, np.int64) for x in spans)
    u0, u1 = unit_at(doc_char_offsets[doc] + first), unit_at(doc_char_offsets[doc] + end)
    ok = u1 - u0 >= n
    lo = np.where(ok, offsets[doc] + u0 - seg_offsets[doc], -1)
    hi = np.where(ok, offsets[doc] + u1 - n + 1 - seg_offsets[doc], -1)
    return out, offsets, (lo, hi)


def segment_hashes(cps: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """splitmix64 of the polynomial hash of each segment cps[start:end] (uint64 code
    points): the hash of a word, and of a line's key (curate/dedup/line_keys.py), by the
    compiled loop of curate/dedup/compiled.py."""
    from curate.dedup.compiled import segment_hashes64

    values = np.ascontiguousarray(cps, dtype=np.uint64)
    starts, ends = (np.ascontiguousarray(x, dtype=np.int64) for x in (starts, ends))
    return segment_hashes64(values, starts, ends, np.uint64(_B), SPLITMIX64_CONSTANTS)
