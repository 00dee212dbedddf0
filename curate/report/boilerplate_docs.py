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

import os

import pyarrow.compute as pc

from curate.dedup.boilerplate import line_hash, line_hash_lists
from curate.io import fs
from curate.stages.summaries import sample_key


def listed_lines(manifest: dict) -> list[dict]:
    """The manifest's top_boilerplate lines, no document counted yet."""
    listed = (manifest.get("dedup") or {}).get("top_boilerplate") or []
    return [dict(x, docs=0, kept_docs=0, example_id=None) for x in listed]


def boilerplate_docs(out: str, manifest: dict, pool=None) -> list[dict]:
    """The manifest's top_boilerplate lines, each with docs, kept_docs and example_id.
    With ``pool`` (a concurrent.futures executor), the shards are read by its workers."""
    rows = listed_lines(manifest)
    hashes = {h for row in rows if (h := line_hash(row["line"])) is not None}
    shards = [(kind, e["path"]) for kind in ("shards", "rejected") for e in manifest.get(kind) or []]
    if not hashes or not shards:
        return rows
    if pool is None:
        found = [carriers(out, shards, hashes)]
    else:
        n = min(len(shards), 4 * (os.cpu_count() or 1))
        found = list(pool.map(carriers, [out] * n, [shards[i::n] for i in range(n)], [hashes] * n))
    for row in rows:
        h = line_hash(row["line"])
        parts = [f[h] for f in found if h in f]
        if parts:
            row["docs"] = sum(p[0] for p in parts)
            row["kept_docs"] = sum(p[1] for p in parts)
            row["example_id"] = min(p[2] for p in parts)[1]
    return rows


def carriers(out: str, shards: list[tuple[str, str]], hashes: set[int]) -> dict[int, list]:
    """For each wanted line hash carried by a document of ``shards`` ((kind, path)): how
    many documents, how many of them kept, and the smallest (sampling key, id)."""
    found: dict[int, list] = {}
    for kind, path in shards:
        t = fs.read_table(fs.join(out, path), columns=["id", "text"])
        t = t.filter(pc.fill_null(pc.match_substring(t.column("text"), "\n"), False))
        for doc_id, line_hashes in zip(t.column("id").to_pylist(), line_hash_lists(t.column("text").to_pylist())):
            for h in hashes.intersection(line_hashes):
                cand = (sample_key(doc_id), doc_id)
                f = found.setdefault(h, [0, 0, cand])
                f[0] += 1
                f[1] += kind == "shards"
                f[2] = min(f[2], cand)
    return found
