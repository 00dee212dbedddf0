"""Input readers: JSON Lines, Parquet and plain text, plain or compressed (curate.io.streams),
and WARC/WET archives (curate.io.warc).

Every input record becomes one row. A record that cannot be used (bad UTF-8, bad
JSON, no ``text``, too large, a truncated archive, an empty file) becomes a
quarantine row: ``drop_reason`` = ``"quarantine: <why>"`` and ``text`` = a raw
snippet, so nothing is silently lost and the count invariant holds.
"""

from __future__ import annotations

import glob
import gzip
import json
import os
import zlib
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from curate.io import fs
from curate.io.records import QUARANTINE, Record, records_to_table, snippet
from curate.io.streams import COMPRESSIONS, open_binary
from curate.io.warc import read_warc

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
DEFAULT_MAX_DOC_CHARS = 1_000_000


class InputError(Exception):
    """A path the user named cannot be read at all."""


def _has_glob(pattern: str) -> bool:
    # a URI's query string (?endpoint_override=...) is not a wildcard
    path = pattern.split("?", 1)[0] if fs.is_uri(pattern) else pattern
    return any(ch in path for ch in "*?[")


def _hidden(path: str, root: str) -> bool:
    """A dot-file or a "_"-file (``_SUCCESS``, ``.crc``: job metadata) under a folder input."""
    rel = path[len(root) :].lstrip("/\\") if path.startswith(root) else os.path.basename(path)
    return any(part.startswith((".", "_")) for part in rel.replace("\\", "/").split("/"))


def _same_file_key(path: str) -> str:
    return path if fs.is_uri(path) else os.path.realpath(path)


def expand_inputs(patterns: list[str]) -> list[str]:
    """Expand globs and folders (local or any pyarrow filesystem URI); a pattern that
    matches nothing is an error naming it. A folder gives every file under it except
    hidden ones (a file of no known format is then quarantined, not skipped); a file
    named twice, however spelled, is read once."""
    paths: list[str] = []
    for pattern in patterns:
        if _has_glob(pattern) and not fs.is_file(pattern):  # "[1].jsonl" that exists is a file
            matched = [
                m
                for m in (fs.glob(pattern) if fs.is_uri(pattern) else sorted(glob.glob(pattern, recursive=True)))
                if fs.is_file(m)
            ]
            if not matched:
                raise InputError(f"{pattern}: no file matches this pattern")
            paths.extend(matched)
        elif fs.is_dir(pattern):
            found = [p for p in fs.list_files(pattern) if not _hidden(p, pattern)]
            if not any(input_format(p) for p in found):
                raise InputError(f"{pattern}: directory holds no readable input files")
            paths.extend(found)
        elif fs.is_file(pattern):
            if not fs.is_uri(pattern) and not os.access(pattern, os.R_OK):
                raise InputError(f"{pattern}: file is not readable")
            paths.append(pattern)
        else:
            raise InputError(f"{pattern}: no such file or directory")
    return list({_same_file_key(p): p for p in reversed(paths)}.values())[::-1]


def input_format(path: str) -> str | None:
    name = path.split("?", 1)[0].lower() if fs.is_uri(path) else path.lower()
    for comp in COMPRESSIONS:
        if name.endswith(comp):
            name = name[: -len(comp)]
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".txt", ".text")):
        return "text"
    if name.endswith((".warc", ".wet", ".arc")):
        return "warc"
    return None


def _lines(path: str) -> Iterator[tuple[int, bytes | None, str | None]]:
    """Yield (line_no, bytes, None), or (line_no, None, error) once if the stream breaks."""
    line_no = 0
    try:
        with open_binary(path) as f:
            for line_no, line in enumerate(f, start=1):
                yield line_no, line, None
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        yield line_no + 1, None, f"corrupt or truncated stream after line {line_no}: {exc}"
    except Exception as exc:  # zstandard raises its own error type
        if type(exc).__name__ == "ZstdError":
            yield line_no + 1, None, f"corrupt or truncated stream after line {line_no}: {exc}"
        else:
            raise


def _read_jsonl(path: str, name: str, max_doc_chars: int) -> Iterator[Record]:
    for line_no, line, stream_error in _lines(path):
        origin = f"{path}:{line_no}"
        if stream_error:
            yield Record(None, None, origin, error=stream_error)
            return
        if line_no == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]  # a byte order mark some editors write
        if not line.strip():
            continue
        try:
            decoded = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Record(None, snippet(line), origin, error=f"invalid UTF-8: {exc.reason} at byte {exc.start}")
            continue
        try:
            obj = json.loads(decoded)
        except json.JSONDecodeError as exc:
            yield Record(None, snippet(decoded), origin, error=f"malformed JSON: {exc.msg} at column {exc.colno}")
            continue
        except (ValueError, RecursionError) as exc:  # a 5,000-digit number, 200,000 nested brackets
            yield Record(None, snippet(decoded), origin, error=f"unreadable JSON: {str(exc)[:200]}")
            continue
        if not isinstance(obj, dict):
            yield Record(None, snippet(decoded), origin, error="JSON line is not an object")
            continue
        text = obj.get("text")
        rec_id = obj.get("id")
        rec_id = clean_text(str(rec_id)) if rec_id is not None else f"{name}:{line_no}"
        if not isinstance(text, str):
            why = "record has no 'text' field" if text is None else "'text' is not a string"
            yield Record(rec_id, snippet(decoded), origin, error=why)
            continue
        if len(text) > max_doc_chars:
            yield Record(
                rec_id,
                snippet(clean_text(text)),
                origin,
                error=f"document too large: {len(text)} chars > {max_doc_chars}",
            )
            continue
        yield Record(
            rec_id,
            clean_text(text),
            origin,
            source=_opt_str(obj.get("source")) or name,
            url=_opt_str(obj.get("url")),
        )


def clean_text(text: str) -> str:
    """JSON escapes can carry lone surrogates, which no UTF-8 writer accepts: join
    valid pairs and replace lone halves with U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _opt_str(value) -> str | None:
    return None if value is None else clean_text(str(value))


def _read_text(path: str, name: str, max_doc_chars: int) -> Iterator[Record]:
    """One document per blank-line-separated block."""
    block: list[bytes] = []
    start = 0

    def flush(start_line: int) -> Record | None:
        raw = b"".join(block)
        origin = f"{path}:{start_line}"
        rec_id = f"{name}:{start_line}"
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            return Record(rec_id, snippet(raw), origin, error=f"invalid UTF-8: {exc.reason} at byte {exc.start}")
        if len(text) > max_doc_chars:
            return Record(
                rec_id, snippet(text), origin, error=f"document too large: {len(text)} chars > {max_doc_chars}"
            )
        return Record(rec_id, text, origin, source=name)

    for line_no, line, stream_error in _lines(path):
        if stream_error:
            if block:
                yield flush(start)
            yield Record(None, None, f"{path}:{line_no}", error=stream_error)
            return
        if line.strip():
            if not block:
                start = line_no
            block.append(line)
        elif block:
            yield flush(start)
            block = []
    if block:
        yield flush(start)


def _read_parquet(path: str, name: str, max_doc_chars: int) -> Iterator[Record]:
    try:
        pf = pq.ParquetFile(fs.open_random_access(path) if fs.is_uri(path) else path)
    except Exception as exc:
        yield Record(None, None, f"{path}:0", error=f"unreadable Parquet: {exc}")
        return
    names = pf.schema_arrow.names
    if "text" not in names:  # every row is lost: one quarantine row each, so the counts say so
        for row in range(1, pf.metadata.num_rows + 1):
            yield Record(None, None, f"{path}:{row}", error="Parquet file has no 'text' column")
        return
    columns = [c for c in ("id", "text", "source", "url") if c in names]
    row = 0
    for group in range(pf.num_row_groups):
        size, done = pf.metadata.row_group(group).num_rows, 0
        try:  # a row group at a time: a corrupt one loses only its own unread rows
            for batch in pf.iter_batches(batch_size=4096, row_groups=[group], columns=columns):
                data = batch.to_pydict()
                for i in range(batch.num_rows):
                    done += 1
                    yield _parquet_record(data, i, f"{path}:{row + done}", f"{name}:{row + done}", name, max_doc_chars)
        except Exception as exc:
            for i in range(done, size):
                yield Record(
                    None,
                    None,
                    f"{path}:{row + i + 1}",
                    error=f"corrupt Parquet row group {group} after row {row + done}: {exc}",
                )
        row += size


def _parquet_record(data: dict, i: int, origin: str, default_id: str, name: str, max_doc_chars: int) -> Record:
    rec_id = data["id"][i] if "id" in data else None
    rec_id = clean_text(str(rec_id)) if rec_id is not None else default_id
    text = data["text"][i]
    if not isinstance(text, str):
        return Record(rec_id, None, origin, error="'text' is null or not a string")
    if len(text) > max_doc_chars:
        return Record(rec_id, snippet(text), origin, error=f"document too large: {len(text)} chars > {max_doc_chars}")
    return Record(
        rec_id,
        text,
        origin,
        source=_opt_str(data["source"][i]) if "source" in data else name,
        url=_opt_str(data["url"][i]) if "url" in data else None,
    )


READERS = {"jsonl": _read_jsonl, "text": _read_text, "parquet": _read_parquet, "warc": read_warc}


def read_records(path: str, max_doc_chars: int = DEFAULT_MAX_DOC_CHARS) -> Iterator[Record]:
    """All records of one input file, quarantined ones included."""
    fmt = input_format(path)
    name = os.path.basename(path.split("?", 1)[0])
    if fmt is None:
        yield Record(
            None,
            None,
            f"{path}:0",
            error="unknown input format (want .jsonl/.json, .parquet, .txt or .warc, optionally .gz/.zst/.bz2/.xz)",
        )
        return
    if fs.size(path) == 0:
        yield Record(None, None, f"{path}:0", error="empty file")
        return
    seen = False
    for rec in READERS[fmt](path, name, max_doc_chars):
        seen = True
        yield rec
    if not seen:
        yield Record(None, None, f"{path}:0", error="file holds no records")


def read_tables(path: str, batch_size: int = 2048, max_doc_chars: int = DEFAULT_MAX_DOC_CHARS) -> Iterator[pa.Table]:
    """Stream one input file as SHARD_SCHEMA tables of at most batch_size rows."""
    buf: list[Record] = []
    for rec in read_records(path, max_doc_chars):
        buf.append(rec)
        if len(buf) >= batch_size:
            yield records_to_table(buf)
            buf = []
    if buf:
        yield records_to_table(buf)


def is_quarantined(reason: str | None) -> bool:
    return reason is not None and reason.startswith(QUARANTINE)
