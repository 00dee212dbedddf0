"""What the detectors share: the Span they report, separators and number edges, context
words near a candidate, table headers, and the labels that say a number is no PII."""

from __future__ import annotations

import re
from dataclasses import dataclass


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
