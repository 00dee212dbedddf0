"""Quality stage throughput vs datatrove's Gopher + C4 + FineWeb quality filters.

Both sides see the same Korean / Japanese documents in the same run, one process,
one thread, models loaded before the clock starts. Reported per core as documents per
CPU-second (process time, robust on a shared machine) and per wall-second.

    PYTHONPATH=. .venv/bin/python bench/quality.py [--n 300] [--langs ko,ja]

datatrove (bench-only extra: pip install datatrove) asks kiwipiepy for the `sbg`
model, which kiwipiepy >= 0.22 no longer ships; it is pointed at `cong`, the model our
stage uses, so both sides segment Korean with the same analyser. Its Japanese
tokenizer needs spacy + sudachipy (+ sudachidict_core).
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa

from curate.io.schema import SHARD_SCHEMA
from curate.stages.quality.stage import QualityStage

CORPORA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora"


def _read(name: str) -> list[dict]:
    with gzip.open(CORPORA / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def documents(lang: str, n: int) -> list[str]:
    if lang == "ko":
        # KorQuAD is read here for evaluation only (never copied into the project).
        wiki = [r["text"] for r in _read("ko-wiki-korquad.jsonl.gz")]
        news = [r["text"] for r in _read("ko-news-sentences.jsonl.gz") if r["variety"] == "south"]
        news = [" ".join(news[i : i + 5]) for i in range(0, len(news) - 4, 5)]
        docs = [d for pair in zip(wiki, news) for d in pair]
    else:
        docs = [r["text"] for r in _read("ja-wiki-jsquad.jsonl.gz")]
    return docs[:n]


def table_of(texts: list[str]) -> pa.Table:
    cols = {name: pa.nulls(len(texts), SHARD_SCHEMA.field(name).type) for name in SHARD_SCHEMA.names}
    cols["id"] = pa.array([str(i) for i in range(len(texts))])
    cols["text"] = pa.array(texts)
    return pa.table(cols, schema=SHARD_SCHEMA)


def timed(fn) -> tuple[object, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def run_ours(lang: str, docs: list[str]):
    stage = QualityStage.from_section({}, lang)
    stage(table_of(docs[:4]))  # load kiwi / fugashi
    out, wall, cpu = timed(lambda: stage(table_of(docs)))
    kept = sum(r is None for r in out.column("drop_reason").to_pylist())
    return kept, wall, cpu


def datatrove_filters(lang: str):
    from datatrove.pipeline.filters import C4QualityFilter, FineWebQualityFilter, GopherQualityFilter
    from datatrove.utils import word_tokenizers

    # kiwipiepy >= 0.22 has no `sbg` model; use its default `cong`, as our stage does.
    word_tokenizers.KiwiTokenizer.__init__.__defaults__ = ("cong",)
    return [GopherQualityFilter(language=lang), C4QualityFilter(language=lang), FineWebQualityFilter(language=lang)]


def run_datatrove(lang: str, docs: list[str]):
    from datatrove.data import Document

    filters = datatrove_filters(lang)

    def judge(texts):
        # Every filter sees every document, as our stage computes every signal; a
        # pipeline that stopped at the first drop would skip most of the work here,
        # because Gopher's English stop-word rule drops all Korean and Japanese text.
        kept, reasons = 0, Counter()
        for i, text in enumerate(texts):
            doc = Document(text=text, id=str(i))
            first = None
            for f in filters:
                res = f.filter(doc)
                if first is None and not (res[0] if isinstance(res, tuple) else res):
                    first = res[1] if isinstance(res, tuple) else type(f).__name__
            kept += first is None
            reasons[first] += 1
        return kept, reasons

    judge(docs[:4])  # load tokenizers
    return timed(lambda: judge(docs))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--langs", default="ko,ja")
    args = ap.parse_args(argv)
    for lang in args.langs.split(","):
        docs = documents(lang, args.n)
        chars = sum(map(len, docs))
        kept, wall, cpu = run_ours(lang, docs)
        print(f"{lang}: {len(docs)} docs, {chars / len(docs):.0f} chars/doc")
        print(
            f"  ours       {len(docs) / cpu:8.1f} docs/cpu-s {len(docs) / wall:8.1f} docs/s  kept {kept / len(docs):.3f}"
        )
        try:
            (dt_kept, reasons), dt_wall, dt_cpu = run_datatrove(lang, docs)
        except Exception as exc:  # e.g. spacy/sudachipy missing for Japanese
            print(f"  datatrove  unavailable for {lang}: {type(exc).__name__}: {exc}")
            continue
        print(
            f"  datatrove  {len(docs) / dt_cpu:8.1f} docs/cpu-s {len(docs) / dt_wall:8.1f} docs/s  kept {dt_kept / len(docs):.3f}"
            f"  (Gopher + C4 + FineWeb)"
        )
        print(f"  datatrove first drop reasons: {dict(reasons.most_common(4))}")
        print(f"  ratio ours/datatrove per core: {dt_cpu / cpu:.2f}x (cpu time), {dt_wall / wall:.2f}x (wall)")


if __name__ == "__main__":
    main()
