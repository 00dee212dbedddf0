"""The documents behind the boilerplate lines the dedup pass listed (manifest's
dedup.top_boilerplate: each line and the number of first-pass clusters it was in).

For each listed line: how many documents carry it, how many of those were kept, and one
example document id (the smallest sampling key, so the same whichever way the shards were
cut), so a reader can tell site chrome ("무단전재 및 재배포 금지") from a title that many
pages share. A document carries a line as the boilerplate pass saw it: one of its edge
lines has the same key (curate.dedup.boilerplate.line_hashes: NFKC, case-folded,
punctuation and spacing removed, digits masked).

Pass 2 counts them from the rows it writes (LineDocs, one per task, merged) and the
manifest lists them with the lines; for a folder written before it did, the report
reads the text of the shards (id and text columns, multi-line documents only, one
shard at a time).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup.boilerplate import line_hash, line_hash_lists
from curate.io import fs
from curate.stages.summaries import sample_key

COUNTED = ("docs", "kept_docs", "example_id")


class LineDocs:
    """docs, kept_docs and the example (smallest sampling key) of each listed line,
    counted batch by batch; tallies of disjoint rows merge in any order."""

    def __init__(self, listed: list[dict]):
        self.listed = [{"line": x["line"], "clusters": x["clusters"]} for x in listed]
        self.wanted: dict[int, list[int]] = {}
        for k, row in enumerate(self.listed):
            if (h := line_hash(row["line"])) is not None:
                self.wanted.setdefault(h, []).append(k)
        self.docs = [0] * len(self.listed)
        self.kept = [0] * len(self.listed)
        self.best: list[tuple | None] = [None] * len(self.listed)

    def add(self, table: pa.Table, kept: np.ndarray) -> None:
        """Count the rows of ``table`` (id and text), ``kept``: which are in the shards."""
        if not self.wanted or not table.num_rows:
            return
        multi = np.flatnonzero(pc.fill_null(pc.match_substring(table.column("text"), "\n"), False).to_numpy(False))
        if not len(multi):
            return
        ids = table.column("id").take(multi).to_pylist()
        texts = table.column("text").take(multi).to_pylist()
        for doc_id, hashes, is_kept in zip(ids, line_hash_lists(texts), kept[multi].tolist()):
            for h in hashes:
                for k in self.wanted.get(h, ()):
                    self.docs[k] += 1
                    self.kept[k] += is_kept
                    cand = (sample_key(doc_id), doc_id)
                    if self.best[k] is None or cand < self.best[k]:
                        self.best[k] = cand

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
