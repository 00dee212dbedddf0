"""Spam phrases: the flagged-word lists, spellings that evade them, and the sentences
and lines made of them."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from curate.stages.base import RECIPE_DIR
from curate.stages.quality.chars import _NON_SPACE, _SENTENCE_END
from curate.stages.quality.lines import _KEYWORD_TOKEN, _terminated


@functools.cache
def _flagged_pattern(path: str, exclude: frozenset[str] = frozenset()) -> re.Pattern | None:
    words = [w.strip() for w in _recipe_file(path).read_text(encoding="utf-8").splitlines()]
    words = sorted(
        {w for w in words if w and not w.startswith("#") and w.lower() not in exclude}, key=len, reverse=True
    )
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words), re.I)


def _recipe_file(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else RECIPE_DIR / p


# A telephone number as ads print it (010-1234-5678, 1588-0000), or the pii stage's tag for one.
_PHONE = r"<\|tel\|>|(?<!\d)(?:0\d{1,2}[-.) ]?\d{3,4}|1[5-9]\d\d)[-. ]?\d{4}(?!\d)"


@functools.cache
def _topics(path: str) -> tuple[frozenset[str], re.Pattern]:
    """The topic words of a flagged_topics file and the pattern of an advertising sentence."""
    data = yaml.safe_load(_recipe_file(path).read_text(encoding="utf-8")) or {}
    words = frozenset(str(w).lower() for w in data.get("topic_words") or ())
    markers = sorted((str(m) for m in data.get("ad_markers") or ()), key=len, reverse=True)
    return words, re.compile("|".join([_PHONE] + [re.escape(m) for m in markers]), re.I)


# Spam keywords spelled apart so that a word list misses them: 바.카.라, 출_장_마_사_지,
# "출 장 안 마", セ・フ・レ.
_EVADE_KO = re.compile(r"(?<=[가-힣])[._*·~](?=[가-힣])")
_SPACED_SYLLABLES = re.compile(r"(?:(?<=\s)|^)((?:[가-힣] ){2,}[가-힣])(?=\s|$)", re.M)
# (the separator first, the kana or kanji before it looked behind: the regex engine then
# skips to separators instead of trying every character)
_EVADE_JA = re.compile(
    r"[・★☆\s._*](?<=[\u3041-\u30ff\u4e00-\u9fff][\s\S])(?=[\u3041-\u30ff\u4e00-\u9fff](?:[・★☆\s._*]|$))"
)


def _unevade(text: str, lang: str) -> str:
    """The text with separators between single syllables removed (for spam matching only)."""
    if lang == "ko":
        return _SPACED_SYLLABLES.sub(lambda m: m.group(1).replace(" ", ""), _EVADE_KO.sub("", text))
    if lang == "ja":
        return _EVADE_JA.sub("", text)
    return text


def _sentences(text: str) -> list[str]:
    """Lines cut after each sentence end: spam glued to a real sentence is a unit of its own."""
    out = []
    for line in text.split("\n"):
        start = 0
        for m in _SENTENCE_END.finditer(line):
            out.append(line[start : m.end()].strip())
            start = m.end()
        out.append(line[start:].strip())
    return [u for u in out if u]


def _flagged(cfg: dict) -> re.Pattern | None:
    """Every spam phrase of the list, topic words included."""
    return _flagged_pattern(str(cfg["flagged_words"])) if cfg.get("flagged_words") else None


def _unit_pattern(unit: str, cfg: dict) -> re.Pattern | None:
    """The spam phrases that count in one sentence: a topic word (flagged_topics: 대출,
    성인, 카지노...) only in a sentence that advertises (a phone number, a messenger, an
    offer: "직장인대출 당일 승인 010-..."); news and reviews use these words plainly
    ("가계 신용대출과 햇살론 등 보증부 정책서민금융대출", "성인남자에게 2층 침대는")."""
    if not cfg.get("flagged_topics"):
        return _flagged(cfg)
    topics, ad = _topics(str(cfg["flagged_topics"]))
    return _flagged(cfg) if ad.search(unit) else _flagged_pattern(str(cfg["flagged_words"]), topics)


def _flagged_hits(text: str, cfg: dict) -> int:
    flagged = _flagged(cfg)
    if flagged is None or not flagged.search(text):
        return 0
    if not cfg.get("flagged_topics"):
        return len(flagged.findall(text))
    return sum(len(p.findall(u)) for u in _sentences(text) if (p := _unit_pattern(u, cfg)))


def _flagged_rate(hits: int, n_words: int, cfg: dict) -> float:
    """Spam phrases per word, a short text's taken over ``flagged_min_words`` words."""
    return hits / max(n_words, int(cfg.get("flagged_min_words") or 1))


def _flagged_lead_ratio(units: list[str], cfg: dict) -> float:
    """Share of sentences that open with a spam phrase, when three or more do: a doorway
    page puts its keyword in front of scraped sentences ("먹튀검증 수족관에서, ...",
    "アダルト動画なら1998年..."); an article mentions such words inside its sentences."""
    if _flagged(cfg) is None or not units:
        return 0.0
    lead = sum(1 for u in units if (p := _unit_pattern(u, cfg)) and p.search(u[:12]))
    return lead / len(units) if lead >= 3 else 0.0


def _flagged_lines(units: list[str], cfg: dict) -> int:
    """Sentences (or unterminated line ends) made mostly of spam phrases: two or more
    covering half the characters, the keyword line SEO spam appends to scraped text
    ("高収入 副業 風俗 割り切り") or glues after a real sentence, which a rate over the
    whole document dilutes below any threshold."""
    if _flagged(cfg) is None:
        return 0
    n = 0
    for unit in units:
        flagged = _unit_pattern(unit, cfg)
        found = [m.group(0) for m in flagged.finditer(unit)] if flagged else []
        if len(found) < 2:
            continue
        covered, nonspace = sum(map(len, found)), len(_NON_SPACE.findall(unit))
        if 2 * covered >= nonspace:
            n += 1
            continue
        if 2 * _terminated(unit) >= len(unit):
            continue  # a sentence that mentions them ("비아그라 처방이 늘었다.")
        # by tokens: "오피, 신용불량자대출, 에볼루션카지노, 개인돈" (a phrase inside a longer
        # keyword covers too few characters); or 3+ distinct phrases, or 2 covering a third,
        # or 2 in a quarter of the tokens: a spam comment ("여기 들어가보세요 매충 토렌트 꿀팁
        # 있음"; 4 of 712,404 NSMC reviews have two distinct phrases that densely)
        tokens = _KEYWORD_TOKEN.findall(unit)
        hits = sum(1 for t in tokens if flagged.search(t))
        distinct = len({f.lower() for f in found})
        if (
            (len(tokens) >= 3 and hits >= 2 and 2 * hits >= len(tokens))
            or distinct >= 3
            or (distinct >= 2 and (3 * covered >= nonspace or 4 * hits >= len(tokens)))
        ):
            n += 1
    return n
