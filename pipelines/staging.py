"""Resumable pass-1 output: one staged Parquet file per input file.

The work folder lives under the output, on its filesystem (curate.io.fs). A staged
file (and its dedup keys) appears under its name only when the last row of its input
file has arrived (fs.AtomicOutput), so after a crash (kill -9 at any moment) a re-run
finds exactly the input files that were finished and redoes the rest. The work folder is named after the recipe, the stages and the inputs (path,
size, mtime), so a changed recipe or input never reuses stale work.
"""

from __future__ import annotations

import hashlib
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

from curate.dedup.step import StagedFile, live_keys
from curate.io import fs
from curate.io.schema import DICTIONARY_COLUMNS, SHARD_SCHEMA
from curate.stages.normalize import NORMALIZE_VERSION

# 2: line_hashes for the boilerplate pass; 3: body signatures (core links); 4: line hashes by key_hashes;
# 5: every line's hash (all_line_hashes, keyed_lines) for the re-signing
KEYS_VERSION = 5


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

    def __init__(self, work_dir: str, paths: list[str], key_columns: list[str]):
        self.work = work_dir
        self.dir = fs.join(work_dir, "files")
        fs.makedirs(self.dir)
        self.paths = [p if fs.is_uri(p) else os.path.abspath(p) for p in paths]
        self.key_columns = list(key_columns)
        self.with_keys = bool(self.key_columns)
        self._keys = {p: file_key(p) for p in self.paths}
        self._open_path: str | None = None
        self._writers: tuple | None = None

    def staged(self, path: str) -> str:
        return fs.join(self.dir, f"{self._keys[path]}.parquet")

    def keys(self, path: str) -> str:
        return fs.join(self.dir, f"{self._keys[path]}.keys.parquet")

    def pending(self) -> list[str]:
        present = set(fs.list_relative(self.dir))  # one listing, not a request per file
        return [p for p in self.paths if not self._done(p, present)]

    def _done(self, path: str, present: set[str]) -> bool:
        return fs.name(self.staged(path)) in present and (not self.with_keys or fs.name(self.keys(path)) in present)

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
            out = fs.AtomicOutput(self.staged(path))
            writer = pq.ParquetWriter(out.stream, SHARD_SCHEMA, compression="zstd", use_dictionary=DICTIONARY_COLUMNS)
            self._writers = [(out, writer), None]
        staged, key_writer = self._writers
        staged[1].write_table(rows.select(SHARD_SCHEMA.names).cast(SHARD_SCHEMA))
        if self.with_keys:
            keys = live_keys(rows, self._n, self.key_columns)
            if key_writer is None:
                out = fs.AtomicOutput(self.keys(path))
                # ids, hashes and signatures: no value repeats enough for a dictionary
                key_writer = (out, pq.ParquetWriter(out.stream, keys.schema, compression="zstd", use_dictionary=False))
                self._writers[1] = key_writer
            key_writer[1].write_table(keys.cast(key_writer[1].schema))
        self._n += rows.num_rows

    def finish(self) -> None:
        """Close the open input file's outputs; keys first, the staged rows mark it done."""
        if self._writers is None:
            return
        for pair in reversed(self._writers):  # keys first
            if pair is not None:
                out, writer = pair
                writer.close()
                out.commit()
        self._writers, self._open_path = None, None

    def warc_tally_file(self, path: str) -> str:
        return fs.join(self.dir, f"{self._keys[path]}.warc.json")

    def write_warc_tally(self, path: str, tally: dict) -> None:
        """An archive's record counts; written before its staged rows are marked done."""
        fs.write_text(self.warc_tally_file(path), json.dumps(tally))

    def warc_tally(self) -> dict | None:
        """The record counts of every archive input, summed (None: no archive input)."""
        from curate.io.warc import WarcTally

        total, seen = WarcTally(), False
        present = set(fs.list_relative(self.dir))
        for path in self.paths:
            if fs.name(self.warc_tally_file(path)) in present:
                total.merge(json.loads(fs.read_text(self.warc_tally_file(path))))
                seen = True
        return total.to_dict() if seen else None

    def row_counts(self) -> list[int]:
        return [fs.parquet_file(self.staged(p)).metadata.num_rows for p in self.paths]

    def files(self) -> list[StagedFile]:
        """Every staged file as the corpus steps' tasks read it (counts from Parquet metadata)."""
        out, first = [], 0
        for index, path in enumerate(self.paths):
            n = fs.parquet_file(self.staged(path)).metadata.num_rows
            keys = self.keys(path) if self.with_keys else None
            live = fs.parquet_file(keys).metadata.num_rows if keys else 0
            out.append(StagedFile(index, self.staged(path), keys, first, n, live))
            first += n
        return out
