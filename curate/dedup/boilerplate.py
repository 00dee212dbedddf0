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

import numpy as np
import pyarrow as pa

from curate.dedup.arrays import distinct, thread_map
from curate.dedup.exact import fold, key_hash
from curate.dedup.line_keys import (
    LineHashes,
    hashed_lines,
    key_hashes,
    line_key,
    line_keys,
    line_keys_of,
    line_weights,
)

EDGE_LINES = 32
SAMPLE_TEXTS = 5000  # texts of re-signed documents searched for the report's boilerplate examples
LINE_HASHES_TYPE = pa.list_(pa.uint64())


def line_hash(line: str) -> int | None:
    """The hash a line is counted under; None for a line with no letter or digit."""
    key = line_key(line)
    return int(key_hashes([key])[0]) if key else None


def line_hashes(text: str) -> list[int]:
    """Distinct hashes of the document's non-empty edge lines; none for a one-line text
    (stripping could only leave nothing)."""
    return line_hash_lists([text])[0]


def _at_edges(items: list) -> list:
    """Of a text's lines (or what is known of each), the first and last EDGE_LINES; all
    of them when it has no more (``edge_hash_array`` applies the same rule to arrays)."""
    if len(items) <= 2 * EDGE_LINES:
        return items
    return items[:EDGE_LINES] + items[-EDGE_LINES:]


def _edge_keys(keys: list[str]) -> set[str]:
    """The distinct non-empty keys of a text's edge lines; none for fewer than two."""
    found = {k for k in _at_edges(keys) if k}
    return found if len(found) >= 2 else set()


def exact_and_line_hashes(texts: list[str], folded: list[str]) -> tuple[np.ndarray, pa.ListArray, LineHashes]:
    """``text_hashes`` and ``line_hash_array`` of the texts, from their folds
    (curate.dedup.exact.fold), and every line's hash (``hashed_lines``): one pass over
    the folds' code points gives the exact keys (a text's letters and digits) and the
    lines' key hashes."""
    lines, exact_keys = hashed_lines(folded, exact=True)
    exact = np.fromiter((key_hash(k) for k in exact_keys), dtype=np.uint64, count=len(texts))
    return exact, edge_hash_array(lines, np.fromiter(("\n" in t for t in texts), bool, count=len(texts))), lines


def edge_hash_array(lines: LineHashes, multi: np.ndarray) -> pa.ListArray:
    """``_edge_hashes`` of every text at once, as one list<uint64> array: one sort of
    the (text, hash) pairs of all keyed edge lines (an empty list where ``multi`` is
    False: a one-line text has no lines to share)."""
    counts = np.diff(lines.offsets)
    text = np.repeat(np.arange(len(counts)), counts)
    pos = np.arange(len(text)) - lines.offsets[:-1][text]
    size = counts[text]
    edge = (size <= 2 * EDGE_LINES) | (pos < EDGE_LINES) | (pos >= size - EDGE_LINES)  # _at_edges
    pick = edge & lines.keyed & multi[text]
    text, hashes = text[pick], lines.hashes[pick]
    order = np.lexsort((hashes, text))
    text, hashes = text[order], hashes[order]
    first = np.ones(len(text), bool)
    first[1:] = (text[1:] != text[:-1]) | (hashes[1:] != hashes[:-1])
    text, hashes = text[first], hashes[first]
    shared = np.bincount(text, minlength=len(counts))[text] >= 2  # none for fewer than two
    offsets = np.r_[0, np.cumsum(np.bincount(text[shared], minlength=len(counts)))].astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(hashes[shared], pa.uint64()))


def line_hash_array(texts: list[str]) -> pa.ListArray:
    """line_hashes of every text, as one list<uint64> array (most texts are one line)."""
    return _hash_lists(line_hash_lists(texts))


def line_hash_lists(texts: list[str]) -> list[list[int]]:
    """line_hashes of every text, the texts' edge lines keyed in one pass."""
    sets = [sorted(keys) for keys in edge_key_sets(texts)]
    flat = key_hashes([k for keys in sets for k in keys]).tolist()
    out, at = [], 0
    for keys in sets:
        out.append(sorted(flat[at : at + len(keys)]))
        at += len(keys)
    return out


def edge_key_sets(texts: list[str]) -> list[set[str]]:
    """The distinct keys behind each text's line_hashes (none where it has none): only
    the edge lines of a longer text are keyed (its fold's lines are its lines' folds)."""
    multi = [i for i, t in enumerate(texts) if t and "\n" in t]
    out: list[set[str]] = [set() for _ in texts]
    for i, keys in zip(multi, line_keys_of([_edges(texts[i]) for i in multi])):
        out[i] = _edge_keys(keys)
    return out


def _edges(text: str) -> str:
    """The text's first and last EDGE_LINES lines (all of a text with no more)."""
    if text.count("\n") < 2 * EDGE_LINES:
        return text
    return "\n".join(_at_edges(text.split("\n")))


def _hash_lists(lists: list) -> pa.ListArray:
    offsets = np.r_[0, np.cumsum([len(x) for x in lists])].astype(np.int32)
    values = np.concatenate([np.asarray(x, np.uint64) for x in lists]) if lists else np.empty(0, np.uint64)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, pa.uint64()))


def strip_lines(text: str, boilerplate: dict[int, int], keys: list[str] | None = None) -> str | None:
    """The text without its boilerplate lines (hash -> number of clusters it was found
    in); None when it has none. When every line with a letter or digit is boilerplate,
    the rarest of them stay: a short page copied to many sites (so its own line is in
    many first-pass clusters) keeps its text, not the site chrome around it. ``keys``:
    its line keys, when the caller has them (``line_keys_of``)."""
    lines = text.split("\n")
    kept = kept_lines(line_counts(line_keys(text) if keys is None else keys, boilerplate))
    return None if kept is None else "\n".join(lines[i] for i in kept)


def line_counts(keys: list[str], boilerplate: dict[int, int]) -> list[int | None]:
    """Per line, the clusters its key was found in (0: not boilerplate; None: no key)."""
    hashes = key_hashes([k for k in keys if k]).tolist()[::-1]
    return [boilerplate.get(hashes.pop(), 0) if key else None for key in keys]


def kept_lines(counts: list[int | None]) -> list[int] | None:
    """The lines strip_lines keeps, by their ``line_counts``; None when it strips none."""
    found = [c for c in counts if c]
    if not found:
        return None
    if not any(c == 0 for c in counts):  # nothing but boilerplate
        rarest = min(found)
        if rarest == max(found):
            return None
        return [i for i, c in enumerate(counts) if c is None or c == rarest]
    return [i for i, c in enumerate(counts) if not c]


def kept_line_masks(lines: LineHashes, boilerplate: tuple[np.ndarray, np.ndarray]) -> list[np.ndarray | None]:
    """``kept_lines`` of every text at once, as a mask over its lines (None: it strips
    none), from the lines' hashes and the boilerplate (sorted hashes, cluster counts)."""
    counts = _cluster_counts(lines, boilerplate)  # -1: no key, 0: not boilerplate
    starts = lines.offsets[:-1]
    if not len(starts):
        return []
    found = np.add.reduceat(counts > 0, starts) > 0
    plain = np.add.reduceat(counts == 0, starts) > 0
    rarest = np.minimum.reduceat(np.where(counts > 0, counts, np.iinfo(np.int64).max), starts)
    top = np.maximum.reduceat(counts, starts)
    strips = found & (plain | (rarest != top))
    text_of = np.repeat(np.arange(len(starts)), np.diff(lines.offsets))
    keep = np.where(plain[text_of], counts <= 0, (counts == -1) | (counts == rarest[text_of]))
    return [keep[lo:hi] if s else None for s, lo, hi in zip(strips.tolist(), starts, lines.offsets[1:])]


def _cluster_counts(lines: LineHashes, boilerplate: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Per line, the clusters its hash was found in (0: not boilerplate; -1: no key)."""
    hashes, clusters = np.asarray(boilerplate[0], np.uint64), np.asarray(boilerplate[1], np.int64)
    if len(hashes) > 1 and not (hashes[1:] >= hashes[:-1]).all():
        order = np.argsort(hashes)
        hashes, clusters = hashes[order], clusters[order]
    counts = np.zeros(len(lines.hashes), dtype=np.int64)
    if len(hashes):
        at, hit = _positions(hashes, lines.hashes)
        counts[hit] = clusters[at[hit]]
    counts[~lines.keyed] = -1
    return counts


def core_text(text: str, ratio: float = 0.7, max_edge: int = 80) -> str | None:
    """The text without its short edge lines, or None when none would go.

    A page framed by chrome seen on too few pages to count as boilerplate (a byline,
    a tag list, the site's name) still differs from a bare copy of it by those lines;
    on a 100-character page that alone sinks the Jaccard under the threshold. Leading
    and trailing lines with fewer than ``ratio`` x the letters of the longest line (and
    at most ``max_edge``; links and addresses not counted) are trimmed; the body is
    what is left.
    """
    span = core_lines(text, ratio, max_edge)
    return None if span is None else "\n".join(span[0][span[1] : span[2]]).strip() or None


def core_lines(
    text: str, ratio: float = 0.7, max_edge: int = 80, sizes: list[int] | None = None
) -> tuple[list[str], int, int] | None:
    """The text's lines and the body's first and end line (core_text: the body is those
    lines joined and stripped), or None when no edge line would go. ``sizes``: the
    lines' weights (curate.dedup.line_keys.weights_of), when the caller has them."""
    if "\n" not in text:
        return None
    lines = text.split("\n")
    if sizes is None:
        sizes = line_weights(text)
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
    return lines, i, j


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


def line_label_pairs(
    line_lists: pa.ListArray | pa.ChunkedArray, labels: np.ndarray, threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (line hash, cluster label) pairs, sorted; threads > 1: the hashes below
    2**63 and those above on a thread each (their pairs are apart, and in order)."""
    hashes, counts = _flat(line_lists)
    labels = np.repeat(labels, counts)
    if threads <= 1:
        return unique_pairs(hashes, labels)
    high = hashes >= np.uint64(1 << 63)
    halves = thread_map(lambda half: unique_pairs(hashes[half], labels[half]), [~high, high], threads)
    return np.concatenate([h for h, _ in halves]), np.concatenate([lab for _, lab in halves])


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


def boilerplate_lines(
    line_lists, labels: np.ndarray, min_clusters: int, threads: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted hashes of the lines found in at least ``min_clusters`` distinct clusters,
    and their cluster counts."""
    hashes, _ = line_label_pairs(line_lists, labels, threads)
    return frequent(hashes, min_clusters)


def rows_with(line_lists, boilerplate: np.ndarray, threads: int = 1) -> np.ndarray:
    """Positions of the documents that carry at least one boilerplate line (threads: the
    line hashes looked up in slices on that many threads)."""
    if len(boilerplate) == 0:
        return np.empty(0, np.int64)
    hashes, counts = _flat(line_lists)
    owner = np.repeat(np.arange(len(counts)), counts)
    boilerplate = np.sort(np.asarray(boilerplate, np.uint64))
    slices = np.array_split(hashes, max(1, threads))
    found = np.concatenate(thread_map(lambda part: _positions(boilerplate, part)[1], slices, threads))
    return distinct(owner[found], presorted=True)


def _positions(sorted_hashes: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each hash is in ``sorted_hashes`` (non-empty), and whether it is there: a
    binary search per hash, 2-3x faster than np.isin's sort of both at these sizes. The
    hashes are searched in ascending order: each search then starts where the last one
    ended, and they share their path through the cache (4-5x faster on a million
    hashes among 700,000, the sort included)."""
    order = np.argsort(hashes)
    at = np.empty(len(hashes), np.int64)
    at[order] = np.minimum(np.searchsorted(sorted_hashes, hashes[order]), len(sorted_hashes) - 1)
    return at, sorted_hashes[at] == hashes


def top_lines(texts, boilerplate: tuple[np.ndarray, np.ndarray], limit: int = 20) -> list[dict]:
    """The ``limit`` boilerplate lines found in the most clusters, each with one of its
    texts (the first met in ``texts``), for the report."""
    wanted = top_hashes(boilerplate, limit)
    return named_lines(wanted, [first_lines(texts, wanted)])


def top_hashes(boilerplate: tuple[np.ndarray, np.ndarray], limit: int = 20) -> dict[int, int]:
    """The ``limit`` boilerplate hashes found in the most clusters, with their counts."""
    order = np.lexsort((boilerplate[0], -boilerplate[1]))[:limit]
    return {int(boilerplate[0][i]): int(boilerplate[1][i]) for i in order}


def first_lines(texts, wanted: dict[int, int], lines: LineHashes | None = None) -> dict[int, str]:
    """For each wanted hash, the first line of ``texts`` that carries it (stripped);
    ``lines``: the texts' LineHashes (or of more texts, these first), when the caller has them."""
    seen: dict[int, str] = {}
    texts = [text or "" for text in texts]
    if lines is None:
        lines = hashed_lines([fold(t) for t in texts])[0]
    for i, text in enumerate(texts):
        hashes, keyed = lines.of(i)
        for line, h, has_key in zip(text.split("\n"), hashes.tolist(), keyed.tolist()):
            if has_key and h in wanted and h not in seen:
                seen[h] = line.strip()
        if len(seen) == len(wanted):
            break
    return seen


def named_lines(wanted: dict[int, int], found: list[dict[int, str]]) -> list[dict]:
    """top_lines from ``first_lines`` of consecutive slices of the texts, in order: most
    clusters first, then by the line (not by its hash, which says nothing to a reader)."""
    seen: dict[int, str] = {}
    for part in found:
        for h, line in part.items():
            seen.setdefault(h, line)
    rows = [{"line": seen[h], "clusters": c} for h, c in wanted.items() if h in seen]
    return sorted(rows, key=lambda row: (-row["clusters"], row["line"]))
