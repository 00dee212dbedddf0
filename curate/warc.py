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
    try:
        with fs.open_input(path) as f:
            records = ArchiveIterator(f)
            for rec in records:
                # Read the payload before asking for the offset: on .warc.gz asking
                # first consumes the record's stream.
                data = rec.content_stream().read() if _is_document(rec) else None
                offset = records.get_record_offset()
                if data is not None:
                    out = _record(rec, data, path, name, offset, max_doc_chars)
                    if out is not None:
                        yield out
    except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
        yield Record(None, None, f"{path}:{offset + 1}", error=f"corrupt or truncated WARC after offset {offset}: {exc}")


def _is_document(rec) -> bool:
    if rec.rec_type == "conversion":
        return True
    if rec.rec_type != "response" or rec.http_headers is None:
        return False
    content_type = (rec.http_headers.get_header("Content-Type") or "").lower()
    return rec.http_headers.get_statuscode() == "200" and "html" in content_type


def _record(rec, data: bytes, path: str, name: str, offset: int, max_doc_chars: int) -> Record | None:
    url = rec.rec_headers.get_header("WARC-Target-URI")
    date = rec.rec_headers.get_header("WARC-Date")
    origin, source = f"{path}:{offset}", f"{name}@{offset}"
    rec_id = rec.rec_headers.get_header("WARC-Record-ID") or f"{name}@{offset}"
    if rec.rec_type == "conversion":  # WET: text already extracted, always UTF-8
        text = data.decode("utf-8", "replace").strip()
        if not text:
            return None
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
