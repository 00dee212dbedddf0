"""A fastText quality classifier: P(good) per document, the ``model_score`` signal.

Trained from two JSON Lines files (a ``text`` field each): examples of text to keep
and text to drop. Korean and Japanese are segmented into words first (curate.stages.segment),
since fastText splits on spaces. Training needs the ``fasttext`` package (0.9.3);
scoring uses the same binding through ``model.f.predict``, which, unlike
``FastText.predict``, works under numpy 2.

    curate train-quality --good wiki.jsonl --bad spam.jsonl --out model.bin --lang ko

and in a recipe: ``quality: {model: model.bin, min_model_score: 0.5}``.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

from curate.stages.segment import segmented

GOOD, BAD = "__label__good", "__label__bad"


def _read_texts(path: str | Path) -> list[str]:
    p = str(path)
    opener = gzip.open if p.endswith(".gz") else open
    out = []
    with opener(p, "rt", encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            line = line.strip()
            if line:
                try:
                    record = json.loads(line)
                except ValueError as exc:
                    raise ValueError(f"{p}:{line_no}: not a JSON line ({exc})") from exc
                text = record.get("text") if isinstance(record, dict) else None
                if text:
                    out.append(text)
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split())  # fastText reads one example per line


def train_quality_model(
    good: list[str | Path] | str | Path,
    bad: list[str | Path] | str | Path,
    out: str | Path,
    lang: str,
    epoch: int = 10,
    lr: float = 0.5,
    word_ngrams: int = 2,
    dim: int = 64,
    seed: int = 0,
) -> dict:
    """Train and save the classifier; returns counts and training-set precision/recall."""
    import fasttext

    good = [good] if isinstance(good, (str, Path)) else good
    bad = [bad] if isinstance(bad, (str, Path)) else bad
    good_texts = [t for p in good for t in _read_texts(p)]
    bad_texts = [t for p in bad for t in _read_texts(p)]
    if not good_texts or not bad_texts:
        raise ValueError(f"need examples of both kinds (good: {len(good_texts)}, bad: {len(bad_texts)})")
    rows = [f"{GOOD} {_one_line(t)}" for t in segmented(good_texts, lang)]
    rows += [f"{BAD} {_one_line(t)}" for t in segmented(bad_texts, lang)]
    random.Random(seed).shuffle(rows)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
        train_path = f.name
    try:
        model = fasttext.train_supervised(
            input=train_path,
            epoch=epoch,
            lr=lr,
            wordNgrams=word_ngrams,
            dim=dim,
            minCount=1,
            loss="softmax",
            thread=1,
            seed=seed,
            verbose=0,
        )
        n, precision, recall = model.test(train_path)
    finally:
        os.unlink(train_path)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    model.save_model(str(out))
    return {"good": len(good_texts), "bad": len(bad_texts), "train_precision": precision, "train_recall": recall}


class QualityModel:
    """Loads a trained classifier once; ``score(texts)`` -> P(good) as float32."""

    def __init__(self, path: str | Path, lang: str | None = None):
        import fasttext

        self.path = str(path)
        self.lang = lang
        self.model = fasttext.load_model(self.path)

    def score(self, texts: list[str], lang: str | None = None) -> np.ndarray:
        lang = lang or self.lang or "en"
        out = np.zeros(len(texts), dtype=np.float32)
        for i, text in enumerate(segmented(texts, lang)):
            # k=-1: every label with its probability; "strict" as langid uses it.
            for prob, label in self.model.f.predict(_one_line(text), -1, 0.0, "strict"):
                if label == GOOD:
                    out[i] = prob
        return out


@functools.cache
def _load(path: str) -> QualityModel:
    return QualityModel(path)


def model_scorer(path: str):
    """A quality-stage scorer (see curate.stages.quality.stage.SCORERS) filling ``model_score``."""

    def score(texts: list[str], lang: str) -> dict[str, list[float]]:
        return {"model_score": _load(str(path)).score(texts, lang).tolist()}

    return score


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="curate train-quality", description=__doc__.splitlines()[0])
    ap.add_argument("--good", action="append", required=True, help="JSONL of text to keep (repeatable)")
    ap.add_argument("--bad", action="append", required=True, help="JSONL of text to drop (repeatable)")
    ap.add_argument("--out", required=True, help="where to write model.bin")
    ap.add_argument("--lang", default="ko", help="language, for word segmentation (ko, ja, or a spaced language)")
    ap.add_argument("--epoch", type=int, default=10)
    args = ap.parse_args(argv)
    try:
        stats = train_quality_model(args.good, args.bad, args.out, args.lang, epoch=args.epoch)
    except (ValueError, OSError) as exc:  # a malformed line (named with its file and line), a missing file
        print(f"curate train-quality: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"out": args.out, **stats}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
