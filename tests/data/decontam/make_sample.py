"""Rebuild the small samples in this folder from ../shared/corpora (seeded, reproducible).

PYTHONPATH=. .venv/bin/python tests/data/decontam/make_sample.py
"""

import gzip
import json
import random
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPORA = HERE.parents[2] / ".." / "shared" / "corpora"


def read(name):
    with gzip.open(CORPORA / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def write(name, rows):
    with gzip.GzipFile(HERE / name, "wb", compresslevel=9, mtime=0) as f:
        f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8"))


def squash(s):  # letters and digits only: to spot real overlap between benchmark and corpus
    return "".join(c for c in unicodedata.normalize("NFKC", s).casefold() if unicodedata.category(c)[0] in "LN")


def main():
    rng = random.Random(11)
    klue = read("ko-klue-sentences.jsonl.gz")
    long_ko = [r for r in klue if len(r["text"]) >= 50]
    short_ko = rng.sample([r for r in klue if len(r["text"]) < 50], 500)
    write(
        "ko-klue-sentences.jsonl.gz",
        [{"id": r["id"], "text": r["text"]} for r in sorted(long_ko + short_ko, key=lambda r: r["id"])],
    )

    # JGLUE: whole JNLI/JSTS pairs (both sentences of one item) and JCommonsenseQA questions.
    jglue = read("ja-jglue-sentences.jsonl.gz")
    items = {}
    for r in jglue:
        items.setdefault(r["id"].rsplit("-", 1)[0], []).append(r)
    keys = sorted(rng.sample(sorted(items), 700))
    write("ja-jglue-sentences.jsonl.gz", [{"id": r["id"], "text": r["text"]} for k in keys for r in items[k]])

    # Unrelated text: news paragraphs (3 consecutive sentences of one article set),
    # Wikipedia paragraphs, and groups of 4 movie reviews.
    news = read("ko-news-sentences.jsonl.gz")
    paras = [news[i : i + 3] for i in range(0, len(news) - 2, 3)]
    paras = rng.sample(paras, 600)
    write("ko-news-paragraphs.jsonl.gz", [{"id": p[0]["id"], "text": " ".join(s["text"] for s in p)} for p in paras])

    wiki = rng.sample(read("ja-wiki-jsquad.jsonl.gz"), 500)
    write("ja-wiki-paragraphs.jsonl.gz", [{"id": r["id"], "text": r["text"]} for r in wiki])

    # KLUE NLI took premises from NSMC: reviews that are a KLUE sentence are real
    # contamination, not "unrelated" text, so they are left out of the sample.
    klue_keys = {squash(r["text"]) for r in klue}
    reviews = []
    with gzip.open(CORPORA / "ko-nsmc-reviews.jsonl.gz", "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % 100 == 0:
                reviews.append(json.loads(line))
    reviews = [r for r in reviews if len(r["text"]) >= 10 and squash(r["text"]) not in klue_keys]
    reviews = rng.sample(reviews, 1000 * 4)
    write(
        "ko-nsmc-review-groups.jsonl.gz",
        [
            {"id": reviews[i]["id"], "text": "\n".join(r["text"] for r in reviews[i : i + 4])}
            for i in range(0, len(reviews), 4)
        ],
    )


if __name__ == "__main__":
    main()
