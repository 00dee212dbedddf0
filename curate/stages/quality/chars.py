"""Character classes and the script-level patterns the quality signals count."""

from __future__ import annotations

import functools
import re
from collections import Counter

from curate.io.charset import encodes


# ---------------------------------------------------------------------------- characters
def _ranges_class(chars: list[int]) -> str:
    """A regex character class for a sorted list of code points."""
    parts, start, prev = [], None, None
    for c in chars:
        if start is None:
            start = prev = c
        elif c == prev + 1:
            prev = c
        else:
            parts.append((start, prev))
            start = prev = c
    if start is not None:
        parts.append((start, prev))
    return "[" + "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in parts) + "]"


def _not_encodable(lo: int, hi: int, codec: str) -> list[int]:
    """Code points the codec has no two-byte code for. Python's euc-kr writes the
    8,822 Hangul syllables outside KS X 1001 as 8-byte jamo sequences (KS X 1001
    annex 3) instead of failing, so a successful encode is not enough."""
    out = []
    for c in range(lo, hi + 1):
        try:
            if len(chr(c).encode(codec)) != 2:
                out.append(c)
        except UnicodeEncodeError:
            out.append(c)
    return out


def _rare_kanji() -> list[int]:
    """Kanji outside JIS X 0208 level 1: level 2 (Shift_JIS 0x989F-0xEAA4) is what UTF-8
    Japanese read as cp932 turns into (縺, 繧, 繝...); kanji outside cp932 altogether
    are Chinese-only or archaic and almost absent from Japanese prose."""
    out = []
    for c in range(0x4E00, 0xA000):
        try:
            b = chr(c).encode("cp932")
        except UnicodeEncodeError:
            out.append(c)
            continue
        if len(b) == 2 and (b[0], b[1]) >= (0x98, 0x9F):
            out.append(c)
    return out


_NON_SPACE = re.compile(r"\S")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3131-\u318e]+")
_JAMO_RUN = re.compile(r"[\u1100-\u11ff\u3131-\u318e]+")  # ㅋㅋㅋ, ㅠㅠ, ㅁㄴㅇㄹ
# Chat noise beside jamo runs: w/ｗ laughter (not www.), (笑), kaomoji, orz.
# Every alternative here and in _SENTENCE_END opens with a character (a look-behind
# follows it: "w(?<!x.)" is "(?<!x)w"), which lets the regex engine skip to the
# characters that can start a match instead of trying every position.
_CHATTER = re.compile(
    r"[\u1100-\u11ff\u3131-\u318e][\u1100-\u11ff\u3131-\u318e]*"
    r"|[wｗＷ](?<![A-Za-zＡ-Ｚａ-ｚ].)[wｗＷ]+(?![A-Za-zＡ-Ｚａ-ｚ.])"
    r"|[（(][笑泣汗][）)]|[（(][^\w()（）\s]{0,3}[;_^ω´`・ー゜∀Д][^()（）\s]{0,6}[）)]|o(?<!\w.)rz\b|\^\^"
)
_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]+")
_HIRAGANA = re.compile(r"[\u3041-\u309f]+")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005]+")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_DIGIT = re.compile(r"[0-9\uff10-\uff19]+")
_WORDISH = re.compile(r"\w+")
# A URL runs to the first space or non-ASCII character: Korean and Japanese write the
# next word or particle right after it (https://www.google.co.jpでアクセス可能).
_URL = re.compile(
    r"(?:https?://|www\.)[!-~]+|\b[\w-]+\.(?:com|net|org|kr|jp|co\.kr|co\.jp|io|me|xyz|top)\b[!-~]*", re.I
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# Gopher: '#' and '...' per word
_SYMBOL_WORD = re.compile(r"#|\.\.\.|…")
_BULLET = re.compile(r"^\s*[-*•‣●○◦■□▪▫▶►▷▸◆◇★☆※✓✔➤☞·・]")
# A line ends a sentence (C4 / FineWeb terminal punctuation, plus CJK full stops and
# closing quotes/brackets after them) when its last character, stripped, is one of these.
PUNCT_END_CHARS = frozenset(".!?。！？．…\"'”’」』）)")
# A sentence end inside a line: . ! ? not after a digit (1. / 6.59) and followed by a
# space, closing quote or line end (not www.example.com), or a CJK full stop.
_SENTENCE_END = re.compile(r"[.!?](?<![0-9].)[\"'”’」』）)\]]*(?=\s|$)|[。！？…‥][\"'”’」』）)\]]*")

# Characters that are almost never in clean text of that language but are what an
# encoding confusion produces: U+FFFD and C1 controls everywhere; Latin-1/cp1252
# letters in Japanese (UTF-8 bytes read as latin-1); Hangul syllables outside
# KS X 1001 (UTF-8 read as cp949); half-width katakana (UTF-8 read as cp932) and
# level-2 kanji in Japanese.
_MOJIBAKE_ALL = "\ufffd\u0080-\u009f"
_CP1252_LETTERS = (
    "\u00c0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2020\u2021\u2030\u2039\u203a"
)


@functools.cache
def _mojibake_pattern(lang: str) -> re.Pattern:
    """Mojibake characters of a Japanese or Latin-script text (Korean: ko_mojibake_chars)."""
    if lang == "ja":
        # + Hangul outside KS X 1001: UTF-8 Japanese read as cp949 lands in its extension
        # block (걼, 겗, 굥); Korean quoted in Japanese text uses common syllables.
        rare = _ranges_class(_rare_kanji())[1:-1]
        rare_hangul = _ranges_class(_not_encodable(0xAC00, 0xD7A3, "euc-kr"))[1:-1]
        return re.compile(f"[{_MOJIBAKE_ALL}{_CP1252_LETTERS}\uff61-\uff9f{rare}{rare_hangul}]+")
    # Latin-script languages use é, à...: only the UTF-8-as-latin-1 pairs (Ã©, â€™) count.
    return re.compile(f"[{_MOJIBAKE_ALL}]+|[ÃÂâ][\u0080-\u00bf\u0152-\u0178\u2018-\u203a\u20ac\u2122]")


# Korean mojibake is measured as runs, not single characters: an encoding confusion turns
# every syllable of a stretch into marks side by side (UTF-8 read as cp949: "媛뺣젰븳",
# "占쏙옙" from U+FFFD; as cp1252: "ì•ˆë…•"; as cp932: half-width kana), while informal
# writing puts one rare-but-valid syllable between common ones ("돋앋는데", "봣어요").
# A mark is U+FFFD, a C1 control, a half-width kana, a Hangul syllable outside KS X 1001,
# or a UTF-8 lead byte read as Latin-1/cp1252 with its continuation bytes.
_UTF8_CONT = (
    "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014"
    "\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122\ufffd"
)


@functools.cache
def _ko_mojibake_patterns() -> tuple[re.Pattern, re.Pattern]:
    """(one mark, a run of marks and hanja): hanja join a run because cp949 mojibake mixes
    them in ("紐⑦넗濡")."""
    rare_hangul = _ranges_class(_not_encodable(0xAC00, 0xD7A3, "euc-kr"))[1:-1]
    mark = f"占쏙옙|[\u00c2-\u00f4][{_UTF8_CONT}]+|[{_MOJIBAKE_ALL}\uff61-\uff9f{rare_hangul}]"
    run = f"(?:{mark}|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])+"
    return re.compile(mark), re.compile(run)


_SYLLABLES = re.compile("[\uac00-\ud7a3]+")


def ko_mojibake_chars(text: str) -> int:
    """Characters of Korean text in runs of two or more mojibake marks; a run of rare
    syllables alone needs three different ones: informal writing glues two ("졋넼ㅋㅋ",
    "쓔봙"), and repeats one as laughter ("핳핳핳")."""
    mark, run = _ko_mojibake_patterns()
    if not mark.search(text):
        return 0
    n = 0
    for m in run.finditer(text):
        s = m.group(0)
        hangul_only = _SYLLABLES.fullmatch(s) is not None
        if len(mark.findall(s)) >= 2 and (not hangul_only or len(set(s)) >= 3):
            n += len(s)
    return n


def _count(pattern: re.Pattern, text: str) -> int:
    return sum(map(len, pattern.findall(text)))


# Both patterns start with a run of word characters, which the regex engine retries from
# every character of a long run; a text without the one character every match holds
# ("." or "://" for a URL, "@" for an address) is not scanned.
def url_chars(text: str) -> int:
    """Characters inside URLs."""
    return _count(_URL, text) if "." in text or "://" in text else 0


def email_count(text: str) -> int:
    """E-mail addresses."""
    return len(_EMAIL.findall(text)) if "@" in text else 0


# Japanese kana-keyboard mash: lines of 10+ hiragana and nothing else, and a small tsu
# where no word has one (before a vowel, ん, another small tsu, a Latin letter, a line end).
_HIRAGANA_LINE = re.compile(r"^[\u3041-\u309fー]{10,}$")
_BAD_SOKUON = re.compile(r"っ(?=[っあいうえおんーａ-ｚＡ-Ｚa-zA-Z]|$)", re.M)


@functools.lru_cache(maxsize=1)
def _non_jis_kanji() -> re.Pattern:
    """Kanji that no Japanese charset (CP932) has: simplified Chinese forms, which Japanese
    text read with a Chinese codec (EUC-JP as GBK) comes out full of."""
    ranges, start = [], None
    for cp in list(range(0x4E00, 0xA000)) + [0xA000]:
        missing = cp < 0xA000 and not encodes(chr(cp), "cp932")
        if missing and start is None:
            start = cp
        elif not missing and start is not None:
            ranges.append(f"{chr(start)}-{chr(cp - 1)}" if cp - 1 > start else chr(start))
            start = None
    return re.compile("[" + "".join(ranges) + "]")


# A Japanese doorway page opens sentence after sentence with its keyword and a comma
# ("東京 賃貸、…。東京 賃貸、…。").
_JA_LEAD = re.compile(r"[^、，,。\s]{1,8}[、，,]")


def _same_lead_ratio(sentences: list[str]) -> float:
    """Share of sentences (8+ characters) that open with the most common lead phrase (up
    to 8 characters and a comma), when 3+ do."""
    units = [u for u in sentences if len(u) >= 8]
    leads = [m.group(1) for m in map(_TRIMMED_LEAD.match, units) if m]
    leads = [l for l in leads if len(_NON_WORD.sub("", l)) >= 2]
    if not leads:
        return 0.0
    n = Counter(leads).most_common(1)[0][1]
    return n / len(units) if n >= 3 else 0.0


# the lead after the sentence's opening marks (「, ・, ■): the atomic group takes them
# all, as trimming them off first would
_TRIMMED_LEAD = re.compile(r"(?>[\W_]*)(" + _JA_LEAD.pattern + ")")
_NON_WORD = re.compile(r"\W")
