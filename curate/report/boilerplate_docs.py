"""The documents behind the boilerplate lines the dedup pass listed (manifest's
dedup.top_boilerplate: each line and the number of first-pass clusters it was in).

For each listed line: how many documents carry it, how many of those were kept, and one
example document id (the smallest sampling key, so the same whichever way the shards were
cut), so a reader can tell site chrome ("무단전재 및 재배포 금지") from a title that many
pages share. A document carries a line as the boilerplate pass saw it: one of its edge
lines has the same key (curate.dedup.boilerplate.line_hashes: NFKC, case-folded,
punctuation and spacing removed, digits masked).

Unlike the rest of the report this reads the text of the shards (id and text columns,
multi-line documents only, one shard at a time), and only when the run listed lines.
"""

from __future__ import annotations

import pyarrow.compute as pc

from curate.dedup.boilerplate import line_hash, line_hash_lists
from curate.io import fs
from curate.stages.summaries import sample_key


def boilerplate_docs(out: str, manifest: dict) -> list[dict]:
    """The manifest's top_boilerplate lines, each with docs, kept_docs and example_id."""
    listed = (manifest.get("dedup") or {}).get("top_boilerplate") or []
    rows = [dict(x, docs=0, kept_docs=0, example_id=None) for x in listed]
    wanted: dict[int, list[dict]] = {}
    for row in rows:
        if (h := line_hash(row["line"])) is not None:
            wanted.setdefault(h, []).append(row)
    if not wanted:
        return rows
    best: dict[int, tuple] = {}  # id(row) -> smallest (key, doc id)
    for kind in ("shards", "rejected"):
        for entry in manifest.get(kind) or []:
            t = fs.read_table(fs.join(out, entry["path"]), columns=["id", "text"])
            t = t.filter(pc.fill_null(pc.match_substring(t.column("text"), "\n"), False))
            for doc_id, hashes in zip(t.column("id").to_pylist(), line_hash_lists(t.column("text").to_pylist())):
                for h in hashes:
                    for row in wanted.get(h, ()):
                        row["docs"] += 1
                        row["kept_docs"] += kind == "shards"
                        cand = (sample_key(doc_id), doc_id)
                        if id(row) not in best or cand < best[id(row)]:
                            best[id(row)] = cand
    for row in rows:
        row["example_id"] = best[id(row)][1] if id(row) in best else None
    return rows
