"""WARC and WET input: each HTML response (or WET text conversion) is one document.

HTML is decoded here (curate.io.charset: HTTP header, <meta charset>, detection) and
left as markup with content_type "text/html"; the `extract` stage turns it into
main-content text. A response with no Content-Type is sniffed the way browsers do
(the first tag after whitespace). Records that are no document (requests, metadata,
redirects, errors, images, revisits) are skipped, and every record read is counted
by what became of it (WarcTally); a page that no charset decodes is quarantined.

Archives are read whatever their compression: plain, gzip per record (the usual
.warc.gz), or one compressed stream (a whole-file gzip, zstd, bzip2, xz),
decompressed as it is read; record offsets are then positions in the decompressed
stream. In a plain or per-record gzip archive, damage (a corrupt member, a record
header that does not parse or has no Content-Length) is skipped up to the next
record that reads, as one quarantine row naming the byte range.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.compute as pc

from curate.io import fs
from curate.io.charset import UndecodableError, decode_html, header_charset
from curate.io.records import Record, records_to_table, snippet
from curate.io.streams import ZstdReader

MAX_PAGE_BYTES_PER_CHAR = 8  # markup is several times its text
# Inline images (src="data:image/png;base64,...") carry no text: they are not held
# against the page size limit, up to this many times the limit in all.
MAX_INLINE_DATA_FACTOR = 8
_DATA_URI = re.compile(rb"data:[\w.+/-]*(?:;[\w.+=-]*)*,[^\"'\s)<>]{256,}", re.I)
GZIP_MAGIC = b"\x1f\x8b\x08"
_RESYNC_PROBE = 1 << 16  # bytes looked at past a place to resume reading (a gzip member inflated)
_FIRST_MEMBER_PROBE = 16 << 20  # decompressed bytes of the first member looked at
_NEXT_RECORD = re.compile(rb"\r\n\r\nWARC/1\.[01]\r\n")
# WHATWG MIME sniffing: a body that starts (after whitespace) with one of these is HTML.
_HTML_START = re.compile(
    rb"\s*<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body"
    rb"|br|p|!--)[\s>]",
    re.I,
)

TALLY_REASON = "warc:tally"  # the drop_reason of the one row per archive that carries its WarcTally
_SINKS: dict[str, WarcTally] = {}  # path -> the tally read_warc adds that archive's counts to


class WarcTally:
    """What became of every WARC record read: `records` by type and HTTP status,
    `documents` made, `skipped` by reason, and `damaged` (unreadable byte ranges)."""

    def __init__(self):
        self.records, self.skipped, self.damaged = Counter(), Counter(), Counter()
        self.documents = 0

    def merge(self, other: WarcTally | dict) -> None:
        other = other if isinstance(other, dict) else other.to_dict()
        self.records.update(other.get("records", {}))
        self.skipped.update(other.get("skipped", {}))
        self.damaged.update(other.get("damaged", {}))
        self.documents += other.get("documents", 0)

    def to_dict(self) -> dict:
        return {
            "records": dict(sorted(self.records.items())),
            "documents": self.documents,
            "skipped": dict(self.skipped.most_common()),
            "damaged": dict(self.damaged),
        }

    def __bool__(self) -> bool:
        return bool(self.records or self.damaged)


@contextmanager
def counting(path: str) -> Iterator[WarcTally]:
    """The WarcTally of the archive at path, as read_warc reads it inside this block."""
    tally = _SINKS[path] = WarcTally()
    try:
        yield tally
    finally:
        _SINKS.pop(path, None)


def tally_table(path: str, tally: WarcTally) -> pa.Table:
    """One row that carries an archive's WarcTally through the stages to the driver."""
    row = records_to_table([Record(f"{path}#warc-tally", json.dumps(tally.to_dict()), f"{path}:0")])
    return row.set_column(
        row.schema.get_field_index("drop_reason"), "drop_reason", pa.array([TALLY_REASON], pa.string())
    )


def split_tallies(table: pa.Table) -> tuple[pa.Table, list[tuple[str, dict]]]:
    """(the rows that are documents, [(archive path, tally dict)] from the tally rows)."""
    is_tally = pc.fill_null(pc.equal(table.column("drop_reason"), TALLY_REASON), False)
    if not pc.any(is_tally).as_py():
        return table, []
    rows = table.filter(is_tally)
    tallies = [
        (origin.rsplit(":", 1)[0], json.loads(text))
        for origin, text in zip(rows.column("origin").to_pylist(), rows.column("text").to_pylist())
    ]
    return table.filter(pc.invert(is_tally)), tallies


class _Tellable(io.RawIOBase):
    """A read-only stream that reports absolute offsets (warcio asks tell())."""

    def __init__(self, raw, start: int = 0):
        self._raw, self._at = raw, start

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._at += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def tell(self) -> int:
        return self._at

    def close(self) -> None:
        self._raw.close()
        super().close()


def _open_at(path: str, pos: int) -> _Tellable:
    raw = fs.open_input(path)
    if pos:
        try:
            raw.seek(pos)
        except (OSError, AttributeError, io.UnsupportedOperation):
            left = pos
            while left:
                left -= len(raw.read(min(left, 1 << 20)) or b"") or left
    return _Tellable(raw, pos)


def compression(path: str) -> str | None:
    """gzip (per record), gzip-stream (one member), zstd, bz2, xz, or None, by the magic bytes."""
    with fs.open_input(path) as f:
        head = f.read(6)
        if head.startswith(GZIP_MAGIC):
            return "gzip-stream" if _whole_file_gzip(head, f) else "gzip"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    if head.startswith(b"BZh"):
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    return None


def _whole_file_gzip(head: bytes, f) -> bool:
    """Whether the first gzip member holds more than one record (or is too long to
    tell): warcio reads only one record per member."""
    d, out, data = zlib.decompressobj(31), b"", head
    try:
        while not d.eof and len(out) < _FIRST_MEMBER_PROBE:
            out += d.decompress(data, _FIRST_MEMBER_PROBE - len(out))
            data = d.unconsumed_tail or f.read(1 << 16)
            if not data and not d.unconsumed_tail:
                break
    except zlib.error:  # a corrupt first member: a stream if it held several records, else member by member
        return _NEXT_RECORD.search(out) is not None
    return not d.eof or _NEXT_RECORD.search(out) is not None


@contextmanager
def _decompressed(path: str, kind: str):
    with fs.open_input(path) as raw:
        if kind == "gzip-stream":
            stream = gzip.GzipFile(fileobj=raw, mode="rb")
        elif kind == "zstd":
            stream = ZstdReader(raw, chunk=1 << 14)  # unbuffered, small steps: damage costs little before it
        elif kind == "bz2":
            stream = bz2.BZ2File(raw, "rb")
        else:
            stream = lzma.LZMAFile(raw, "rb")
        with stream:
            yield _Tellable(stream)


_WARC_HEADER = re.compile(rb"(?<=\n)WARC/1\.[01]\r\n(?=(?:[^\r\n]*\r\n){0,60}?Content-Length:\s*\d+\r\n)", re.I)


def _is_member(probe: bytes) -> bool:
    try:
        return zlib.decompressobj(31).decompress(probe, 64).startswith(b"WARC/")
    except zlib.error:
        return False


def _next_start(path: str, start: int, gzip_members: bool) -> int | None:
    """Offset of the first place at or after start where a record can be read again:
    a gzip member that inflates into a WARC header, or (uncompressed) a WARC header
    line that opens a line and is followed by a Content-Length."""
    with _open_at(path, start) as f:
        buf, base = b"", start
        while True:
            more = f.read(1 << 20)
            buf += more
            at = 0
            while True:
                if gzip_members:
                    hit = buf.find(GZIP_MAGIC, at)
                else:
                    m = _WARC_HEADER.search(buf, max(at, 1))
                    hit = m.start() if m else -1
                if hit < 0:
                    break
                probe = buf[hit : hit + _RESYNC_PROBE]
                if len(probe) < _RESYNC_PROBE and more:
                    break  # read more before judging this candidate
                if not gzip_members or _is_member(probe):
                    return base + hit
                at = hit + 1
            if not more:
                return None
            keep = max(at, len(buf) - _RESYNC_PROBE - 1)
            buf, base = buf[keep:], base + keep


class _Scan:
    """Where one pass of warcio over the archive got to."""

    def __init__(self, start: int):
        self.next_start = start  # where the record after the last one read begins
        self.offset = start  # the last record's offset
        self.error: Exception | None = None


def read_warc(path: str, name: str, max_doc_chars: int) -> Iterator[Record]:
    tally = WarcTally()
    try:
        yield from _read(path, name, max_doc_chars, tally)
    finally:
        sink = _SINKS.get(path)
        if sink is not None:
            sink.merge(tally)


def _read(path: str, name: str, max_doc_chars: int, tally: WarcTally) -> Iterator[Record]:
    kind = compression(path)
    if kind not in (None, "gzip"):
        scan = _Scan(0)
        try:
            with _decompressed(path, kind) as stream:
                yield from _scan(stream, scan, path, name, max_doc_chars, tally, members=False)
        except _stream_errors() as exc:  # opening or closing the stream
            scan.error = scan.error or exc
        if scan.error is not None:
            tally.damaged[f"{kind} stream cut"] += 1
            yield Record(
                None,
                None,
                f"{path}:{scan.offset + 1}",
                error=f"corrupt or truncated {kind} stream after decompressed offset {scan.offset}: {_why(scan.error)}",
            )
        return
    pos: int | None = 0
    while pos is not None:
        scan = _Scan(pos)
        with _open_at(path, pos) as stream:
            yield from _scan(stream, scan, path, name, max_doc_chars, tally, members=kind == "gzip")
        if scan.error is None:
            return
        start = scan.next_start
        pos = _next_start(path, start + 1, gzip_members=kind == "gzip")
        end = pos if pos is not None else fs.size(path)
        what = "gzip" if kind == "gzip" else "WARC"
        tally.damaged[f"{what} ranges skipped"] += 1
        tally.damaged[f"{what} bytes skipped"] += end - start
        yield Record(
            None,
            None,
            f"{path}:{start}",
            error=f"corrupt {what} data: bytes {start}-{end} skipped, records there are lost ({_why(scan.error)})",
        )


def _stream_errors() -> tuple[type[BaseException], ...]:
    """What a damaged or cut archive raises while it is read (zstandard has its own error)."""
    import zstandard

    return EOFError, OSError, ValueError, zlib.error, lzma.LZMAError, zstandard.ZstdError


def _why(exc: Exception) -> str:
    """An error's message as a short printable line (warcio quotes the bad bytes)."""
    return re.sub(r"[^\x20-\x7e]+", "?", str(exc))[:160] or type(exc).__name__


def _scan(
    stream, scan: _Scan, path: str, name: str, max_doc_chars: int, tally: WarcTally, members: bool
) -> Iterator[Record]:
    """Records of one pass of warcio; on an error it stops and leaves it in scan."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed
    from warcio.statusandheaders import StatusAndHeadersParserException

    held = None  # the last page, given out once the record after it has parsed
    vouched = False  # whether held passed its block digest (then its own length was right)
    try:
        records = ArchiveIterator(stream, check_digests=True)
        for rec in _parsed(records):
            if held is not None:
                yield held
                held = None
            if not (rec.rec_headers.get_header("Content-Length") or "").strip().isdigit():
                # without it warcio reads the record to the end of the file, swallowing the rest
                raise DamagedHeader("record without a valid WARC Content-Length")
            why = _skip_reason(rec)
            # Read the payload before asking for the offset: on .warc.gz asking
            # first consumes the record's stream.
            data = rec.content_stream().read() if why is None else None
            if why is None and rec.rec_type == "response" and not _content_type(rec):
                why = None if _HTML_START.match(data[:1024].lstrip(b"\xef\xbb\xbf")) else "no Content-Type, not HTML"
            scan.offset = offset = records.get_record_offset()
            scan.next_start = max(records.offset, scan.next_start)  # warcio's guess can be < 0 on bad data
            tally.records[_kind(rec)] += 1  # counted once read whole: a record cut by damage is in the range skipped
            if why is not None:
                tally.skipped[why] += 1
                continue
            tally.documents += 1
            problem = _damage(rec)
            if problem:
                held = Record(
                    _record_id(rec, name, offset),
                    snippet(data),
                    f"{path}:{offset}",
                    error=f"damaged WARC record: {problem}",
                )
            else:
                held = _record(rec, data, path, name, offset, max_doc_chars)
            vouched = getattr(getattr(rec, "digest_checker", None), "passed", None) is True
    except (ArchiveLoadFailed, StatusAndHeadersParserException, *_stream_errors()) as exc:
        scan.error = exc
        if held is not None and not held.error and not members and not vouched:
            # The record after it does not parse: its Content-Length was likely wrong,
            # so this page may hold part of the next record, or miss its own end. In
            # a per-record gzip the member boundary vouches for it, and so do digests.
            held = Record(
                held.id,
                snippet(held.text or ""),
                held.origin,
                error=f"WARC record boundary broken after this record: {_why(exc)}",
            )
    if held is not None:
        yield held


def _status(rec) -> str | None:
    """The HTTP status code as a short printable word (a damaged header may hold anything)."""
    code = rec.http_headers.get_statuscode() if rec.http_headers is not None else None
    return re.sub(r"[^\x21-\x7e]+", "?", code)[:16] if code else None


class DamagedHeader(ValueError):
    pass


def _parsed(records):
    """warcio's records; a header that its parser trips over (a WARC response with no
    WARC-Target-URI, say) is damage in the archive, not a bug to stop the run."""
    it = iter(records)
    while True:
        try:
            rec = next(it)
        except StopIteration:
            return
        except (AttributeError, TypeError, KeyError, IndexError) as exc:
            raise DamagedHeader(f"unparsable record header ({type(exc).__name__}: {exc})") from exc
        yield rec


def _type(rec) -> str:
    """The WARC-Type as a short printable word."""
    return re.sub(r"[^\x21-\x7e]+", "?", rec.rec_type or "")[:24] or "untyped"


def _kind(rec) -> str:
    status = _status(rec) if rec.rec_type in ("response", "revisit") else None  # a request has none
    return f"{_type(rec)} {status}" if status else _type(rec)


def _content_type(rec) -> str:
    return (rec.http_headers.get_header("Content-Type") or "").strip()


def _skip_reason(rec) -> str | None:
    """Why a record is no document (None: it is one, pending a sniff of its body)."""
    if rec.rec_type == "conversion":
        return None
    if rec.rec_type != "response":
        return f"{_type(rec)} record"
    if rec.http_headers is None:
        return "response without HTTP headers"
    status = _status(rec)
    if status != "200":
        return f"HTTP {status}" if status else "response without an HTTP status"
    content_type = _content_type(rec)
    if content_type and "html" not in content_type.lower():
        return f"not HTML: {content_type.split(';')[0].strip().lower()[:60]}"
    return None


def _damage(rec) -> str | None:
    """Why a record's block cannot be trusted: cut short by the end of the file, or
    failing its WARC-Block-Digest / WARC-Payload-Digest (a wrong Content-Length)."""
    left = getattr(rec.raw_stream, "limit", 0)
    if left > 0 and not rec.raw_stream.read(1):
        return f"truncated: {left} of its {rec.length} bytes missing"
    checker = getattr(rec, "digest_checker", None)
    if checker is not None and checker.passed is False:
        return "; ".join(checker.problems) or "digest mismatch"
    return None


def _record_id(rec, name: str, offset: int) -> str:
    return rec.rec_headers.get_header("WARC-Record-ID") or f"{name}@{offset}"


def markup_bytes(data: bytes) -> int:
    """Bytes of a page less its inline data: URIs (base64 images, fonts)."""
    return len(data) - sum(m.end() - m.start() for m in _DATA_URI.finditer(data))


def _record(rec, data: bytes, path: str, name: str, offset: int, max_doc_chars: int) -> Record:
    url = rec.rec_headers.get_header("WARC-Target-URI")
    date = rec.rec_headers.get_header("WARC-Date")
    origin, source = f"{path}:{offset}", f"{name}@{offset}"
    rec_id = _record_id(rec, name, offset)
    if rec.rec_type == "conversion":  # WET: text already extracted, always UTF-8
        text = data.decode("utf-8", "replace").strip()
        if not text:  # a page the crawler could not convert: counted, not dropped unseen
            return Record(rec_id, None, origin, error=f"empty WET record ({url})")
        if len(text) > max_doc_chars:
            return Record(
                rec_id, snippet(text), origin, error=f"document too large: {len(text)} chars > {max_doc_chars}"
            )
        return Record(rec_id, text, origin, source=source, url=url, web={"fetch_date": date, "charset": "utf-8/wet"})
    content_type = _content_type(rec)
    limit = max_doc_chars * MAX_PAGE_BYTES_PER_CHAR
    if len(data) > limit and (len(data) > limit * MAX_INLINE_DATA_FACTOR or markup_bytes(data) > limit):
        return Record(
            rec_id,
            snippet(data),
            origin,
            error=f"page too large: {len(data)} bytes ({markup_bytes(data)} without inline data: URIs)",
        )
    try:
        html, charset, how = decode_html(data, content_type)
    except UndecodableError as exc:
        return Record(rec_id, snippet(data), origin, error=f"undecodable page ({url}): {exc}")
    return Record(
        rec_id,
        html,
        origin,
        source=source,
        url=url,
        web={
            "content_type": "text/html",
            "fetch_date": date,
            "http_charset": header_charset(content_type),
            "charset": f"{charset}/{how}",
        },
    )
