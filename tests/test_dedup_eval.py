"""Near-duplicate evaluation on real Korean and Japanese paragraphs with known edits.

tests/data/dedup/eval-{ko,ja}.jsonl.gz (built by make_eval.py): families of an
original plus one variant per edit kind, and unrelated paragraphs. Recall of an edit
kind = variants clustered with their original; unrelated documents must survive.
"""
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from curate.dedup import cluster, keys_for_texts

DATA = Path(__file__).parent / "data" / "dedup"
TARGETS = {"spacing": 0.98, "boilerplate": 0.98, "words2": 0.98, "trunc10": 0.98, "words5": 0.90}


def evaluate(lang: str, cfg: dict) -> dict:
    with gzip.open(DATA / f"eval-{lang}.jsonl.gz", "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    keys = keys_for_texts([d["text"] for d in docs], [d["id"] for d in docs], cfg, lang)
    out = cluster(keys, cfg).to_pylist()
    cluster_of = {r["row"]: r["dup_cluster"] for r in out}
    removed = {r["row"] for r in out if r["drop_reason"]}
    origin = {d["family"]: cluster_of.get(i) for i, d in enumerate(docs) if d["kind"] == "original"}
    report = {}
    for kind in list(TARGETS) + ["north"]:
        hits = [cluster_of.get(i) is not None and cluster_of[i] == origin[d["family"]]
                for i, d in enumerate(docs) if d["kind"] == kind]
        if hits:
            report[kind] = float(np.mean(hits))
    unrelated = [i for i, d in enumerate(docs) if d["kind"] == "unrelated"]
    report["unrelated_removed"] = sum(i in removed for i in unrelated) / len(unrelated)
    families = {d["family"] for d in docs if d["family"]}
    kept = {docs[i]["family"] for i in range(len(docs)) if docs[i]["family"] and i not in removed}
    report["families_removed"] = len(families - kept)
    clusters: dict = {}
    for i, d in enumerate(docs):
        if i in cluster_of:
            clusters.setdefault(cluster_of[i], set()).add(d["family"] or d["id"])
    report["merged_clusters"] = sum(len(v) > 1 for v in clusters.values())
    return report


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_recall_per_edit_kind_and_false_removals(lang):
    report = evaluate(lang, {})
    print(lang, json.dumps(report))
    for kind, target in TARGETS.items():
        assert report[kind] >= target, (kind, report)
    assert report["unrelated_removed"] <= 0.001, report
    assert report["families_removed"] == 0
    assert report["merged_clusters"] == 0  # no family joined another family or an unrelated document
