"""Boilerplate lines for near-dedup: lines that recur across many unrelated pages.

Site chrome ("ⓒ 한국일보 무단 전재 및 재배포 금지", "この記事をシェアする", a
dated "最終更新 2021年8月12日") adds shingles that two copies of a short page need
not share, and it gives unrelated short pages on one site shingles in common. So
near-dedup runs twice: the first clustering says which documents are copies of each
other; a line is boilerplate when it occurs in at least ``min_clusters`` distinct
first-pass clusters (clusters, not documents: 50 copies of one article do not make
its lines boilerplate); documents carrying such lines get signatures of their text
without them, and the second clustering decides.

A line is keyed like the exact-dedup hash (NFKC, case-folded, punctuation and
spacing removed) with every run of digits masked, so a date or a counter does not make a
line new. Only the first and last ``EDGE_LINES`` lines of a document are recorded:
boilerplate sits at the edges, and the record stays small.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pyarrow as pa

from curate.dedup.exact import dedup_key, fold, folded_key, key_hash

_DIGIT = re.compile(r"\d+")
EDGE_LINES = 32
SAMPLE_TEXTS = 5000  # texts of re-signed documents searched for the report's boilerplate examples
LINE_HASHES_TYPE = pa.list_(pa.uint64())


def line_key(line: str) -> str:
    return _DIGIT.sub("0", dedup_key(line))


# dedup_key's pattern with the line breaks kept: NFKC and case folding never join or
# make a line break, so one pass over a whole text gives every line's key at once.
_NON_WORD_BUT_BREAKS = re.compile(r"(?:[^\w\n]|_)+")


def line_keys(text: str) -> list[str]:
    """``line_key`` of every line of ``text.split("\n")``, in one pass over the text."""
    return _DIGIT.sub("0", _NON_WORD_BUT_BREAKS.sub("", fold(text))).split("\n")


def line_hash(line: str) -> int | None:
    """The hash a line is counted under; None for a line with no letter or digit."""
    key = line_key(line)
    return key_hash(key) if key else None


def line_hashes(text: str) -> list[int]:
    """Distinct hashes of the document's non-empty edge lines; none for a one-line text
    (stripping could only leave nothing)."""
    return _edge_hashes(line_keys(text)) if "\n" in text else []


def _edge_hashes(keys: list[str]) -> list[int]:
    if len(keys) > 2 * EDGE_LINES:
        keys = keys[:EDGE_LINES] + keys[-EDGE_LINES:]
    distinct = {k for k in keys if k}
    return sorted(key_hash(k) for k in distinct) if len(distinct) >= 2 else []


def exact_and_line_hashes(texts: list[str], folded: list[str]) -> tuple[np.ndarray, pa.ListArray]:
    """``text_hashes`` and ``line_hash_array`` of the texts, from their folds
    (curate.dedup.exact.fold): a multi-line text's words by line give both its exact
    key (the lines' words joined) and its line keys, from one pass over its fold."""
    exact = np.zeros(len(texts), dtype=np.uint64)
    counts = np.zeros(len(texts) + 1, dtype=np.int32)
    values: list[int] = []
    for i, (text, f) in enumerate(zip(texts, folded)):
        if "\n" not in text:
            exact[i] = key_hash(folded_key(f))
            continue
        words = _NON_WORD_BUT_BREAKS.sub("", f)
        exact[i] = key_hash(words.replace("\n", ""))
        hashes = _edge_hashes(_DIGIT.sub("0", words).split("\n"))
        counts[i + 1] = len(hashes)
        values += hashes
    lines = pa.ListArray.from_arrays(pa.array(np.cumsum(counts, dtype=np.int32)), pa.array(values, pa.uint64()))
    return exact, lines


def line_hash_array(texts: list[str]) -> pa.ListArray:
    """line_hashes of every text, as one list<uint64> array (most texts are one line)."""
    counts = np.zeros(len(texts) + 1, dtype=np.int32)
    values: list[int] = []
    for i, text in enumerate(texts):
        if text and "\n" in text:
            hashes = line_hashes(text)
            counts[i + 1] = len(hashes)
            values += hashes
    return pa.ListArray.from_arrays(pa.array(np.cumsum(counts, dtype=np.int32)), pa.array(values, pa.uint64()))


def strip_lines(text: str, boilerplate: dict[int, int]) -> str | None:
    """The text without its boilerplate lines (hash -> number of clusters it was found
    in); None when it has none. When every line with a letter or digit is boilerplate,
    the rarest of them stay: a short page copied to many sites (so its own line is in
    many first-pass clusters) keeps its text, not the site chrome around it."""
    lines = text.split("\n")
    counts = [boilerplate.get(key_hash(key), 0) if key else None for key in line_keys(text)]
    found = [c for c in counts if c]
    if not found:
        return None
    if not any(c == 0 for c in counts):  # nothing but boilerplate
        rarest = min(found)
        if rarest == max(found):
            return None
        return "\n".join(line for line, c in zip(lines, counts) if c is None or c == rarest)
    return "\n".join(line for line, c in zip(lines, counts) if not c)


# A link or an address is never a page's text, however long: a word (run of non-space)
# holding one of these is left out.
_LINK_MARKS = ("://", "www.", "@")


def _weight(line: str) -> int:
    """Letters outside links and addresses: dates and counters weigh nothing either.
    (Word by word, not by a regex: a pattern around these marks backtracks quadratically
    in an unspaced Japanese line.)"""
    if not any(mark in line for mark in _LINK_MARKS):
        return sum(map(str.isalpha, line))
    return sum(sum(map(str.isalpha, w)) for w in line.split() if not any(mark in w for mark in _LINK_MARKS))


@lru_cache(maxsize=1)
def _is_letter() -> np.ndarray:
    """str.isalpha of every code point, as a table (built once per process, ~0.1 s)."""
    return np.fromiter((chr(i).isalpha() for i in range(0x110000)), dtype=bool, count=0x110000)


def line_weights(text: str, lines: list[str]) -> list[int]:
    """``_weight`` of every line of ``text`` (``lines``: its split on line breaks): the
    letters of all lines counted in one pass over the code points, then the few lines
    with a link or an address counted again word by word."""
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    line_of = np.cumsum(points == 10)
    sizes = np.bincount(line_of[_is_letter()[points]], minlength=len(lines)).tolist()
    if any(mark in text for mark in _LINK_MARKS):
        for i, line in enumerate(lines):
            if any(mark in line for mark in _LINK_MARKS):
                sizes[i] = _weight(line)
    return sizes


def core_text(text: str, ratio: float = 0.7, max_edge: int = 80) -> str | None:
    """The text without its short edge lines, or None when none would go.

    A page framed by chrome seen on too few pages to count as boilerplate (a byline,
    a tag list, the site's name) still differs from a bare copy of it by those lines;
    on a 100-character page that alone sinks the Jaccard under the threshold. Leading
    and trailing lines with fewer than ``ratio`` x the letters of the longest line (and
    at most ``max_edge``; links and addresses not counted) are trimmed; the body is
    what is left.
    """
    if "\n" not in text:
        return None
    lines = text.split("\n")
    sizes = line_weights(text, lines)
    longest = max(sizes)
    if longest == 0:
        return None
    short = [n < ratio * longest and n <= max_edge for n in sizes]
    i, j = 0, len(lines)
    while i < j and short[i]:
        i += 1
    while j > i and short[j - 1]:
        j -= 1
    if i == 0 and j == len(lines):
        return None
    return "\n".join(lines[i:j]).strip() or None


def cluster_labels(rows: np.ndarray, members: pa.Table) -> np.ndarray:
    """A first-pass cluster label per row: members of a cluster share one (negative)
    label, every other row is its own cluster (its row number)."""
    labels = rows.astype(np.int64).copy()
    if members.num_rows:
        m_rows = members.column("row").to_numpy()
        _, cluster_index = np.unique(
            np.asarray(members.column("dup_cluster").to_pylist(), dtype=object), return_inverse=True
        )
        order = np.argsort(rows)
        pos = order[np.searchsorted(rows[order], m_rows)]
        labels[pos] = -1 - cluster_index.astype(np.int64)
    return labels


def _flat(line_lists: pa.ListArray | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Every document's line hashes in one array, and how many each document has."""
    if isinstance(line_lists, pa.ChunkedArray):
        line_lists = line_lists.combine_chunks() if line_lists.num_chunks != 1 else line_lists.chunk(0)
    counts = line_lists.value_lengths().fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    return line_lists.flatten().to_numpy(zero_copy_only=False).astype(np.uint64), counts


def line_label_pairs(line_lists: pa.ListArray | pa.ChunkedArray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (line hash, cluster label) pairs."""
    hashes, counts = _flat(line_lists)
    return unique_pairs(hashes, np.repeat(labels, counts))


def unique_pairs(hashes: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(hashes) == 0:
        return hashes, labels
    order = np.lexsort((labels, hashes))
    h, lab = hashes[order], labels[order]
    first = np.r_[True, (h[1:] != h[:-1]) | (lab[1:] != lab[:-1])]
    return h[first], lab[first]


def frequent(hashes: np.ndarray, min_clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes found in at least ``min_clusters`` of the given distinct (hash, label)
    pairs, sorted, and how many each was found in."""
    values, counts = np.unique(hashes, return_counts=True)
    hit = counts >= min_clusters
    return values[hit], counts[hit]


def boilerplate_lines(line_lists, labels: np.ndarray, min_clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted hashes of the lines found in at least ``min_clusters`` distinct clusters,
    and their cluster counts."""
    hashes, _ = line_label_pairs(line_lists, labels)
    return frequent(hashes, min_clusters)


def rows_with(line_lists, boilerplate: np.ndarray) -> np.ndarray:
    """Positions of the documents that carry at least one boilerplate line."""
    if len(boilerplate) == 0:
        return np.empty(0, np.int64)
    hashes, counts = _flat(line_lists)
    owner = np.repeat(np.arange(len(counts)), counts)
    return np.unique(owner[np.isin(hashes, boilerplate)])


def top_lines(texts, boilerplate: tuple[np.ndarray, np.ndarray], limit: int = 20) -> list[dict]:
    """The ``limit`` boilerplate lines found in the most clusters, each with one of its
    texts (the first met in ``texts``), for the report."""
    order = np.lexsort((boilerplate[0], -boilerplate[1]))[:limit]
    wanted = {int(boilerplate[0][i]): int(boilerplate[1][i]) for i in order}
    seen: dict[int, str] = {}
    for text in texts:
        text = text or ""
        for line, key in zip(text.split("\n"), line_keys(text)):
            h = key_hash(key) if key else None
            if h in wanted and h not in seen:
                seen[h] = line.strip()
        if len(seen) == len(wanted):
            break
    return [{"line": seen[h], "clusters": c} for h, c in wanted.items() if h in seen]
