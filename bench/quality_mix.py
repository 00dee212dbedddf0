"""A realistic Korean and Japanese mix through the default recipes' normalize, langid
and quality stages: how much real informal text (NSMC comment pages) survives, and why
the rest is dropped.

    PYTHONPATH=. .venv/bin/python bench/quality_mix.py [--langs ko,ja] [--out out/quality_mix]

The mix is built from ../shared/corpora with a fixed seed (the same documents every
run), plus constructed junk (see junk_ko / junk_ja: keyboard mash, laughter-only
comments, spam built from pipelines/recipes/flagged, shuffled word salad, copy-pasted
comments), so that the judged sample has junk that looks informal. Every document is
written with its source, kind and drop reason to OUT/<lang>.jsonl; tests/data/
quality_labels_<lang>.jsonl is a judged sample of such a run.

ko (about 5,000 documents): NSMC comment pages of 2-20 reviews of one movie and single
reviews, KorQuAD paragraphs (read for evaluation only, never copied into the project),
KLUE sentences grouped 3-6 by source, news sentences grouped 3-8 in article order,
5% English/French, 3% Japanese, 6% constructed junk.
ja (about 3,000): JSQuAD paragraphs, JGLUE sentences grouped 2-6 and single, a few
Korean and English documents, 6% constructed junk.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from collections import Counter
from pathlib import Path

import pyarrow as pa

from curate.io.schema import SHARD_SCHEMA
from curate.recipe import load_recipe
from curate.stages.registry import build_stage

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT / ".." / "shared" / "corpora"  # --corpora elsewhere
FLAGGED = ROOT / "pipelines" / "recipes" / "flagged"
SEED = 20261207


def _read(name: str) -> list[dict]:
    with gzip.open(Path(CORPORA) / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _flagged(lang: str) -> list[str]:
    lines = (FLAGGED / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
    return [w.strip() for w in lines if w.strip() and not w.startswith("#")]


def _groups(items: list[str], rng: random.Random, lo: int, hi: int, sep: str = " ") -> list[str]:
    out, i = [], 0
    while i < len(items):
        k = rng.randint(lo, hi)
        out.append(sep.join(items[i : i + k]))
        i += k
    return out


def _doc(text: str, source: str, kind: str = "real") -> dict:
    return {"text": text, "source": source, "kind": kind}


# ---------------------------------------------------------------------------- junk
# Constructed junk: every kind is labelled "constructed" in the output and the labels.
_JAMO = "ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎㅏㅑㅓㅕㅗㅛㅜㅠㅡㅣㅐㅔ"
_KO_KEYS = "ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔㅁㄴㅇㄹㅎㅗㅓㅏㅣㅋㅌㅊㅍㅠㅜㅡ"  # 2-set keyboard rows, left to right
_LAUGH_KO = ["ㅋㅋㅋㅋ", "ㅎㅎㅎ", "ㅠㅠㅠㅠ", "ㅋㅋ", "ㅜㅜ", "ㅋㅋㅋㅋ ㅋㅋㅋㅋ", "ㄷㄷㄷ", "ㅎㅎ"]
_SPAM_KO = [
    "{a} 최저가 {b} 바로가기 ☞ 카톡 문의 24시간 상담",
    "{a} {b} 가입 즉시 {c} 지급!! 지금 접속하세요",
    "★{a}★ {b} {c} 안전하게 이용하세요 ☎ 010-0000-0000",
    "{a} 추천 {b} 추천 {c} 추천 문의 환영",
    "여기 들어가보세요 {a} {b} 꿀팁 있음 ㅋㅋ",
]


def _ko_syllable(rng: random.Random) -> str:
    return chr(0xAC00 + rng.randrange(11172))


def junk_ko(rng: random.Random, reviews: list[str], prose: list[str], n: int) -> list[dict]:
    """n constructed junk documents, in equal parts of six kinds."""
    spam = _flagged("ko")
    out = []
    for i in range(n):
        kind = i % 6
        if kind == 0:  # keyboard mash: runs of adjacent keys as jamo, with random syllables
            words = []
            for _ in range(rng.randint(1, 6)):
                start = rng.randrange(len(_KO_KEYS) - 4)
                w = "".join(rng.choice(_KO_KEYS[start : start + 5]) for _ in range(rng.randint(3, 9)))
                if rng.random() < 0.5:
                    w += "".join(_ko_syllable(rng) for _ in range(rng.randint(1, 3)))
                words.append(w)
            out.append(_doc(" ".join(words), "constructed", "mash"))
        elif kind == 1:  # laughter/crying only, one comment or a page of them
            lines = [rng.choice(_LAUGH_KO) for _ in range(rng.randint(1, 8))]
            out.append(_doc("\n".join(lines), "constructed", "laughter"))
        elif kind == 2:  # spam comment from a template and the project's spam phrases
            lines = [
                rng.choice(_SPAM_KO).format(a=rng.choice(spam), b=rng.choice(spam), c=rng.choice(spam))
                for _ in range(rng.randint(1, 4))
            ]
            out.append(_doc("\n".join(lines), "constructed", "spam"))
        elif kind == 3:  # word salad: the eojeol of a real page shuffled
            words = rng.choice(prose).split()
            rng.shuffle(words)
            out.append(_doc(" ".join(words), "constructed", "word_salad"))
        elif kind == 4:  # one comment copy-pasted 4-12 times
            r = rng.choice([x for x in reviews if len(x) >= 10])
            out.append(_doc("\n".join([r] * rng.randint(4, 12)), "constructed", "copy_paste"))
        else:  # a comment page whose every line is mash or laughter
            lines = []
            for _ in range(rng.randint(3, 10)):
                if rng.random() < 0.5:
                    lines.append(rng.choice(_LAUGH_KO))
                else:
                    lines.append("".join(rng.choice(_JAMO) for _ in range(rng.randint(3, 8))))
            out.append(_doc("\n".join(lines), "constructed", "mash_page"))
    return out


_KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
_LAUGH_JA = ["ｗｗｗｗ", "www", "草", "(笑)", "ｗｗｗｗｗｗ", "(^^)", "orz", "ｗ"]
_SPAM_JA = [
    "{a}なら{b}！今すぐ登録で{c}プレゼント",
    "【{a}】{b} {c} 即日OK 詳しくはこちら→",
    "{a} {b} {c} 無料 登録",
    "稼げる{a}の秘密を公開中！{b}も{c}もOK",
]


def junk_ja(rng: random.Random, sentences: list[str], prose: list[str], n: int) -> list[dict]:
    """n constructed junk documents, in equal parts of six kinds."""
    spam = _flagged("ja")
    out = []
    for i in range(n):
        kind = i % 6
        if kind == 0:  # kana keyboard mash
            lines = ["".join(rng.choice(_KANA) for _ in range(rng.randint(8, 20))) for _ in range(rng.randint(1, 4))]
            out.append(_doc("\n".join(lines), "constructed", "mash"))
        elif kind == 1:  # laughter only
            lines = [rng.choice(_LAUGH_JA) for _ in range(rng.randint(1, 8))]
            out.append(_doc("\n".join(lines), "constructed", "laughter"))
        elif kind == 2:  # spam
            lines = [
                rng.choice(_SPAM_JA).format(a=rng.choice(spam), b=rng.choice(spam), c=rng.choice(spam))
                for _ in range(rng.randint(1, 4))
            ]
            out.append(_doc("\n".join(lines), "constructed", "spam"))
        elif kind == 3:  # word salad: a real paragraph cut at 、 and 。 and shuffled
            parts = [p for p in re.split(r"(?<=[、。])", rng.choice(prose)) if p]
            rng.shuffle(parts)
            out.append(_doc("".join(parts), "constructed", "word_salad"))
        elif kind == 4:  # copy-paste
            s = rng.choice(sentences)
            out.append(_doc("\n".join([s] * rng.randint(4, 12)), "constructed", "copy_paste"))
        else:  # a page of mash and laughter lines
            lines = []
            for _ in range(rng.randint(3, 10)):
                lines.append(
                    rng.choice(_LAUGH_JA)
                    if rng.random() < 0.5
                    else "".join(rng.choice(_KANA) for _ in range(rng.randint(3, 8)))
                )
            out.append(_doc("\n".join(lines), "constructed", "mash_page"))
    return out


# ---------------------------------------------------------------------------- mixes
def mix_ko(n_pages: int = 2000, n_single: int = 1000) -> list[dict]:
    rng = random.Random(SEED)
    nsmc = _read("ko-nsmc-reviews.jsonl.gz")
    by_movie: dict[str, list[str]] = {}
    for r in nsmc:
        by_movie.setdefault(r["movie_id"], []).append(r["text"])
    movies = sorted(m for m, rs in by_movie.items() if len(rs) >= 2)
    docs = []
    for m in rng.sample(movies, min(n_pages, len(movies))):  # one page per movie, reviews in file order
        rs = by_movie[m]
        k = rng.randint(2, min(20, len(rs)))
        start = rng.randrange(len(rs) - k + 1)
        docs.append(_doc("\n".join(rs[start : start + k]), "nsmc_page"))
    docs += [_doc(r["text"], "nsmc_single") for r in rng.sample(nsmc, n_single)]
    docs += [_doc(r["text"], "korquad") for r in rng.sample(_read("ko-wiki-korquad.jsonl.gz"), 500)]
    klue = _read("ko-klue-sentences.jsonl.gz")
    for source in sorted({r["source"] for r in klue}):
        sents = [r["text"] for r in klue if r["source"] == source]
        docs += [_doc(t, f"klue_{source}") for t in _groups(sents, rng, 3, 6)]
    news = _read("ko-news-sentences.jsonl.gz")
    for variety in ("south", "north"):
        groups = _groups([r["text"] for r in news if r["variety"] == variety], rng, 3, 8)
        docs += [_doc(t, f"news_{variety}") for t in rng.sample(groups, min(250, len(groups)))]
    n_real = len(docs)
    enfr = _read("en-fr-sentences.jsonl.gz")
    docs += [_doc(t, "en_fr") for t in _groups([r["text"] for r in rng.sample(enfr, 3 * n_real // 20)], rng, 2, 4)]
    ja = [r["text"] for r in _read("ja-wiki-jsquad.jsonl.gz")]
    docs += [_doc(t, "ja_jsquad") for t in rng.sample(ja, 3 * n_real // 100)]
    prose = [d["text"] for d in docs if d["source"] in ("nsmc_page", "news_south") and len(d["text"].split()) >= 30]
    docs += junk_ko(rng, [r["text"] for r in nsmc[:50000]], prose, 6 * n_real // 100)
    rng.shuffle(docs)
    return docs


def mix_ja() -> list[dict]:
    rng = random.Random(SEED)
    docs = [_doc(r["text"], "jsquad") for r in rng.sample(_read("ja-wiki-jsquad.jsonl.gz"), 1000)]
    sents = [r["text"] for r in _read("ja-jglue-sentences.jsonl.gz")]
    order = list(range(len(sents)))
    rng.shuffle(order)
    grouped, single = order[:3600], order[3600:4400]
    docs += [_doc(t, "jglue_group") for t in _groups([sents[i] for i in grouped], rng, 2, 6)]
    docs += [_doc(sents[i], "jglue_single") for i in single]
    n_real = len(docs)
    docs += [_doc(r["text"], "en_fr") for r in rng.sample(_read("en-fr-sentences.jsonl.gz"), n_real // 50)]
    docs += [_doc(r["text"], "nsmc_single") for r in rng.sample(_read("ko-nsmc-reviews.jsonl.gz"), n_real // 50)]
    prose = [d["text"] for d in docs if d["source"] == "jsquad"]
    docs += junk_ja(rng, sents, prose, 6 * n_real // 100)
    rng.shuffle(docs)
    return docs


# ---------------------------------------------------------------------------- run
def table_of(texts: list[str]) -> pa.Table:
    cols = {name: pa.nulls(len(texts), SHARD_SCHEMA.field(name).type) for name in SHARD_SCHEMA.names}
    cols["id"] = pa.array([str(i) for i in range(len(texts))])
    cols["text"] = pa.array(texts)
    return pa.table(cols, schema=SHARD_SCHEMA)


def judge(docs: list[dict], lang: str) -> list[dict]:
    """Run normalize, langid and quality of the default recipe; fill text (normalized)
    and drop_reason of every document."""
    recipe = load_recipe(lang)
    table = table_of([d["text"] for d in docs])
    for name in ("normalize", "langid", "quality"):
        table = build_stage(name, recipe, lang)(table)
    for d, text, reason in zip(docs, table.column("text").to_pylist(), table.column("drop_reason").to_pylist()):
        d["text"], d["drop_reason"] = text, reason
    return docs


def report(docs: list[dict], lang: str) -> None:
    judged = [d for d in docs if not (d["drop_reason"] or "").startswith("langid:")]
    print(
        f"{lang}: {len(docs)} documents, {len(docs) - len(judged)} dropped by langid, {len(judged)} judged by quality"
    )
    for source in sorted({d["source"] for d in judged}):
        ds = [d for d in judged if d["source"] == source]
        kept = sum(d["drop_reason"] is None for d in ds)
        print(f"  {source:14s} kept {kept:5d} / {len(ds):5d} ({kept / len(ds):.1%})")
    pages = [d for d in judged if d["source"] == "nsmc_page"]
    if pages:
        kept = sum(d["drop_reason"] is None for d in pages)
        print(f"  NSMC comment pages kept: {kept / len(pages):.1%} ({kept} of {len(pages)}); drop reasons:")
        for reason, n in Counter(d["drop_reason"] for d in pages if d["drop_reason"]).most_common(8):
            print(f"    {n:5d}  {reason}")


# Sources whose licence lets a judged sample be committed (KorQuAD is CC BY-ND: evaluation only).
SHIPPABLE = lambda d: d["source"] != "korquad"  # noqa: E731


def label_sample(docs: list[dict], n: int, seed: int = SEED) -> list[dict]:
    """n kept and n dropped documents, drawn at random from those the quality stage
    judged (langid drops are langid's business) and that may be committed."""
    judged = [d for d in docs if not (d["drop_reason"] or "").startswith("langid:") and SHIPPABLE(d)]
    rng = random.Random(seed)
    kept = [d for d in judged if d["drop_reason"] is None]
    dropped = [d for d in judged if d["drop_reason"] is not None]
    return rng.sample(kept, min(n, len(kept))) + rng.sample(dropped, min(n, len(dropped)))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--langs", default="ko,ja")
    ap.add_argument("--out", default="out/quality_mix")
    ap.add_argument("--corpora", default=None)
    ap.add_argument(
        "--sample", type=int, default=0, help="also write OUT/<lang>.sample.jsonl: N kept + N dropped to judge"
    )
    args = ap.parse_args(argv)
    global CORPORA
    CORPORA = Path(args.corpora) if args.corpora else CORPORA
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for lang in args.langs.split(","):
        docs = judge(mix_ko() if lang == "ko" else mix_ja(), lang)
        report(docs, lang)
        with open(out / f"{lang}.jsonl", "w", encoding="utf-8") as f:
            for i, d in enumerate(docs):
                f.write(json.dumps({"i": i, **d}, ensure_ascii=False) + "\n")
        if args.sample:
            with open(out / f"{lang}.sample.jsonl", "w", encoding="utf-8") as f:
                for d in label_sample(docs, args.sample):
                    f.write(json.dumps(d, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
