"""Curated shards -> token shards, the trainer's input.

    TOK/manifest.json          dtype, vocab_size, eos_id, tokenizer_hash, curated_manifest_sha256, parts
    TOK/part-00000.bin         little-endian token ids; every document is followed by eos_id
    TOK/part-00000.idx.npy     int64 offsets of document starts, n_docs + 1 entries (last = n_tokens)
    TOK/part-00000.docs.parquet each document's id and n_chars, in the same order (mixtures
                               hold documents out by id; bits per character count n_chars)
    TOK/tokenizer/             the tokenizer the ids came from

uint16 when the vocabulary fits, uint32 otherwise. Every file is written under a
temporary name and renamed; the whole folder is built aside and swapped in last, so a
crash never leaves token shards that look complete. The pure functions live here; the
Ray fan-out over shards is pipelines/token_jobs.py, handed tokenize_part.

    python -m train.token_shards --data out/corpus/ko --tokenizer out/tokenizer/ko --out out/tokens/ko
"""

from __future__ import annotations

import argparse
import datetime as _dt
import functools
import json
import os
import shutil
import sys
import uuid
from pathlib import Path

import numpy as np

from curate.io import fs
from curate.io.fs import sha256
from train.tokenizer import EOS, shard_paths, swap_into_place

MANIFEST = "manifest.json"
FORMAT_VERSION = 2  # 2: part-XXXXX.docs.parquet, "lang"


class TokenizerMismatch(ValueError):
    """The tokenizer offered does not match the one the token shards were made with."""


def tokenizer_hash(tok_dir: str) -> str:
    return sha256(os.path.join(tok_dir, "tokenizer.json"))


def load_manifest(tok_shards: str) -> dict:
    path = tok_shards if tok_shards.endswith(".json") else os.path.join(tok_shards, MANIFEST)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def verify_tokenizer(tok_dir: str, manifest: dict | str) -> None:
    """Raise TokenizerMismatch unless tok_dir/tokenizer.json is the one `manifest` records.

    `manifest` is the token-shard manifest (a dict), its path, or the token-shard folder.
    """
    if not isinstance(manifest, dict):
        manifest = load_manifest(str(manifest))
    want, have = manifest.get("tokenizer_hash"), tokenizer_hash(tok_dir)
    if want != have:
        raise TokenizerMismatch(f"{tok_dir}: tokenizer.json sha256 {have} != {want} recorded for these token shards")


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype("<u2") if vocab_size <= 1 << 16 else np.dtype("<u4")


@functools.lru_cache(maxsize=4)
def load_tokenizer(tok_dir: str):
    """The `tokenizers` object behind the HF folder, once per process (the callers pass
    the copy inside a fresh token-shard folder, so a cached one is never stale)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))


def encode_documents(tok, texts: list[str], eos_id: int, dtype) -> tuple[np.ndarray, np.ndarray, int]:
    """Token ids of texts, each followed by eos_id, and each document's length.

    A literal "<|endoftext|>" inside a text would read as a document boundary, so it
    is removed first; the count of removals comes back third.
    """
    removed = sum(t.count(EOS) for t in texts)
    if removed:
        texts = [t.replace(EOS, "") for t in texts]
    encs = tok.encode_batch_fast(texts, add_special_tokens=False)
    lengths = np.fromiter((len(e.ids) + 1 for e in encs), dtype=np.int64, count=len(encs))
    ids = np.empty(int(lengths.sum()), dtype=dtype)
    pos = 0
    for e in encs:
        n = len(e.ids)
        ids[pos : pos + n] = e.ids
        ids[pos + n] = eos_id
        pos += n + 1
    return ids, lengths, removed


def plan_parts(data_dir: str, docs_per_part: int = 200_000) -> list[dict]:
    """Split curated shards into part tasks: whole row groups, about docs_per_part rows each."""

    tasks = []
    for path in shard_paths(data_dir):
        meta = fs.parquet_file(path).metadata
        path = path if fs.is_uri(path) else os.path.abspath(path)
        groups, rows = [], 0
        for g in range(meta.num_row_groups):
            groups.append(g)
            rows += meta.row_group(g).num_rows
            if rows >= docs_per_part:
                tasks.append({"path": path, "row_groups": groups})
                groups, rows = [], 0
        if groups:
            tasks.append({"path": path, "row_groups": groups})
    for i, task in enumerate(tasks):
        task["part"] = i
    return tasks


def _atomic_path(path: str) -> str:
    return f"{path}.tmp-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def tokenize_part(task: dict, tok_dir: str, out_dir: str, vocab_size: int, eos_id: int, batch_docs: int = 1024) -> dict:
    """Encode one part task's kept documents into part-XXXXX.bin / .idx.npy in out_dir."""
    import pyarrow.compute as pc

    tok = load_tokenizer(tok_dir)
    dtype = token_dtype(vocab_size)
    pf = fs.parquet_file(task["path"])
    cols = ["id", "text"] + (["drop_reason"] if "drop_reason" in pf.schema_arrow.names else [])
    name = f"part-{task['part']:05d}"
    bin_path, idx_path = os.path.join(out_dir, name + ".bin"), os.path.join(out_dir, name + ".idx.npy")
    docs_path = os.path.join(out_dir, name + ".docs.parquet")
    lengths, removed, doc_ids, doc_chars = [], 0, [], []
    tmp_bin = _atomic_path(bin_path)
    with open(tmp_bin, "wb") as f:
        for batch in pf.iter_batches(batch_size=batch_docs, row_groups=task["row_groups"], columns=cols):
            if "drop_reason" in cols:
                batch = batch.filter(pc.is_null(batch.column("drop_reason")))
            kept = [(i, t) for i, t in zip(batch.column("id").to_pylist(), batch.column("text").to_pylist()) if t]
            if not kept:
                continue
            ids, lens, n_removed = encode_documents(tok, [t for _, t in kept], eos_id, dtype)
            f.write(ids.tobytes())
            lengths.append(lens)
            removed += n_removed
            doc_ids.extend(i for i, _ in kept)
            doc_chars.extend(len(t.replace(EOS, "")) for _, t in kept)
        f.flush()
        os.fsync(f.fileno())
    write_docs(docs_path, doc_ids, doc_chars)
    lens = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    offsets = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    tmp_idx = _atomic_path(idx_path) + ".npy"  # np.save keeps a name that already ends in .npy
    np.save(tmp_idx, offsets)
    os.replace(tmp_bin, bin_path)
    os.replace(tmp_idx, idx_path)
    return {
        "bin": name + ".bin",
        "idx": name + ".idx.npy",
        "docs": name + ".docs.parquet",
        "n_chars": int(sum(doc_chars)),
        "n_tokens": int(offsets[-1]),
        "n_docs": int(len(lens)),
        "source": task["path"],
        "row_groups": task["row_groups"],
        "eos_literals_removed": removed,
    }


def write_docs(path: str, ids: list[str], n_chars: list[int]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = _atomic_path(path)
    pq.write_table(pa.table({"id": pa.array(ids, pa.string()), "n_chars": pa.array(n_chars, pa.int64())}), tmp)
    os.replace(tmp, path)


def open_part(tok_shards: str, part: dict, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """A part's tokens (read-only memmap) and document offsets."""
    tokens = np.memmap(os.path.join(tok_shards, part["bin"]), dtype=np.dtype(dtype).newbyteorder("<"), mode="r")
    offsets = np.load(os.path.join(tok_shards, part["idx"]))
    return tokens, offsets


def curated_lang(curated_manifest: str) -> str | None:
    return json.loads(fs.read_text(curated_manifest)).get("lang")


def write_token_shards(
    data_dir: str, tok_dir: str, out_dir: str, workers: int | None = None, docs_per_part: int = 200_000
) -> dict:
    """Tokenize every curated shard of data_dir into out_dir; returns the manifest."""
    curated_manifest = fs.join(data_dir, "manifest.json")
    if not fs.exists(curated_manifest):
        raise FileNotFoundError(f"{curated_manifest}: token shards must name the curated manifest they came from")
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))  # uncached: it may have just been retrained
    vocab_size = tok.get_vocab_size(with_added_tokens=True)
    eos_id = tok.token_to_id(EOS)
    if eos_id is None:
        raise ValueError(f"{tok_dir}: tokenizer has no {EOS} token")
    tasks = plan_parts(data_dir, docs_per_part)

    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        shutil.copytree(tok_dir, staging / "tokenizer")
        tok_copy = str(staging / "tokenizer")
        if workers == 1 or len(tasks) <= 1:
            parts = [tokenize_part(t, tok_copy, str(staging), vocab_size, eos_id) for t in tasks]
        else:
            from pipelines.token_jobs import map_on_ray

            parts = map_on_ray(tokenize_part, tasks, tok_copy, str(staging), vocab_size, eos_id, workers=workers)
        manifest = {
            "format_version": FORMAT_VERSION,
            "dtype": token_dtype(vocab_size).name,
            "vocab_size": vocab_size,
            "eos_id": eos_id,
            "tokenizer_hash": tokenizer_hash(tok_copy),
            "tokenizer_dir": "tokenizer",
            "curated_manifest_sha256": sha256(curated_manifest),
            "lang": curated_lang(curated_manifest),
            "curated_dir": data_dir if fs.is_uri(data_dir) else os.path.abspath(data_dir),
            "n_tokens": sum(p["n_tokens"] for p in parts),
            "n_docs": sum(p["n_docs"] for p in parts),
            "n_chars": sum(p["n_chars"] for p in parts),
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "parts": parts,
        }
        tmp = staging / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, staging / MANIFEST)
        swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def main(argv: list[str] | None = None, prog: str = "curate tokenize") -> int:
    ap = argparse.ArgumentParser(prog=prog, description="Curated shards -> token shards for the trainer")
    ap.add_argument("--data", required=True, help="curated corpus folder (shards/*.parquet + manifest.json)")
    ap.add_argument("--tokenizer", required=True, help="tokenizer folder (tokenizer.json)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--workers", type=int, default=None, help="Ray workers (1: in this process)")
    ap.add_argument("--docs-per-part", type=int, default=200_000, help="documents per token shard file")
    args = ap.parse_args(argv)
    try:
        m = write_token_shards(args.data, args.tokenizer, args.out, args.workers, args.docs_per_part)
    except FileNotFoundError as exc:
        print(f"curate tokenize: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{m['n_docs']} docs, {m['n_tokens']} tokens ({m['dtype']}, {len(m['parts'])} parts) -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m train.token_shards"))
