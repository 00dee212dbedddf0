"""Decode web pages without mojibake: BOM, HTTP header, <meta charset>, then detection.

Declared charsets are trusted in that order but verified: a declaration is used
only if the bytes decode under it strictly and the text reads as the script the
charset is for. Labels are read the way browsers read them (WHATWG Encoding
Standard): EUC-KR means Windows-949 (CP949) and Shift_JIS admits Windows-31J
(CP932), because real pages so labelled use the vendor extensions (똠, 햏, ①, ㈱,
髙). A single-byte declaration (ISO-8859-1, windows-1252, windows-1251,
ISO-8859-2, ...) on bytes that are really UTF-8 or a CJK encoding is the classic
source of mojibake, so such a declaration only wins when the bytes do not read
as Korean or Japanese (and, for the Western ones, detection agrees); a Chinese
one loses when detection finds Korean or Japanese. A legacy page with a cut
character (a byte-truncated title) is read with that character dropped
("cp949-lossy"), not quarantined or guessed as a single-byte charset.
Undeclared pages are tried as UTF-8 and ISO-2022-JP (escape sequences); then
charset-normalizer guesses, and a CJK guess is kept only if the text reads as
Korean or Japanese (script_score); failing that, CP949 / Shift_JIS / EUC-JP are
each tried and the one that reads best wins. Pages nothing decodes, even with a
few broken characters dropped, are rejected (UndecodableError); broken
characters are dropped, never returned as replacement characters.
"""

from __future__ import annotations

import codecs
import re
from functools import cache

# Label -> codecs to try in order. The exact codec comes first where it and its
# superset map a few byte pairs differently (Shift_JIS 0x8160 is 〜 in JIS, ～ in
# CP932), the superset second for pages that use the vendor extensions.
_KO = ("cp949",)
_SJIS = ("shift_jis", "cp932", "shift_jis_2004")
_CP932 = ("cp932", "shift_jis", "shift_jis_2004")
_EUCJP = ("euc_jp", "euc_jis_2004")
_ISO2022JP = ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_2004")
_UTF8 = ("utf-8",)
_WEST = ("cp1252",)
LABELS = {
    **dict.fromkeys(
        [
            "euc-kr",
            "euc_kr",
            "euckr",
            "cseuckr",
            "csksc56011987",
            "iso-ir-149",
            "korean",
            "ks_c_5601-1987",
            "ks_c_5601-1989",
            "ks_c_5601",
            "ksc5601",
            "ksc_5601",
            "ksc-5601",
            "windows-949",
            "x-windows-949",
            "cp949",
            "ms949",
            "uhc",
            "x-uhc",
        ],
        _KO,
    ),
    **dict.fromkeys(
        [
            "shift_jis",
            "shift-jis",
            "shiftjis",
            "sjis",
            "x-sjis",
            "csshiftjis",
            "x-shift-jis",
            "shift_jisx0213",
            "shift_jis_2004",
        ],
        _SJIS,
    ),
    **dict.fromkeys(["windows-31j", "cswindows31j", "cp932", "ms932", "ms_kanji", "x-ms-cp932"], _CP932),
    **dict.fromkeys(
        [
            "euc-jp",
            "euc_jp",
            "eucjp",
            "x-euc-jp",
            "x-euc",
            "ujis",
            "cseucpkdfmtjapanese",
            "euc-jisx0213",
            "euc_jis_2004",
        ],
        _EUCJP,
    ),
    **dict.fromkeys(
        ["iso-2022-jp", "iso2022_jp", "csiso2022jp", "iso-2022-jp-2", "iso-2022-jp-3", "iso-2022-jp-2004"], _ISO2022JP
    ),
    **dict.fromkeys(["utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"], _UTF8),
    **dict.fromkeys(
        [
            "iso-8859-1",
            "iso8859-1",
            "iso_8859-1",
            "latin-1",
            "latin1",
            "l1",
            "us-ascii",
            "ascii",
            "windows-1252",
            "cp1252",
            "x-cp1252",
            "cp819",
            "ibm819",
            "csisolatin1",
        ],
        _WEST,
    ),
    **dict.fromkeys(["gb2312", "gbk", "gb18030", "x-gbk", "chinese", "csgb2312", "euc-cn"], ("gb18030",)),
    **dict.fromkeys(["big5", "big5-hkscs", "cn-big5", "x-x-big5", "csbig5"], ("big5hkscs", "big5")),
}
WESTERN = {"cp1252", "latin_1", "iso8859-1", "ascii"}
CHINESE = {"gb18030", "gbk", "gb2312", "hz", "big5", "big5hkscs", "cp950"}
KOREAN = {"cp949", "euc_kr", "johab", "iso2022_kr"}
JAPANESE = {
    "cp932",
    "shift_jis",
    "shift_jis_2004",
    "euc_jp",
    "euc_jis_2004",
    "iso2022_jp",
    "iso2022_jp_ext",
    "iso2022_jp_2",
    "iso2022_jp_2004",
}
META_SCAN_BYTES = 64 * 1024  # browsers prescan 1 KiB; real heads put <meta> after long inline scripts
_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_HEADER = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_ISO2022_ESC = re.compile(rb"\x1b(?:\$[@B]|\$\(?[DOPQ]|\([BIJ]|\.[AF]|\$\)C)")
_NOT_YET = object()
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


_NOT_CHARSETS = {
    "unicode-escape",
    "unicode_escape",
    "raw-unicode-escape",
    "raw_unicode_escape",
    "punycode",
    "idna",
    "undefined",
    "utf-7",
    "utf_7",
    "mbcs",
    "oem",
}


class UndecodableError(ValueError):
    pass


def codecs_for(label: str | None) -> tuple[str, ...] | None:
    """The codecs a charset label stands for, tried in order; None for unknown labels."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in LABELS:
        return LABELS[label]
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    # Python codecs that are not web charsets (base64, unicode_escape, punycode, ...)
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return (info.name,)


def canonical(name: str | None) -> str | None:
    chain = codecs_for(name)
    return chain[0] if chain else None


def header_charset(content_type: str | None) -> str | None:
    m = _HEADER.search(content_type or "")
    return m.group(1) if m else None


def meta_charset(data: bytes) -> str | None:
    m = _META.search(data, 0, META_SCAN_BYTES)
    return m.group(1).decode("ascii", "replace") if m else None


def encodes(ch: str, encoding: str) -> bool:
    """Whether a charset has this character."""
    try:
        ch.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _decode(data: bytes, encoding: str) -> tuple[str, str] | None:
    """(text, codec) under encoding, strictly; None if the bytes are invalid there."""
    # Python's euc_kr reads KS X 1001 make-up sequences (0xA4D4 + three jamo) as the
    # syllable an EUC-KR encoder meant; CP949 would return the bare jamo.
    if encoding == "cp949" and b"\xa4\xd4" in data:
        text = _strict(data, "euc_kr")
        if text is not None:
            return text, "euc_kr"
    text = _strict(data, encoding)
    return (text, encoding) if text is not None else None


def detect(data: bytes) -> str | None:
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    return canonical(best.encoding) if best is not None else None


# Neutral symbols (punctuation, full-width forms, arrows, circled numbers) count for
# neither script; everything else non-ASCII does.
_NEUTRAL = re.compile(
    "[\u00a0-\u00bf\u00d7\u00f7\u2000-\u206f\u2100-\u2bff\u3000-\u303f\u3200-\u33ff\uff01-\uff60\uffe0-\uffef]+"
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_KANA = re.compile("[\u3041-\u30ff]")
_KATAKANA = re.compile("[\u30a1-\u30fa\u30fc]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")
# Particles and endings that make up a large share of any Japanese prose.
# EUC-JP hiragana read as CP949: compound and archaic jamo, which Korean text never
# has standalone (chat writes ㅋㅋ, ㅠㅠ, ㅇㅇ).
_KANA_AS_JAMO = re.compile("[ㄳㄵㄶㄺ-ㅀㅄㅐㅒㅔㅖㅘ-ㅚㅝ-ㅟㅢ\u3164-\u318e]")
_JA_FUNCTION = re.compile("[のにはをがでてとたしなるれもか]")
_MIN_SCORED = 20  # below this many letters a score says little


@cache
def _common_hangul() -> re.Pattern:
    """The 2,350 syllables of KS X 1001 (EUC-KR): nearly all of any real Korean text.
    CP949 writes them in EUC-KR's two-byte range (both bytes 0xA1+), the 8,822 it adds
    below it (Python's euc_kr writes those as make-up sequences)."""
    common = [ch for ch in map(chr, range(0xAC00, 0xD7A4)) if min(ch.encode("cp949")) >= 0xA1]
    return re.compile("[" + "".join(common) + "]")


def script_score(text: str, korean: bool) -> tuple[float, int]:
    """(share of non-ASCII letters that fit the script, how many letters there were).

    Bytes decoded under the wrong East Asian charset come out as a mix of jamo,
    half-width katakana, rare Hanja, Greek and box drawing; right ones come out
    as Hangul syllables (Korean) or kana and kanji with particles (Japanese).
    Shift_JIS bytes read as CP949 do make Hangul syllables, but the rare ones
    CP949 adds to EUC-KR (먷, 뽋, 궻): only KS X 1001's syllables count."""
    letters = _NEUTRAL.sub("", "".join(_NON_ASCII.findall(text)))
    n = len(letters)
    if not n:
        return 0.0, 0
    if korean:
        return len(_common_hangul().findall(letters)) / n, n
    kana = len(_KANA.findall(letters))
    han = len(_HAN.findall(letters))
    # Korean decoded as EUC-JP is all kanji; with ㅋㅋ runs, kanji plus stray hiragana,
    # never katakana words (KS X 1001 has Greek and Roman numerals where JIS has katakana).
    function = len(_JA_FUNCTION.findall(letters))
    katakana = len(_KATAKANA.findall(letters))
    if kana < 0.1 * (kana + han) or (function < 0.04 * (kana + han) and katakana < 0.1 * (kana + han)):
        return (kana + han) / n * 0.5, n
    return (kana + han) / n, n


def plausible(text: str, encoding: str) -> bool:
    """Text decoded as a Korean (Japanese) charset should read as Korean (Japanese):
    wrong CJK labels decode without error into rare Hanja or half-width junk."""
    if encoding not in KOREAN and encoding not in JAPANESE:
        return True
    score, n = script_score(text, encoding in KOREAN)
    # strictly above one half: Korean bytes read as EUC-JP are all kanji, which
    # script_score gives exactly half credit
    return n < _MIN_SCORED or score > 0.5


def _mostly(data: bytes, encoding: str) -> str | None:
    """Text in encoding with a few damaged bytes (a cut multibyte character, a stray
    byte): the text without them. Other charsets' bytes are mostly invalid there."""
    got = _lossy(data, encoding)
    return got[0] if got is not None else None


def _lossy(data: bytes, encoding: str) -> tuple[str, int] | None:
    """(text without its broken characters, how many there were), if they are few."""
    try:
        text = data.decode(encoding, "replace")
    except LookupError:
        return None
    bad = text.count("\ufffd")
    letters = len(text) - len(text.encode("ascii", "ignore")) - bad
    if bad <= 16 and bad * 50 <= letters:
        return text.replace("\ufffd", ""), bad
    return None


def _mostly_utf8(data: bytes) -> str | None:
    return _mostly(data, "utf-8")


READS_AS_CJK = 0.6  # script_score above which a decode is taken to be the page's charset


def _detect_cjk(data: bytes, lossy: bool = False) -> tuple[str, str, str] | None:
    """(text, codec, how) of the best of CP949 / Shift_JIS / EUC-JP by how well the
    text reads, if it reads well enough (READS_AS_CJK). Lossy: each read with its
    few broken characters dropped (how = "<codec>-lossy"); the one with the fewest
    wins, since Shift_JIS bytes read as CP949 make Hangul too, with more breaks."""
    best = None
    for chain, korean in ((_KO, True), (_SJIS, False), (_EUCJP, False)):
        for enc in chain:
            if lossy:
                got = _lossy(data, enc)
                got, bad = ((got[0], enc), got[1]) if got is not None else (None, 0)
            else:
                got, bad = _decode(data, enc), 0
            if got is None:
                continue
            score, n = script_score(got[0], korean)
            if n and score >= READS_AS_CJK and (best is None or (bad, -score) < best[3]):
                best = (got[0], got[1], f"{got[1]}-lossy" if lossy else "detected", (bad, -score))
            break  # the first codec of a chain that decodes is the one a browser would use
    return best[:3] if best is not None else None


def _cjk_reading(data: bytes) -> tuple[str, str, str] | None:
    """How the bytes read as Korean or Japanese: strictly, or else, unless they are
    UTF-8 with a few broken bytes, with a few broken characters (a cut title)."""
    got = _detect_cjk(data)
    if got is None and _mostly_utf8(data) is None:
        got = _detect_cjk(data, lossy=True)
    return got


def _reads(got: tuple[str, str, str]) -> float:
    return script_score(got[0], got[1] in KOREAN)[0]


def _detector_reading(data: bytes, detected: str | None, cjk) -> tuple[tuple[str, str] | None, object]:
    """((text, codec) of the detector's Korean or Japanese guess if it reads as that
    language, or None; cjk). Where the reading is in doubt it must read as well as the
    best strict reading (cjk, looked for here if it is still _NOT_YET): on a short
    page a detector takes EUC-JP kanji and kana for CP949 Hangul and jamo, and Korean
    bytes read as EUC-JP are kanji with no particles, but their CP949 reading scores
    higher."""
    if detected not in KOREAN and detected not in JAPANESE:
        return None, cjk
    # A detector cannot tell Shift_JIS from CP932 (or EUC-KR from CP949): read its
    # guess the way a browser reads the label, first codec that decodes.
    chain = _SJIS if detected in _SJIS else codecs_for(detected) or (detected,)
    got = next((g for g in (_decode(data, enc) for enc in chain) if g is not None), None)
    if got is None:
        return None, cjk
    score = script_score(got[0], detected in KOREAN)[0]
    # A Japanese guess whose letters are all kana and kanji reads as Japanese even
    # without particles (script_score halves that: a headline, a list of names).
    if score < (READS_AS_CJK if detected in KOREAN else 0.5):
        return None, cjk
    # Korean chat jamo (ㅋㅋ, ㅛㅛ) read as EUC-JP make hiragana too: a Korean guess
    # is in doubt only where its reading shows kana's tell, jamo nobody types alone
    # (one may be a typo).
    if score >= READS_AS_CJK and (detected in JAPANESE or len(_KANA_AS_JAMO.findall(got[0])) < 2):
        return got, cjk
    if cjk is _NOT_YET:
        cjk = _detect_cjk(data)
    better = cjk is not None and not cjk[2].endswith("-lossy") and _reads(cjk) > score
    return (None if better else got), cjk


@cache
def _single_byte(encoding: str) -> bool:
    """One byte, one character: such a label on CJK bytes decodes them into mojibake."""
    try:
        return len(bytes(range(0x80, 0x100)).decode(encoding, "replace")) == 128
    except LookupError:
        return False


def _binary(text: str) -> bool:
    return len(_CONTROL.findall(text)) > max(2, len(text) // 500)


def _checked(text: str, enc: str, how: str) -> tuple[str, str, str]:
    if _binary(text):
        raise UndecodableError(f"binary content (control characters) under {enc}")
    return text, enc, how


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str, str | None]:
    """(text, charset used, how it was chosen: bom | http | meta | iso-2022 | utf-8 | utf-8-lossy | detected)."""
    if data.startswith(codecs.BOM_UTF8):
        text = _strict(data[3:], "utf-8")
        if text is None:
            text = _mostly_utf8(data[3:])
            if text is None:
                raise UndecodableError("UTF-8 byte order mark but the body is not UTF-8")
        return _checked(text, "utf-8", "bom")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _strict(data, "utf-16")
        if text is None:
            raise UndecodableError("UTF-16 byte order mark but the body is not UTF-16")
        return _checked(text, "utf-16", "bom")
    is_ascii = data.isascii()
    if is_ascii and _ISO2022_ESC.search(data):
        # 7-bit ISO-2022-JP decodes as ASCII (and so as UTF-8) into escape-code junk.
        for enc in _ISO2022JP + ("iso2022_kr",):
            text = _strict(data, enc)
            if text is not None and plausible(text, enc):
                return _checked(text, enc, "iso-2022")
    candidates = [("http", header_charset(content_type)), ("meta", meta_charset(data))]
    detected: str | None = None
    cjk = _NOT_YET  # _detect_cjk's answer, looked for at most once
    utf8 = None if is_ascii else _strict(data, "utf-8")
    if utf8 is not None and _binary(utf8):
        utf8 = None  # NULs and controls: UTF-16 bytes, say, not a UTF-8 page
    for how, label in candidates:
        for enc in codecs_for(label) or ():
            if utf8 is not None and enc != "utf-8":
                # Non-ASCII bytes that are valid UTF-8 are UTF-8 whatever the label says
                # (koi8-r, utf-16, windows-1252 on a UTF-8 page): other charsets' bytes
                # almost never form valid UTF-8 sequences.
                return _checked(utf8, "utf-8", "utf-8")
            got = _decode(data, enc)
            if got is None or not plausible(got[0], enc):
                continue
            text = got[0]
            if not is_ascii and (enc in CHINESE or _single_byte(enc)):
                if cjk is _NOT_YET:
                    cjk = _cjk_reading(data)
                if cjk is not None:
                    if enc not in CHINESE:
                        break  # a single-byte label on CJK bytes: do not make mojibake
                    # GB2312 bytes read as CP949 too (as Hangul): only a detector that
                    # finds Korean or Japanese overrules a Chinese label.
                    detected = detected or detect(data)
                    if detected in KOREAN or detected in JAPANESE:
                        break
                if enc in WESTERN:
                    detected = detected or detect(data)
                    if detected and detected not in WESTERN:
                        break
            return _checked(text, got[1], how)
    text = _strict(data, "utf-8")
    if text is not None:
        return _checked(text, "utf-8", "utf-8")
    detected = detected or detect(data)
    got, cjk = _detector_reading(data, detected, cjk)
    if got is not None:
        return _checked(got[0], got[1], "detected")
    if cjk is _NOT_YET:
        cjk = _detect_cjk(data)
    if cjk is not None and not cjk[2].endswith("-lossy"):
        return _checked(*cjk)
    text = _mostly_utf8(data)
    if text is not None:
        return _checked(text, "utf-8", "utf-8-lossy")
    cjk = cjk or _detect_cjk(data, lossy=True)
    if cjk is not None:  # a cut character in a legacy page: a single-byte guess would be mojibake
        return _checked(*cjk)
    if detected:
        text = _strict(data, detected)
        if text is not None and plausible(text, detected):
            return _checked(text, detected, "detected")
    raise UndecodableError("no declared or detected charset decodes this page")
