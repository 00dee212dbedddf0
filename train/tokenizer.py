"""Morpheme-aware byte-level BPE, as Polyglot-Ko trained its tokenizer.

Training text is cut at morpheme boundaries (kiwipiepy for Korean, fugashi +
unidic-lite for Japanese) and the BPE merges are counted inside those pieces only,
so no merge ever spans a morpheme boundary of the training text. The saved tokenizer
is a plain ByteLevel BPE (GPT-2 regex pre-tokenizer, no normalizer), which every
`tokenizers` / `transformers` install loads and which decodes to the exact input,
spaces and newlines included. A custom Python pre-tokenizer would not serialize.

Whitespace goes with the piece that follows it (" 공부"), as the GPT-2 regex does at
encode time, so the merges learned in training are the ones inference uses.

    python -m train.tokenizer --lang ko --data out/corpus/ko --vocab 30000 --out out/tokenizer/ko
    python -m train.tokenizer --langs ko,ja,en --data D1,D2,D3 --weights 0.5,0.3,0.2 --out out/tokenizer/multi

``--vocab`` is the BPE vocabulary (bytes + merges + special tokens); reserved tokens
then pad it to a multiple of 128 (30,000 -> 30,080, the Polyglot-Ko embedding size).
"""

from __future__ import annotations

import argparse
import functools
import glob
import hashlib
import json
import os
import re
import shutil
import sys
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from curate.io import fs
from curate.io.fs import sha256
from curate.io.schema import PII_KINDS

EOS = "<|endoftext|>"
# The PII stage replaces what it finds with <|kind|>; each must stay one token, and in
# PII_KINDS' order, which fixes their ids
PII_TOKENS = tuple(f"<|{kind}|>" for kind in PII_KINDS)
SPECIAL_TOKENS = (EOS, *PII_TOKENS)
RESERVED = "<|reserved_{}|>"
PAD_MULTIPLE = 128
MORPH_LANGS = ("ko", "ja")
TRAINING_META = "tokenizer_training.json"

# Analysers are slow on very long lines and some have input limits: cut there.
MAX_CHUNK_CHARS = 2000
_SPECIAL_RE = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKENS) + ")")
_CHUNK_BREAK = re.compile(r"[\s。．！？!?.]")


# ---------------------------------------------------------------- morpheme boundaries


class KoreanMorphemes:
    """kiwipiepy (default ``cong`` model); kiwi reports spans in Python characters."""

    def __init__(self):
        from kiwipiepy import Kiwi

        self.kiwi = Kiwi(num_workers=-1, model_type="cong")  # one thread: we parallelise over processes

    def __call__(self, chunks: list[str]) -> list[list[int]]:
        out = []
        for toks in self.kiwi.tokenize(chunks):
            cuts = set()
            for t in toks:
                cuts.add(t.start)
                cuts.add(t.start + t.len)
            out.append(sorted(cuts))
        return out


class JapaneseMorphemes:
    """fugashi (MeCab) + unidic-lite; surfaces are located in the text in order, so
    whitespace MeCab skips costs nothing and nothing it might normalise is trusted."""

    def __init__(self):
        import fugashi

        self.tagger = fugashi.Tagger("-Owakati")

    def __call__(self, chunks: list[str]) -> list[list[int]]:
        out = []
        for chunk in chunks:
            cuts, pos = [], 0
            for surface in self.tagger.parse(chunk).split(" "):
                surface = surface.strip("\n")
                if not surface:
                    continue
                at = chunk.find(surface, pos)
                if at < 0:
                    continue
                cuts += [at, at + len(surface)]
                pos = at + len(surface)
            out.append(sorted(set(cuts)))
        return out


class NoMorphemes:
    """Spaced languages (and the plain-BPE baseline): the GPT-2 regex does all the cutting."""

    def __call__(self, chunks: list[str]) -> list[list[int]]:
        return [[] for _ in chunks]


@functools.cache
def get_morphemes(lang: str | None):
    """One analyser per language per process (a Ray worker loads its own)."""
    if lang == "ko":
        return KoreanMorphemes()
    if lang == "ja":
        return JapaneseMorphemes()
    return NoMorphemes()


def _chunks(text: str) -> Iterator[str]:
    """Lines (newline kept), long lines cut near MAX_CHUNK_CHARS at a space or sentence end."""
    for line in text.splitlines(keepends=True):
        while len(line) > MAX_CHUNK_CHARS:
            window = line[MAX_CHUNK_CHARS // 2 : MAX_CHUNK_CHARS]
            breaks = [m.end() for m in _CHUNK_BREAK.finditer(window)]
            cut = MAX_CHUNK_CHARS // 2 + breaks[-1] if breaks else MAX_CHUNK_CHARS
            yield line[:cut]
            line = line[cut:]
        if line:
            yield line


def _cut(chunk: str, cuts: list[int]) -> list[str]:
    """Split a chunk at morpheme cuts, each cut moved back over the whitespace before it."""
    pieces, prev = [], 0
    for p in cuts:
        while p > prev and chunk[p - 1].isspace() and p < len(chunk) and not chunk[p].isspace():
            p -= 1
        if prev < p < len(chunk):
            pieces.append(chunk[prev:p])
            prev = p
    pieces.append(chunk[prev:])
    return pieces


def morpheme_pieces(texts: list[str], lang: str | None) -> list[list[str]]:
    """Each text as pieces whose concatenation, with the special tokens, is the text.

    Special tokens are left out (they are added tokens, never merged); every other
    character lands in exactly one piece.
    """
    analyse = get_morphemes(lang)
    chunks, owner = [], []
    for i, text in enumerate(texts):
        for part in _SPECIAL_RE.split(text):
            if part and part not in SPECIAL_TOKENS:
                for c in _chunks(part):
                    chunks.append(c)
                    owner.append(i)
    out: list[list[str]] = [[] for _ in texts]
    for i, chunk, cuts in zip(owner, chunks, analyse(chunks) if chunks else []):
        out[i].extend(_cut(chunk, cuts))
    return out


def count_pieces(texts: Iterable[str], lang: str | None, batch: int = 256) -> Counter:
    """Piece frequencies over texts: all the BPE trainer needs from the corpus."""
    counts: Counter = Counter()
    buf: list[str] = []
    for t in texts:
        buf.append(t)
        if len(buf) >= batch:
            for pieces in morpheme_pieces(buf, lang):
                counts.update(pieces)
            buf.clear()
    if buf:
        for pieces in morpheme_pieces(buf, lang):
            counts.update(pieces)
    return counts


# ---------------------------------------------------------------- curated shards


def shard_paths(data_dir: str) -> list[str]:
    """Curated shards DATA/shards/*.parquet (or *.parquet directly under DATA); DATA may be a URI."""
    find = fs.glob if fs.is_uri(data_dir) else lambda pattern: sorted(glob.glob(pattern))
    paths = find(fs.join(data_dir, "shards", "*.parquet"))
    paths = paths or find(fs.join(data_dir, "*.parquet"))
    if not paths:
        raise FileNotFoundError(f"{data_dir}: no curated shards (expected shards/*.parquet)")
    return paths


def _read_kept(path: str):
    """The text column of one shard's kept rows (rows with a drop_reason are skipped)."""
    import pyarrow.compute as pc

    names = fs.parquet_file(path).schema_arrow.names
    table = fs.read_table(path, columns=["text"] + (["drop_reason"] if "drop_reason" in names else []))
    if "drop_reason" in names:
        table = table.filter(pc.is_null(table.column("drop_reason")))
    return table.column("text")


def read_shard_texts(path: str) -> list[str]:
    return [t for t in _read_kept(path).to_pylist() if t]


def shard_chars(path: str) -> int:
    import pyarrow.compute as pc

    return int(pc.sum(pc.utf8_length(_read_kept(path))).as_py() or 0)


def _keep(text: str, fraction: float, seed: int) -> bool:
    """Deterministic per-document sample: the same documents in any process, any order."""
    if fraction >= 1.0:
        return True
    h = hashlib.blake2b(text.encode("utf-8"), digest_size=8, key=seed.to_bytes(8, "little")).digest()
    return int.from_bytes(h, "little") < fraction * 2**64


def count_shard_pieces(path: str, lang: str | None, fraction: float = 1.0, seed: int = 0) -> Counter:
    """One Ray task (or one loop step): sample a shard's documents and count their pieces."""
    return count_pieces((t for t in read_shard_texts(path) if _keep(t, fraction, seed)), lang)


def sample_fractions(chars: dict[str, int], weights: dict[str, float], max_chars: int | None) -> dict[str, float]:
    """Per-language document fractions so that the training text splits by `weights`.

    The total is the largest one no language must repeat text for, capped by max_chars.
    """
    total_w = sum(weights.values())
    share = {lang: w / total_w for lang, w in weights.items()}
    total = min(chars[lang] / share[lang] for lang in share if share[lang] > 0)
    if max_chars:
        total = min(total, max_chars)
    return {lang: min(1.0, share[lang] * total / chars[lang]) if chars[lang] else 0.0 for lang in share}


# ---------------------------------------------------------------- training and saving


def _repeat(counts: Counter, batch: int = 8192) -> Iterator[list[str]]:
    """Feed each piece as often as it occurs, in batches (the trainer takes no weights).
    The trainer's cost is per occurrence either way; lists of one shared str are cheap."""
    buf: list[str] = []
    for piece, n in counts.items():
        buf.extend([piece] * n)
        if len(buf) >= batch:
            yield buf
            buf = []
    if buf:
        yield buf


def padded_size(n: int, multiple: int = PAD_MULTIPLE) -> int:
    return -(-n // multiple) * multiple


def train_bpe(counts: Counter, vocab_size: int, min_frequency: int = 2):
    """A ByteLevel BPE trained on piece counts, special tokens first, padded to 128."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        show_progress=False,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_repeat(counts), trainer=trainer)
    n = tok.get_vocab_size(with_added_tokens=True)
    tok.add_special_tokens([AddedToken(RESERVED.format(i), special=True) for i in range(padded_size(n) - n)])
    return tok


def save_tokenizer(tok, out_dir: str, meta: dict | None = None, model_max_length: int = 2048) -> str:
    """A Hugging Face tokenizer folder, written aside and renamed into place."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    tok.save(str(tmp / "tokenizer.json"))
    special = {
        "bos_token": EOS,
        "eos_token": EOS,
        "unk_token": EOS,
        "pad_token": EOS,
        "additional_special_tokens": list(PII_TOKENS),
    }
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": model_max_length,
        "clean_up_tokenization_spaces": False,
        **special,
    }
    for name, obj in (
        ("tokenizer_config.json", config),
        ("special_tokens_map.json", special),
        (TRAINING_META, meta or {}),
    ):
        (tmp / name).write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    swap_into_place(tmp, out)
    return str(out)


def swap_into_place(new: Path, out: Path) -> None:
    """Replace folder `out` with the finished folder `new`: the old one is moved aside
    first and removed last, so `out` is never half-written."""
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
        out.rename(old)
    new.rename(out)
    if old is not None:
        shutil.rmtree(old)


def _manifest_hash(data_dir: str) -> str | None:
    path = fs.join(data_dir, "manifest.json")
    return sha256(path) if fs.exists(path) else None


def train_from_shards(
    langs: list[str],
    data_dirs: list[str],
    vocab_size: int,
    out_dir: str,
    weights: list[float] | None = None,
    max_chars: int | None = None,
    workers: int | None = None,
    seed: int = 0,
    min_frequency: int = 2,
) -> str:
    """Train on curated shards of one or more languages; returns the tokenizer folder."""
    if len(langs) != len(data_dirs):
        raise ValueError("one data folder per language")
    weights = weights or [1.0] * len(langs)
    if len(weights) != len(langs):
        raise ValueError("one weight per language")
    paths = {lang: shard_paths(d) for lang, d in zip(langs, data_dirs)}
    if len(langs) == 1 and not max_chars:
        fractions = {langs[0]: 1.0}
    else:
        chars = {lang: sum(shard_chars(p) for p in ps) for lang, ps in paths.items()}
        fractions = sample_fractions(chars, dict(zip(langs, weights)), max_chars)
    tasks = [(p, lang, fractions[lang], seed) for lang in langs for p in paths[lang]]
    if workers == 1 or len(tasks) == 1:
        counts: Counter = Counter()
        for task in tasks:
            counts.update(count_shard_pieces(*task))
    else:
        from pipelines.token_jobs import merge_counts_on_ray

        counts = merge_counts_on_ray(count_shard_pieces, tasks, workers)
    tok = train_bpe(counts, vocab_size, min_frequency)
    learned = sum(1 for t in tok.get_vocab(with_added_tokens=True) if not t.startswith(RESERVED[:11]))
    if learned < vocab_size:  # BPE stops when no pair occurs min_frequency times
        print(
            f"train.tokenizer: warning: the corpus is too small for --vocab {vocab_size}: learned {learned:,} "
            f"tokens (padded to {tok.get_vocab_size(with_added_tokens=True):,}) from {sum(counts.values()):,} "
            f"pieces ({len(counts):,} distinct); give more text or a smaller --vocab",
            file=sys.stderr,
        )
    meta = {
        "langs": langs,
        "weights": weights,
        "sample_fractions": fractions,
        "seed": seed,
        "vocab_size_requested": vocab_size,
        "vocab_size": tok.get_vocab_size(with_added_tokens=True),
        "data": [
            {"lang": lang, "dir": d if fs.is_uri(d) else os.path.abspath(d), "manifest_sha256": _manifest_hash(d)}
            for lang, d in zip(langs, data_dirs)
        ],
        "pieces": sum(counts.values()),
        "distinct_pieces": len(counts),
        "special_tokens": list(SPECIAL_TOKENS),
        "morphemes": {"ko": "kiwipiepy cong", "ja": "fugashi unidic-lite"},
    }
    return save_tokenizer(tok, out_dir, meta)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lang", help="one language (ko, ja, en, ...)")
    ap.add_argument("--langs", help="several languages, comma separated (with --weights)")
    ap.add_argument("--data", required=True, help="curated corpus folder(s), comma separated with --langs")
    ap.add_argument("--weights", help="sampling weight per language, comma separated")
    ap.add_argument("--vocab", type=int, default=30000, help="BPE vocabulary before padding to 128")
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-chars", type=float, default=None, help="cap on training characters (all languages)")
    ap.add_argument("--min-frequency", type=int, default=2)
    ap.add_argument("--workers", type=int, default=None, help="Ray workers (1: in this process)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if bool(args.lang) == bool(args.langs):
        ap.error("give exactly one of --lang or --langs")
    langs = [args.lang] if args.lang else args.langs.split(",")
    dirs = args.data.split(",")
    weights = [float(w) for w in args.weights.split(",")] if args.weights else None
    out = train_from_shards(
        langs,
        dirs,
        args.vocab,
        args.out,
        weights,
        int(args.max_chars) if args.max_chars else None,
        args.workers,
        args.seed,
        args.min_frequency,
    )
    from tokenizers import Tokenizer

    n = Tokenizer.from_file(os.path.join(out, "tokenizer.json")).get_vocab_size(with_added_tokens=True)
    print(f"tokenizer ({','.join(langs)}, vocab {n}) -> {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
