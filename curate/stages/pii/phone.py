"""Phone numbers: Korean and Japanese number plans, every other country's from
libphonenumber (phonenumbers), and Korean numbers spoken in Sino-Korean words."""

from __future__ import annotations

import re

import phonenumbers

from curate.stages.pii.common import (
    _DASH,
    _GATE,
    _HYPH,
    _L_NOSEP,
    _L_TEL,
    _NOT_PII,
    _R,
    _TSEP,
    _ctx,
    _digits,
    _near,
    _not_pii,
)

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
    _find_domestic_tel(text, out, lang)
    _find_dial_prefixed_tel(text, out)
    _find_nanp_tel(text, out)
    if "+" in text:
        _find_intl_tel(text, out)


def _find_domestic_tel(text: str, out: list, lang: str) -> None:
    """Korean and Japanese numbers written the domestic way (0 + area code)."""
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


def _find_dial_prefixed_tel(text: str, out: list) -> None:
    """Japanese free dial, Korean business numbers, and Korean / Japanese numbers after
    their country code without a "+"."""
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


def _find_nanp_tel(text: str, out: list) -> None:
    """North American numbers: (NXX) NXX-XXXX and its spellings."""
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


def _find_intl_tel(text: str, out: list) -> None:
    """Numbers in international form (+CC ...), checked against libphonenumber's plans."""
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
