"""The shard statistics' word counts (curate/report/words.py) equal ``len(text.split())``."""

import gzip
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from curate.report.words import word_counts

ROOT = Path(__file__).resolve().parents[1]


def _split_counts(texts: list[str | None]) -> list[int]:
    return [0 if t is None else len(t.split()) for t in texts]


def test_every_code_point_splits_as_str_split():
    """Each code point between, beside and around words, at either end of a text too:
    the separators are exactly those of str.split (multi-byte ones included)."""
    points = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    texts = [f" a{chr(c)}b {chr(c)}{chr(c)}x{chr(c)}" for c in points]
    assert word_counts(pa.array(texts)).tolist() == _split_counts(texts)


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_edges_nulls_slices_and_chunks(kind):
    texts = [None, "", "  ", "\n\na b\n", "한국어 문장\u3000입니다 ", "日本語の文。", "a\u2028b\u0085c", "  x  y  "]
    column = pa.array(texts, kind)
    assert word_counts(column).tolist() == _split_counts(texts)
    assert word_counts(column.slice(2, 4)).tolist() == _split_counts(texts[2:6])
    chunked = pa.chunked_array([column.slice(0, 3), column.slice(3)])
    assert word_counts(chunked).tolist() == _split_counts(texts)
    assert word_counts(pa.chunked_array([], kind)).tolist() == []


def test_a_null_counts_none_whatever_bytes_lie_behind_it():
    """Arrow lets a null slot span bytes (an array built from buffers): they are not a text."""
    offsets = pa.py_buffer(np.array([0, 7, 10], np.int32).tobytes())
    validity = pa.py_buffer(np.packbits([0, 1], bitorder="little").tobytes())
    column = pa.Array.from_buffers(pa.string(), 2, [validity, offsets, pa.py_buffer(b"one twoabc")])
    assert column.to_pylist() == [None, "abc"]
    assert word_counts(column).tolist() == [0, 1]


def test_real_text():
    with gzip.open(ROOT / "data" / "sample" / "ko.jsonl.gz", "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    counts = word_counts(pa.array(texts))
    assert counts.tolist() == _split_counts(texts)
    assert counts.dtype == np.int64 and counts.sum() > 10_000
