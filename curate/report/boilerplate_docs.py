"""The documents behind the boilerplate lines the dedup pass listed (manifest's
dedup.top_boilerplate: each line and the number of first-pass clusters it was in).

For each listed line: how many documents carry it, how many of those were kept, and one
example document id (the smallest sampling key, so the same whichever way the shards were
cut), so a reader can tell site chrome ("무단전재 및 재배포 금지") from a title that many
pages share. A document carries a line as the boilerplate pass saw it: one of its edge
lines has the same key (curate.dedup.boilerplate.line_hashes: NFKC, case-folded,
punctuation and spacing removed, digits masked), compared as keys, not hashed.

Pass 2 counts them from the rows it writes (LineDocs, one per task, merged) and the
manifest lists them with the lines; for a folder written before it did, the report
reads the text of the shards (id and text columns, multi-line documents only, one
shard at a time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup.boilerplate import edge_key_sets
from curate.dedup.line_keys import key_hashes, line_key
from curate.io import fs
from curate.stages.summaries import sample_key

COUNTED = ("docs", "kept_docs", "example_id")


@dataclass(frozen=True)
class Known:
    """Rows of a table whose edge lines pass 1 keyed (``rows``, positions), and of those
    the ones carrying listed lines (position -> their indices in the listed lines)."""

    rows: np.ndarray
    hits: dict[int, list[int]]


class LineDocs:
    """docs, kept_docs and the example (smallest sampling key) of each listed line,
    counted batch by batch; tallies of disjoint rows merge in any order."""

    def __init__(self, listed: list[dict]):
        self.listed = [{"line": x["line"], "clusters": x["clusters"]} for x in listed]
        # a line's key, not its hash: the same test but for a 64-bit collision, and no
        # hash of every edge line of every document
        self.wanted: dict[str, list[int]] = {}
        for k, row in enumerate(self.listed):
            if key := line_key(row["line"]):
                self.wanted.setdefault(key, []).append(k)
        # as pass 1 staged them
        self.by_hash = dict(zip(key_hashes(list(self.wanted)).tolist(), self.wanted.values()))
        self.docs = [0] * len(self.listed)
        self.kept = [0] * len(self.listed)
        self.best: list[tuple | None] = [None] * len(self.listed)

    def add(self, table: pa.Table, kept: np.ndarray, known: Known | None = None, written=None) -> None:
        """Count the rows of ``table`` (id and text), ``kept``: which are in the shards;
        ``written``: which are in the shards or rejected files (default: all).
        ``known``: the lines pass 1 found on some of these rows (Known, by position in
        the table); the other rows' lines are keyed from their text."""
        if not self.wanted or not table.num_rows:
            return
        ids = table.column("id")
        todo = np.ones(table.num_rows, dtype=bool) if written is None else np.array(written, dtype=bool)
        if known is not None:
            for at, ks in known.hits.items():
                if todo[at]:
                    self._count(ids[at].as_py(), ks, bool(kept[at]))
            todo[known.rows] = False
        multi = pc.fill_null(pc.match_substring(table.column("text"), "\n"), False).to_numpy(zero_copy_only=False)
        at = np.flatnonzero(multi & todo)
        if not len(at):
            return
        texts = table.column("text").take(at).to_pylist()
        wanted = self.wanted.keys()
        for doc_id, keys, is_kept in zip(ids.take(at).to_pylist(), edge_key_sets(texts), kept[at].tolist()):
            if keys:
                self._count(doc_id, [k for key in keys & wanted for k in self.wanted[key]], is_kept)

    def _count(self, doc_id: str, listed: list[int], is_kept: bool) -> None:
        for k in listed:
            self.docs[k] += 1
            self.kept[k] += is_kept
            cand = (sample_key(doc_id), doc_id)
            if self.best[k] is None or cand < self.best[k]:
                self.best[k] = cand

    def known(self, line_hashes: pa.Array, at: np.ndarray) -> Known:
        """Known from the line hashes pass 1 staged (``line_hashes``, list<uint64>) of
        the rows at positions ``at`` of a table: the boilerplate pass saw these."""
        flat = pc.list_flatten(line_hashes)
        hit = pc.is_in(flat, value_set=pa.array(list(self.by_hash), pa.uint64())).to_numpy(zero_copy_only=False)
        parents = pc.list_parent_indices(line_hashes).to_numpy(zero_copy_only=False)[hit]
        hits: dict[int, list[int]] = {}
        for parent, h in zip(parents.tolist(), flat.filter(pa.array(hit)).to_pylist()):
            hits.setdefault(int(at[parent]), []).extend(self.by_hash[h])
        return Known(at, hits)

    def merge(self, other: LineDocs) -> None:
        for k in range(len(self.listed)):
            self.docs[k] += other.docs[k]
            self.kept[k] += other.kept[k]
            if other.best[k] is not None and (self.best[k] is None or other.best[k] < self.best[k]):
                self.best[k] = other.best[k]

    def rows(self) -> list[dict]:
        return [
            dict(row, docs=self.docs[k], kept_docs=self.kept[k], example_id=self.best[k] and self.best[k][1])
            for k, row in enumerate(self.listed)
        ]


def boilerplate_docs(out: str, manifest: dict) -> list[dict]:
    """The manifest's top_boilerplate lines, each with docs, kept_docs and example_id:
    as pass 2 counted them, or read from the shards when it did not."""
    listed = (manifest.get("dedup") or {}).get("top_boilerplate") or []
    if all(set(COUNTED) <= set(x) for x in listed):
        return [dict(x) for x in listed]
    tally = LineDocs(listed)
    for kind in ("shards", "rejected") if tally.wanted else ():
        for entry in manifest.get(kind) or []:
            t = fs.read_table(fs.join(out, entry["path"]), columns=["id", "text"])
            tally.add(t, np.full(t.num_rows, kind == "shards"))
    return tally.rows()
