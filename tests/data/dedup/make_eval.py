"""Build the near-duplicate evaluation sets eval-ko.jsonl.gz and eval-ja.jsonl.gz.

Real paragraphs (consecutive sentences of one article or source, 300-2000 chars)
from ../shared/corpora; some become "families": the original plus one variant per
edit kind; the rest stay "unrelated" documents that must survive dedup.

Edit kinds: spacing (spaces removed/added, punctuation changed), boilerplate (1-3
boilerplate lines added), words2 / words5 (2% / 5% of words replaced by other words of
the corpus; Korean words are eojeol, Japanese words fugashi tokens), trunc10 (last
10% cut). Korean also has "north": the same sentences in the corpus's North Korean
edition (different spacing and spelling, written by people, not by this script).

    PYTHONPATH=. .venv/bin/python tests/data/dedup/make_eval.py   # seeded, reproducible
"""

from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).parent
CORPORA = HERE.parents[2] / ".." / "shared" / "corpora"
N_FAMILIES = 80
MAX_UNRELATED = 300
KINDS = ["spacing", "boilerplate", "words2", "words5", "trunc10"]

BOILERPLATE = {
    "ko": [
        "저작권자 ⓒ 뉴스통신, 무단 전재 및 재배포 금지",
        "▶ 네이버 메인에서 뉴스를 구독하세요!",
        "이 기사를 공유합니다",
        "관련기사 더보기",
        "기자 프로필 구독 응원하기",
        "Copyright ⓒ All rights reserved.",
        "[사진 제공=연합뉴스]",
        "댓글 0 | 좋아요 12 | 공유하기",
    ],
    "ja": [
        "この記事をシェアする",
        "関連記事",
        "Copyright © All Rights Reserved.",
        "出典: フリー百科事典『ウィキペディア（Wikipedia）』",
        "最終更新日時：2021年3月4日",
        "ツイート いいね！ はてなブックマーク",
        "（写真はイメージです）",
        "トップページへ戻る",
    ],
}


def read(name: str) -> list[dict]:
    with gzip.open(CORPORA / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def group(sentences: list[str], rng: random.Random, joiner: str) -> list[tuple[int, int]]:
    """Index ranges of consecutive sentences whose joined length is 300-2000 chars."""
    ranges, i = [], 0
    while i < len(sentences):
        target, j, size = rng.randint(300, 1400), i, 0
        while j < len(sentences) and size < target:
            size += len(sentences[j]) + len(joiner)
            j += 1
        if 300 <= size <= 2000:
            ranges.append((i, j))
        i = j
    return ranges


def korean_paragraphs(rng: random.Random) -> tuple[list[str], dict[int, str]]:
    news = read("ko-news-sentences.jsonl.gz")
    paras, north = [], {}
    for split in ("dev", "test"):
        south = [r["text"] for r in news if r["id"].startswith(f"park-{split}-")]
        nk = [r["text"] for r in news if r["id"].startswith(f"nk-{split}-")]
        for i, j in group(south, rng, " "):
            if len(nk) >= j:
                north[len(paras)] = " ".join(nk[i:j])
            paras.append(" ".join(south[i:j]))
    # KLUE: premises and first STS sentences only (hypotheses paraphrase them)
    klue = [r for r in read("ko-klue-sentences.jsonl.gz") if r["id"].endswith(("premise", "sentence1"))]
    by_source: dict[str, list[str]] = {}
    for r in klue:
        by_source.setdefault(r["source"].split("-")[0], []).append(r["text"])
    for texts in by_source.values():
        paras += [" ".join(texts[i:j]) for i, j in group(texts, rng, " ")]
    return paras, north


def japanese_paragraphs(rng: random.Random) -> list[str]:
    by_title: dict[str, list[str]] = {}
    for r in read("ja-wiki-jsquad.jsonl.gz"):
        body = r["text"].split("\n", 1)[-1]  # drop the title line every paragraph repeats
        by_title.setdefault(r["title"], []).append(body)
    paras = []
    for texts in by_title.values():
        paras += ["\n".join(texts[i:j]) for i, j in group(texts, rng, "\n")]
    jglue = [r["text"] for r in read("ja-jglue-sentences.jsonl.gz") if not r["id"].endswith("sentence2")]
    paras += ["".join(jglue[i:j]) for i, j in group(jglue, rng, "")]
    return paras


# ---------------------------------------------------------------- edits


def tokenize(text: str, lang: str) -> list[str]:
    """Words with the text between them kept, so "".join(tokens) == text."""
    if lang == "ko":
        return re.split(r"(\s+)", text)
    from fugashi import Tagger

    tagger = _TAGGER.setdefault("t", Tagger())
    out = []
    for w in tagger(text):
        out.append(w.white_space + w.surface)
    return out


_TAGGER: dict = {}


def is_word(tok: str) -> bool:
    return bool(re.search(r"\w", tok))


def change_words(text: str, lang: str, frac: float, vocab: list[str], rng: random.Random) -> str:
    toks = tokenize(text, lang)
    idx = [i for i, t in enumerate(toks) if is_word(t)]
    for i in rng.sample(idx, max(1, round(frac * len(idx)))):
        lead = re.match(r"\s*", toks[i]).group()
        new = rng.choice(vocab)
        while new == toks[i].strip():
            new = rng.choice(vocab)
        toks[i] = lead + new
    return "".join(toks)


def change_spacing(text: str, lang: str, rng: random.Random) -> str:
    out = []
    for ch in text:
        r = rng.random()
        if ch == " " and r < 0.3:
            continue  # space removed
        if ch in ".。" and r < 0.5:
            out.append(rng.choice(["!", "...", "", "．" if lang == "ja" else ";"]))
            continue
        if ch in ",、" and r < 0.5:
            continue
        out.append(ch)
        if ch.isalnum() and r > (0.97 if lang == "ko" else 0.95):
            out.append(rng.choice([" ", " ", ",", "、" if lang == "ja" else "·"]))
    return "".join(out)


def add_boilerplate(text: str, lang: str, rng: random.Random) -> str:
    lines = rng.sample(BOILERPLATE[lang], rng.randint(1, 3))
    head = [l for l in lines if rng.random() < 0.3]
    tail = [l for l in lines if l not in head]
    return "\n".join(head + [text] + tail)


def variant(text: str, kind: str, lang: str, vocab: list[str], rng: random.Random) -> str:
    if kind == "spacing":
        return change_spacing(text, lang, rng)
    if kind == "boilerplate":
        return add_boilerplate(text, lang, rng)
    if kind == "words2":
        return change_words(text, lang, 0.02, vocab, rng)
    if kind == "words5":
        return change_words(text, lang, 0.05, vocab, rng)
    if kind == "trunc10":
        return text[: int(len(text) * 0.9)]
    raise ValueError(kind)


def build(lang: str, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    if lang == "ko":
        paras, north = korean_paragraphs(rng)
    else:
        paras, north = japanese_paragraphs(rng), {}
    paras = list(dict.fromkeys(paras))
    vocab = sorted({t.strip() for p in paras for t in tokenize(p, lang) if is_word(t) and len(t.strip()) >= 2})
    order = list(range(len(paras)))
    rng.shuffle(order)
    # prefer families whose North Korean edition exists
    fam = [i for i in order if i in north][: N_FAMILIES // 2]
    fam += [i for i in order if i not in fam][: N_FAMILIES - len(fam)]
    unrelated = [i for i in order if i not in fam][:MAX_UNRELATED]
    rows = []
    for i in fam:
        fid = f"{lang}-f{i}"
        rows.append({"id": fid, "family": fid, "kind": "original", "text": paras[i]})
        for kind in KINDS:
            rows.append(
                {"id": f"{fid}-{kind}", "family": fid, "kind": kind, "text": variant(paras[i], kind, lang, vocab, rng)}
            )
        if i in north:
            rows.append({"id": f"{fid}-north", "family": fid, "kind": "north", "text": north[i]})
    for i in unrelated:
        rows.append({"id": f"{lang}-u{i}", "family": None, "kind": "unrelated", "text": paras[i]})
    rng.shuffle(rows)
    return rows


def main() -> None:
    for lang in ("ko", "ja"):
        rows = build(lang)
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
        with gzip.GzipFile(HERE / f"eval-{lang}.jsonl.gz", "wb", compresslevel=9, mtime=0) as f:
            f.write(body)  # mtime=0: the same bytes on every rebuild
        print(lang, len(rows), "rows")


if __name__ == "__main__":
    main()
