"""WARC and WET input: each HTML response (or WET text conversion) is one document.

HTML is decoded here (curate.charset: HTTP header, <meta charset>, detection) and
left as markup with content_type "text/html"; the `extract` stage turns it into
main-content text. Non-HTML responses (images, scripts, redirects, errors) are not
documents and are skipped; a page that no charset decodes is quarantined.
"""
from __future__ import annotations

from typing import Iterator

from . import fs
from .charset import UndecodableError, decode_html, header_charset
from .readers import Record, _snippet

MAX_PAGE_BYTES_PER_CHAR = 8  # markup is several times its text


def read_warc(path: str, name: str, max_doc_chars: int) -> Iterator[Record]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    offset = 0
    held = None  # the last page, given out once the record after it has parsed
    try:
        with fs.open_input(path) as f:
            records = ArchiveIterator(f, check_digests=True)
            for rec in records:
                if held is not None:
                    yield held
                    held = None
                # Read the payload before asking for the offset: on .warc.gz asking
                # first consumes the record's stream.
                data = rec.content_stream().read() if _is_document(rec) else None
                offset = records.get_record_offset()
                if data is None:
                    continue
                problem = _damage(rec)
                if problem:
                    held = Record(None, _snippet(data), f"{path}:{offset}", error=f"damaged WARC record: {problem}")
                else:
                    held = _record(rec, data, path, name, offset, max_doc_chars)
    except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
        if held is not None and not held.error:
            # The record after it does not parse: its Content-Length was likely wrong,
            # so this page may hold part of the next record, or miss its own end.
            held = Record(held.id, _snippet(held.text or ""), held.origin,
                          error=f"WARC record boundary broken after this record: {exc}")
        if held is not None:
            yield held
            held = None
        yield Record(None, None, f"{path}:{offset + 1}", error=f"corrupt or truncated WARC after offset {offset}: {exc}")
    if held is not None:
        yield held


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


def _is_document(rec) -> bool:
    if rec.rec_type == "conversion":
        return True
    if rec.rec_type != "response" or rec.http_headers is None:
        return False
    content_type = (rec.http_headers.get_header("Content-Type") or "").lower()
    return rec.http_headers.get_statuscode() == "200" and "html" in content_type


def _record(rec, data: bytes, path: str, name: str, offset: int, max_doc_chars: int) -> Record:
    url = rec.rec_headers.get_header("WARC-Target-URI")
    date = rec.rec_headers.get_header("WARC-Date")
    origin, source = f"{path}:{offset}", f"{name}@{offset}"
    rec_id = rec.rec_headers.get_header("WARC-Record-ID") or f"{name}@{offset}"
    if rec.rec_type == "conversion":  # WET: text already extracted, always UTF-8
        text = data.decode("utf-8", "replace").strip()
        if not text:  # a page the crawler could not convert: counted, not dropped unseen
            return Record(rec_id, None, origin, error=f"empty WET record ({url})")
        if len(text) > max_doc_chars:
            return Record(rec_id, _snippet(text), origin, error=f"document too large: {len(text)} chars > {max_doc_chars}")
        return Record(rec_id, text, origin, source=source, url=url,
                      web={"fetch_date": date, "charset": "utf-8/wet"})
    content_type = rec.http_headers.get_header("Content-Type") or ""
    if len(data) > max_doc_chars * MAX_PAGE_BYTES_PER_CHAR:
        return Record(rec_id, _snippet(data), origin, error=f"page too large: {len(data)} bytes")
    try:
        html, charset, how = decode_html(data, content_type)
    except UndecodableError as exc:
        return Record(rec_id, _snippet(data), origin, error=f"undecodable page ({url}): {exc}")
    return Record(rec_id, html, origin, source=source, url=url,
                  web={"content_type": "text/html", "fetch_date": date,
                       "http_charset": header_charset(content_type), "charset": f"{charset}/{how}"})
