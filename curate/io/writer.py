"""Atomic Parquet shard writers: each shard is written under a temporary name and
renamed into place, so a crash never leaves a half-written shard that looks done."""

from __future__ import annotations

import json
import os
import re

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.io import fs
from curate.io.records import QUARANTINE
from curate.io.schema import SHARD_SCHEMA

QUARANTINE_SCHEMA = pa.schema(
    [("id", pa.string()), ("origin", pa.string()), ("error", pa.string()), ("raw", pa.string())]
)


def atomic_write_text(path: str, text: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: str, obj) -> None:
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


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
        self.dir = os.path.join(root, kind)
        self.max_rows, self.max_bytes = max_rows, max_bytes
        self.stats_fn, self.stats_dir = stats_fn, stats_dir
        self.prefix = prefix
        self.buffer: list[pa.Table] = []
        self.rows = self.bytes = 0
        self.entries: list[dict] = []
        os.makedirs(self.dir, exist_ok=True)

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
        path = os.path.join(self.dir, name)
        tmp = path + ".tmp"
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        entry = {
            "path": f"{self.kind}/{name}",
            "rows": table.num_rows,
            "bytes": os.path.getsize(path),
            "sha256": fs.sha256(path),
        }
        if self.stats_fn is not None and self.stats_dir is not None:
            os.makedirs(self.stats_dir, exist_ok=True)
            stats = self.stats_fn(table)
            atomic_write_json(os.path.join(self.stats_dir, f"{self.kind}-{name[:-8]}.json"), stats)
        self.entries.append(entry)
        self.buffer, self.rows, self.bytes = [], 0, 0

    def close(self) -> list[dict]:
        self._flush()
        return self.entries
