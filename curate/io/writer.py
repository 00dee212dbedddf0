"""Atomic Parquet shard writers on any filesystem (curate.io.fs): a shard appears
under its name only once complete, so a crash never leaves a half-written shard
that looks done."""

from __future__ import annotations

import hashlib
import json
import re

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.io import fs
from curate.io.records import QUARANTINE
from curate.io.schema import DICTIONARY_COLUMNS, SHARD_SCHEMA

QUARANTINE_SCHEMA = pa.schema(
    [("id", pa.string()), ("origin", pa.string()), ("error", pa.string()), ("raw", pa.string())]
)


def atomic_write_json(path: str, obj) -> None:
    fs.write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def stats_name(kind: str, shard_name: str) -> str:
    """The file beside the shards that holds one shard's statistics."""
    return f"{kind}-{shard_name.removesuffix('.parquet')}.json"


def to_quarantine(table: pa.Table) -> pa.Table:
    prefix = re.escape(f"{QUARANTINE}: ")
    errors = pc.replace_substring_regex(table.column("drop_reason"), f"^{prefix}", "", max_replacements=1)
    return pa.table(
        {
            "id": table.column("id"),
            "origin": table.column("origin"),
            "error": errors.cast(pa.string()),
            "raw": table.column("text"),
        },
        schema=QUARANTINE_SCHEMA,
    )


class ShardWriter:
    """Buffers rows into shards of at most max_rows rows / max_bytes bytes of text.

    kind names the folder (shards, rejected, quarantine); shards are named
    PREFIX-NNNNN.parquet. stats_fn, when given, is called on each shard's table and its
    result saved beside the shards in stats_dir.
    """

    def __init__(
        self,
        root: str,
        kind: str,
        schema: pa.Schema = SHARD_SCHEMA,
        max_rows: int = 200_000,
        max_bytes: int = 256 << 20,
        stats_fn=None,
        stats_dir: str | None = None,
        prefix: str = "part",
    ):
        self.root, self.kind, self.schema = root, kind, schema
        self.dir = fs.join(root, kind)
        self.max_rows, self.max_bytes = max_rows, max_bytes
        self.stats_fn, self.stats_dir = stats_fn, stats_dir
        self.prefix = prefix
        self.buffer: list[pa.Table] = []
        self.rows = self.bytes = 0
        self.entries: list[dict] = []
        fs.makedirs(self.dir)

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        table = table.select(self.schema.names).cast(self.schema)
        self.buffer.append(table)
        self.rows += table.num_rows
        self.bytes += table.nbytes
        if self.rows >= self.max_rows or self.bytes >= self.max_bytes:
            self._flush()

    def _flush(self) -> None:
        if not self.buffer:
            return
        table = pa.concat_tables(self.buffer)
        name = f"{self.prefix}-{len(self.entries):05d}.parquet"
        path = fs.join(self.dir, name)
        sink = pa.BufferOutputStream()  # the bytes once, for their size and checksum too
        pq.write_table(table, sink, compression="zstd", use_dictionary=DICTIONARY_COLUMNS)
        data = sink.getvalue()
        with fs.open_output(path) as f:
            f.write(data)
        entry = {
            "path": f"{self.kind}/{name}",
            "rows": table.num_rows,
            "bytes": data.size,
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        if self.stats_fn is not None and self.stats_dir is not None:
            stats = self.stats_fn(table)
            atomic_write_json(fs.join(self.stats_dir, stats_name(self.kind, name)), stats)
        self.entries.append(entry)
        self.buffer, self.rows, self.bytes = [], 0, 0

    def close(self) -> list[dict]:
        self._flush()
        return self.entries
