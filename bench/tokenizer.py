"""Morpheme-aware BPE vs plain byte-level BPE, same training text, same vocabulary.

On held-out real text from ../shared/corpora it prints, per language and tokenizer:
tokens per character, tokens per eojeol (Korean: space-separated units) or per word
(Japanese: unidic words), the share of token boundaries that fall on morpheme
boundaries (precision), the share of morpheme boundaries that are token boundaries
(recall) and the share of tokens that straddle a morpheme boundary (crossing).
Boundaries are compared in bytes, so a token that ends inside a character never counts.
The morpheme boundaries are the analyser's (kiwipiepy cong / fugashi unidic-lite).

    .venv/bin/python bench/tokenizer.py [--vocab 8000] [--ko-train-chars 1200000] [--corpora DIR]

Korean trains on news + KLUE + NSMC sentences and is measured on held-out news, KLUE,
NSMC and the KorQuAD Wikipedia paragraphs (evaluation only: read here, never copied).
Japanese trains on JSQuAD Wikipedia paragraphs and JGLUE sentences and is measured on
held-out articles (whole titles held out) and sentences.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from train import tokenizer as T  # noqa: E402

CORPORA = Path(__file__).parents[1] / ".." / "shared" / "corpora"


def read(name: str) -> list[dict]:
    with gzip.open(CORPORA / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def korean(train_chars: int, rng: random.Random) -> tuple[list[str], dict[str, list[str]]]:
    news = [r["text"] for r in read("ko-news-sentences.jsonl.gz")]
    klue = [r["text"] for r in read("ko-klue-sentences.jsonl.gz")]
    nsmc = [r["text"] for r in read("ko-nsmc-reviews.jsonl.gz")]
    korquad = [r["text"] for r in read("ko-wiki-korquad.jsonl.gz")]
    rng.shuffle(klue)
    rng.shuffle(nsmc)
    # news stays in article order: the last 1,000 sentences are later articles
    held = {"news": news[-1000:], "klue": klue[:1000], "nsmc": nsmc[:3000], "korquad-wiki": korquad[:300]}
    train = news[:-1000] + klue[1000:]
    budget = train_chars - sum(map(len, train))
    for t in nsmc[3000:]:
        if budget <= 0:
            break
        train.append(t)
        budget -= len(t)
    return train, held


def japanese(rng: random.Random) -> tuple[list[str], dict[str, list[str]]]:
    wiki = read("ja-wiki-jsquad.jsonl.gz")
    titles = sorted({r["title"] for r in wiki})
    rng.shuffle(titles)
    held_titles = set(titles[: len(titles) // 8])
    jglue = [r["text"] for r in read("ja-jglue-sentences.jsonl.gz")]
    rng.shuffle(jglue)
    held = {"jsquad-wiki": [r["text"] for r in wiki if r["title"] in held_titles], "jglue": jglue[:1000]}
    train = [r["text"] for r in wiki if r["title"] not in held_titles] + jglue[1000:]
    return train, held


def token_byte_lengths(tok) -> np.ndarray:
    """Bytes each id stands for: one per byte-level character, UTF-8 length for added tokens."""
    n = tok.get_vocab_size(with_added_tokens=True)
    added = {i: t.content for i, t in tok.get_added_tokens_decoder().items()}
    return np.array([len(added[i].encode()) if i in added else len(tok.id_to_token(i)) for i in range(n)])


def morpheme_byte_boundaries(texts: list[str], lang: str) -> list[tuple[set[int], set[int]]]:
    """Per text, in byte offsets: the inner morpheme boundaries (a morpheme's leading
    whitespace belongs to it, as in " 공부") and the whitespace edges inside the pieces."""
    out = []
    for text, pieces in zip(texts, T.morpheme_pieces(texts, lang)):
        cuts, edges, pos = set(), set(), 0
        for p in pieces:
            lead = len(p) - len(p.lstrip())
            if 0 < lead < len(p):
                edges.add(pos + len(p[:lead].encode()))
            pos += len(p.encode())
            cuts.add(pos)
        cuts.discard(len(text.encode()))
        out.append((cuts, edges))
    return out


def measure(tok, texts: list[str], truth: list[tuple[set[int], set[int]]], n_words: int) -> dict:
    """precision: token boundaries on a morpheme boundary or whitespace edge; recall:
    morpheme boundaries that are token boundaries; crossing: tokens with a morpheme
    boundary strictly inside them."""
    lengths = token_byte_lengths(tok)
    n_tok = on = n_bound = n_cuts = hit = crossing = 0
    for enc, (cuts, edges) in zip(tok.encode_batch_fast(texts, add_special_tokens=False), truth):
        ends = np.cumsum(lengths[enc.ids])
        inner = set(ends[:-1].tolist())
        n_tok += len(enc.ids)
        n_bound += len(inner)
        on += len(inner & (cuts | edges))
        n_cuts += len(cuts)
        hit += len(cuts & inner)
        starts = ends - lengths[enc.ids]
        c = np.array(sorted(cuts), dtype=np.int64)
        crossing += int(np.count_nonzero(np.searchsorted(c, ends, "left") > np.searchsorted(c, starts, "right")))
    chars = sum(map(len, texts))
    return {
        "tok/char": n_tok / chars,
        "tok/word": n_tok / n_words,
        "precision": on / max(1, n_bound),
        "recall": hit / max(1, n_cuts),
        "crossing": crossing / max(1, n_tok),
    }


def words(texts: list[str], lang: str) -> int:
    if lang == "ko":
        return sum(len(t.split()) for t in texts)  # eojeol
    tagger = T.get_morphemes("ja").tagger
    return sum(len(tagger.parse(t).split()) for t in texts)  # unidic words


def bench(lang: str, train: list[str], held: dict[str, list[str]], vocab: int) -> None:
    t0 = time.time()
    ours = T.train_bpe(T.count_pieces(train, lang), vocab)
    t1 = time.time()
    plain = T.train_bpe(T.count_pieces(train, None), vocab)
    t2 = time.time()
    print(
        f"\n{lang}: trained on {len(train):,} docs, {sum(map(len, train)):,} chars, vocab {vocab} "
        f"(padded {ours.get_vocab_size(with_added_tokens=True)}); morpheme-aware {t1 - t0:.1f}s "
        f"(segmentation included), plain {t2 - t1:.1f}s"
    )
    unit = "eojeol" if lang == "ko" else "word"
    print(
        f"{'held-out':<14}{'chars':>9} {'tokenizer':<10}{'tok/char':>9}{'tok/' + unit:>11}"
        f"{'on-morph':>10}{'recall':>8}{'crossing':>10}"
    )
    totals = {"ours": [], "plain": []}
    for name, texts in held.items():
        truth = morpheme_byte_boundaries(texts, lang)
        n_words = words(texts, lang)
        for label, tok in (("ours", ours), ("plain", plain)):
            m = measure(tok, texts, truth, n_words)
            totals[label].append((sum(map(len, texts)), m))
            print(
                f"{name:<14}{sum(map(len, texts)):>9,} {label:<10}{m['tok/char']:>9.4f}{m['tok/word']:>11.3f}"
                f"{m['precision']:>10.1%}{m['recall']:>8.1%}{m['crossing']:>10.1%}"
            )
    agg = {}
    for label, rows in totals.items():
        w = sum(c for c, _ in rows)
        agg[label] = {k: sum(c * m[k] for c, m in rows) / w for k in rows[0][1]}
    o, p = agg["ours"], agg["plain"]
    print(
        f"{lang} ratios ours/plain (char-weighted over held-out sets): "
        f"tokens {o['tok/char'] / p['tok/char']:.3f}x, "
        f"token boundaries on morpheme boundaries {o['precision']:.1%} vs {p['precision']:.1%} "
        f"(off-morpheme boundaries {(1 - o['precision']) / max(1e-9, 1 - p['precision']):.3f}x), "
        f"tokens crossing a morpheme boundary {o['crossing']:.1%} vs {p['crossing']:.1%} "
        f"({o['crossing'] / max(1e-9, p['crossing']):.3f}x)"
    )


def main() -> None:
    global CORPORA
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--ko-train-chars", type=int, default=1_200_000)
    ap.add_argument("--langs", default="ko,ja")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument(
        "--corpora",
        type=Path,
        default=CORPORA,
        help="folder with the real corpora (default: ../shared/corpora beside the repo)",
    )
    args = ap.parse_args()
    CORPORA = args.corpora
    if not CORPORA.exists():
        sys.exit(f"{CORPORA}: shared corpora not found")
    for lang in args.langs.split(","):
        rng = random.Random(args.seed)
        train, held = korean(args.ko_train_chars, rng) if lang == "ko" else japanese(rng)
        bench(lang, train, held, args.vocab)


if __name__ == "__main__":
    main()
