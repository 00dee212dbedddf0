"""Bank accounts (Korean, Japanese, IBAN) and payment cards."""

from __future__ import annotations

import re

from stdnum import iban as _iban
from stdnum import luhn as _luhn

from curate.stages.pii.common import _GSEP, _HYPH, _L_NOSEP, _R, _ctx, _digits, _near, _not_pii
from curate.stages.pii.phone import _JP_MOBILE, _KR_TEL

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
