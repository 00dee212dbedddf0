"""pii: find and replace personal identifiers with Polyglot-style tokens (<|tel|>, ...).

Every detector is a candidate regex followed by validation: checksums (Luhn, the
resident registration, My Number and IBAN check digits, by python-stdnum), real
calendar dates, known number plans (Korean / Japanese phone prefixes; every other
country's, North America's included, from libphonenumber's metadata by phonenumbers;
card IIN ranges) and, where the digits alone say too little (bank accounts, passports,
bare digit runs), a context word nearby.
Dates, prices, case numbers, ISBNs, versions and postal codes fail these checks, so
they stay in the text.

Korean business numbers without an area code (1588-1234, 1644-...) have the shape of
year ranges ("1592-1598"): they count only with a phone word nearby. Korean toll-free
080-XXX-XXXX counts in Korean text only (elsewhere it is a Japanese 0A0 number one
digit short).

Speed: a text without a digit, "@", ":" or the lead of a spoken number (공일, 영일, ...)
returns at once; each detector only runs
when its cheap trigger (a digit, "@", "::", a context word) is in the text.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import re
from dataclasses import dataclass

import phonenumbers
import pyarrow as pa
from stdnum import iban as _iban
from stdnum import luhn as _luhn
from stdnum.jp import in_ as _jp_in
from stdnum.kr import rrn as _kr_rrn

from curate.io.schema import PII_KINDS
from curate.stages.base import live_mask, merge_drop_reasons, set_column

# Tie-break between overlapping candidates of equal strength and length.
_PRIORITY = {"email": 0, "rrn": 1, "mynumber": 2, "card": 3, "acc": 4, "tel": 5, "passport": 6, "ip": 7}

_CURRENT_YEAR = _dt.date.today().year


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    kind: str


# ---------------------------------------------------------------- shared pieces
# Text boundaries are ASCII-only on purpose: Korean particles and Japanese text
# attach directly to numbers ("010-1234-5678로", "電話090-1234-5678"), and Hangul
# counts as \w in Python.
_L_NOSEP = r"(?<![\dA-Za-z+\-‐‑‒–—－―])(?<!\d[.．])"  # not glued to a longer dashed/dotted number
_R = r"(?![\dA-Za-z])(?![-‐‑‒–—－―.．]\d)"
# Phone numbers may also follow their label with no space: "TEL03-1234-5678", "HP010-...".
_L_TEL = (
    r"(?:(?<![\dA-Za-z+\-‐‑‒–—－―])|(?<=[Tt][Ee][Ll])|(?<=[Ff][Aa][Xx])|(?<=HP)|(?<=hp)|(?<=Hp)"
    r"|(?<=PH)|(?<=Ph)|(?<=(?<![A-Za-z])[TF]))(?<!\d[.．])"
)
_DASH = "-‐‑‒–—－ー"
# Separators inside phone numbers: dash, dot, space, spaced dash ("010 - 1234 - 5678").
# Japanese text also writes them with the horizontal bar or the wave dash ("090〜1234〜5678");
# those count only inside phone numbers, where ranges ("2019〜2023") cannot fit the plan.
_TSEP = f"(?:[ ]?[{_DASH}―〜~][ ]?|[.． ])"
_HYPH = f"[{_DASH}]"
# Separator between digit groups of cards and My Numbers: a dash (spaced or not) or a
# space. The dash leads its class so it is never read as a range.
_GSEP = f"(?:[ ]?{_HYPH}[ ]?|[ ])"
# A number followed by a unit is an amount or a count, not an identifier.
_UNIT = re.compile(
    r"원|円|달러|%|만|억|조|년|年|월|月|일|日|개|명|人|회|件"
    r"|\s(?:円|달러|%|won|yen|KRW|JPY|USD)(?![A-Za-z])"
    r"|\s원(?![가-힣])|\s원(?=[이을은의에으도만가씩])"
)  # "3,000 원이다", not " 원칙"

# A word or a bracketed "at" written for "@" to dodge harvesters: "(at)", "[ at ]", 골뱅이,
# アットマーク. Bare " at " stays out: it is English ("look at example.com"). The gate, the
# email trigger and the dodged-email pattern are all built from these pieces, so they cannot
# disagree (the gate once missed "( at )" that the email pattern accepted).
_AT_BRACKET = r"[(\[（［]\s*at\s*[)\]）］]"
_AT_NAME = r"골뱅이|アットマーク|あっとまーく"
_AT_WORD = _AT_BRACKET + r"|[(\[（［]?\s?(?:" + _AT_NAME + r")\s?[)\]）］]?"
# Searches only ask whether a mark is there, so they leave out the optional brackets
# around the names: every branch then starts with a known character, which keeps the
# scan over text without any identifier fast.
_AT_MARK = _AT_BRACKET + "|" + _AT_NAME
_GATE = re.compile(r"[\d@＠:：]|" + _AT_MARK, re.I)
# Fullwidth ASCII (０-９, －, ＠, ...) maps 1:1 onto ASCII, so offsets survive the mapping.
# The ideographic space separates digit groups in Japanese text ("１２３４　５６７８"), so
# does a no-break space; the minus sign is what Shift_JIS conversion makes of "－"
# ("03−1234−5678").
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0x00A0: 0x20, 0x2212: 0x2D, 0x2012: 0x2D}
_HAS_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000\u00a0\u2212\u2012]")
# The Hangul vowel ㅡ and the halfwidth prolonged sound mark ｰ typed as a dash between
# digits ("010ㅡ1234ㅡ5678", "090ｰ1234ｰ5678"). Only there: elsewhere ｰ belongs to a
# halfwidth-katakana word (ﾏｲﾅﾝﾊﾞｰ, ﾊﾟｽﾎﾟｰﾄ) that a context list must still find.
_EU_DASH = re.compile(r"(?<=\d)([ ]?)[ㅡｰ](?=[ ]?\d)")
_DIGIT_RUN = re.compile(r"\d[\d\-‐‑‒–—－ー―〜~.．() :/]{5,}\d")


def _digits(s: str) -> str:
    """ASCII digits of s (fullwidth and other Unicode decimal digits included)."""
    return "".join(str(int(c)) for c in s if c.isdecimal())


def _ctx(words: list[str]) -> re.Pattern:
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


# A sentence ends at 。！？, a newline, or .!? after a Hangul / Japanese character or a
# closing quote ("...했다. "); after Latin letters a period may be "no." or "Tel.".
_SENTENCE_END = re.compile(r"(?<=[가-힣ぁ-んァ-ヶ一-龥)\]\"”’])[.!?](?:\s|$)|[。！？\n]")


_LINE_LEAD = " \t-*•·・|:：([「『\"“'"


def _near(pat: re.Pattern, text: str, start: int, end: int, before: int = 30, after: int = 20) -> bool:
    """A context word within the window around [start, end), in the same sentence."""
    lo, hi = max(0, start - before), min(len(text), end + after)
    last = None
    for last in _SENTENCE_END.finditer(text, lo, start):  # noqa: B007 (the last match)
        pass
    if last is not None:
        lo = last.end()
        # A label on a line of its own ("여권번호\nM12345678", "口座\n- 123-..."): when the
        # number opens its line, the line above still belongs to it.
        if last.group() == "\n" and not text[lo:start].strip(_LINE_LEAD):
            lo = max(0, start - before)
            for m in _SENTENCE_END.finditer(text, lo, last.start()):
                lo = m.end()
    m = _SENTENCE_END.search(text, end, hi)
    if m:
        hi = m.start() + 1
    if pat.search(text, lo, hi) is not None:
        return True
    header = _header_cell(text, start)
    return header is not None and pat.search(header) is not None


_PIPE = re.compile(r"[|｜]")
_TABLE_RULE = re.compile(r"[\s|｜:\-－—]*")


def _header_cell(text: str, start: int) -> str | None:
    """In a pipe table ("| 성명 | 여권번호 |\n| 홍길동 | M12345678 |"), the header cell of the
    column that start lies in: the label of a number in a row below."""
    ls = text.rfind("\n", 0, start) + 1
    if ls == 0 or not _PIPE.search(text, ls, start):
        return None
    header = None
    pos = ls  # walk up through the rows of the table to its first line that is no rule line
    for _ in range(30):
        if pos == 0:
            break
        ps = text.rfind("\n", 0, pos - 1) + 1
        if not _PIPE.search(text, ps, pos - 1):
            break
        if not _TABLE_RULE.fullmatch(text, ps, pos - 1):
            header = text[ps : pos - 1]
        pos = ps
    if header is None:
        return None
    # Rows and header must agree on a leading pipe for the cells to line up.
    if text[ls:start].lstrip().startswith(("|", "｜")) != header.lstrip().startswith(("|", "｜")):
        return None
    col = len(_PIPE.findall(text, ls, start))
    cells = _PIPE.split(header)
    return cells[col] if col < len(cells) else None


# Words that say the number next to them is not a personal identifier.
_NOT_PII = re.compile(
    r"(?<![A-Za-z])(?:ISBN|ISSN|DOI|ver|version|build|model|order|part|firmware|tracking|invoice|barcode"
    r"|EAN|JAN|UPC|serial|update|patch)(?![A-Za-z])|"
    # numbers of orders, bookings, documents ... ("주문 번호", "예약번호"), spaced or not
    r"(?:주문|신청|접수|관리|문서|거래|승인|송장|일련|사건|쿠폰|핀|인증|등기|배송|상품|제품|티켓|발급|결제)\s?번호|"
    + "|".join(
        [
            "버전",
            "バージョン",
            "빌드",
            "모델명",
            "型番",
            "품번",
            "사업자",
            "법인번호",
            "법인등록",
            "송장",
            "注文番号",
            "品番",
            "部品",
            "펌웨어",
            "ファームウェア",
            "바코드",
            "バーコード",
            "伝票",
            "追跡番号",
            "承認番号",
            "受付番号",
            "会員番号",
            "회원번호",
            "고객번호",
            "シリアル",
            "쿠폰",
            "クーポン",
            "이체일시",
            "거래일시",
            "お問い合わせ番号",
            "問い合わせ番号",
            "送り状",
            "配送",
            "기프티콘",
            "PIN번호",
            "업데이트",
            "패치",
            "アップデート",
            "パッチ",
            "整理番号",
            "受験番号",
            "管理番号",
            "申込番号",
        ]
    ),
    re.IGNORECASE,
)


# Booking numbers: not an identifier of a person, but "예약번호 02-555-1234" in a
# restaurant listing is the number to call, so phone numbers ignore these labels.
_NOT_PII_ID = re.compile(_NOT_PII.pattern + r"|(?:예약|예매)\s?번호|予約番号", re.IGNORECASE)


# A sentence end followed by a word between a label and the number ("no. 123" keeps its label).
_GAP_SENTENCE = re.compile(r"[.!?。！？]\s*[^\W\d_]")
# A value of its own between a label and the number: a token with a digit, then a space
# ("버전 v1.5.1 010 ...", "ISBN 978-89-... 문의 070 ..."). The label belongs to that value.
_VALUE_IN_GAP = re.compile(r"[^\s\d]*\d\S*[\s,;]+")


def _not_pii(
    text: str, start: int, end: int | None = None, ctx: re.Pattern | None = None, labels: re.Pattern = _NOT_PII_ID
) -> bool:
    """A unit after the number, or a not-PII label before it that no context word of the
    number's own kind follows ("주문번호 123, 연락처 010-..." keeps the phone)."""
    if end is not None and _UNIT.match(text, end):
        return True
    last = None
    for last in labels.finditer(text, max(0, start - 15), start):  # noqa: B007 (the last match)
        pass
    if last is None:
        return False
    if _GAP_SENTENCE.search(text, last.end(), start):
        return False  # the label ends an earlier sentence: "the 16GB model. Blocked 10.0.0.1"
    if _VALUE_IN_GAP.search(text, last.end(), start):
        return False  # the label names the value after it: "모델명 SM-G485N 031-673-6890"
    return ctx is None or ctx.search(text, last.end(), start) is None


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


# ---------------------------------------------------------------- tel
_TEL_CTX = _ctx(
    [
        "전화",
        "연락",
        "휴대폰",
        "핸드폰",
        "폰번호",
        "문자",
        "문의",
        "번호",
        "예약",
        "tel",
        "phone",
        "fax",
        "팩스",
        "☎",
        "📞",
        "電話",
        "携帯",
        "連絡",
        "問い合わせ",
        "問合せ",
        "予約",
        "call",
        "mobile",
        "contact",
        "代表",
        "H.P",
        "고객센터",
        "콜센터",
        "상담",
        "ﾃﾞﾝﾜ",
        "ｹｲﾀｲ",
        "ﾚﾝﾗｸ",
        "ﾄｲｱﾜｾ",
    ]
)  # halfwidth katakana, as old forms and SJIS mail write them
# A phone number may run straight into the next label of a contact line ("TEL:03-1234-5678FAX:...").
_R_TEL = (
    r"(?:(?![\dA-Za-z])|(?=(?:FAX|Fax|fax|TEL|Tel|tel|E-?[Mm]ail|EMAIL|[Mm]ail|MAIL|URL|HP|Web|WEB)))"
    r"(?![-‐‑‒–—－―.．]\d)"
)
# Domestic form: 0AA(A) - EXCH - NNNN, with the area code or exchange in parentheses.
# Slashes ("010/1234/5678") count only in Korean mobiles or next to a phone word.
_TSEP_OR_SLASH = f"(?:{_TSEP}|/)"
_TEL = re.compile(
    r"(?=[(0])"
    + _L_TEL  # the cheap first-character test runs before the lookbehinds
    + r"(?:\((0\d{1,4})\)(?:[ ]?"
    + _HYPH
    + r"[ ]?|[ ])?|(0\d{1,4})(\)[ ]?|"
    + _TSEP_OR_SLASH
    + r")?)"
    + r"(?:\((\d{1,4})\)|(\d{1,4})("
    + _TSEP_OR_SLASH
    + r")?)"
    + r"(\d{4})"
    + _R_TEL
)
# Japanese free dial and navi dial: 0120-XXX-XXX, 0570-XXX-XXX, 0800-XXX-XXXX.
_TEL_JP_FREE = re.compile(_L_TEL + r"(0120|0570|0990|0800)(" + _TSEP + r")(\d{3})(" + _TSEP + r")(\d{3,4})" + _R_TEL)
# Korean nationwide business numbers (1588-1234): the shape of a year range ("1592-1598"),
# so only with a phone word nearby.
_TEL_KR_BIZ = re.compile(_L_NOSEP + r"(1(?:5[4-9]\d|6\d\d|8\d\d))(" + _TSEP + r")(\d{4})" + _R_TEL)
# International form: +CC, optional (0), then 2-5 groups.
_TEL_INTL = re.compile(
    r"(?:(?<![\dA-Za-z+])|(?<=[Tt][Ee][Ll])|(?<=[Ff][Aa][Xx]))"  # "TEL+81-3-..." as "TEL03-..."
    r"(\(?)\+[ ]?(\d{1,3}\)?(?:[ ]?\(0\))?(?:" + _TSEP + r"?\(?\d{1,12}\)?){1,5})" + _R
)
# North American numbers without "+1": (NXX) NXX-XXXX, NXX-NXX-XXXX, NXX.NXX.XXXX, an optional
# leading "1-". Area codes and exchanges never start with 0 or 1, so Korean and Japanese
# domestic numbers (0...) never take this shape.
_TEL_NANP = re.compile(
    r"(?=[(1-9])(?<![\dA-Za-z+\-‐‑‒–—－.．/(])(?<!\+1 )(?<!\+ 1 )"
    r"(?:1([-. ]))?(?:\(([2-9]\d\d)\)[ ]?|([2-9]\d\d)([-. ]))"
    r"([2-9]\d\d)([-. ])(\d{4})" + _R
)
_GROUP = re.compile(r"\(?\d+\)?")
# "82-10-1234-5678", "(82)10-...", "82-010-...": the Korean or Japanese country code written
# without its "+", the trunk 0 sometimes kept; or dialled from abroad ("0082-", "001-82-",
# "00700-82-", "010-82-" from Japan), where the prefix alone says it is a phone number.
_TEL_CC = re.compile(
    r"(?=[0(8])(?<![\dA-Za-z+\-‐‑‒–—－.．])(?:(00\d{0,3}|010)" + _TSEP + r"?(?=\(?8[12]))?"
    r"(\(8[12]\)"
    + _TSEP
    + r"?|8[12]"
    + _TSEP
    + r")(?:\(0\)[ ]?|0)?(\d{1,2})"
    + _TSEP
    + r"(\d{3,4})"
    + _TSEP
    + r"(\d{4})"
    + _R
)
_KR_TEL = re.compile(
    r"01[016789]\d{7,8}|02\d{7,8}|0(?:3[1-3]|4[1-4]|5[1-5]|6[1-4])\d{7,8}"
    r"|070\d{8}|050[2-8]\d{7,8}|080\d{7}"
)  # 080-XXX-XXXX: toll-free
# Japanese 0A0 prefixes (050/070/080/090 ...) only exist with 11 digits: "080-123-4567" is
# a Korean toll-free number or nothing, not a Japanese landline.
_JP_TEL = re.compile(r"0[5789]0\d{8}|0[1-9][1-9]\d{7}")
_JP_LANDLINE = re.compile(r"0[1-9]\d{8}")
# Mobile prefixes distinctive enough to accept in text of the other language.
_KR_MOBILE = re.compile(r"01[016789]\d{7,8}")
_JP_MOBILE = re.compile(r"0[789]0\d{8}")


_KR_AREA = re.compile(r"02|0(?:3[1-3]|4[1-4]|5[1-5]|6[1-4])|01[016789]|070|050[2-8]|080")


def _plans(d: str, area: str | None = None, exch: str | None = None) -> tuple[bool, bool]:
    """(fits the Korean plan, fits the Japanese plan) for domestic digits d.

    With separators the groups must fit too: "03-1234-5678" is Japanese, though its
    digits could also spell the Korean 031-234-5678.
    """
    kr, jp = bool(_KR_TEL.fullmatch(d)), bool(_JP_TEL.fullmatch(d))
    if area is not None and exch is not None:
        kr = kr and bool(_KR_AREA.fullmatch(area)) and len(exch) in (3, 4)
        if len(d) == 11:  # 0X0-XXXX-XXXX mobiles and IP phones
            jp = jp and len(area) == 3 and len(exch) == 4
        else:  # landlines: area code (with its 0) + exchange = 6 digits
            # The groups say where the area code ends, so "(03) 0586-3410" reads as Tokyo
            # even though bare "0305863410" would start like a 0A0 prefix; a 0A0 area
            # group itself (080-874-9330) is still no landline.
            jp = (
                bool(_JP_LANDLINE.fullmatch(d))
                and len(area) + len(exch) == 6
                and not (len(area) == 3 and area[2] == "0")
            )
            # Hokkaido's 012x-016x exist only as 4- and 5-digit codes: "012-345-6789" fits no plan.
            jp = jp and not (len(area) == 3 and area[1] == "1" and area[2] in "23456")
    return kr, jp


def _national_ok(d: str, lang: str = "", area: str | None = None, exch: str | None = None) -> bool:
    """A domestic number fits the numbering plan of the text's language.

    Korean text: the Korean plan plus Japanese mobiles (distinctive); Japanese text the
    other way round; any other language: either plan.
    """
    kr, jp = _plans(d, area, exch)
    if lang == "ko":
        return kr or (jp and bool(_JP_MOBILE.fullmatch(d)))
    if lang == "ja":
        return jp or (kr and bool(_KR_MOBILE.fullmatch(d)))
    return kr or jp


def _nanp_valid(d: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(d[-10:], "US"))
    except phonenumbers.NumberParseException:
        return False


def _kr_possible(d: str) -> bool:
    """A Korean area or mobile prefix and a length libphonenumber's KR metadata allows."""
    if not _KR_AREA.match(d):
        return False
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(d, "KR"))
    except phonenumbers.NumberParseException:
        return False


def _sep_style(sep: str | None) -> str:
    if not sep:
        return ""
    return "-" if any(c in _DASH + "―〜~" for c in sep) else sep.strip() or " "


def _find_tel(text: str, out: list, lang: str = "") -> None:
    for m in _TEL.finditer(text):
        area = m.group(1) or m.group(2)
        exch = m.group(4) or m.group(5)
        sep1, sep2 = m.group(3), m.group(6)
        d = _digits(m.group(0))
        if len(d) == 10 and d.startswith("080") and lang != "ko":
            continue  # Korean toll-free in Korean text; elsewhere a 0A0 number one digit short
        grouped = bool(m.group(1) or m.group(4) or sep1)
        g_area, g_exch = (_digits(area), _digits(exch)) if grouped else (None, None)
        native = _national_ok(d, lang, g_area, g_exch)
        if not native and not any(_plans(d, g_area, g_exch)):
            # Off the plan above ("070 453 5852"): a grouped number with a Korean prefix
            # and a length libphonenumber allows counts next to a phone word.
            if not (grouped and _kr_possible(d) and _near(_TEL_CTX, text, m.start(), m.end())):
                continue
            native = True
        parens = m.group(1) or m.group(4) or (sep1 or "").startswith(")")
        ctx = _near(_TEL_CTX, text, m.start(), m.end())
        mobile = bool(_KR_MOBILE.fullmatch(d) or _JP_MOBILE.fullmatch(d))
        if "/" in (sep1 or "") + (sep2 or "") and not (mobile or ctx):
            continue  # "03/12/2019" and its like
        if not parens and _sep_style(sep1) != _sep_style(sep2) and not ((ctx or mobile) and sep1 and sep2):
            continue  # one separator style per number ("02.123-4567"), unless a phone word or a mobile prefix vouches for it
        if not native and not ctx:
            continue  # the other country's landline shape, e.g. "03-1234-5678" in Korean text
        if not (sep1 or sep2 or m.group(1) or m.group(4)):
            # A bare digit run: only mobiles, or any number with a phone word nearby.
            if not (mobile or ctx):
                continue
        if _not_pii(text, m.start(), ctx=_TEL_CTX, labels=_NOT_PII):
            continue
        out.append((m.start(), m.end(), "tel", ctx))
    for m in _TEL_JP_FREE.finditer(text):
        if _sep_style(m.group(2)) != _sep_style(m.group(4)) or len(m.group(5)) != (4 if m.group(1) == "0800" else 3):
            continue
        if not _not_pii(text, m.start(), m.end(), _TEL_CTX, _NOT_PII):
            out.append((m.start(), m.end(), "tel", _near(_TEL_CTX, text, m.start(), m.end())))
    for m in _TEL_KR_BIZ.finditer(text):
        if _near(_TEL_CTX, text, m.start(), m.end()) and not _not_pii(text, m.start(), m.end(), _TEL_CTX, _NOT_PII):
            out.append((m.start(), m.end(), "tel", True))
    for m in _TEL_CC.finditer(text):
        prefix, cc = m.group(1), _digits(m.group(2))
        nat = "0" + m.group(3) + m.group(4) + m.group(5)
        plan = "ko" if cc == "82" else "ja"
        # Without the "+" only a mobile number, a dial prefix, or any number of the plan with a phone word.
        mobile = (_KR_MOBILE if plan == "ko" else _JP_MOBILE).fullmatch(nat)
        ctx = _near(_TEL_CTX, text, m.start(), m.end())
        if (
            (mobile or ctx or prefix)
            and _national_ok(nat, plan)
            and not _not_pii(text, m.start(), ctx=_TEL_CTX, labels=_NOT_PII)
        ):
            out.append((m.start(), m.end(), "tel", True))
    for m in _TEL_NANP.finditer(text):
        lead, paren, sep1, sep2 = m.group(1), m.group(2), m.group(4), m.group(6)
        if not paren and sep1 != sep2 or (lead and lead != (sep1 or sep2)):
            continue  # one separator style: "415-555.0132" is no number
        ctx = _near(_TEL_CTX, text, m.start(), m.end())
        # Spaced digits are too often lists; a dialable number (libphonenumber's NANP
        # metadata) or any NXX shape with a phone word ("call me at (391) 860-9321").
        if not (ctx or (sep2 != " " and _nanp_valid(_digits(m.group(0))))):
            continue
        if not _not_pii(text, m.start(), m.end(), _TEL_CTX, _NOT_PII):
            out.append((m.start(), m.end(), "tel", ctx))
    if "+" not in text:
        return
    for m in _TEL_INTL.finditer(text):
        # "(+82) 10-..." keeps its parenthesis; "(+82 10-...)" does not.
        start = m.start() if m.group(1) and ")" in text[m.start(2) : m.start(2) + 4] else m.start(2) - 1
        while text[start] not in "(+":
            start -= 1
        # The group pattern may run on into a following number ("+82-2-123-4567 3명"):
        # try the longest run of groups first, then shorter ones.
        groups = list(_GROUP.finditer(text, m.start(2), m.end()))
        ctx = _near(_TEL_CTX, text, start, m.end())
        for k in range(len(groups), 0, -1):
            g = groups[k - 1]
            if _intl_ok(_digits(text[m.start(2) : g.end()]), g.group(), [_digits(x.group()) for x in groups[:k]], ctx):
                # a ")" that closes a parenthesis opened before the number stays outside
                end = g.end() - 1 if g.group().endswith(")") and "(" not in g.group() else g.end()
                out.append((start, end, "tel", True))
                break


# A Korean number read out in Sino-Korean digit words: "공일공 일이삼사 오육칠팔" (010-1234-5678),
# as chat logs and transcripts write it to dodge filters. The first character class
# leads, so the scan skips ahead on it; the groups keep one separator.
_SINO_DIGITS = {
    "공": "0",
    "영": "0",
    "일": "1",
    "이": "2",
    "삼": "3",
    "사": "4",
    "오": "5",
    "육": "6",
    "륙": "6",
    "칠": "7",
    "팔": "8",
    "구": "9",
}
_SINO = "공영일이삼사오육륙칠팔구"
_SPOKEN_TEL = re.compile(
    f"[공영](?<![가-힣][공영])[{_SINO}]{{1,3}}([ \\-]?)[{_SINO}]{{3,4}}\\1[{_SINO}]{{4}}(?![{_SINO}십백천만])"
)


# A spoken number starts with one of these pairs (010, 02, 031 ...); "영" alone is in most
# movie reviews ("영화"). The gate looks for them in the same scan as for digits and "@".
_SPOKEN_LEAD_PAT = "공[일이삼사오육]|영일"
_SPOKEN_LEAD = re.compile(_SPOKEN_LEAD_PAT)
_GATE_OR_SPOKEN = re.compile(_GATE.pattern + "|" + _SPOKEN_LEAD_PAT, re.I)


def _find_spoken_tel(text: str, out: list) -> None:
    for m in _SPOKEN_TEL.finditer(text):
        d = "".join(_SINO_DIGITS.get(c, "") for c in m.group(0))
        if not _KR_TEL.fullmatch(d):
            continue
        # Mobiles are distinctive (11 digit words in a row); other numbers need a phone word.
        if _KR_MOBILE.fullmatch(d) or _near(_TEL_CTX, text, m.start(), m.end()):
            out.append((m.start(), m.end(), "tel", True))


def _intl_ok(d: str, last_group: str, groups: list[str] | None = None, ctx: bool = False) -> bool:
    """E.164 digits after "+": Korean and Japanese numbers checked against their plans
    (with the area and exchange groups where the number is written in four groups)."""
    for cc, plan in (("82", "ko"), ("81", "ja")):
        if d.startswith(cc):
            nat = d[len(cc) :]
            area = exch = None
            if groups and len(groups) == 4 and groups[0] == cc:
                area, exch = groups[1] if groups[1].startswith("0") else "0" + groups[1], groups[2]
            # Korean and Japanese numbers end in a 4-digit group (or are written unbroken).
            return len(_digits(last_group)) >= 4 and _national_ok(
                nat if nat.startswith("0") else "0" + nat, plan, area, exch
            )
    # Every other country: a number libphonenumber's metadata holds valid for its region,
    # or, next to a phone word, any E.164 length.
    if not (8 <= len(d) <= 15 and len(_digits(last_group)) >= 2):
        return False
    if ctx:
        return True
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse("+" + d))
    except phonenumbers.NumberParseException:
        return False


# ---------------------------------------------------------------- acc
_BANKS = [
    "국민",
    "신한",
    "우리",
    "하나",
    "농협",
    "기업",
    "SC제일",
    "제일",
    "씨티",
    "카카오",
    "토스",
    "케이뱅크",
    "K뱅크",
    "우체국",
    "새마을",
    "신협",
    "수협",
    "산업",
    "대구",
    "부산",
    "경남",
    "광주",
    "전북",
    "제주",
    "iM뱅크",
    "카뱅",
    "케뱅",
    "토뱅",
    "스탠다드차타드",
]
# Latin abbreviations only as whole words ("KB", not "KBOX").
_BANK_PAT = "|".join(re.escape(w) for w in _BANKS) + r"|(?<![A-Za-z])(?:KB|NH|IBK|SC)(?![A-Za-z])"
# A whole word: "unaccounted", "accountability" say nothing about a bank.
_ACCOUNT = r"(?<![A-Za-z])accounts?(?![A-Za-z])"
_ACC_CTX = re.compile(
    "(?<!중앙)(?<!투자)은행(?!장|권|들)|"
    + "|".join(
        re.escape(w) for w in ["계좌", "입금", "예금주", "송금", "통장", "이체", "뱅크", "口座", "振込", "ｺｳｻﾞ", "ﾌﾘｺﾐ"]
    )
    + "|"
    + _ACCOUNT
    + "|"
    + _BANK_PAT,
    re.I,
)
# The gate: an account word or an unambiguous bank name somewhere in the text ("우리",
# "하나", "기업" alone are everyday words: without this gate they count only right next
# to the number).
_ACC_WORD = re.compile(
    _ctx(
        [
            "계좌",
            "입금",
            "예금주",
            "송금",
            "통장",
            "이체",
            "은행",
            "뱅크",
            "口座",
            "振込",
            "ｺｳｻﾞ",
            "ﾌﾘｺﾐ",
            "농협",
            "우체국",
            "새마을금고",
            "신협",
            "수협",
            "KB국민",
            "IBK",
            "SC제일",
            "카뱅",
            "케뱅",
            "토뱅",
        ]
    ).pattern
    + "|"
    + _ACCOUNT,
    re.I,
)
_OTHER_LABEL = _ctx(
    [
        "주민",
        "외국인등록",
        "전화",
        "연락처",
        "휴대폰",
        "핸드폰",
        "팩스",
        "카드",
        "tel",
        "fax",
        "phone",
        "電話",
        "カード",
        "マイナンバー",
        "個人番号",
        "여권",
        "ﾃﾞﾝﾜ",
        "ｶｰﾄﾞ",
        "ﾏｲﾅﾝﾊﾞｰ",
    ]
)
# "NH301-...": a bank abbreviation may be glued to the number.
_L_ACC = r"(?=\d)(?:" + _L_NOSEP + r"|(?<=KB)|(?<=NH)|(?<=IBK))"
# Groups joined by one separator style: dashes, spaced dashes or single spaces.
_ACC = re.compile(_L_ACC + r"\d{2,7}(" + _GSEP + r")\d{1,7}(?:\1\d{1,7}){0,3}" + _R + "|" + _L_ACC + r"\d{10,14}" + _R)
_BANK_NAME = re.compile(_BANK_PAT)
# A bare short bank name counts only right next to the number: "신한 110-...", "... (KB)".
# After the number it must be bracketed, name a bank, or end the phrase: a sentence that
# merely starts with "국민 ..." or "우리 ..." after a number says nothing about it.
_BANK_BEFORE = re.compile("(?:" + _BANK_PAT + r")(?:은행)?[ :：(/\[「『\"“'|\n]{0,3}$")
# Names that are no everyday word may also be followed by the holder: "... 신한 홍길동".
_BANK_AFTER = re.compile(
    r"[ ]?[(/][ ]?(?:"
    + _BANK_PAT
    + r")(?![가-힣])|[ ,/]{0,2}(?:"
    + _BANK_PAT
    + r")(?:은행|뱅크|금고|[ ]?(?:$|[,.)/]))"
    + r"|[ ,/]{0,2}(?:신한|농협|씨티|수협|신협|우체국|카카오|토스|KB|NH|IBK)(?![A-Za-z가-힣])"
)
_SPACE_GROUP = re.compile(r" \d+$")
# "이체일시 20240103233557", "거래번호 20171027847125": an unbroken run that opens with a
# date is a timestamp or a transaction serial (an account starts so about 1 time in 300).
_DATE_LEAD = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
_YEAR_LIST = re.compile(r"(?:19|20)\d\d(?: (?:19|20)\d\d)+")


def _phone_shaped(s: str) -> bool:
    """Unbroken, or grouped like a phone number: 2-4 / 3-4 / 4 digits."""
    g = [len(x) for x in re.findall(r"\d+", s)]
    return len(g) == 1 or (len(g) == 3 and 2 <= g[0] <= 4 and 3 <= g[1] <= 4 and g[2] == 4)


def _acc_ok(text: str, start: int, end: int, strong_gate: bool) -> bool:
    d = _digits(text[start:end])
    if not 10 <= len(d) <= 14:
        return False
    groups = [len(g) for g in re.findall(r"\d+", text[start:end])]
    if len(d) == 13 and d[:3] in ("978", "979") and len(groups) == 5:
        return False  # "979-11-62868-61-0": an ISBN, whatever bank is named nearby
    if " " in text[start:end] and max(groups) <= 2:
        return False  # "21 28 29 30 36": lottery numbers, scores
    if (_KR_TEL.fullmatch(d) or _JP_MOBILE.fullmatch(d)) and len(d) <= 11 and _phone_shaped(text[start:end]):
        return False  # "입금 후 010-... 연락"; an account grouped "011-07-043419" stays one
    if _YEAR_LIST.fullmatch(text, start, end):  # "2019 2020 2021": years, not groups
        return False
    if len(d) == end - start and _DATE_LEAD.match(d):
        return False
    # Bank or account word before the number, or right after it ("(국민은행)", "예금주 ...").
    if strong_gate:
        ctx = _near(_ACC_CTX, text, start, end, 30, 12)
    else:
        ctx = False
    if not ctx and not (
        _BANK_BEFORE.search(text[max(0, start - 12) : start]) or _BANK_AFTER.match(text, end, end + 12)
    ):
        return False
    # ... and not labelled as something else right before it ("주민등록번호 ...").
    if _OTHER_LABEL.search(text, max(0, start - 10), start):
        return False
    return not _not_pii(text, start, end, _ACC_CTX)


# Japanese accounts: 7 digits after the deposit type (普通 / 当座 / （普）) or 口座番号, with a
# bank word nearby; ゆうちょ writes 記号 (5 digits, 1xxx0) and 番号 (8 digits). 銀行 is kept out of
# _ACC_CTX on purpose: there it turns JAN codes, 法人番号 and timestamps near a bank name into
# 10-14 digit "accounts".
_JP_BANK_CTX = _ctx(
    [
        "銀行",
        "信用金庫",
        "信金",
        "信用組合",
        "労働金庫",
        "ろうきん",
        "ゆうちょ",
        "農協",
        "JAバンク",
        "支店",
        "店番",
        "口座",
        "振込",
        "振り込み",
        "名義",
        "ｺｳｻﾞ",
        "ﾌﾘｺﾐ",
    ]
)
_JP_ACC = re.compile(
    r"(?:(?:普通|当座|貯蓄|総合)(?:預金)?(?:口座)?|[(（][普当][)）]|(口座番号|口座No)(?:は)?)"
    r"[\s:：.．]{0,3}(?:No\.?\s?)?(\d{7})(?![\d\-])"
)
_YUCHO = re.compile(
    r"記号\s?[:：]?\s?(1\d{3}0)\s?[、,]?\s?番号\s?[:：]?\s?(\d{8})(?!\d)"
    r"|(?<![\d\-])(1\d{3}0" + _HYPH + r"?[ ]?\d{8})(?!\d)"
)


def _find_acc_jp(text: str, out: list) -> None:
    for m in _JP_ACC.finditer(text):
        # "口座番号" names the account itself; a deposit type needs a bank word around it.
        if _not_pii(text, m.start(2), m.end(2), _JP_BANK_CTX):
            continue  # "普通預金 1234567円" is a balance
        if m.group(1) or _near(_JP_BANK_CTX, text, m.start(), m.end(), 40, 20):
            out.append((m.start(2), m.end(2), "acc", True))
    for m in _YUCHO.finditer(text):
        if m.group(1):  # 記号 ... 番号 ...: both parts
            out.append((m.start(1), m.end(1), "acc", True))
            out.append((m.start(2), m.end(2), "acc", True))
        elif "ゆうちょ" in text[max(0, m.start() - 40) : m.start()]:
            out.append((m.start(3), m.end(3), "acc", True))


# IBAN: country code, two check digits, then up to 30 letters and digits, printed in
# groups of four. python-stdnum checks the country's length and format and the mod-97
# check digits, so the shape alone never counts.
_IBAN = re.compile(
    r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]\d\d(?:([ \-]?)[A-Z0-9]{4}(?:\1[A-Z0-9]{4}){1,6}(?:\1[A-Z0-9]{1,4})?)"
    r"(?![A-Za-z0-9])"
)
_IBAN_GROUP = re.compile(r"[ \-]?[A-Z0-9]{1,4}$")


def _find_iban(text: str, out: list) -> None:
    for m in _IBAN.finditer(text):
        start, end = m.start(), m.end()
        for _ in range(3):  # the groups may run on into a following code: drop them one by one
            # check_country=False: stdnum's national rules include bank registries that
            # lag behind ("BE68 5390 0754 7034", the textbook example, fails them).
            if _iban.is_valid(text[start:end].replace("-", ""), check_country=False):
                if not _not_pii(text, start, end):
                    out.append((start, end, "acc", True))
                break
            t = _IBAN_GROUP.search(text, start, end)
            if t is None:
                break
            end = t.start()


def _find_acc(text: str, out: list, lang: str = "") -> None:
    _find_iban(text, out)
    if _JP_BANK_CTX.search(text):
        _find_acc_jp(text, out)
    strong_gate = _ACC_WORD.search(text) is not None
    if not strong_gate and not _BANK_NAME.search(text):
        return
    for m in _ACC.finditer(text):
        start, end = m.start(), m.end()
        # Space-grouped digits may run on into a following number ("110 123 456789 3명"):
        # drop trailing groups until the rest fits.
        while not _acc_ok(text, start, end, strong_gate):
            if m.group(1) != " ":
                break
            t = _SPACE_GROUP.search(text, start, end)
            if not t or text.count(" ", start, t.start()) < 1:
                break
            end = t.start()
        else:
            out.append((start, end, "acc", True))


# ---------------------------------------------------------------- card
_CARD_CTX = _ctx(["카드", "card", "カード", "visa", "master", "amex", "jcb", "결제", "신용", "ｶｰﾄﾞ", "ｸﾚｼﾞｯﾄ"])
# Cards are also written in dotted groups ("4570.5481.2227.7916"); the Luhn and IIN
# checks keep that from matching version numbers or dotted dates.
_CSEP = f"(?:{_GSEP}|[.．])"
_CARD = re.compile(
    _L_NOSEP + r"(?:\d{4}(" + _CSEP + r")\d{4}\1\d{4}\1\d{3,4}(?:\1\d{3})?"
    r"|\d{4}(" + _CSEP + r")\d{6}\2\d{4,5}"
    r"|\d{13,19})" + _R
)


def luhn_ok(d: str) -> bool:
    return _luhn.is_valid(d)


def _iin_ok(d: str) -> bool:
    n, p2, p4 = len(d), int(d[:2]), int(d[:4])
    if d[0] == "4":
        return n in (13, 16, 19)  # Visa
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16  # Mastercard
    if p2 in (34, 37):
        return n == 15  # Amex
    if p2 == 35:
        return n in (16, 19)  # JCB
    if p2 in (30, 36, 38, 39):
        return n in (14, 16)  # Diners
    if p2 in (60, 62, 64, 65, 81):
        return 16 <= n <= 19  # Discover, UnionPay
    if d[0] == "9":
        return n == 16  # Korean domestic (BC) cards
    if p2 in (50, 56, 57, 58, 63, 67):
        return 16 <= n <= 19  # Maestro, Dankort (5019); shorter Maestro numbers are rare and ambiguous
    if d[0] == "1":
        return n == 15  # UATP
    return False


def _find_card(text: str, out: list, lang: str = "") -> None:
    for m in _CARD.finditer(text):
        d, end = _digits(m.group(0)), m.end()
        if not luhn_ok(d) and len(d) == 19 and m.group(1) == " ":
            # "4317 8630 0136 4281 453": the regex never backtracks from the 19-digit
            # reading, so a card followed by its CVC is checked without the last group.
            d, end = d[:16], end - 4
        if not luhn_ok(d):
            continue
        ctx = _near(_CARD_CTX, text, m.start(), end)
        if not (_iin_ok(d) or (ctx and 13 <= len(d) <= 19 and d[0] != "0")):
            continue
        if len(d) == 13 and not ctx:
            continue  # 13-digit Visa numbers are long retired; bare, it is a JAN/EAN barcode ("4901234567894")
        if _not_pii(text, m.start(), end, _CARD_CTX):
            continue
        out.append((m.start(), end, "card", ctx))


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


# ---------------------------------------------------------------- email
# Internationalized domains: labels in any script ("도메인.한국", "例え.jp") or in their
# punycode form ("xn--d1acufc.xn--p1ai"). A non-ASCII top-level domain must be one that
# exists: a bare "[^\W_]+" would swallow the Korean particle or word after ".com".
_IDN_TLDS = [
    "한국",
    "닷컴",
    "닷넷",
    "中国",
    "中國",
    "香港",
    "台灣",
    "台湾",
    "新加坡",
    "コム",
    "みんな",
    "世界",
    "公司",
    "网络",
    "在线",
    "рф",
    "срб",
    "укр",
    "бел",
    "мкд",
    "қаз",
    "мон",
    "ею",
    "бг",
    "ελ",
    "இந்தியா",
    "भारत",
    "ไทย",
    "مصر",
    "السعودية",
    "امارات",
    "ایران",
    "קום",
]
_DOMAIN = (
    r"(?:[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?\.)+"
    r"(?:[A-Za-z]{2,24}(?![A-Za-z0-9\-])|xn--[A-Za-z0-9\-]{1,59}[A-Za-z0-9](?![A-Za-z0-9\-])|(?:"
    + "|".join(_IDN_TLDS)
    + r")(?![\-.]?[^\W_]*\.))"
)
_EMAIL = re.compile(
    r"(?:(?<![A-Za-z0-9._%+\-])|(?<=[^\x00-\x7f][.\-])|(?<=\.\.))"
    r"[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,63}[A-Za-z0-9_%+\-.])?"
    r"@" + _DOMAIN
)


# Japanese carriers long allowed ".." and a final "." before the "@" (taro..ya.@docomo.ne.jp).
_CARRIER_DOMAIN = re.compile(
    r"@(?:docomo\.ne\.jp|ezweb\.ne\.jp|au\.com|[a-z]\.vodafone\.ne\.jp"
    r"|(?:[a-z]\.)?softbank\.(?:ne\.)?jp|disney\.ne\.jp)$",
    re.I,
)
# Retina image names in scraped HTML ("icon@2x.png") have an email's shape.
_IMAGE_FILE = re.compile(r"\.(?:png|jpe?g|gif|webp|svg|avif|bmp|ico)$", re.I)


# Addresses written to dodge harvesters: "yoshida.aoi(at)nifty.com", "kim [ at ] naver.com",
# "lee골뱅이daum.net", "ito1985 @ yahoo.co.jp". The domain must still end in a dotted name.
_EMAIL_DODGED = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,63}[A-Za-z0-9_%+\-])?"
    r"(?:\s?(?:" + _AT_WORD + r")\s?|\s+@\s*|\s*@\s+)" + _DOMAIN,
    re.I,
)
_DODGE_MARK = re.compile(_AT_MARK + r"|\s@|@\s", re.I)
# "info★example.co.jp（★を@に変えてください）": a symbol that the reader is told to read as "@".
_STAR_RULE = re.compile(r"([★☆◆◇◎●■▲#*])\s*[をは]\s*[「『]?@[」』]?\s*[にへと]")


def _find_email(text: str, out: list, lang: str = "") -> None:
    for m in _EMAIL.finditer(text):
        local = m.group(0).split("@", 1)[0]
        if (".." in local or local.endswith(".")) and not _CARRIER_DOMAIN.search(m.group(0)):
            continue
        if _IMAGE_FILE.search(m.group(0)):
            continue
        out.append((m.start(), m.end(), "email", True))
    if _DODGE_MARK.search(text):
        for m in _EMAIL_DODGED.finditer(text):
            if not _IMAGE_FILE.search(m.group(0)):
                out.append((m.start(), m.end(), "email", True))
    if "@" in text:
        for rule in _STAR_RULE.finditer(text):
            _find_star_email(text, rule.group(1), out)


def _find_star_email(text: str, sym: str, out: list) -> None:
    """Emails whose "@" is written as sym. The symbol is read as "@" only between a local
    part and a domain (a 1:1 shadow, so offsets hold); "★を@に" itself stays a symbol."""
    shadow = re.sub(r"(?<=[A-Za-z0-9._%+\-])" + re.escape(sym) + r"(?=[A-Za-z0-9])", "@", text)
    for m in _EMAIL.finditer(shadow):
        if sym in text[m.start() : m.end()] and not _IMAGE_FILE.search(m.group(0)):
            out.append((m.start(), m.end(), "email", True))


# ---------------------------------------------------------------- ip
_IPV4 = re.compile(r"(?:(?<![\dA-Za-z.])|(?<=IP))(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\dA-Za-z])(?!\.\d)")
# An address may follow its label's colon with no space: "IPv6:2001:db8::1", "주소:::1".
# A match never starts on a label's colon: "アドレス:2001:db8::1" starts at "2001", "主机:::1" at "::1".
_IPV6 = re.compile(
    r"(?:(?<![0-9A-Za-z:])|(?<=[^0-9A-Fa-f:]:)|(?<=[Ii][Pp][Vv]6:))(?!:[^:]|:::)"
    r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?"
    r"(?![0-9A-Za-z:])(?!\.\d)"
)


def _has_ipv6(text: str) -> bool:
    """ "::", eight groups, or six groups with an IPv4 tail ("0:0:0:0:0:FFFF:129.144.52.38")."""
    if "::" in text:
        return True
    colons = text.count(":")
    return colons >= 7 or (colons == 6 and "." in text)


# Section and episode suffixes; "부터" (from) is a particle, and after a space the word
# must end there ("1.2.3.4 부시" is an address followed by a name).
_SECTION_SUFFIX = re.compile(
    r"(?:편|항|項|절|節|장|章|조|条|부(?!터)|권|화|판|버전|版)"
    r"|\s(?:편|항|절|장|조|부|권|화|판)(?![가-힣])|\s?(?:項|節|章|条|版|버전)"
    r"|\s?(?:업데이트|패치|アップデート|パッチ)|\s(?:update|patch)(?![A-Za-z])",
    re.I,
)
# "Section 12.3.4.1", "§ 4.2.10.1", "Fig. 3.1.2.4": a numbered part of a document. ("table"
# and "rule" stay out: "routing table 10.0.0.0", "firewall rule 10.1.2.3".)
_SECTION_BEFORE = re.compile(
    r"(?<![A-Za-z])(?:section|sec|chapter|ch|clause|article|figure|fig"
    r"|paragraph|para|appendix)\.?\s?$|§\s?$",
    re.I,
)
# "2.10.3.15-beta", "4.2.1.0-rc1": a version with a pre-release tag.
_PRERELEASE = re.compile(r"[-_+~](?:alpha|beta|rc|pre|dev|snapshot|b\d|a\d)", re.I)
# Zone index of a link-local address: "fe80::1%eth0".
_ZONE = re.compile(r"%[0-9A-Za-z_](?:[0-9A-Za-z_.\-]{0,13}[0-9A-Za-z_])?")  # never ends with "." or "-"


def _octet_ok(s: str) -> bool:
    return s.isascii() and (s == "0" or not s.startswith("0")) and int(s) <= 255


def _find_ip(text: str, out: list, lang: str = "") -> None:
    if "." in text:
        for m in _IPV4.finditer(text):
            if not all(_octet_ok(m.group(i)) for i in range(1, 5)):
                continue
            if _not_pii(text, m.start()) or text[max(0, m.start() - 1) : m.start()] in ("v", "V"):
                continue
            octets = [int(m.group(i)) for i in range(1, 5)]
            # "1.2.3.4편", "8.2.4.1項", "0.0.0.0": enumerations, section numbers, no host.
            if octets[0] == 0 or (max(octets) < 10 and len(set(octets)) > 1):
                continue
            if _SECTION_SUFFIX.match(text, m.end()) or _PRERELEASE.match(text, m.end()):
                continue
            if _SECTION_BEFORE.search(text, max(0, m.start() - 12), m.start()):
                continue
            out.append((m.start(), m.end(), "ip", True))
    if _has_ipv6(text):
        for m in _IPV6.finditer(text):
            s = m.group(0)
            groups = [g for g in re.split(r"[:.]", s) if g]
            # Three groups, or a short compressed form ("::1", "fe80::1", "2001:db8::") with
            # a digit, so words such as "Dad::" and clock times never qualify.
            if len(groups) < 3 or len(s) < 6:
                if "::" not in s or not any(c.isdigit() for c in s):
                    continue
                if s.endswith("::") and (len(groups) < 2 or max(map(len, groups)) < 3):
                    continue  # a bare prefix needs substance: "2001:db8::", not "12:30::"
                # "A::B" needs a real first group ("fe80::1", "2001::5"), "::B" is the loopback
                # or a full group: scores and ratings ("2::8", "평점::5") are no addresses.
                if s.startswith("::"):
                    if groups != ["1"] and len(groups[-1]) < 3:
                        continue
                elif not s.endswith("::") and len(groups[0]) < 3:
                    continue
            try:
                ipaddress.IPv6Address(s)
            except ValueError:
                continue
            z = _ZONE.match(text, m.end()) if s.lower().startswith("fe") else None
            out.append((m.start(), z.end() if z else m.end(), "ip", True))


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


# ---------------------------------------------------------------- find / scrub
_DETECTORS = {
    "rrn": _find_rrn,
    "tel": _find_tel,
    "acc": _find_acc,
    "card": _find_card,
    "mynumber": _find_mynumber,
    "email": _find_email,
    "ip": _find_ip,
    "passport": _find_passport,
}


_RUN_CONTINUES = re.compile(r" \d{3,4}(?![\w.,:/\-])")
# Two space-grouped phone numbers side by side ("010 3044 9577 02 4943 0451", business
# cards, flattened tables) are a list, not one long digit run.
_SPACED_PHONE = r"0\d{1,3} \d{3,4} \d{4}"
_PHONE_NEXT = re.compile(r" (?:\+?8[12] )?" + _SPACED_PHONE + r"(?!\d)")
_PHONE_BEFORE = re.compile(r"(?<!\d)" + _SPACED_PHONE + " $")
# A card and its 3-digit CVC: "4317 8630 0136 4281 453".
_CVC_NEXT = re.compile(r" \d{3}(?![\w.,:/\-])")
# The token before a space is a bare digit group of the same run, not the end of a
# number of its own ("v1.5.1 010 ...", "4012-8888-8888-1881 4012 8888 ...").
_GROUP_BEFORE = re.compile(r"(?<![^\s])\d{1,6} $")


def _space_glued(text: str, start: int, end: int, kind: str = "") -> bool:
    """A space-grouped candidate that is only part of a longer space-grouped digit run."""
    glued_before = (
        start >= 2
        and text[start - 1] == " "
        and text[start - 2].isdecimal()
        and text[start].isdecimal()
        and _GROUP_BEFORE.search(text, max(0, start - 9), start) is not None
    )
    if not glued_before and _RUN_CONTINUES.match(text, end) is None:
        return False
    if kind == "tel" and re.fullmatch(_SPACED_PHONE, text[start:end]):
        return not (_PHONE_NEXT.match(text, end) or _PHONE_BEFORE.search(text, max(0, start - 20), start))
    if kind == "card" and not glued_before and len(_digits(text[start:end])) in (15, 16):
        return _CVC_NEXT.match(text, end) is None
    return True


# A line break right after a dash inside a number ("051-\n3612-7418", "900101-\n1234567"),
# and HTML tags between digit groups ("<b>02</b>-888-2823", "010</span>-<span>7798").
# A bare line break as the only separator ("02\n577\n0603") is ambiguous and stays.
_JOIN_NL = re.compile(r"(?<=\d" + _HYPH + r")[ ]?\n[ ]?(?=\d)")
_JOIN_TAG = re.compile(r"(?<=[" + _DASH + r"\d])(?:</?[A-Za-z][^<>\n]{0,40}>)+(?=[" + _DASH + r"\d])")


def _join_groups(text: str) -> tuple[str, list[int] | None]:
    """text with those breaks and tags deleted, and the original offset of each of its
    characters (None when nothing was deleted)."""
    cuts = []
    if "\n" in text:
        cuts += [m.span() for m in _JOIN_NL.finditer(text)]
    if "<" in text:
        cuts += [m.span() for m in _JOIN_TAG.finditer(text)]
    if not cuts:
        return text, None
    cuts.sort()
    parts, back, pos = [], [], 0
    for a, b in cuts:
        a = max(a, pos)
        parts.append(text[pos:a])
        back.extend(range(pos, a))
        pos = max(b, pos)
    parts.append(text[pos:])
    back.extend(range(pos, len(text)))
    return "".join(parts), back


def find(text: str, lang: str = "", kinds: tuple[str, ...] | None = None) -> list[Span]:
    """Non-overlapping identifier spans of ``text``, sorted by start offset.

    Every detector runs for every language (Korean text quotes Japanese numbers and
    the other way round); ``lang`` ("ko", "ja", other) only picks which national phone
    plan a bare domestic number must fit without a context word.
    """
    if not text:
        return []
    gate = _GATE_OR_SPOKEN.search(text)
    if gate is None:
        return []
    lead = gate if gate.group()[0] in "공영" else _SPOKEN_LEAD.search(text, gate.end())
    spoken = lead is not None and _SPOKEN_TEL.search(text, lead.start()) is not None
    if not spoken and gate is lead and not _GATE.search(text, gate.end()):
        return []
    if _HAS_FULLWIDTH.search(text):
        text = text.translate(_FULLWIDTH)
    if "ㅡ" in text or "ｰ" in text:
        text = _EU_DASH.sub(r"\1-", text)
    text, back = _join_groups(text)
    spans = _find_spans(text, lang, kinds, spoken)
    if back is None:
        return spans
    # Spans of the joined text, mapped back: a span keeps the line break or the tags
    # inside it, so scrub() replaces the whole number.
    return [Span(back[sp.start], back[sp.end - 1] + 1, sp.kind) for sp in spans]


def _find_spans(text: str, lang: str, kinds: tuple[str, ...] | None, spoken: bool = False) -> list[Span]:
    # Every digit identifier has a run of 7+ digits and separators; "10점", "2편" do not.
    has_run = _DIGIT_RUN.search(text) is not None
    has_ipv6 = _has_ipv6(text)
    # The new passport format splits its digits (M123A4567): a passport word gates it.
    has_passport = _PASS_CTX.search(text) is not None
    has_email = "@" in text or _DODGE_MARK.search(text) is not None
    if not (has_run or has_ipv6 or has_passport or has_email or spoken):
        return []
    cands: list[tuple[int, int, str, bool]] = []
    if spoken and (kinds is None or "tel" in kinds):
        _find_spoken_tel(text, cands)
    for kind in kinds or PII_KINDS:
        if kind == "email":
            if has_email:
                _find_email(text, cands, lang)
        elif kind == "passport":
            if has_passport:
                _find_passport(text, cands, lang)
        elif has_run or (kind == "ip" and has_ipv6):  # an IPv6 address may be all hex letters
            _DETECTORS[kind](text, cands, lang)
    if not cands:
        return []
    # Overlaps: a candidate with context (or a strong form) wins, then the longer one
    # ("+82 (0)10 ..." over the account-shaped digits inside it), then kind priority.
    cands.sort(key=lambda c: (not c[3], c[0] - c[1], _PRIORITY[c[2]]))
    taken: list[tuple[int, int]] = []
    spans = []
    for start, end, kind, _ in cands:
        if any(start < e and s < end for s, e in taken):
            continue
        if " " in text[start:end] and kind != "email" and _space_glued(text, start, end, kind):
            continue  # "1234 5678 9012" inside a longer space-separated digit run
        taken.append((start, end))
        spans.append(Span(start, end, kind))
    spans.sort()
    return spans


def scrub(text: str, lang: str = "", kinds: tuple[str, ...] | None = None) -> tuple[str, dict[str, int]]:
    """Replace each identifier with ``<|kind|>``; returns (text, counts per kind)."""
    spans = find(text, lang, kinds)
    if not spans:
        return text, {}
    parts, counts, pos = [], {}, 0
    for sp in spans:
        parts.append(text[pos : sp.start])
        parts.append(f"<|{sp.kind}|>")
        counts[sp.kind] = counts.get(sp.kind, 0) + 1
        pos = sp.end
    parts.append(text[pos:])
    return "".join(parts), counts


# ---------------------------------------------------------------- stage
class PIIStage:
    """Recipe keys: mode (replace | drop), max_identifiers, kinds (default: all PII_KINDS).

    Every live row gets its identifiers replaced and ``pii_counts`` set (kinds with a
    count > 0; an empty map when none). With ``mode: drop`` a row with more than
    ``max_identifiers`` identifiers (0 when unset) is also dropped as
    "pii:too_many_identifiers"; its text is scrubbed all the same, so rejected shards
    carry no identifiers either.
    """

    name = "pii"

    def __init__(self, cfg: dict, lang: str):
        self.lang = lang
        self.mode = cfg.get("mode") or "replace"
        if self.mode not in ("replace", "drop"):
            raise ValueError(f"pii.mode must be 'replace' or 'drop', got {self.mode!r}")
        limit = cfg.get("max_identifiers")
        self.max_identifiers = None if limit is None else int(limit)
        if self.mode == "drop" and self.max_identifiers is None:
            self.max_identifiers = 0  # drop mode without a limit drops any document with PII
        kinds = cfg.get("kinds")
        unknown = set(kinds or ()) - set(PII_KINDS)
        if unknown:
            raise ValueError(f"unknown pii kinds {sorted(unknown)}; known: {list(PII_KINDS)}")
        self.kinds = tuple(kinds) if kinds else None

    def __call__(self, table: pa.Table) -> pa.Table:
        live = live_mask(table)
        texts = table.column("text").to_pylist()
        old_counts = table.column("pii_counts").to_pylist()
        new_texts, counts, reasons = [], [], []
        for keep, text, old in zip(live, texts, old_counts):
            if not keep or text is None:
                new_texts.append(text)
                counts.append(old)
                reasons.append(None)
                continue
            scrubbed, c = scrub(text, self.lang, self.kinds)
            new_texts.append(scrubbed)
            counts.append(sorted(c.items()))
            too_many = self.mode == "drop" and sum(c.values()) > self.max_identifiers
            reasons.append("pii:too_many_identifiers" if too_many else None)
        table = set_column(table, "text", new_texts)
        table = set_column(table, "pii_counts", counts)
        return merge_drop_reasons(table, reasons)


def make_stage(cfg: dict, lang: str) -> PIIStage:
    return PIIStage(cfg or {}, lang)
