"""Reading a mixture (train.mix) back: its training stream, read by the trainer as one
corpus, and its held-out slices, one per language and source.

    MIX/manifest.json          "kind": "mixture", the sources (with their manifests' sha256),
                               the shares asked and taken, the token counts
    MIX/train.npy              (source, document) of every training document, in stream order
    MIX/heldout/LANG-NAME.npy  the documents of each held-out slice
    MIX/tokenizer/             the tokenizer every source was made with
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from curate.io.fs import sha256
from train import data as D
from train.token_shards import TokenizerMismatch, open_part, tokenizer_hash


@dataclass
class SourceDocs:
    """A token-shard folder's documents: where each one lies, its id and characters."""

    parts: list[np.ndarray]
    doc_part: np.ndarray  # index into parts
    doc_start: np.ndarray
    doc_tokens: np.ndarray  # with its EOS
    ids: list[str]
    chars: np.ndarray
    manifest: dict


def read_source(tok_shards: str, with_ids: bool = True) -> SourceDocs:
    import pyarrow.parquet as pq

    with open(os.path.join(tok_shards, "manifest.json"), encoding="utf-8") as f:
        m = json.load(f)
    parts, doc_part, starts, ids, chars = [], [], [], [], []
    for p in m["parts"]:
        if "docs" not in p:
            raise ValueError(f"{tok_shards}: token shards without document ids (made before format 2): run make tokens")
        tokens, offsets = open_part(tok_shards, p, m["dtype"])
        doc_part.append(np.full(len(offsets) - 1, len(parts), dtype=np.int64))
        starts.append(offsets)
        parts.append(tokens)
        table = pq.read_table(
            os.path.join(tok_shards, p["docs"]), columns=["id", "n_chars"] if with_ids else ["n_chars"]
        )
        ids.extend(table.column("id").to_pylist() if with_ids else [])
        chars.append(table.column("n_chars").to_numpy())
    cat = lambda arrays: np.concatenate(arrays) if arrays else np.zeros(0, np.int64)  # noqa: E731
    return SourceDocs(
        parts,
        cat(doc_part),
        cat([o[:-1] for o in starts]),
        cat([np.diff(o) for o in starts]),
        ids,
        cat(chars),
        m,
    )


def load_mix_manifest(mix_dir: str) -> dict:
    with open(os.path.join(mix_dir, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)


def is_mixture(tok_dir: str) -> bool:
    path = os.path.join(tok_dir, "manifest.json")
    return os.path.exists(path) and load_mix_manifest(tok_dir).get("kind") == "mixture"


def _sources(mix_dir: str, m: dict) -> list[SourceDocs]:
    """The mixture's sources, each checked to be the one the mixture was made from."""
    out = []
    for s in m["sources"]:
        have = sha256(os.path.join(s["path"], "manifest.json"))
        if have != s["manifest_sha256"]:
            raise ValueError(f"{mix_dir}: source {s['path']} changed since the mixture was made (make mix again)")
        out.append(read_source(s["path"], with_ids=False))
    return out


def _stream(sources: list[SourceDocs], refs: np.ndarray, head: tuple[np.ndarray, ...] = ()) -> D.TokenStream:
    """The documents refs (source, doc) of sources, in that order, after the arrays `head`."""
    parts, where, first, length = list(head), [], [], []
    for src in sources:
        where.append(len(parts) + src.doc_part)
        first.append(src.doc_start)
        length.append(src.doc_tokens)
        parts.extend(src.parts)
    doc_base = np.concatenate([[0], np.cumsum([len(src.doc_part) for src in sources])])
    g = doc_base[refs[:, 0]] + refs[:, 1]
    docs = np.stack([np.concatenate(where)[g], np.concatenate(first)[g], np.concatenate(length)[g]], axis=1)
    heads = np.array([(i, 0, len(h)) for i, h in enumerate(head)], dtype=np.int64).reshape(-1, 3)
    return D.TokenStream(parts, np.concatenate([heads, docs]).astype(np.int64))


def open_mixture(mix_dir: str, tokenizer_dir: str | None = None) -> D.Corpus:
    m = load_mix_manifest(mix_dir)
    tokenizer_dir = tokenizer_dir or os.path.join(mix_dir, m["tokenizer_dir"])
    have = tokenizer_hash(tokenizer_dir)
    if have != m["tokenizer_hash"]:
        raise TokenizerMismatch(
            f"{tokenizer_dir}: tokenizer.json sha256 {have} is not the mixture's {m['tokenizer_hash']}"
        )
    stream = _stream(_sources(mix_dir, m), np.load(os.path.join(mix_dir, "train.npy")))
    digest = sha256(os.path.join(mix_dir, "manifest.json"))
    return D.Corpus(stream, int(m["eos_id"]), int(m["vocab_size"]), tokenizer_dir, have, None, digest)


def open_tokens(tok_dir: str, tokenizer_dir: str | None = None) -> D.Corpus:
    """Token shards (train.token_shards) or a mixture of them (train.mix), as one corpus."""
    if is_mixture(tok_dir):
        return open_mixture(tok_dir, tokenizer_dir)
    return D.open_token_shards(tok_dir, tokenizer_dir)


@dataclass
class HeldOut:
    stream: D.TokenStream  # EOS, then each document followed by its EOS
    chars: int
    docs: int


def heldout_slices(mix_dir: str) -> dict[str, HeldOut]:
    """{"LANG/NAME": slice} for every source of the mixture."""
    m = load_mix_manifest(mix_dir)
    sources = _sources(mix_dir, m)
    eos = np.array([int(m["eos_id"])], dtype=np.int64)
    out = {}
    for src, s in zip(sources, m["sources"]):
        docs = np.load(os.path.join(mix_dir, s["heldout"]))
        refs = np.column_stack([np.zeros_like(docs), docs])
        out[f"{s['lang']}/{s['name']}"] = HeldOut(_stream([src], refs, (eos,)), int(src.chars[docs].sum()), len(docs))
    return out
