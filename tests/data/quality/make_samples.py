"""Copy the small real samples the quality tests use out of ../shared/corpora.

Run from the project root: PYTHONPATH=. python tests/data/quality/make_samples.py
Deterministic: takes fixed slices, no randomness. See NOTICE for sources and licences.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import yaml

from curate.stages.quality.lines import _bare_noun_row

HERE = Path(__file__).resolve().parent
CORPORA = HERE.parents[2] / ".." / "shared" / "corpora"
RECIPES = HERE.parents[2] / "pipelines" / "recipes"


def read(name: str) -> list[dict]:
    with gzip.open(CORPORA / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def write(name: str, rows: list[dict]) -> None:
    with open(HERE / name, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main() -> None:
    news = read("ko-news-sentences.jsonl.gz")
    # both varieties, in article order (the test groups consecutive sentences)
    south = [r for r in news if r["variety"] == "south"][1000:1400]
    north = [r for r in news if r["variety"] == "north"][1000:1400]
    write("ko-news-sentences.jsonl", south + north)
    klue = read("ko-klue-sentences.jsonl.gz")
    # premises only: NLI hypotheses paraphrase their premise, so side by side they repeat it
    write(
        "ko-klue-wiki-sentences.jsonl",
        [r for r in klue if r["source"] in ("wikipedia", "wikinews") and r["id"].endswith("premise")],
    )
    jsquad = read("ja-wiki-jsquad.jsonl.gz")
    write("ja-wiki-jsquad.jsonl", [{"id": r["id"], "text": r["text"]} for r in jsquad[1000:1250]])
    write("ko-plain-topic-words.jsonl", plain_topic_words(news, klue))
    write("ko-nsmc-informal.jsonl", informal_reviews(read("ko-nsmc-reviews.jsonl.gz")))
    enfr = read("en-fr-sentences.jsonl.gz")
    en = [r for r in enfr if r["lang"] == "en"][1000:1200]
    fr = [r for r in enfr if r["lang"] == "fr"][1000:1200]
    write("en-fr-sentences.jsonl", en + fr)


def plain_topic_words(news: list[dict], klue: list[dict]) -> list[dict]:
    """Every news and KLUE sentence holding a topic word of flagged/ko-topics.yaml (대출,
    성인...): text that uses a word spam also uses, in its plain sense."""
    topics = yaml.safe_load((RECIPES / "flagged" / "ko-topics.yaml").read_text(encoding="utf-8"))["topic_words"]
    return [
        {"id": r["id"], "source": r.get("source", "news"), "text": r["text"]}
        for r in news + klue
        if any(w in r["text"] for w in topics)
    ]


def informal_reviews(nsmc: list[dict]) -> list[dict]:
    """NSMC reviews in file order: the first 60 with exactly one Hangul syllable outside
    KS X 1001 (a rare-but-valid syllable: 돋앋는데, 봣어요), and the first 60 one-line
    reviews of 8+ eojeol that mostly end without a particle (they read like a row of
    bare nouns: "송지효 병원에 입원해 있을때 미모 터짐 진짜 예쁨")."""
    rare, noun_rows = [], []
    for r in nsmc:
        text = r["text"]
        n_rare = sum(1 for ch in text if "\uac00" <= ch <= "\ud7a3" and len(ch.encode("euc-kr")) != 2)
        if n_rare == 1 and len(rare) < 60:
            rare.append({"id": r["id"], "kind": "rare_syllable", "text": text})
        elif "\n" not in text and _bare_noun_row(text.strip()) and len(noun_rows) < 60:
            noun_rows.append({"id": r["id"], "kind": "one_line", "text": text})
    return rare + noun_rows


if __name__ == "__main__":
    main()
