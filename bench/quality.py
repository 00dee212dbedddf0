"""Quality stage throughput vs datatrove's Gopher + C4 + FineWeb quality filters.

Both sides see the same Korean / Japanese documents in the same run, one process,
models loaded before the clock starts, alternated for ``--rounds`` rounds (load on a
shared machine hits both). Reported per core as documents per CPU-second (process time,
median of the rounds) and per wall-second, with each phase's share of our stage's CPU
time. Then the decisions: the stage as the recipe runs it (long Korean documents'
morpheme signals on a sample, curate.stages.quality.morph_sample) against the same
stage analysing every text whole, on the bench documents and the judged documents of
tests/data/quality_labels_<lang>.jsonl: how many drop decisions and reasons agree, and
which signals' values differ.

    PYTHONPATH=. .venv/bin/python bench/quality.py [--n 300] [--langs ko,ja] [--rounds 3] [--corpora DIR]

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
from statistics import median

import pyarrow as pa

from curate.io.schema import SHARD_SCHEMA
from curate.stages.quality.stage import QualityStage

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT / ".." / "shared" / "corpora"
LABELS = ROOT / "tests" / "data"  # quality_labels_<lang>.jsonl: documents judged by reading them


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


def judge_ours(stage: QualityStage, docs: list[str]) -> list[str | None]:
    return stage(table_of(docs)).column("drop_reason").to_pylist()


def datatrove_filters(lang: str):
    from datatrove.pipeline.filters import C4QualityFilter, FineWebQualityFilter, GopherQualityFilter
    from datatrove.utils import word_tokenizers

    # kiwipiepy >= 0.22 has no `sbg` model; use its default `cong`, as our stage does.
    word_tokenizers.KiwiTokenizer.__init__.__defaults__ = ("cong",)
    return [GopherQualityFilter(language=lang), C4QualityFilter(language=lang), FineWebQualityFilter(language=lang)]


def judge_datatrove(filters, texts: list[str]) -> list[str | None]:
    """Every filter sees every document, as our stage computes every signal; a pipeline
    that stopped at the first drop would skip most of the work here, because Gopher's
    English stop-word rule drops all Korean and Japanese text."""
    from datatrove.data import Document

    reasons = []
    for i, text in enumerate(texts):
        doc = Document(text=text, id=str(i))
        first = None
        for f in filters:
            res = f.filter(doc)
            if first is None and not (res[0] if isinstance(res, tuple) else res):
                first = res[1] if isinstance(res, tuple) else type(f).__name__
        reasons.append(first)
    return reasons


def compare_speed(lang: str, docs: list[str], rounds: int) -> None:
    """Ours and datatrove's filters alternated, ``rounds`` times each, medians."""
    stage = QualityStage.from_section({}, lang)
    judge_ours(stage, docs[:4])  # load kiwi / fugashi
    try:
        filters = datatrove_filters(lang)
        judge_datatrove(filters, docs[:4])  # load the tokenizers
    except Exception as exc:  # e.g. spacy/sudachipy missing for Japanese
        filters = None
        print(f"  datatrove  unavailable for {lang}: {type(exc).__name__}: {exc}")
    stage.seconds.clear()
    ours, theirs = [], []
    for r in range(rounds):
        sides = [("ours", lambda: judge_ours(stage, docs))]
        if filters is not None:
            sides.append(("datatrove", lambda: judge_datatrove(filters, docs)))
        for name, fn in sides if r % 2 == 0 else sides[::-1]:
            (ours if name == "ours" else theirs).append((name, *timed(fn)))
    kept = sum(r is None for r in ours[0][1]) / len(docs)
    cpu, wall = median(t[3] for t in ours), median(t[2] for t in ours)
    n = len(docs)
    print(f"  ours       {n / cpu:8.1f} docs/cpu-s {n / wall:8.1f} docs/s  kept {kept:.3f}")
    spent = sum(stage.seconds.values())
    shares = ", ".join(f"{k} {v / spent:.0%}" for k, v in stage.seconds.most_common())
    print(f"  ours, share of the stage's CPU time: {shares}")
    if not theirs:
        return
    dt_cpu, dt_wall = median(t[3] for t in theirs), median(t[2] for t in theirs)
    dt_kept = sum(r is None for r in theirs[0][1]) / n
    print(
        f"  datatrove  {n / dt_cpu:8.1f} docs/cpu-s {n / dt_wall:8.1f} docs/s  kept {dt_kept:.3f}"
        f"  (Gopher + C4 + FineWeb)"
    )
    print(f"  datatrove first drop reasons: {dict(Counter(theirs[0][1]).most_common(4))}")
    per_round = [t[3] / o[3] for o, t in zip(ours, theirs)]
    print(
        f"  ratio ours/datatrove per core: {dt_cpu / cpu:.2f}x (median CPU time; rounds "
        f"{', '.join(f'{x:.2f}' for x in per_round)}), {dt_wall / wall:.2f}x (wall)"
    )


def labelled(lang: str) -> list[str]:
    with open(LABELS / f"quality_labels_{lang}.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def compare_decisions(lang: str, name: str, docs: list[str]) -> None:
    """Drop reasons and signals with morpheme samples (the recipe's default) against the
    same stage analysing every text whole (morph_sample_chars: 0)."""
    out = {}
    for key, section in (("whole", {"morph_sample_chars": 0}), ("sampled", {})):
        table = QualityStage.from_section(section, lang)(table_of(docs))
        out[key] = (table.column("drop_reason").to_pylist(), table.column("quality_signals").to_pylist())
    (r0, s0), (r1, s1) = out["whole"], out["sampled"]
    changed = [(i, a, b) for i, (a, b) in enumerate(zip(r0, r1)) if a != b]
    print(f"  {name}: {len(docs) - len(changed)}/{len(docs)} drop decisions and reasons as with whole texts")
    for i, a, b in changed[:5]:
        print(f"    doc {i}: {a} -> {b}: {docs[i][:60]!r}")
    values = Counter()
    for a, b in zip(s0, s1):
        for k in a or {}:
            x, y = a[k], (b or {}).get(k)
            if x != y and not (x is not None and y is not None and abs(x - y) < 1e-9):
                values["null now" if y is None else k] += 1
    print(f"    signal values that differ (documents): {dict(values.most_common()) or 'none'}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--langs", default="ko,ja")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--corpora", type=Path, default=None, help="folder of the shared corpora (default ../shared/corpora)"
    )
    args = ap.parse_args(argv)
    global CORPORA
    CORPORA = args.corpora or CORPORA
    for lang in args.langs.split(","):
        docs = documents(lang, args.n)
        print(f"{lang}: {len(docs)} docs, {sum(map(len, docs)) / len(docs):.0f} chars/doc, {args.rounds} rounds")
        compare_speed(lang, docs, args.rounds)
        compare_decisions(lang, "bench documents", docs)
        compare_decisions(lang, f"tests/data/quality_labels_{lang}.jsonl", labelled(lang))


if __name__ == "__main__":
    main()
