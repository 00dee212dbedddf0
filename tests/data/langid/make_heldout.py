"""Rebuild heldout.jsonl.gz: sentences of at least 20 characters from ../shared/corpora
that the bundled sample does not use (seeded)."""

import gzip
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / ".." / "shared" / "corpora"


def load(name):
    with gzip.open(SHARED / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


rng = random.Random(7)
rows = []
news = [r for r in load("ko-news-sentences")][2400:]  # the sample takes the first 2400
rows += [
    {"text": r["text"], "lang": "ko", "source": "ko-news"}
    for r in rng.sample([r for r in news if len(r["text"]) >= 20], 400)
]
klue = load("ko-klue-sentences")[1500:]
rows += [
    {"text": r["text"], "lang": "ko", "source": "klue"}
    for r in rng.sample([r for r in klue if len(r["text"]) >= 20], 300)
]
jglue = load("ja-jglue-sentences")[3000:]
rows += [
    {"text": r["text"], "lang": "ja", "source": "jglue"}
    for r in rng.sample([r for r in jglue if len(r["text"]) >= 20], 400)
]
wiki = load("ja-wiki-jsquad")[1200:]
rows += [{"text": r["text"], "lang": "ja", "source": "ja-wiki"} for r in rng.sample(wiki, 300)]
enfr = [r for r in load("en-fr-sentences") if len(r["text"]) >= 20]
rows += [
    {"text": r["text"], "lang": r["lang"], "source": "en-fr"}
    for r in rng.sample([r for r in enfr if r["lang"] == "en"], 300)
]
rows += [{"text": r["text"], "lang": r["lang"], "source": "en-fr"} for r in [r for r in enfr if r["lang"] == "fr"]]
with gzip.GzipFile(HERE / "heldout.jsonl.gz", "wb", mtime=0) as f:
    for r in rows:
        f.write((json.dumps(r, ensure_ascii=False) + "\n").encode())
print(len(rows))
