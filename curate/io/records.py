"""One input record as the readers yield it, and a batch of them as a shard table."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from curate.io.schema import SHARD_SCHEMA

QUARANTINE = "quarantine"
RAW_SNIPPET_CHARS = 1000
WEB_COLUMNS = ("content_type", "fetch_date", "http_charset", "charset")


@dataclass
class Record:
    id: str | None
    text: str | None
    origin: str
    source: str | None = None
    url: str | None = None
    error: str | None = None
    web: dict | None = None  # content_type, fetch_date, http_charset, charset (WARC input)


def snippet(data: bytes | str) -> str:
    """The start of an unreadable record, kept in quarantine to show what it held."""
    if isinstance(data, bytes):
        data = data[: RAW_SNIPPET_CHARS * 4].decode("utf-8", errors="replace")
    return data[:RAW_SNIPPET_CHARS]


def records_to_table(records: list[Record]) -> pa.Table:
    """Build a SHARD_SCHEMA table; quarantined records carry their reason in drop_reason."""
    n = len(records)
    cols = {name: pa.nulls(n, type=SHARD_SCHEMA.field(name).type) for name in SHARD_SCHEMA.names}
    cols["id"] = pa.array([r.id if r.id is not None else r.origin for r in records], pa.string())
    cols["text"] = pa.array([r.text for r in records], pa.string())
    cols["source"] = pa.array([r.source for r in records], pa.string())
    cols["url"] = pa.array([r.url for r in records], pa.string())
    cols["origin"] = pa.array([r.origin for r in records], pa.string())
    for name in WEB_COLUMNS:
        if any(r.web for r in records):
            cols[name] = pa.array([(r.web or {}).get(name) for r in records], pa.string())
    cols["drop_reason"] = pa.array([f"{QUARANTINE}: {r.error}" if r.error else None for r in records], pa.string())
    return pa.Table.from_pydict(cols, schema=SHARD_SCHEMA)
