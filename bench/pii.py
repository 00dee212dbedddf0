"""PII stage benchmark: accuracy on the labeled eval set and throughput on real Korean text.

Both measured against a naive reference: the bare regexes common pipelines use
(digit-shape patterns with no checksum, date or context validation), run the same way.

    PYTHONPATH=. .venv/bin/python bench/pii.py [--mb 20] [--corpora DIR]

Throughput is one process on one core: bytes of UTF-8 text per second of CPU time
(process_time) and of wall time, on ko-nsmc reviews + ko-news sentences with
identifiers inserted into ~2% of documents.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import random
import re
import time
from pathlib import Path

import pyarrow as pa

from curate.io.schema import PII_KINDS, SHARD_SCHEMA
from curate.stages import pii_eval
from curate.stages.pii.common import Span
from curate.stages.pii.spans import find, scrub
from curate.stages.pii.stage import PIIStage

ROOT = Path(__file__).parents[1]
CORPORA = ROOT / ".." / "shared" / "corpora"
EVAL = ROOT / "tests" / "data" / "pii" / "eval.jsonl"

# The reference: bare shape patterns, first match wins, no validation.
NAIVE_PATTERNS = [
    ("email", r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    ("rrn", r"\d{6}[-\s]?[1-4]\d{6}"),
    ("card", r"\d{4}[-\s]?\d{4}[-\s]?\d{4}[-\s]?\d{4}"),
    ("mynumber", r"\d{4}[-\s]?\d{4}[-\s]?\d{4}"),
    ("tel", r"(?:\+\d{1,3}[-\s]?)?0?\d{1,3}[-.\s]?\d{3,4}[-.\s]?\d{4}"),
    ("acc", r"\d{2,6}-\d{2,6}-\d{2,7}"),
    ("ip", r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}"),
    ("passport", r"[MSRGD]\d{8}"),
]
NAIVE = re.compile("|".join(f"(?P<{k}>{p})" for k, p in NAIVE_PATTERNS))


def naive_find(text: str, lang: str = "") -> list[Span]:
    return [Span(m.start(), m.end(), m.lastgroup) for m in NAIVE.finditer(text)]


def naive_scrub(text: str, lang: str = "") -> tuple[str, dict]:
    counts: dict[str, int] = {}

    def repl(m):
        counts[m.lastgroup] = counts.get(m.lastgroup, 0) + 1
        return f"<|{m.lastgroup}|>"

    return NAIVE.sub(repl, text), counts


def load_generator():
    spec = importlib.util.spec_from_file_location("make_eval", ROOT / "tests" / "data" / "pii" / "make_eval.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def korean_docs(mb: float, seed: int = 0, corpora: Path = CORPORA) -> list[str]:
    """Real Korean documents (nsmc reviews, news sentences) up to `mb` MB, ~2% with an identifier."""
    gen = load_generator()
    rng = random.Random(seed)
    news = [
        json.loads(line)["text"] for line in gzip.open(corpora / "ko-news-sentences.jsonl.gz", "rt", encoding="utf-8")
    ]
    docs, size = [], 0
    budget = int(mb * 1e6)
    with gzip.open(corpora / "ko-nsmc-reviews.jsonl.gz", "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            text = json.loads(line)["text"] if i % 8 else " ".join(news[(i // 8 * 3 + k) % len(news)] for k in range(3))
            if rng.random() < 0.02:
                kind = rng.choice(list(PII_KINDS))
                value, phrase, _ = gen.identifier(rng, kind, "ko")
                text = text + " " + phrase.replace("{}", value)
            docs.append(text)
            size += len(text.encode("utf-8"))
            if size >= budget:
                break
    return docs


def throughput(fn, docs: list[str]) -> tuple[float, float, int]:
    nbytes = sum(len(d.encode("utf-8")) for d in docs)
    c0, w0 = time.process_time(), time.perf_counter()
    found = 0
    for d in docs:
        found += sum(fn(d, "ko")[1].values())
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return nbytes / 1e6 / cpu, nbytes / 1e6 / wall, found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=20.0)
    ap.add_argument("--corpora", type=Path, default=CORPORA, help="folder with the ko-*.jsonl.gz corpora")
    args = ap.parse_args()

    examples = pii_eval.load(EVAL)
    print(f"eval set: {len(examples)} examples ({EVAL.relative_to(ROOT)})")
    ours = pii_eval.score(examples, find)
    ref = pii_eval.score(examples, naive_find)
    print(pii_eval.format_report("curate.stages.pii", ours))
    print(pii_eval.format_report("naive regex", ref))

    docs = korean_docs(args.mb, corpora=args.corpora)
    nbytes = sum(len(d.encode("utf-8")) for d in docs)
    print(f"\nthroughput on {len(docs):,} real Korean documents, {nbytes / 1e6:.1f} MB (1 core):")
    ours_cpu, ours_wall, ours_n = throughput(scrub, docs)
    ref_cpu, ref_wall, ref_n = throughput(naive_scrub, docs)
    print(
        f"  curate.stages.pii   {ours_cpu:7.1f} MB/s CPU  {ours_wall:7.1f} MB/s wall  {ours_n:,} identifiers replaced"
    )
    print(f"  naive regex  {ref_cpu:7.1f} MB/s CPU  {ref_wall:7.1f} MB/s wall  {ref_n:,} replaced")
    print(f"  speed ratio curate.stages.pii / naive: {ours_cpu / ref_cpu:.2f}x (CPU time)")

    # The gate skips text without digits, "@" or ":"; the rest is the harder part.
    dense = [d for d in docs if any(c.isdigit() or c in "@:" for c in d)]
    dense_cpu, _, _ = throughput(scrub, dense)
    dense_ref, _, _ = throughput(naive_scrub, dense)
    print(
        f"  only the {len(dense):,} documents with a digit, '@' or ':' "
        f"({sum(len(d.encode('utf-8')) for d in dense) / 1e6:.1f} MB): curate.stages.pii {dense_cpu:.1f} MB/s CPU, "
        f"naive {dense_ref:.1f} MB/s CPU"
    )

    table = pa.Table.from_pylist(
        [{"id": str(i), "text": t, "lang": "ko"} for i, t in enumerate(docs)], schema=SHARD_SCHEMA
    )
    stage = PIIStage.from_section({"mode": "replace"}, "ko")
    c0 = time.process_time()
    stage(table)
    print(f"  PIIStage on a {table.num_rows:,}-row table: {nbytes / 1e6 / (time.process_time() - c0):.1f} MB/s CPU")


if __name__ == "__main__":
    main()
