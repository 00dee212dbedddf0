"""Copy the small real samples the quality tests use out of ../shared/corpora.

Run from the project root: python tests/data/quality/make_samples.py
Deterministic: takes fixed slices, no randomness. See NOTICE for sources and licences.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPORA = HERE.parents[2] / ".." / "shared" / "corpora"


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
    enfr = read("en-fr-sentences.jsonl.gz")
    en = [r for r in enfr if r["lang"] == "en"][1000:1200]
    fr = [r for r in enfr if r["lang"] == "fr"][1000:1200]
    write("en-fr-sentences.jsonl", en + fr)


if __name__ == "__main__":
    main()
