"""Which shingles make edited copies near-duplicates and unrelated text not?

For each shingle choice, on the Korean and Japanese evaluation sets
(tests/data/dedup, real paragraphs with known edits), prints the median exact
Jaccard of each edit kind with its original, the recall of the full dedup
(LSH + verification at the threshold), and the unrelated documents removed plus
the highest exact Jaccard between any two unrelated documents.

    PYTHONPATH=. .venv/bin/python bench/dedup_shingles.py [--threshold 0.6 --lsh-threshold 0.5]
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from curate.dedup.near import cluster
from curate.dedup.settings import DEFAULTS, settings
from curate.dedup.shingles import shingle_strings
from curate.dedup.signatures import keys_for_texts, text_signatures

EVAL = Path(__file__).parents[1] / "tests" / "data" / "dedup"
CHOICES = [("char", 3), ("char", 4), ("char", 5), ("char", 6), ("char", 7), ("word", 1), ("word", 2), ("word", 3)]
KINDS = ["spacing", "boilerplate", "words2", "trunc10", "words5", "north"]


def load(lang: str) -> list[dict]:
    with gzip.open(EVAL / f"eval-{lang}.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def keys_table(docs: list[dict], cfg: dict, lang: str) -> pa.Table:
    return keys_for_texts([d["text"] for d in docs], [d["id"] for d in docs], cfg, lang)


def score(docs: list[dict], out: pa.Table) -> dict:
    """Recall per edit kind, unrelated documents removed, families merged or lost."""
    cluster_of = dict(zip(out.column("row").to_pylist(), out.column("dup_cluster").to_pylist()))
    family_cluster = {d["family"]: cluster_of.get(i) for i, d in enumerate(docs) if d["kind"] == "original"}
    res: dict = {}
    for kind in KINDS:
        hits = [
            cluster_of.get(i) is not None and cluster_of.get(i) == family_cluster[d["family"]]
            for i, d in enumerate(docs)
            if d["kind"] == kind
        ]
        if hits:
            res[kind] = float(np.mean(hits))
    removed = {r for r, reason in zip(out.column("row").to_pylist(), out.column("drop_reason").to_pylist()) if reason}
    unrelated = [i for i, d in enumerate(docs) if d["kind"] == "unrelated"]
    res["unrelated_removed"] = sum(i in removed for i in unrelated) / max(1, len(unrelated))
    # a family is lost if none of its members is kept
    kept_family = {docs[i]["family"] for i in range(len(docs)) if docs[i]["family"] and i not in removed}
    res["families_lost"] = len({d["family"] for d in docs if d["family"]} - kept_family)
    # families merged with another family or with an unrelated doc
    members_by_cluster: dict = {}
    for i, d in enumerate(docs):
        c = cluster_of.get(i)
        if c is not None:
            members_by_cluster.setdefault(c, set()).add(d["family"] or d["id"])
    res["merged_clusters"] = sum(len(v) > 1 for v in members_by_cluster.values())
    return res


def exact_jaccard(a: set, b: set) -> float:
    return len(a & b) / max(1, len(a | b))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threshold", type=float, default=DEFAULTS["threshold"])
    ap.add_argument("--lsh-threshold", type=float, default=DEFAULTS["lsh_threshold"])
    args = ap.parse_args()
    for lang in ("ko", "ja"):
        docs = load(lang)
        originals = {d["family"]: d for d in docs if d["kind"] == "original"}
        unrelated = [d for d in docs if d["kind"] in ("unrelated", "original")]
        print(f"\n== {lang}: {len(docs)} docs, {len(unrelated)} mutually unrelated; threshold {args.threshold}")
        print(f"{'shingles':9s} " + " ".join(f"{k:>17s}" for k in KINDS) + "  unrel.removed  max J unrelated  merged")
        for kind, n in CHOICES:
            cfg = settings(
                {
                    "threshold": args.threshold,
                    "lsh_threshold": args.lsh_threshold,
                    "shingles": {lang: {"kind": kind, "n": n}},
                }
            )
            sets = {d["id"]: set(shingle_strings(d["text"], kind, n)) for d in docs}
            med = {}
            for k in KINDS:
                js = [exact_jaccard(sets[d["id"]], sets[originals[d["family"]]["id"]]) for d in docs if d["kind"] == k]
                med[k] = float(np.median(js)) if js else float("nan")
            # highest exact Jaccard among unrelated pairs, on the pairs minhash ranks top
            texts = [d["text"] for d in unrelated]
            sig = text_signatures(texts, cfg, lang)
            est = (sig[:, None, :] == sig[None, :, :]).mean(-1)
            np.fill_diagonal(est, 0)
            top = np.dstack(np.unravel_index(np.argsort(est, axis=None)[-20:], est.shape))[0]
            max_j = max(exact_jaccard(sets[unrelated[i]["id"]], sets[unrelated[j]["id"]]) for i, j in top)
            res = score(docs, cluster(keys_table(docs, cfg, lang), cfg))
            cells = " ".join(f"J{med[k]:.2f} rec{res.get(k, float('nan')):.3f}".rjust(17) for k in KINDS)
            print(
                f"{kind}{n:<5d} {cells}  {res['unrelated_removed']:13.4f}  {max_j:15.3f}  {res['merged_clusters']:6d}"
            )


if __name__ == "__main__":
    main()
