"""Dedup throughput and recall: this toolkit vs datatrove's 4-stage MinHash dedup.

One Korean corpus, both tools, one run:
- Naver movie reviews (real, with their own exact and near duplicates), and
- real paragraphs (news, KLUE, KorQuAD Wikipedia: bench only, never shipped) each
  with injected variants (spacing/punctuation, boilerplate, 2% and 5% words
  changed, 10% truncated; the edits of tests/data/dedup/make_eval.py).

Recall = injected variants removed / injected variants (each family of original +
5 variants should keep one document). Both tools read the same JSONL files and
write the kept documents. Each tool runs in its own child process; peak memory is
that process's max RSS plus its worker processes'. datatrove uses its Korean word
tokenizer (kiwipiepy; model "cong" since "sbg" is no longer shipped) and its sha1
hash (xxhash 4 rejects its str shingles), with tasks=workers=2 per stage. Ours makes
the keys on two worker processes, one per input file, and clusters in one.

    .venv/bin/python bench/dedup.py [--reviews 100000] [--skip-datatrove] [--ray] [--corpora DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing as mp
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
CORPORA = ROOT / ".." / "shared" / "corpora"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "data" / "dedup"))

KINDS = ["spacing", "boilerplate", "words2", "words5", "trunc10"]


def read(name: str) -> list[dict]:
    with gzip.open(CORPORA / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def build_corpus(n_reviews: int, seed: int = 0) -> tuple[list[dict], dict]:
    import make_eval

    make_eval.CORPORA = CORPORA  # its own default is ../shared/corpora too
    rng = random.Random(seed)
    paras, _ = make_eval.korean_paragraphs(rng)
    paras += [r["text"] for r in read("ko-wiki-korquad.jsonl.gz")]
    paras = [p for p in dict.fromkeys(paras) if len(p) >= 200]
    vocab = sorted(
        {t.strip() for p in paras for t in make_eval.tokenize(p, "ko") if make_eval.is_word(t) and len(t.strip()) >= 2}
    )
    docs, family = [], {}
    for i, p in enumerate(paras):
        docs.append({"id": f"p{i}", "text": p})
        for kind in KINDS:
            vid = f"p{i}-{kind}"
            docs.append({"id": vid, "text": make_eval.variant(p, kind, "ko", vocab, rng)})
            family[vid] = f"p{i}"
    reviews = read("ko-nsmc-reviews.jsonl.gz")[:n_reviews]
    docs += [{"id": r["id"], "text": r["text"]} for r in reviews if r["text"].strip()]
    rng.shuffle(docs)
    return docs, family


def write_jsonl(docs: list[dict], folder: Path, files: int = 2) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        with open(folder / f"part-{f}.jsonl", "w", encoding="utf-8") as out:
            for d in docs[f::files]:
                out.write(json.dumps(d, ensure_ascii=False) + "\n")


def peak_rss_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (self_kb + child_kb) / 1024


# ---------------------------------------------------------------- ours


def _file_keys(path: str) -> tuple:
    """One input file's rows and dedup keys, as a pipeline worker makes them."""
    import pyarrow.json as pj

    from curate.dedup.settings import settings
    from curate.dedup.signatures import keys_for_texts

    table = pj.read_json(path)
    return table, keys_for_texts(table.column("text").to_pylist(), table.column("id").to_pylist(), settings(), "ko")


def run_ours(in_dir: Path, out_dir: Path) -> set[str]:
    """Keys on two worker processes (one per input file, as datatrove's two tasks and the
    pipeline's Ray workers), then clustering in one (both passes: see
    curate.dedup.near.cluster_without_boilerplate)."""
    import multiprocessing as mp

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.dedup.near import cluster_without_boilerplate
    from curate.dedup.settings import settings
    from curate.dedup.signatures import stripped_keys

    with mp.get_context("spawn").Pool(2) as pool:
        parts = pool.map(_file_keys, [str(p) for p in sorted(in_dir.glob("*.jsonl"))])
    table = pa.concat_tables([t for t, _ in parts])
    keys = pa.concat_tables([k for _, k in parts])
    keys = keys.set_column(0, "row", pa.array(np.arange(keys.num_rows), pa.int64()))  # rows in input order
    texts = table.column("text")

    def resign(rows, boilerplate):  # as the pipeline does: the staged texts of those rows only
        return stripped_keys(texts.take(pa.array(rows)).to_pylist(), rows, boilerplate, settings(), "ko")

    result = cluster_without_boilerplate(keys, settings(), resign)  # with the boilerplate-line pass, as the pipeline
    pq.write_table(keys, in_dir.parent / "keys.parquet")  # for --ray, outside the timed run
    dropped = result.filter(pa.compute.is_valid(result.column("drop_reason"))).column("row").to_numpy()
    keep = np.ones(table.num_rows, dtype=bool)
    keep[dropped] = False
    out_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.filter(pa.array(keep)), out_dir / "kept.parquet")
    members = table.column("id").take(pa.array(result.column("row").to_numpy())).to_pylist()
    return set(table.column("id").take(pa.array(dropped)).to_pylist()), dict(
        zip(members, result.column("dup_cluster").to_pylist())
    )


# ---------------------------------------------------------------- datatrove


def run_datatrove(in_dir: Path, work: Path) -> set[str]:
    from _datatrove import minhash_dedup

    minhash_dedup(in_dir, work, tasks=2)
    removed, cluster_of = set(), {}
    for folder in ("removed", "kept"):
        for p in (work / folder).glob("*.jsonl"):
            with open(p, encoding="utf-8") as f:
                for line in f:
                    doc = json.loads(line)
                    if folder == "removed":
                        removed.add(doc["id"])
                    if doc["metadata"].get("minhash_cluster_id", -1) >= 0:
                        cluster_of[doc["id"]] = doc["metadata"]["minhash_cluster_id"]
    return removed, cluster_of


def _child(name: str, in_dir: str, work: str, queue) -> None:
    import logging

    logging.disable(logging.WARNING)
    try:
        from loguru import logger

        logger.remove()
    except ImportError:
        pass
    t0 = time.perf_counter()
    fn = run_ours if name == "ours" else run_datatrove
    removed, cluster_of = fn(Path(in_dir), Path(work))
    queue.put(
        {
            "seconds": time.perf_counter() - t0,
            "removed": sorted(removed),
            "cluster_of": cluster_of,
            "peak_mb": peak_rss_mb(),
        }
    )


def run_in_child(name: str, in_dir: Path, work: Path) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(name, str(in_dir), str(work), queue))
    proc.start()
    while True:  # a child that dies must not leave us waiting
        try:
            result = queue.get(timeout=5)
            break
        except Exception:
            if not proc.is_alive():
                raise RuntimeError(f"{name} failed (exit code {proc.exitcode}); see its traceback above") from None
    proc.join()
    return result


def recall(cluster_of: dict, family: dict) -> tuple[float, dict]:
    """A variant is found when it sits in the same cluster as its original."""
    by_kind = {k: [] for k in KINDS}
    for vid, orig in family.items():
        by_kind[vid.rsplit("-", 1)[1]].append(
            cluster_of.get(vid) is not None and cluster_of.get(vid) == cluster_of.get(orig)
        )
    overall = sum(map(sum, by_kind.values())) / len(family)
    return overall, {k: sum(v) / len(v) for k, v in by_kind.items()}


def merged_families(cluster_of: dict, family: dict) -> list[set]:
    """Clusters holding documents of two families, or a family and another document."""
    groups: dict = {}
    for doc, c in cluster_of.items():
        groups.setdefault(c, set()).add(family.get(doc, doc) if doc in family or doc.startswith("p") else doc)
    fams = set(family.values())
    return [g for g in groups.values() if len(g) > 1 and g & fams]


def check_ray(keys_path: Path) -> None:
    """The Ray version on the same keys: same output as the single-process one?"""
    import pyarrow.parquet as pq
    import ray

    from curate.dedup.near import cluster
    from curate.dedup.near_ray import global_dedup
    from curate.dedup.settings import settings

    keys = pq.read_table(keys_path)
    t0 = time.perf_counter()
    expected = cluster(keys, settings())
    t1 = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        t2 = time.perf_counter()
        got = global_dedup(keys, settings({"partitions": 8}))
        t3 = time.perf_counter()
    finally:
        ray.shutdown()
    print(
        f"clustering {keys.num_rows} keys: single process {t1 - t0:.1f} s, Ray (2 CPUs, 8 partitions) "
        f"{t3 - t2:.1f} s; identical output: {got.equals(expected)} ({expected.num_rows} rows)"
    )


def main() -> None:
    global CORPORA
    ap = argparse.ArgumentParser()
    ap.add_argument("--reviews", type=int, default=100_000)
    ap.add_argument("--skip-datatrove", action="store_true")
    ap.add_argument(
        "--ray", action="store_true", help="also cluster the same keys with curate/dedup/near_ray.py on a local Ray"
    )
    ap.add_argument(
        "--corpora",
        type=Path,
        default=CORPORA,
        help="folder with the real corpora (default: ../shared/corpora beside the repo)",
    )
    args = ap.parse_args()
    CORPORA = args.corpora
    docs, family = build_corpus(args.reviews)
    n = len(docs)
    originals = {f for f in family.values()}
    print(
        f"corpus: {n} Korean documents ({args.reviews} reviews, {len(originals)} paragraphs "
        f"+ {len(family)} injected variants), {sum(len(d['text']) for d in docs) / 1e6:.1f}M chars"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_jsonl(docs, tmp / "input")
        results = {"ours": run_in_child("ours", tmp / "input", tmp / "ours")}
        if not args.skip_datatrove:
            results["datatrove"] = run_in_child("datatrove", tmp / "input", tmp / "datatrove")
        if args.ray:
            check_ray(tmp / "keys.parquet")
    for name, r in results.items():
        removed = set(r["removed"])
        rec, per_kind = recall(r["cluster_of"], family)
        lost = {o for o in originals if o in removed and all(f"{o}-{k}" in removed for k in KINDS)}
        merged = merged_families(r["cluster_of"], family)
        # a family can vanish only into a cluster it shares with another paragraph (its
        # original is itself a near-copy of one: KorQuAD repeats passages); count the rest
        in_merged = set().union(*merged) if merged else set()
        lost_alone = len(lost - in_merged)
        lost = f"{len(lost)} ({lost_alone} outside merged clusters)"
        print(
            f"{name:10s} {n / r['seconds']:9.0f} docs/s  ({r['seconds']:.1f} s)  recall {rec:.3f} "
            f"{json.dumps({k: round(v, 3) for k, v in per_kind.items()})}  removed {len(removed)}  "
            f"families merged with others {len(merged)}  families fully removed {lost}  peak RSS {r['peak_mb']:.0f} MB"
        )
        if merged:
            print("   e.g.", [sorted(g)[:4] for g in merged[:5]])
    if "datatrove" in results:
        print(f"throughput ratio ours/datatrove: {results['datatrove']['seconds'] / results['ours']['seconds']:.1f}x")


if __name__ == "__main__":
    main()
