"""Token streams packed into fixed-length training sequences.

A corpus is one flat stream of token ids in which every document is followed by EOS.
Sequence i of an epoch is stream[i*L : i*L + L + 1] (inputs and next-token targets),
so documents are packed back to back with EOS between them. Each epoch visits the
sequences in a permutation seeded by (seed, epoch); one optimizer step takes the next
global_seqs indices of it, whatever the world size and micro-batch: micro-step k of
rank r takes its slice [k*world*mb + r*mb, +mb) of them. The loader's whole state is
(epoch, cursor) at a step boundary: resuming from it neither repeats nor skips data,
on any number of ranks.

Two sources:
- token shards (`train.token_shards`): TOK/manifest.json + part-XXXXX.bin (read as memmaps);
- curated Parquet shards (DATA/shards/*.parquet, column `text`), tokenized here on the
  fly with a Hugging Face tokenizer folder, or with a small byte-level BPE trained on
  the shard text itself when none is given (fine for samples; use token shards at scale).
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass

import numpy as np
import torch

from curate.io.fs import sha256
from train.token_shards import TokenizerMismatch, tokenizer_hash

EOS = "<|endoftext|>"
SCRATCH_MARK = "scratch_tokenizer.json"  # marks a tokenizer trained on the fly, for tiny runs only


@dataclass
class Corpus:
    stream: TokenStream
    eos_id: int
    vocab_size: int
    tokenizer_dir: str
    tokenizer_hash: str
    curated_manifest_sha256: str | None  # of the curated shards' manifest.json
    data_sha256: str | None  # of the manifest the stream is read from (token shards, or curated)


# ----------------------------------------------------------------------------- streams


class TokenStream:
    """Token arrays (memmaps or in-memory) read as one stream: each whole, in order, or
    the spans (part, start, length) given, in their order (a mixture's documents)."""

    def __init__(self, parts: list[np.ndarray], spans: np.ndarray | None = None):
        self.parts = list(parts)
        if spans is None:
            spans = np.array([(i, 0, len(p)) for i, p in enumerate(self.parts) if len(p)], dtype=np.int64)
        self.spans = spans.reshape(-1, 3)
        self.starts = np.concatenate([[0], np.cumsum(self.spans[:, 2])])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def window(self, a: int, b: int) -> np.ndarray:
        out, i = [], int(np.searchsorted(self.starts, a, side="right")) - 1
        while a < b:
            part, first, n = (int(v) for v in self.spans[i])
            lo = int(self.starts[i])
            take = min(b, lo + n) - a
            out.append(np.asarray(self.parts[part][first + a - lo : first + a - lo + take], dtype=np.int64))
            a += take
            i += 1
        return np.concatenate(out)


def open_token_shards(tok_shards: str, tokenizer_dir: str | None = None) -> Corpus:
    with open(os.path.join(tok_shards, "manifest.json"), encoding="utf-8") as f:
        m = json.load(f)
    tokenizer_dir = tokenizer_dir or os.path.join(tok_shards, m.get("tokenizer_dir", "tokenizer"))
    have = tokenizer_hash(tokenizer_dir)
    if have != m["tokenizer_hash"]:
        raise TokenizerMismatch(
            f"{tokenizer_dir}: tokenizer.json sha256 {have} is not the "
            f"{m['tokenizer_hash']} these token shards were made with"
        )
    dtype = np.dtype(m["dtype"]).newbyteorder("<")
    parts = [np.memmap(os.path.join(tok_shards, p["bin"]), dtype=dtype, mode="r") for p in m["parts"] if p["n_tokens"]]
    for p, arr in zip([p for p in m["parts"] if p["n_tokens"]], parts):
        if len(arr) != p["n_tokens"]:
            raise ValueError(f"{p['bin']}: {len(arr)} tokens, manifest says {p['n_tokens']}")
    return Corpus(
        TokenStream(parts),
        int(m["eos_id"]),
        int(m["vocab_size"]),
        tokenizer_dir,
        have,
        m.get("curated_manifest_sha256"),
        sha256(os.path.join(tok_shards, "manifest.json")),
    )


def read_shard_texts(data_dir: str) -> list[str]:
    """Kept documents of DATA/shards/*.parquet in shard order."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    paths = sorted(glob.glob(os.path.join(data_dir, "shards", "*.parquet")))
    if not paths:
        raise FileNotFoundError(f"{data_dir}/shards/*.parquet: no curated shards (run `make corpus` first)")
    texts = []
    for path in paths:
        names = pq.ParquetFile(path).schema_arrow.names
        table = pq.read_table(path, columns=[c for c in ("text", "drop_reason") if c in names])
        if "drop_reason" in table.column_names:
            table = table.filter(pc.is_null(table["drop_reason"]))
        texts.extend(t for t in table["text"].to_pylist() if t)
    return texts


def train_small_tokenizer(texts: list[str], out_dir: str, vocab_size: int | None = None) -> str:
    """A byte-level BPE on the given text, saved as a Hugging Face tokenizer folder.
    Default size: one token per ~100 characters of text, 512 to 4096 (a sample of a few
    hundred sentences cannot fill more, and a tiny model learns nothing from rare tokens)."""
    if vocab_size is None:
        vocab_size = min(4096, max(512, sum(map(len, texts)) // 100 // 128 * 128))
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if os.path.exists(os.path.join(out_dir, "tokenizer.json")):
        return out_dir
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tmp = f"{out_dir}.tmp-{os.getpid()}"
    PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=EOS, bos_token=EOS, unk_token=EOS, pad_token=EOS
    ).save_pretrained(tmp)
    with open(os.path.join(tmp, SCRATCH_MARK), "w", encoding="utf-8") as f:
        json.dump({"vocab_size": vocab_size, "characters": sum(map(len, texts))}, f)
    os.replace(tmp, out_dir)
    return out_dir


def is_scratch_tokenizer(tokenizer_dir: str) -> bool:
    """Whether train_small_tokenizer made this folder (it travels into token shards with it)."""
    return os.path.exists(os.path.join(tokenizer_dir, SCRATCH_MARK))


def encode_texts(tokenizer_dir: str, texts: list[str]) -> tuple[np.ndarray, int, int]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(tokenizer_dir, "tokenizer.json"))
    eos_id = tok.token_to_id(EOS)
    if eos_id is None:
        raise ValueError(f"{tokenizer_dir}: tokenizer has no {EOS} token")
    ids = []
    for enc in tok.encode_batch([t.replace(EOS, "") for t in texts], add_special_tokens=False):
        ids.extend(enc.ids)
        ids.append(eos_id)
    return np.asarray(ids, dtype=np.int32), eos_id, tok.get_vocab_size(with_added_tokens=True)


def open_parquet(data_dir: str, tokenizer_dir: str) -> Corpus:
    ids, eos_id, vocab = encode_texts(tokenizer_dir, read_shard_texts(data_dir))
    manifest = os.path.join(data_dir, "manifest.json")
    digest = sha256(manifest) if os.path.exists(manifest) else None
    return Corpus(TokenStream([ids]), eos_id, vocab, tokenizer_dir, tokenizer_hash(tokenizer_dir), digest, digest)


# ----------------------------------------------------------------------------- packing


class PackedLoader:
    """Micro-batches (inputs, targets) of shape (micro_batch, seq_len) for one rank; every
    global_seqs // (world * micro_batch) of them make one optimizer step's batch."""

    def __init__(
        self,
        stream: TokenStream,
        seq_len: int,
        micro_batch: int,
        rank: int = 0,
        world: int = 1,
        seed: int = 0,
        global_seqs: int | None = None,
    ):
        self.stream, self.seq_len, self.micro_batch = stream, seq_len, micro_batch
        self.rank, self.world, self.seed = rank, world, seed
        self.global_seqs = global_seqs or world * micro_batch
        self.accum, ragged = divmod(self.global_seqs, world * micro_batch)
        if ragged or not self.accum:
            raise ValueError(
                f"a global batch of {self.global_seqs} sequences does not split into micro-batches "
                f"of {world} ranks x {micro_batch}"
            )
        self.n_seqs = (len(stream) - 1) // seq_len
        if self.n_seqs < self.global_seqs:
            raise ValueError(
                f"{len(stream)} tokens make {self.n_seqs} sequences of {seq_len}: fewer than one "
                f"global batch of {self.global_seqs}"
            )
        self.epoch, self.cursor, self.micro = 0, 0, 0
        self._order_epoch, self._order = None, None

    def order(self) -> np.ndarray:
        if self._order_epoch != self.epoch:
            self._order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n_seqs)
            self._order_epoch = self.epoch
        return self._order

    def state_dict(self) -> dict:
        if self.micro:
            raise RuntimeError(f"data position taken mid-step (micro-step {self.micro} of {self.accum})")
        return {
            "epoch": self.epoch,
            "cursor": self.cursor,
            "seed": self.seed,
            "seq_len": self.seq_len,
            "n_seqs": self.n_seqs,
        }

    def load_state_dict(self, state: dict) -> None:
        if (state["seq_len"], state["n_seqs"], state["seed"]) != (self.seq_len, self.n_seqs, self.seed):
            raise ValueError(
                f"data position {state} was taken on different data or packing "
                f"(now seq_len {self.seq_len}, {self.n_seqs} sequences, seed {self.seed})"
            )
        self.epoch, self.cursor, self.micro = state["epoch"], state["cursor"], 0

    def next_indices(self) -> np.ndarray:
        # a step's batch never straddles epochs: the ragged tail is dropped, the same on every rank
        if self.micro == 0 and self.cursor + self.global_seqs > self.n_seqs:
            self.epoch, self.cursor = self.epoch + 1, 0
        start = self.cursor + self.micro * self.world * self.micro_batch + self.rank * self.micro_batch
        mine = self.order()[start : start + self.micro_batch]
        self.micro += 1
        if self.micro == self.accum:
            self.cursor, self.micro = self.cursor + self.global_seqs, 0
        return mine

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        L = self.seq_len
        rows = np.stack([self.stream.window(i * L, i * L + L + 1) for i in self.next_indices()])
        rows = torch.from_numpy(rows)
        return rows[:, :-1].contiguous(), rows[:, 1:].contiguous()
