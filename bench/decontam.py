"""Decontamination speed and index size on real Korean/Japanese text.

Index: every KLUE and JGLUE sentence in ../shared/corpora. Corpus: Korean news
paragraphs, Korean and Japanese Wikipedia paragraphs, NSMC reviews in groups of 4,
with benchmark sentences inserted into some of them. Measures, on one core
(process CPU time):
  - the `decontam` stage (vectorized n-gram hashing + sorted-array lookup), MB/s;
  - the plain-Python reference (a set of n-gram strings) on the same documents,
    and that the two flag the same documents;
  - index bytes per million benchmark n-grams, file and in-memory set alike.

    .venv/bin/python bench/decontam.py [--mb 20] [--corpora DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from curate.io.schema import SHARD_SCHEMA  # noqa: E402
from curate.stages.decontam import load_defaults  # noqa: E402
from curate.stages.decontam.build import build_index, read_benchmark_texts  # noqa: E402
from curate.stages.decontam.index import Index  # noqa: E402
from curate.stages.decontam.matching import find_matches, reference_matches  # noqa: E402
from curate.stages.decontam.stage import DecontamStage  # noqa: E402
from curate.stages.decontam.units import _normalize_char, _unit_table  # noqa: E402

CORPORA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora"
BENCHMARKS = {"klue": CORPORA / "ko-klue-sentences.jsonl.gz", "jglue": CORPORA / "ja-jglue-sentences.jsonl.gz"}


def texts(name: str, every: int = 1) -> list[str]:
    with gzip.open(CORPORA / name, "rt", encoding="utf-8") as f:
        return [json.loads(line)["text"] for i, line in enumerate(f) if i % every == 0]


def corpus(target_mb: float, rng: random.Random) -> dict[str, list[str]]:
    news = texts("ko-news-sentences.jsonl.gz")
    reviews = texts("ko-nsmc-reviews.jsonl.gz", every=25)
    parts = {
        "ko-news": [" ".join(news[i : i + 3]) for i in range(0, len(news), 3)],
        "ko-wiki": texts("ko-wiki-korquad.jsonl.gz"),  # read here only; never copied into the project
        "ja-wiki": texts("ja-wiki-jsquad.jsonl.gz"),
        "ko-reviews": ["\n".join(reviews[i : i + 4]) for i in range(0, len(reviews), 4)],
    }
    bench = texts("ko-klue-sentences.jsonl.gz") + texts("ja-jglue-sentences.jsonl.gz")
    out = {}
    for name, docs in parts.items():  # repeat each part up to its share of the target size
        size = sum(len(d.encode()) for d in docs)
        reps = max(1, round(target_mb * 1e6 / len(parts) / size))
        docs = docs * reps
        for i in rng.sample(range(len(docs)), len(docs) // 50):  # 2% carry a benchmark sentence
            at = rng.randrange(len(docs[i]) + 1)
            docs[i] = docs[i][:at] + rng.choice(bench) + docs[i][at:]
        out[name] = docs
    return out


def shard(docs: list[str]) -> pa.Table:
    cols = {f.name: pa.nulls(len(docs), f.type) for f in SHARD_SCHEMA}
    cols["id"] = pa.array([str(i) for i in range(len(docs))])
    cols["text"] = pa.array(docs)
    return pa.table(cols, schema=SHARD_SCHEMA)


def cpu(fn):
    t = time.process_time()
    out = fn()
    return out, time.process_time() - t


def main() -> None:
    global CORPORA, BENCHMARKS
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=20, help="corpus MB (UTF-8) for the stage")
    ap.add_argument("--ref-mb", type=float, default=2, help="corpus MB for the plain-Python reference")
    ap.add_argument("--batch", type=int, default=1024, help="documents per stage call")
    ap.add_argument(
        "--corpora",
        type=Path,
        default=CORPORA,
        help="folder with the real corpora (default: ../shared/corpora beside the repo)",
    )
    args = ap.parse_args()
    CORPORA = args.corpora
    BENCHMARKS = {"klue": CORPORA / "ko-klue-sentences.jsonl.gz", "jglue": CORPORA / "ja-jglue-sentences.jsonl.gz"}
    rng = random.Random(0)

    cfg = load_defaults()
    _unit_table()  # built once per process (~1 s); not part of the per-shard cost
    index, t_build = cpu(lambda: build_index(BENCHMARKS, cfg, unit="char"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.npz"
        index.save(path)
        file_bytes = path.stat().st_size
        index = Index.load(path)
    ngrams = index.ngram_count()
    print(f"index: {len(index.names)} benchmarks, {ngrams:,} {index.n}-char n-grams, built in {t_build:.2f} s CPU")
    print(
        f"index size: {file_bytes / ngrams * 1e6:,.0f} bytes per million n-grams on disk "
        f"({file_bytes:,} bytes; sorted uint64 hashes, exact)"
    )
    bloom = build_index(BENCHMARKS, {**cfg, "bloom_above_ngrams": 0}, unit="char")
    print(
        f"            {bloom.nbytes() / ngrams * 1e6:,.0f} bytes per million n-grams as Bloom filters "
        f"({cfg['bloom_bits_per_ngram']} bits/n-gram, rounded up to a power of two; for very large benchmark sets)"
    )

    parts = corpus(args.mb, rng)
    stage = DecontamStage(DecontamStage.Settings.from_section({"action": "drop"}, "ko"), index=index)
    print(f"\nstage (n={index.n}, min_match={index.min_match}, batches of {args.batch} docs), one core:")
    total_mb = total_s = 0.0
    for name, docs in parts.items():
        tables = [shard(docs[i : i + args.batch]) for i in range(0, len(docs), args.batch)]
        mb = sum(len(d.encode()) for d in docs) / 1e6
        outs, s = cpu(lambda: [stage(t) for t in tables])
        flagged = sum(sum(r is not None for r in o.column("drop_reason").to_pylist()) for o in outs)
        total_mb, total_s = total_mb + mb, total_s + s
        print(f"  {name:11s} {mb:6.1f} MB  {mb / s:6.1f} MB/s  flagged {flagged:,} of {len(docs):,} docs")
    fast_rate = total_mb / total_s
    print(f"  {'all':11s} {total_mb:6.1f} MB  {fast_rate:6.1f} MB/s per core (target >= 10)")

    # Plain-Python reference on a slice of every part, against the same benchmarks.
    bench_texts = {name: read_benchmark_texts(p, None, cfg["exclude_fields"]) for name, p in BENCHMARKS.items()}
    share = args.ref_mb * 1e6 / len(parts)
    sample = []
    for docs in parts.values():
        size = 0
        for d in rng.sample(docs, len(docs)):
            if size > share:
                break
            sample.append(d)
            size += len(d.encode())
    ref_mb = sum(len(d.encode()) for d in sample) / 1e6
    ref, ref_s = cpu(lambda: reference_matches(sample, bench_texts, index.n, index.min_match, index.max_gap))
    fast, fast_s = cpu(
        lambda: [
            (m.doc + i, m.benchmark)
            for i in range(0, len(sample), args.batch)
            for m in find_matches(sample[i : i + args.batch], index)
        ]
    )
    same = set(ref) == set(fast)
    # In-memory size of the reference's index: the set of n-gram strings.
    sets = {}
    for name, items in bench_texts.items():
        stream = "".join(_normalize_char(c) for c in "\n".join(items))
        sets[name] = {stream[i : i + index.n] for i in range(len(stream) - index.n + 1)}
    set_bytes = sum(sys.getsizeof(s) + sum(sys.getsizeof(g) for g in s) for s in sets.values())
    set_ngrams = sum(len(s) for s in sets.values())
    print(f"\nreference (Python set of n-gram strings) on {ref_mb:.1f} MB, {len(sample):,} docs:")
    print(
        f"  reference {ref_mb / ref_s:6.2f} MB/s   vectorized {ref_mb / fast_s:6.1f} MB/s   "
        f"ratio {ref_s / fast_s:.1f}x   same (doc, benchmark) flags: {same} ({len(ref)})"
    )
    print(
        f"  index memory: set {set_bytes / set_ngrams * 1e6:,.0f} bytes per million n-grams vs "
        f"sorted hashes {index.nbytes() / ngrams * 1e6:,.0f}  (ratio {set_bytes / set_ngrams / (index.nbytes() / ngrams):.1f}x)"
    )
    bloom_same = {
        (m.doc + i, m.benchmark)
        for i in range(0, len(sample), args.batch)
        for m in find_matches(sample[i : i + args.batch], bloom)
    } == set(fast)
    print(f"  Bloom-filter index flags the same docs: {bloom_same}")


if __name__ == "__main__":
    main()
