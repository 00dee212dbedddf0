"""Letter soup in Latin script: keyboard mash ("asdfghjkl", "jfkdlsajfk") and Korean
typed with the IME off ("dkssudgktpdy" for 안녕하세요), inside text of any language.

Each Latin word of 4+ letters is scored by the mean log-probability of its letter
transitions (word start and end included) under a letter-bigram model of English and
French words; words of real languages, names and romanized Korean/Japanese score
above MASH_SCORE, mash below it. `mash_chars` counts the characters of such words.

The model's counts live in latin_bigrams.json, built from the English and French
news sentences of the Korean/Japanese parallel corpora (CC BY-SA 3.0) by
`python -m curate.stages.gibberish build FILE.jsonl[.gz]...`.
"""

from __future__ import annotations

import functools
import gzip
import json
import math
import re
import sys
import unicodedata
from pathlib import Path

BIGRAMS_FILE = Path(__file__).with_name("latin_bigrams.json")
ALPHABET = "abcdefghijklmnopqrstuvwxyz"
START, END = "^", "$"
# Measured on held-out English/French news words, Latin words in KorQuAD/JSQuAD/KLUE/
# JGLUE, and mash typed from keyboard rows: -4.0 flags 0.06% of the en/fr words
# (Xinhua, Mughniyeh), 0.4-0.7% of the Latin words in Korean/Japanese text (Airbnb,
# armhf), and 86% of 4-12 letter mash words.
MASH_SCORE = -4.0
MIN_LETTERS = 4
# One odd name is not mash: a document's mash counts from this many characters on.
MIN_MASH_CHARS = 10

_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_FULLWIDTH_LATIN = re.compile(r"[Ａ-Ｚａ-ｚ]")
# URLs and e-mail addresses carry random-looking strings; url_density judges them.
_ADDRESS = re.compile(r"(?:https?://|www\.)[!-~]+|[\w.+-]+@[\w-]+\.[\w.-]+", re.I)
_WWW = re.compile(r"www\.", re.I)


@functools.lru_cache(maxsize=1)
def _log_probs() -> dict[str, float]:
    """'ab' -> log P(b | a), add-half smoothed; '^a' starts a word, 'a$' ends one."""
    counts = json.loads(BIGRAMS_FILE.read_text())["counts"]
    logp = {}
    for a in START + ALPHABET:
        row = counts.get(a, {})
        total = sum(row.values()) + 0.5 * (len(ALPHABET) + 1)
        for b in ALPHABET + END:
            logp[a + b] = math.log((row.get(b, 0) + 0.5) / total)
    return logp


def _folded(word: str) -> str | None:
    """Lowercase ASCII letters of a word with its accents dropped; None where letters
    outside a-z remain (ß, ø, æ): the model does not judge those."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)).lower()
    return plain if plain.isascii() and plain.isalpha() else None


@functools.lru_cache(maxsize=1 << 16)
def word_score(word: str) -> float | None:
    """Mean log-probability per letter transition of a word; None for words the model
    does not judge (under MIN_LETTERS letters, all capitals, letters outside a-z)."""
    if len(word) < MIN_LETTERS or word.isupper():
        return None
    letters = _folded(word)
    if letters is None:
        return None
    logp = _log_probs()
    seq = START + letters + END
    return sum(logp[seq[i : i + 2]] for i in range(len(seq) - 1)) / (len(seq) - 1)


def mash_chars(text: str) -> int:
    """Characters of the Latin words in text that score as mash (0 below MIN_MASH_CHARS)."""
    if _FULLWIDTH_LATIN.search(text):  # ｓｄｆｇ: the mash a Japanese input method leaves
        text = unicodedata.normalize("NFKC", text)
    if not _LATIN_WORD.search(text):
        return 0
    if "@" in text or "://" in text or _WWW.search(text):  # every address holds one
        text = _ADDRESS.sub(" ", text)
    n = 0
    for word in _LATIN_WORD.findall(text):
        score = word_score(word)
        if score is not None and score < MASH_SCORE:
            n += len(word)
    return n if n >= MIN_MASH_CHARS else 0


def build(paths: list[str], out: Path = BIGRAMS_FILE) -> dict:
    """Count letter transitions of every Latin word in the "text" of JSONL files."""
    counts: dict[str, dict[str, int]] = {}
    n_words = 0
    for path in paths:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            for line in f:
                for word in _LATIN_WORD.findall(json.loads(line).get("text") or ""):
                    letters = _folded(word)
                    if not letters:
                        continue
                    n_words += 1
                    seq = START + letters + END
                    for a, b in zip(seq, seq[1:]):
                        row = counts.setdefault(a, {})
                        row[b] = row.get(b, 0) + 1
    model = {
        "source": [Path(p).name for p in paths],
        "words": n_words,
        "counts": {a: dict(sorted(row.items())) for a, row in sorted(counts.items())},
    }
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(model, ensure_ascii=False, indent=0) + "\n")
    tmp.replace(out)
    return model


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "build":
        sys.exit("usage: python -m curate.stages.gibberish build FILE.jsonl[.gz] [...]")
    built = build(sys.argv[2:])
    print(f"{BIGRAMS_FILE}: {built['words']:,} words from {', '.join(built['source'])}")
