"""Resumable pass-1 output: one staged Parquet file per input file.

A staged file (and its dedup keys) is written under a temporary name and renamed
when the last row of its input file has arrived, so after a crash (kill -9 at any
moment) a re-run finds exactly the input files that were finished and redoes the
rest. The work folder is named after the recipe, the stages and the inputs (path,
size, mtime), so a changed recipe or input never reuses stale work.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.dedup.step import StagedFile, live_keys
from curate.io import fs
from curate.io.schema import SHARD_SCHEMA
from curate.stages.normalize import NORMALIZE_VERSION

KEYS_VERSION = 3  # 2: line_hashes for the boilerplate pass; 3: body signatures (core links)


def file_key(path: str) -> str:
    return hashlib.sha256(fs.identity(path).encode()).hexdigest()[:20]


def run_key(recipe: dict, stages: list[str], paths: list[str]) -> str:
    # the schema too: staged rows of an older schema (a signal added since) are not reused
    blob = json.dumps(
        {
            "recipe": {k: v for k, v in recipe.items() if not k.startswith("_")},
            "stages": stages,
            "files": [file_key(p) for p in paths],
            "schema": str(SHARD_SCHEMA),
            "keys": KEYS_VERSION,
            "normalize": NORMALIZE_VERSION,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def origin_path(origin: str) -> str:
    return origin.rsplit(":", 1)[0]


class StagedRun:
    """Per-input-file staged rows and corpus-step keys inside one work folder.

    key_columns: the columns the corpus steps keep per live row (curate/dedup/step.py);
    none: no keys files."""

    def __init__(self, work_dir: Path, paths: list[str], key_columns: list[str]):
        self.work = work_dir
        self.dir = work_dir / "files"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.paths = [p if fs.is_uri(p) else os.path.abspath(p) for p in paths]
        self.key_columns = list(key_columns)
        self.with_keys = bool(self.key_columns)
        self._keys = {p: file_key(p) for p in self.paths}
        self._open_path: str | None = None
        self._writers: tuple | None = None

    def staged(self, path: str) -> Path:
        return self.dir / f"{self._keys[path]}.parquet"

    def keys(self, path: str) -> Path:
        return self.dir / f"{self._keys[path]}.keys.parquet"

    def done(self, path: str) -> bool:
        return self.staged(path).exists() and (not self.with_keys or self.keys(path).exists())

    def pending(self) -> list[str]:
        return [p for p in self.paths if not self.done(p)]

    def write(self, table: pa.Table) -> None:
        """Append rows of one or more consecutive input files (in input order)."""
        files = [origin_path(o) for o in table.column("origin").to_pylist()]
        start = 0
        for i in range(1, len(files) + 1):
            if i == len(files) or files[i] != files[start]:
                self._append(files[start], table.slice(start, i - start))
                start = i

    def _append(self, path: str, rows: pa.Table) -> None:
        if path != self._open_path:
            self.finish()
            self._open_path, self._n = path, 0
            staged = pq.ParquetWriter(f"{self.staged(path)}.tmp", SHARD_SCHEMA, compression="zstd")
            self._writers = [staged, None]
        staged, key_writer = self._writers
        staged.write_table(rows.select(SHARD_SCHEMA.names).cast(SHARD_SCHEMA))
        if self.with_keys:
            keys = live_keys(rows, self._n, self.key_columns)
            if key_writer is None:
                key_writer = pq.ParquetWriter(f"{self.keys(path)}.tmp", keys.schema, compression="zstd")
                self._writers[1] = key_writer
            key_writer.write_table(keys.cast(key_writer.schema))
        self._n += rows.num_rows

    def finish(self) -> None:
        """Close the open input file's outputs; keys first, the staged rows mark it done."""
        if self._writers is None:
            return
        staged, key_writer = self._writers
        path = self._open_path
        staged.close()
        if key_writer is not None:
            key_writer.close()
            os.replace(f"{self.keys(path)}.tmp", self.keys(path))
        os.replace(f"{self.staged(path)}.tmp", self.staged(path))
        self._writers, self._open_path = None, None

    def warc_tally_file(self, path: str) -> Path:
        return self.dir / f"{self._keys[path]}.warc.json"

    def write_warc_tally(self, path: str, tally: dict) -> None:
        """An archive's record counts; written before its staged rows are marked done."""
        target = self.warc_tally_file(path)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(tally), encoding="utf-8")
        os.replace(tmp, target)

    def warc_tally(self) -> dict | None:
        """The record counts of every archive input, summed (None: no archive input)."""
        from curate.io.warc import WarcTally

        total, seen = WarcTally(), False
        for path in self.paths:
            if self.warc_tally_file(path).exists():
                total.merge(json.loads(self.warc_tally_file(path).read_text(encoding="utf-8")))
                seen = True
        return total.to_dict() if seen else None

    def row_counts(self) -> list[int]:
        return [pq.ParquetFile(self.staged(p)).metadata.num_rows for p in self.paths]

    def files(self) -> list[StagedFile]:
        """Every staged file as the corpus steps' tasks read it (counts from Parquet metadata)."""
        out, first = [], 0
        for index, path in enumerate(self.paths):
            n = pq.ParquetFile(self.staged(path)).metadata.num_rows
            keys = str(self.keys(path)) if self.with_keys else None
            live = pq.ParquetFile(keys).metadata.num_rows if keys else 0
            out.append(StagedFile(index, str(self.staged(path)), keys, first, n, live))
            first += n
        return out
