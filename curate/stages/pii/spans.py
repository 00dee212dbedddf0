"""find and scrub: run the detectors a text needs, resolve overlapping candidates into
spans, and replace them with tokens."""

from __future__ import annotations

import re

from curate.io.schema import PII_KINDS
from curate.stages.pii.common import (
    _DASH,
    _DIGIT_RUN,
    _EU_DASH,
    _FULLWIDTH,
    _GATE,
    _HAS_FULLWIDTH,
    _HYPH,
    Span,
    _digits,
)
from curate.stages.pii.financial import _find_acc, _find_card
from curate.stages.pii.national import _PASS_CTX, _find_mynumber, _find_passport, _find_rrn
from curate.stages.pii.network import _DODGE_MARK, _find_email, _find_ip, _has_ipv6
from curate.stages.pii.phone import _GATE_OR_SPOKEN, _SPOKEN_LEAD, _SPOKEN_TEL, _find_spoken_tel, _find_tel

# Tie-break between overlapping candidates of equal strength and length.
_PRIORITY = {"email": 0, "rrn": 1, "mynumber": 2, "card": 3, "acc": 4, "tel": 5, "passport": 6, "ip": 7}

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
