"""Rebuild the bundled sample corpora from ../shared/corpora (seeded, deterministic).

    python data/sample/make_sample.py

Writes data/sample/ko.jsonl.gz and data/sample/ja.jsonl.gz: a few thousand real
documents each, chosen so that every stage has something to do (exact and near
duplicates, other-language lines, noisy reviews, a few synthetic identifiers for
the PII stage, marked as such in `source`). Only CC0 / CC BY-SA files are used.
"""
from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / ".." / "shared" / "corpora"


def load(name: str) -> list[dict]:
    with gzip.open(SHARED / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def paragraphs(rows: list[dict], rng: random.Random, lo: int = 3, hi: int = 7) -> list[list[dict]]:
    """Group consecutive sentences (article order) into paragraphs."""
    out, i = [], 0
    while i < len(rows):
        n = rng.randint(lo, hi)
        out.append(rows[i:i + n])
        i += n
    return out


def light_edit(text: str, rng: random.Random) -> str:
    """A near-duplicate as crawls produce them: changed spacing and punctuation, a footer."""
    words = text.split(" ")
    for _ in range(max(1, len(words) // 30)):
        j = rng.randrange(len(words))
        words[j] = words[j] + rng.choice([",", "", " "])
    footer = rng.choice(["\n\n무단전재 및 재배포 금지", "\n\n転載禁止", "\n\n(끝)"])
    return " ".join(words) + footer


SYNTHETIC_PII_KO = [
    "자세한 문의는 010-{a:04d}-{b:04d} 로 연락 주세요.",
    "담당자 이메일: sample{a}@example.com",
    "입금 계좌: 국민은행 {a:06d}-{c:02d}-{b:06d} (예금주 홍길동)",
    "고객센터 02-{a:04d}-{b:04d}",
]
SYNTHETIC_PII_JA = [
    "お問い合わせは090-{a:04d}-{b:04d}までご連絡ください。",
    "担当者メール: sample{a}@example.jp",
    "電話 03-{a:04d}-{b:04d}（平日9時〜18時）",
]


def doc(id_: str, text: str, source: str) -> dict:
    return {"id": id_, "text": text, "source": source}


def build_ko(rng: random.Random) -> list[dict]:
    docs: list[dict] = []
    news = [r for r in load("ko-news-sentences") if r.get("variety") == "south"]
    paras = paragraphs(news[:2400], rng)
    for k, p in enumerate(paras):
        docs.append(doc(f"ko-news-p{k}", " ".join(r["text"] for r in p), "ko-news"))
    # near duplicates of real paragraphs
    for k in rng.sample(range(len(paras)), 40):
        docs.append(doc(f"ko-news-p{k}-edited", light_edit(docs[k]["text"], rng), "ko-news (edited copy)"))
    klue = load("ko-klue-sentences")
    by_source: dict[str, list[dict]] = {}
    for r in klue:
        by_source.setdefault(r.get("source") or "klue", []).append(r)
    for src, rows in sorted(by_source.items()):
        for k, p in enumerate(paragraphs(rows[:300], rng, 2, 5)):
            docs.append(doc(f"ko-klue-{src}-p{k}", " ".join(r["text"] for r in p), f"klue-{src}"))
    nsmc = load("ko-nsmc-reviews")
    reviews = rng.sample(nsmc, 2500)
    # the most duplicated reviews, as users wrote them
    common = [r for r in nsmc if r["text"] in {"굿", "최고", "good", "최고의 영화", "재밌어요"}][:120]
    for r in reviews + common:
        docs.append(doc(r["id"], r["text"], "nsmc"))
    laughing = [r for r in nsmc if "ㅋㅋㅋㅋㅋㅋ" in r["text"] or "ㅠㅠㅠㅠㅠ" in r["text"]][:150]
    for r in laughing:
        docs.append(doc(r["id"] + "-l", r["text"], "nsmc"))
    enfr = load("en-fr-sentences")
    for r in rng.sample(enfr, 150):
        docs.append(doc(r["id"], r["text"], "en-fr"))
    ja = load("ja-jglue-sentences")
    for r in rng.sample(ja, 60):
        docs.append(doc(r["id"], r["text"], "jglue"))
    for k, tpl in enumerate(SYNTHETIC_PII_KO * 10):
        base = docs[rng.randrange(len(paras))]["text"]
        pii = tpl.format(a=rng.randrange(10000), b=rng.randrange(10000), c=rng.randrange(100))
        docs.append(doc(f"synthetic-pii-ko-{k}", f"{base}\n{pii}", "ko-news + synthetic identifier"))
    rng.shuffle(docs)
    return docs


def build_ja(rng: random.Random) -> list[dict]:
    docs: list[dict] = []
    wiki = load("ja-wiki-jsquad")
    for r in wiki[:1200]:
        docs.append(doc(r["id"], r["text"], "ja-wiki"))
    for r in rng.sample(wiki[:1200], 40):
        docs.append(doc(r["id"] + "-edited", light_edit(r["text"], rng), "ja-wiki (edited copy)"))
    jglue = load("ja-jglue-sentences")
    for k, p in enumerate(paragraphs(jglue[:3000], rng, 2, 5)):
        docs.append(doc(f"jglue-p{k}", "".join(r["text"] for r in p), "jglue"))
    for r in rng.sample(jglue[3000:], 300):  # short single sentences, some repeated
        docs.append(doc(r["id"], r["text"], "jglue"))
    for r in rng.sample(jglue[3000:], 80):
        docs.append(doc(r["id"] + "-dup", r["text"], "jglue"))
    enfr = load("en-fr-sentences")
    for r in rng.sample(enfr, 120):
        docs.append(doc(r["id"], r["text"], "en-fr"))
    ko = load("ko-klue-sentences")
    for r in rng.sample(ko, 80):
        docs.append(doc(r["id"], r["text"], "klue"))
    for k, tpl in enumerate(SYNTHETIC_PII_JA * 10):
        base = docs[rng.randrange(1200)]["text"]
        pii = tpl.format(a=rng.randrange(10000), b=rng.randrange(10000))
        docs.append(doc(f"synthetic-pii-ja-{k}", f"{base}\n{pii}", "ja-wiki + synthetic identifier"))
    rng.shuffle(docs)
    return docs


def write(path: Path, docs: list[dict]) -> None:
    with gzip.GzipFile(path, "wb", mtime=0) as raw:
        for d in docs:
            raw.write((json.dumps(d, ensure_ascii=False) + "\n").encode("utf-8"))
    print(f"{path}: {len(docs)} documents, {path.stat().st_size} bytes")


if __name__ == "__main__":
    write(HERE / "ko.jsonl.gz", build_ko(random.Random(20261126)))
    write(HERE / "ja.jsonl.gz", build_ja(random.Random(20261127)))
