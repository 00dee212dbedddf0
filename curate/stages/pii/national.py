"""National identity numbers: the Korean resident registration number, the Japanese My
Number, passports."""

from __future__ import annotations

import datetime as _dt
import re

from stdnum.jp import in_ as _jp_in
from stdnum.kr import rrn as _kr_rrn

from curate.stages.pii.common import _GSEP, _HYPH, _L_NOSEP, _R, _ctx, _digits, _near, _not_pii
from curate.stages.pii.phone import _KR_TEL

_CURRENT_YEAR = _dt.date.today().year

# ---------------------------------------------------------------- rrn
# "등록번호" alone also ends 법인등록번호 / 사업자등록번호, which number companies, not people.
# Foreigners' numbers are also labelled in English (ARC, Alien Registration No.) or by the
# card (외국인등록증, 거소신고증).
_RRN_CTX = re.compile(
    _ctx(
        [
            "주민등록",
            "주민번호",
            "주민 번호",
            "외국인등록",
            "외국인 등록",
            "RRN",
            "resident registration",
            "住民登録",
            "alien registration",
            "거소신고",
            "거소 신고",
        ]
    ).pattern
    + r"|(?<![A-Za-z])ARC(?![A-Za-z])"
    + r"|(?<!법인)(?<!법인 )(?<!사업자)(?<!사업자 )등록(?:번호|증)",
    re.IGNORECASE,
)
_RRN = re.compile(_L_NOSEP + r"(\d{2})(\d{2})(\d{2})[ ]?(" + _HYPH + r")?[ ]?(\d)(\d{6}|[*＊xX●○]{6})" + _R)
_RRN_W = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
# 9 and 0 (born 1800-1899) are left out: no holder is alive, and "-9"/"-0" after a date
# is a serial number, not a registration.
_CENTURY = {"1": 1900, "2": 1900, "5": 1900, "6": 1900, "3": 2000, "4": 2000, "7": 2000, "8": 2000}


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        _dt.date(y, m, d)
    except ValueError:
        return False
    return True


def _rrn_checksum_ok(d: str) -> bool:
    # Citizens: python-stdnum's check (date, place-of-birth code, (11 - s % 11) % 10).
    # Registered foreigners (sex digit 5-8) before 2020 were also issued numbers with
    # (13 - s % 11) % 10, which stdnum does not know. Accepting both for everyone would
    # pass 2 in 10 random numbers.
    if _kr_rrn.is_valid(d):
        return True
    if d[6] in "5678" and int(d[7:9]) <= 96:
        s = sum(int(a) * w for a, w in zip(d[:12], _RRN_W))
        return int(d[12]) == (13 - s % 11) % 10
    return False


def _birth_ok(yy: str, mm: str, dd: str, g: str) -> bool:
    """A real past birth date, its century read from the sex digit g."""
    g = _digits(g)
    if g not in _CENTURY:
        return False
    year = _CENTURY[g] + int(yy)
    return year <= _CURRENT_YEAR and _valid_date(year, int(mm), int(dd))


# The two halves written apart: "주민번호 앞자리 900101 뒷자리 1234567" leaks the whole number.
_RRN_SPLIT = re.compile(
    r"(?<!\d)(\d{2})(\d{2})(\d{2})(?!\d)[^\d\n]{1,14}?"
    r"(?:뒷자리|뒷번호|뒤\s?7\s?자리|뒤\s?일곱\s?자리|뒤)[^\d\n]{0,6}?(?<!\d)([1-8]\d{6})(?!\d)"
)


def _find_rrn(text: str, out: list, lang: str = "") -> None:
    for m in _RRN.finditer(text):
        yy, mm, dd, hyph, g, rest = (m.group(i) for i in range(1, 7))
        if not _birth_ok(yy, mm, dd, g):
            continue
        ctx = _near(_RRN_CTX, text, m.start(), m.end(), 20, 10)
        if not ctx and _not_pii(text, m.start(), m.end()):
            continue  # "바코드 8801234567893", "JAN 4901234567894"
        if not rest[0].isdecimal():  # masked tail "900101-1******": still birth date + sex
            if hyph or ctx:
                out.append((m.start(), m.end(), "rrn", True))
            continue
        digits = _digits(m.group(0))
        # The check digit is random since October 2020, so it is evidence, not a gate.
        if hyph or ctx or _rrn_checksum_ok(digits):
            out.append((m.start(), m.end(), "rrn", ctx or hyph is not None))
    if "뒤" in text or "뒷" in text:
        for m in _RRN_SPLIT.finditer(text):
            if not _birth_ok(m.group(1), m.group(2), m.group(3), m.group(4)[0]):
                continue
            if (
                _near(_RRN_CTX, text, m.start(), m.end(), 20, 10)
                or "앞자리" in text[max(0, m.start() - 12) : m.start()]
            ):
                out.append((m.start(1), m.end(3), "rrn", True))
                out.append((m.start(4), m.end(4), "rrn", True))


# ---------------------------------------------------------------- mynumber
_MYNUM_CTX = _ctx(["マイナンバー", "個人番号", "my number", "mynumber", "마이넘버", "개인번호", "ﾏｲﾅﾝﾊﾞｰ", "ｺｼﾞﾝﾊﾞﾝｺﾞｳ"])
_MYNUM = re.compile(_L_NOSEP + r"\d{4}(" + _GSEP + r"?)\d{4}\1\d{4}" + _R)


def mynumber_ok(d: str) -> bool:
    """Check digit of the Japanese individual number (12 digits), by python-stdnum."""
    return _jp_in.is_valid(d)


def _find_mynumber(text: str, out: list, lang: str = "") -> None:
    for m in _MYNUM.finditer(text):
        d = _digits(m.group(0))
        if not mynumber_ok(d) or len(set(d)) == 1:  # "0000-0000-0000" is a placeholder
            continue
        ctx = _near(_MYNUM_CTX, text, m.start(), m.end())
        if not ctx and (_not_pii(text, m.start(), m.end()) or _KR_TEL.fullmatch(d)):
            continue  # "0507-1234-5678" is a Korean safe-number phone, whatever its check digit
        if ctx or m.group(1):
            out.append((m.start(), m.end(), "mynumber", ctx))


# ---------------------------------------------------------------- passport
_PASS_CTX = _ctx(["여권", "passport", "旅券", "パスポート", "護照", "ﾊﾟｽﾎﾟｰﾄ"])
# Korean: M/S/R/G/D + 8 digits, or the 2021 format M123A4567; older Korean and Japanese
# passports: two letters + 7 digits (JR1234567, TK1234567).
_PASS = re.compile(r"(?<![0-9A-Za-z])(?:[MSRGD](?:\d{8}|\d{3}[A-Z]\d{4})|[A-Z]{2}\d{7})(?![0-9A-Za-z])")
# Loosely typed: lowercase, or a space or dash after the letter ("m12345678", "M 12345678",
# "M-12345678", "M1234 5678"). Weaker evidence, so the passport word must be closer.
_PASS_LOOSE = re.compile(
    r"(?<![0-9A-Za-z])(?:[MSRGD][ \-]?\d{8}|[MSRGD]\d{3}[A-Z]\d{4}|[MSRGD]\d{4} \d{4}"
    r"|[A-Z]{2}\d{7})(?![0-9A-Za-z])",
    re.I,
)


def _find_passport(text: str, out: list, lang: str = "") -> None:
    for m in _PASS_LOOSE.finditer(text):
        before, after = (40, 20) if _PASS.fullmatch(m.group()) else (20, 10)
        if _near(_PASS_CTX, text, m.start(), m.end(), before, after) and not _not_pii(text, m.start(), ctx=_PASS_CTX):
            out.append((m.start(), m.end(), "passport", True))
