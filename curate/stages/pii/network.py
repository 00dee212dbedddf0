"""E-mail addresses (dodged spellings too) and IP addresses."""

from __future__ import annotations

import ipaddress
import re

from curate.stages.pii.common import _AT_MARK, _AT_WORD, _not_pii

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
