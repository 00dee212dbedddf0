"""Whitespace words per document, counted in a string column's UTF-8 bytes (numba).

The shard statistics count every document's words, as ``len(text.split())`` does.
``pc.utf8_split_whitespace`` built a list of every word to take its length (most of the
statistics' time after the repeated lines), and counted an empty word for whitespace at
either end of a text ('a b ' gave 3). Here one compiled loop counts the starts of words
in the bytes. A separator is a character ``str.isspace`` takes, looked up in a table of
it (Arrow's split takes the same); tests/test_report_words.py compares the counts with
``str.split`` on every code point and on real text.
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@lru_cache(maxsize=1)
def _space_table() -> np.ndarray:
    """Over the BMP: True where ``str.isspace`` (no space character lies outside it)."""
    return np.array([chr(c).isspace() for c in range(0x10000)], dtype=bool)


@numba.njit(cache=True, nogil=True)
def _count_words(data, offsets, space, out):  # pragma: no cover (compiled)
    """out[i] = the words of string i (data[offsets[i]:offsets[i + 1]], valid UTF-8);
    ``space``: _space_table."""
    for i in range(offsets.shape[0] - 1):
        words = 0
        in_word = False
        j, end = offsets[i], offsets[i + 1]
        while j < end:
            b = data[j]
            if b < 0x80:
                cp, width = np.int64(b), 1
            elif b < 0xE0:
                cp, width = ((np.int64(b) & 0x1F) << 6) | (np.int64(data[j + 1]) & 0x3F), 2
            elif b < 0xF0:
                cp = ((np.int64(b) & 0x0F) << 12) | ((np.int64(data[j + 1]) & 0x3F) << 6)
                cp, width = cp | (np.int64(data[j + 2]) & 0x3F), 3
            else:
                cp, width = 0, 4  # outside the BMP, where no space lies: NUL stands for it
            if space[cp]:
                in_word = False
            elif not in_word:
                in_word = True
                words += 1
            j += width
        out[i] = words


def word_counts(text: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Whitespace words of every string of ``text`` (int64; 0 for a null): ``len(s.split())``."""
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    parts = [np.zeros(0, np.int64)]
    for chunk in chunks:
        _, offsets, data = chunk.buffers()
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(offsets, width)[chunk.offset : chunk.offset + len(chunk) + 1]
        data = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
        out = np.zeros(len(chunk), np.int64)
        _count_words(data, offsets, _space_table(), out)
        if chunk.null_count:
            out[pc.is_null(chunk).to_numpy(zero_copy_only=False)] = 0
        parts.append(out)
    return np.concatenate(parts)
