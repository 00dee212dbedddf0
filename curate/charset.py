"""Decode web pages without mojibake: HTTP header, then <meta charset>, then detection.

Declared charsets are trusted in that order but verified: a declaration is used
only if the bytes decode under it strictly. A Western single-byte declaration
(ISO-8859-1, windows-1252, ASCII) on bytes that are really UTF-8 or a CJK
encoding is the classic source of mojibake, so such a declaration only wins when
detection agrees that the page is not CJK.
"""
from __future__ import annotations

import codecs
import re

# Supersets decode everything their subsets do, plus the extensions real pages use.
SUPERSETS = {"euc-kr": "cp949", "ks_c_5601-1987": "cp949", "ksc5601": "cp949", "uhc": "cp949",
             "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
             "ms_kanji": "cp932", "windows-31j": "cp932", "euc-jp": "euc_jis_2004",
             "x-euc-jp": "euc_jis_2004", "gb2312": "gb18030", "gbk": "gb18030",
             "iso-8859-1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252"}
WESTERN = {"cp1252", "latin_1", "iso8859-1", "ascii"}
_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_HEADER = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.I)


class UndecodableError(ValueError):
    pass


def canonical(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    name = SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    m = _HEADER.search(content_type or "")
    return m.group(1) if m else None


def meta_charset(data: bytes) -> str | None:
    m = _META.search(data[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def detect(data: bytes) -> str | None:
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    return canonical(best.encoding) if best is not None else None


KOREAN = {"cp949", "euc_kr", "johab", "iso2022_kr"}
JAPANESE = {"cp932", "shift_jis", "euc_jp", "euc_jis_2004", "shift_jis_2004", "iso2022_jp"}


def plausible(text: str, encoding: str) -> bool:
    """Text decoded as a Korean (Japanese) charset should read as Korean (Japanese):
    wrong CJK labels decode without error into rare Hanja or half-width junk."""
    if encoding not in KOREAN and encoding not in JAPANESE:
        return True
    hangul = kana = other = 0
    for ch in text:
        o = ord(ch)
        if o < 0x80:
            continue
        if 0xAC00 <= o <= 0xD7A3:
            hangul += 1
        elif 0x3040 <= o <= 0x30FF:
            kana += 1
        else:
            other += 1
    total = hangul + kana + other
    if total < 20:
        return True
    if encoding in KOREAN:
        return hangul / total >= 0.4
    return kana / total >= 0.15


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str, str | None]:
    """(text, charset used, how it was chosen: http | meta | detected | utf-8)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), "utf-8", "bom"
    is_ascii = data.isascii()
    candidates = [("http", canonical(header_charset(content_type))), ("meta", canonical(meta_charset(data)))]
    detected: str | None = None
    for how, enc in candidates:
        if enc is None:
            continue
        text = _strict(data, enc)
        if text is None or not plausible(text, enc):
            continue
        if enc in WESTERN and not is_ascii:
            if _strict(data, "utf-8") is not None:
                return data.decode("utf-8"), "utf-8", "utf-8"
            detected = detected or detect(data)
            if detected and detected not in WESTERN:
                continue  # a Western label on CJK bytes: do not make mojibake
        return text, enc, how
    text = _strict(data, "utf-8")
    if text is not None:
        return text, "utf-8", "utf-8"
    detected = detected or detect(data)
    if detected:
        text = _strict(data, detected)
        if text is not None and plausible(text, detected):
            return text, detected, "detected"
    raise UndecodableError("no declared or detected charset decodes this page")
