"""Report cost vs curation cost, scaled to a 1 GB corpus.

    .venv/bin/python bench/report.py [--docs 712404] [--curate-docs 3000] [--target-gb 1] [--corpora DIR]

What is measured, all in this process on one core:
1. curation: the batch stages of the Korean recipe (normalize, langid, pii, quality)
   plus the dedup key, run by pipelines.pass1.StageChain on `--curate-docs` real documents
   (nsmc reviews + news paragraphs) -> seconds per MB of UTF-8 text. The Ray pipeline
   spreads the same work over cores; both sides of the ratio here are single-core.
2. report, part 1: curate.report.stats.table_stats on shards made of the real nsmc reviews
   (normalize + langid + exact-dup clusters on all of them) -> seconds per MB. This is
   what the writer adds per shard.
3. report, part 2: curate.report.build.build_report on a folder whose stats/ holds as many
   shard stats files as a `--target-gb` corpus of such shards would have: the real
   files, copied with their cluster ids renamed per copy so the cluster map grows as it
   would with more data (stated: copies, not new text).
Prints both totals for `--target-gb` and their ratio.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPORA = Path(__file__).parents[1] / ".." / "shared" / "corpora"

from curate.dedup.duplicates import Duplicates, ExactDedup  # noqa: E402
from curate.dedup.near import cluster  # noqa: E402
from curate.dedup.settings import settings  # noqa: E402
from curate.dedup.step import live_keys  # noqa: E402
from curate.io.records import Record, records_to_table  # noqa: E402
from curate.io.schema import SCHEMA_VERSION, SHARD_SCHEMA  # noqa: E402
from curate.io.writer import ShardWriter, atomic_write_json  # noqa: E402
from curate.recipe import load_recipe  # noqa: E402
from curate.report.stats import stats_fn_for  # noqa: E402
from pipelines.pass1 import StageChain  # noqa: E402

EXACT = ExactDedup(settings({"near": False}), "ko")  # the dedup key and exact-dup clusters


def read_jsonl(name: str, limit: int) -> list[dict]:
    out = []
    with gzip.open(CORPORA / name, "rt", encoding="utf-8") as f:
        for line in f:
            out.append(json.loads(line))
            if len(out) >= limit:
                break
    return out


def to_table(docs: list[tuple[str, str, str]]) -> pa.Table:
    return records_to_table([Record(i, t, f"bench:{n}", source=s) for n, (i, t, s) in enumerate(docs)])


def mb(table: pa.Table) -> float:
    return pc.sum(pc.binary_length(table.column("text"))).as_py() / 1e6


def main() -> None:
    global CORPORA
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=712_404, help="nsmc reviews for the shards (all by default)")
    ap.add_argument("--curate-docs", type=int, default=3000, help="documents for the curation timing")
    ap.add_argument("--target-gb", type=float, default=1.0)
    ap.add_argument("--shard-rows", type=int, default=200_000)
    ap.add_argument(
        "--corpora",
        type=Path,
        default=CORPORA,
        help="folder with the real corpora (default: ../shared/corpora beside the repo)",
    )
    args = ap.parse_args()
    CORPORA = args.corpora
    recipe = load_recipe("ko")
    recipe.pop("_path", None)

    # 1. curation on real text
    news = read_jsonl("ko-news-sentences.jsonl.gz", 6000)
    paras = [(f"news-{i}", " ".join(d["text"] for d in news[i : i + 5]), "news") for i in range(0, len(news), 5)]
    reviews = [(f"nsmc-{d['id']}", d["text"], "nsmc") for d in read_jsonl("ko-nsmc-reviews.jsonl.gz", args.docs)]
    half = args.curate_docs // 2
    sample = to_table(paras[:half] + reviews[: args.curate_docs - len(paras[:half])])
    stages = ["normalize", "langid", "pii", "quality", "dedup"]
    chain = StageChain(recipe, "ko", stages, [EXACT])
    chain(sample.slice(0, 64))  # load models outside the timing
    t0 = time.perf_counter()
    chain(sample)
    curate_s_per_mb = (time.perf_counter() - t0) / mb(sample)
    print(
        f"curation stages {','.join(stages)}: {sample.num_rows:,} docs, {mb(sample):.2f} MB "
        f"in {curate_s_per_mb * mb(sample):.1f}s -> {curate_s_per_mb:.2f} s/MB"
    )

    # 2. shards of all nsmc reviews, stats per shard as the writer computes them
    light = StageChain(recipe, "ko", ["normalize", "langid", "dedup"], [EXACT])
    t0 = time.perf_counter()
    table = pa.concat_tables(light(to_table(reviews[i : i + 50_000])) for i in range(0, len(reviews), 50_000))
    light_s = time.perf_counter() - t0
    keys = live_keys(table, 0, list(EXACT.key_columns))
    table = EXACT.apply(table, 0, Duplicates.written(cluster(keys, EXACT.s), [table.num_rows]))
    table = table.select(SHARD_SCHEMA.names)
    print(f"nsmc shards: {table.num_rows:,} docs, {mb(table):.1f} MB (normalize+langid+dedup keys took {light_s:.1f}s)")

    tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        out = tmp / "out"
        fn = stats_fn_for(recipe, "ko")
        stats_s = 0.0

        def timed(t):
            nonlocal stats_s
            t0 = time.perf_counter()
            s = fn(t)
            stats_s += time.perf_counter() - t0
            return s

        writers = {
            k: ShardWriter(str(out), k, max_rows=args.shard_rows, stats_fn=timed, stats_dir=str(out / "stats"))
            for k in ("shards", "rejected")
        }
        kept = pc.is_null(table.column("drop_reason"))
        for kind, part in (("shards", table.filter(kept)), ("rejected", table.filter(pc.invert(kept)))):
            for start in range(0, part.num_rows, args.shard_rows):
                writers[kind].write(part.slice(start, args.shard_rows))
        entries = {k: w.close() for k, w in writers.items()}
        stats_s_per_mb = stats_s / mb(table)
        print(
            f"table_stats: {stats_s:.2f}s over {sum(len(e) for e in entries.values())} shards -> {stats_s_per_mb:.3f} s/MB"
        )

        # 3. a folder with as many stats files as a target-size corpus
        target_mb = args.target_gb * 1000
        copies = max(1, int(round(target_mb / mb(table))))
        for kind in ("shards", "rejected"):
            base = list(entries[kind])
            for c in range(1, copies):
                for e in base:
                    src = out / "stats" / f"{kind}-{Path(e['path']).stem}.json"
                    name = f"part-{len(entries[kind]):05d}"
                    stats = json.loads(src.read_text(encoding="utf-8"))
                    stats["dup_clusters"] = {f"{k}~{c}": v for k, v in stats["dup_clusters"].items()}
                    stats["cluster_examples"] = {f"{k}~{c}": v for k, v in stats["cluster_examples"].items()}
                    (out / "stats" / f"{kind}-{name}.json").write_text(json.dumps(stats, ensure_ascii=False))
                    entries[kind].append(dict(e, path=f"{kind}/{name}.parquet"))
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "created": "bench",
            "lang": "ko",
            "recipe": recipe,
            "stages": stages,
            "counts": {},
            "shards": entries["shards"],
            "rejected": entries["rejected"],
            "quarantine": [],
        }
        manifest["counts"] = {
            "read": sum(e["rows"] for k in ("shards", "rejected") for e in entries[k]),
            "quarantined": 0,
        }
        atomic_write_json(str(out / "manifest.json"), manifest)
        from curate.report.build import build_report

        t0 = time.perf_counter()
        r = build_report(out)
        build_s = time.perf_counter() - t0
        assert not r["stats_recomputed"]
        n_files = len(entries["shards"]) + len(entries["rejected"])
        print(
            f"build_report: {n_files} stats files ({copies}x the real ones, {r['duplicates']['clusters']:,} clusters) "
            f"in {build_s:.1f}s"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    curate_total = curate_s_per_mb * target_mb
    report_total = stats_s_per_mb * target_mb + build_s
    print(
        f"\nfor {args.target_gb:g} GB of text (single core): curation stages {curate_total / 60:.1f} min, "
        f"report {report_total:.0f}s (stats {stats_s_per_mb * target_mb:.0f}s + build {build_s:.0f}s)"
    )
    print(f"report / curation = {report_total / curate_total:.4f}  ({100 * report_total / curate_total:.2f}%)")


if __name__ == "__main__":
    main()
