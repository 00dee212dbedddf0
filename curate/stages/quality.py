"""quality: Gopher / C4 / FineWeb / Polyglot-Ko style signals on real words, per-language
thresholds, a drop reason for the first failing rule and a score that ranks the rest.

Words are real words: kiwipiepy morphemes for Korean, fugashi + unidic-lite for
Japanese, whitespace words for spaced languages (curate.stages.segment). Signals defined by
their source on space-separated units (Polyglot-Ko's mean word length, Gopher's
n-gram repetition in Korean) are computed on eojeol, as the source defines them.

Thresholds: pipelines/recipes/quality/<lang>.yaml, merged with the recipe's `quality:`
section. A key ``min_<signal>`` / ``max_<signal>`` is a rule named by that key (drop
reason ``quality:min_hangul_ratio``); rules are checked in file order, surface rules
before rules on word signals (see ordered_rules), and the first failure is the reason.
A null value switches a rule off. Documents that fail a surface rule are not segmented
(their word signals stay null) unless the section says ``analyze_dropped: true``.
"""

from __future__ import annotations

import functools
import math
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml

from curate.io.charset import encodes
from curate.io.schema import QUALITY_SIGNAL_FIELDS, QUALITY_SIGNALS_TYPE
from curate.recipe import RECIPE_DIR
from curate.stages.base import live_mask, merge_drop_reasons, set_column
from curate.stages.gibberish import mash_chars
from curate.stages.segment import analyze, eojeols

SIGNAL_NAMES = [n for n, _ in QUALITY_SIGNAL_FIELDS]
# Keys of a quality section that are settings, not rules.
SETTINGS = {
    "short_line_chars",
    "stop_words",
    "flagged_words",
    "model",
    "model_weight",
    "batch_size",
    "segment",
    "workers",
    "analyze_dropped",
    "include",
    "repetition_min_words",
    "flagged_min_words",
    "word_order_gate",
    "count_min_words",
}

# A scorer adds signals to a batch: f(texts, lang) -> {signal: list of float}. The
# fastText classifier is one (model_score); a perplexity signal from the project's own
# language model plugs in the same way (append to SCORERS or pass scorers= to the stage)
# once its field is added to QUALITY_SIGNAL_FIELDS.
Scorer = Callable[[list[str], str], dict[str, list[float]]]
SCORERS: list[Scorer] = []


# ---------------------------------------------------------------------------- thresholds
def load_thresholds(lang: str) -> dict:
    """The default quality section for a language (empty dict if none is written)."""
    path = RECIPE_DIR / "quality" / f"{lang}.yaml"
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def rules_from_cfg(cfg: dict) -> list[tuple[str, str, str, float]]:
    """[(rule, signal, 'min'|'max', threshold)] in file order; null thresholds are off."""
    rules = []
    for key, value in cfg.items():
        if key in SETTINGS or value is None or not isinstance(key, str):
            continue
        bound, _, signal = key.partition("_")
        if bound not in ("min", "max") or signal not in SIGNAL_NAMES:
            raise ValueError(f"quality: unknown setting or rule '{key}' (rules are min_/max_ + one of {SIGNAL_NAMES})")
        rules.append((key, signal, bound, float(value)))
    return rules


def ordered_rules(cfg: dict, lang: str) -> list[tuple[str, str, str, float]]:
    """Rules in the order they are checked: file order, surface rules before the rules
    on word signals and model scores, so a document that fails a surface rule gets the
    same reason whether or not it was segmented."""
    rules = rules_from_cfg(cfg)
    late = WORD_SIGNALS.get(lang, set()) | {"model_score"}
    return [r for r in rules if r[1] not in late] + [r for r in rules if r[1] in late]


def rule_names(lang: str, cfg: dict | None = None) -> list[str]:
    """Rule names, in the order they are checked, for a language's defaults (+ overrides)."""
    return [r[0] for r in ordered_rules(_merged(cfg or {}, lang), lang)]


def _merged(cfg: dict, lang: str) -> dict:
    base = load_thresholds(lang)
    base.update(cfg)
    return base


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
_CHATTER = re.compile(
    r"[\u1100-\u11ff\u3131-\u318e]+|(?<![A-Za-zＡ-Ｚａ-ｚ])[wｗＷ]{2,}(?![A-Za-zＡ-Ｚａ-ｚ.])"
    r"|[（(][笑泣汗][）)]|[（(][^\w()（）\s]{0,3}[;_^ω´`・ー゜∀Д][^()（）\s]{0,6}[）)]|\borz\b|\^\^"
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
_ELLIPSIS_END = re.compile(r"(?:\.\.\.|…|‥|・・・)\s*$")
# Line ends a sentence (C4 / FineWeb terminal punctuation, plus CJK full stops and
# closing quotes/brackets after them).
_PUNCT_END = re.compile(r"[.!?。！？．…\"'”’」』）)]\s*$")
# A sentence end inside a line: . ! ? not after a digit (1. / 6.59) and followed by a
# space, closing quote or line end (not www.example.com), or a CJK full stop.
_SENTENCE_END = re.compile(r"(?<![0-9])[.!?][\"'”’」』）)\]]*(?=\s|$)|[。！？…‥][\"'”’」』）)\]]*")

# Characters that are almost never in clean text of that language but are what an
# encoding confusion produces: U+FFFD and C1 controls everywhere; Latin-1/cp1252
# letters in Korean/Japanese (UTF-8 bytes read as latin-1); Hangul syllables outside
# KS X 1001 (UTF-8 read as cp949); half-width katakana (UTF-8 read as cp932) and
# level-2 kanji in Japanese.
_MOJIBAKE_ALL = "\ufffd\u0080-\u009f"
_CP1252_LETTERS = (
    "\u00c0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2020\u2021\u2030\u2039\u203a"
)


@functools.cache
def _mojibake_pattern(lang: str) -> re.Pattern:
    rare_hangul = _ranges_class(_not_encodable(0xAC00, 0xD7A3, "euc-kr"))[1:-1]
    if lang == "ko":
        # + half-width katakana: UTF-8 Korean read as Shift_JIS/cp932 (continuation
        # bytes 0xA1-0xDF are half-width katakana there); Korean text has none.
        return re.compile(f"[{_MOJIBAKE_ALL}{_CP1252_LETTERS}\uff61-\uff9f{rare_hangul}]+")
    if lang == "ja":
        # + Hangul outside KS X 1001: UTF-8 Japanese read as cp949 lands in its extension
        # block (걼, 겗, 굥); Korean quoted in Japanese text uses common syllables.
        rare = _ranges_class(_rare_kanji())[1:-1]
        return re.compile(f"[{_MOJIBAKE_ALL}{_CP1252_LETTERS}\uff61-\uff9f{rare}{rare_hangul}]+")
    # Latin-script languages use é, à...: only the UTF-8-as-latin-1 pairs (Ã©, â€™) count.
    return re.compile(f"[{_MOJIBAKE_ALL}]+|[ÃÂâ][\u0080-\u00bf\u0152-\u0178\u2018-\u203a\u20ac\u2122]")


def _count(pattern: re.Pattern, text: str) -> int:
    return sum(map(len, pattern.findall(text)))


@functools.cache
def _flagged_pattern(path: str) -> re.Pattern | None:
    p = Path(path)
    if not p.is_absolute():
        p = RECIPE_DIR / p
    words = [w.strip() for w in p.read_text(encoding="utf-8").splitlines()]
    words = sorted({w for w in words if w and not w.startswith("#")}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words), re.I)


# ---------------------------------------------------------------------------- repetition
def _ngram_fracs(words: list[str], min_words: int = 0) -> dict[str, float]:
    """Gopher repetition (Rae et al. 2021, table A1): for n=2..4 the characters of the
    most frequent n-gram over all word characters; for n=5..10 the characters of words
    covered by the repeats of an n-gram (its first occurrence is not counted).

    Gopher judges documents of at least 50 words; in a shorter one a single phrase said
    twice is already a large share of the characters. With ``min_words`` a document of
    fewer words is measured as if padded with non-repeating words up to that length
    (the fractions scale by n_words / min_words), so short paragraphs are judged on
    the same footing as Gopher-sized documents."""
    out = {}
    lens = [len(w) for w in words]
    total = sum(lens)
    if min_words and 0 < len(words) < min_words:
        total = total * min_words / len(words)
    for n in (2, 3, 4):
        key = f"top_{n}gram_frac"
        if total == 0 or len(words) < n:
            out[key] = 0.0
            continue
        grams = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
        gram, count = grams.most_common(1)[0]
        out[key] = (count * sum(map(len, gram)) / total) if count > 1 else 0.0
    for n in range(5, 11):
        key = f"dup_{n}gram_frac"
        if total == 0 or len(words) < n:
            out[key] = 0.0
            continue
        seen: dict[tuple, int] = {}
        covered = bytearray(len(words))
        for i in range(len(words) - n + 1):
            g = tuple(words[i : i + n])
            if seen.setdefault(g, i) != i:
                # a repeat: its words count, the first use does not (as datatrove's
                # GopherRepetitionFilter counts them, the reference FineWeb's thresholds
                # go with); marking both doubled a name said twice in an encyclopedia
                # paragraph
                covered[i : i + n] = b"\x01" * n
        out[key] = sum(l for l, c in zip(lens, covered) if c) / total
    return out


# An ellipsis after anything but a sentence-final ending (Korean 다/요/죠/까..., Japanese
# た/す/ね/よ/だ): a teaser headline cut short ("... 충격 고백…", "衝撃の真相とは…").
_ELLIPSIS_MARK = re.compile(r"(?<![다요죠까네지데군나たすねよだ])(?:\.\.|…|‥)[\"'”’」』）)\]]*$")


def _terminated(line: str) -> int:
    """Characters of the line up to its last sentence end; an ellipsis that cuts a
    phrase short is no sentence end ("시작했다…" is one, "충격 고백…" is not)."""
    end = 0
    for m in _SENTENCE_END.finditer(line):
        # the ellipsis can only start one character before the sentence end's own mark
        if not _ELLIPSIS_MARK.search(line, max(0, m.start() - 1), m.end()):
            end = m.end()
    return end


# Navigation rows ("홈 > 뉴스 > 연예", "会社概要 | 採用情報 | お問い合わせ") are lists of short items.
_NAV_SEP = re.compile(r"\s+(?:\||>|＞|›|»)\s+")
_SPACES = re.compile(r"\s+")


_PIPE = re.compile(r"[|｜]")
_FIGURE = re.compile(r"[0-9０-９]")


def _table_row(line: str, parts: list[str]) -> bool:
    """A row of a table in an article ("1995 | 1,234 | 567", "1位 東京 13,960千人"):
    cells split by a pipe with a figure in one, or a row that starts with a figure (a
    year, a rank). A menu row ("ホーム | ニュース | 会社概要") has no figures."""
    return len(parts) >= 2 and bool(
        (_PIPE.search(line) and any(_FIGURE.search(p) for p in parts)) or _FIGURE.match(parts[0])
    )


# A field row of an infobox or a spec sheet ("名称：東京タワー", "무게: 1.2kg"): one item,
# never a short one, like a table row.
_FIELD_ROW = re.compile(r"^[^\s:：]{1,10}\s?[:：]\s?\S")
_HANGUL_WORD = re.compile(r"[가-힣/]+")
# Last syllables of eojeol that end in a particle or a verb ending: prose has many, a row
# of bare nouns (a menu, a keyword row) few.
_KO_FUNCTION_END = frozenset("은는이가을를에의도로와과고며서지게한된할던다요면만까야나럼터께히")


def _bare_noun_row(line: str) -> bool:
    """A Korean line of 8+ Hangul eojeol, at most a quarter of them ending in a particle
    or an ending: "홈 뉴스 정치 경제 사회 국제 스포츠 연예" is a menu, however long."""
    words = [w for w in line.split() if _HANGUL_WORD.fullmatch(w)]
    return len(words) >= 8 and 4 * sum(1 for w in words if w[-1] in _KO_FUNCTION_END) <= len(words)


def _line_items(lines: list[str], ends: list[int], lang: str) -> list[str]:
    """Lines as short_line_ratio counts them: split at navigation separators; an
    unterminated line (ends: _terminated of each line) also at its spaces where spaces
    cannot be prose: in Japanese, which puts none in prose ("ホーム ニュース スポーツ 芸能"),
    and in a Korean row of bare nouns. A table row or a field row stays one item."""
    items = []
    for line, end in zip(lines, ends):
        if _FIELD_ROW.match(line):
            items.append(line)
            continue
        parts = [p for p in _NAV_SEP.split(line) if p]
        if not end and (lang == "ja" or lang == "ko" and _bare_noun_row(line)):
            parts = [q for p in parts for q in _SPACES.split(p) if q]
        items.extend([line] if _table_row(line, parts) else parts)
    return items


def _dup_fracs(parts: list[str], prefix: str, scale: float = 1.0) -> dict[str, float]:
    """Gopher: share of lines (paragraphs) that repeat an earlier one, and of their chars;
    ``scale`` is the short-document factor of _short_scale (repetition_min_words)."""
    if not parts:
        return {f"dup_{prefix}_frac": 0.0, f"dup_{prefix}_char_frac": 0.0}
    seen, dup_n, dup_chars, total = set(), 0, 0, 0
    for p in parts:
        total += len(p)
        if p in seen:
            dup_n += 1
            dup_chars += len(p)
        else:
            seen.add(p)
    return {
        f"dup_{prefix}_frac": scale * dup_n / len(parts),
        f"dup_{prefix}_char_frac": scale * dup_chars / max(1, total),
    }


def _short_scale(n_words: float, min_words: int) -> float:
    """The factor that measures a count over at least ``min_words`` words: a document of
    fewer words is taken as if padded with clean words up to that length, so that one
    laugh, one ellipsis or one typo in a one-line comment is not a large share of it
    (Gopher judges documents of 50+ words; Polyglot-Ko's spam rate is per word)."""
    return n_words / min_words if min_words and 0 < n_words < min_words else 1.0


# Japanese has no spaces to count words by before segmentation: surface counts are
# floored at count_min_words morphemes of this many characters (the median mean
# morpheme length of JSQuAD paragraphs is 1.7, see ja.yaml min_mean_word_len).
JA_CHARS_PER_WORD = 1.7
SHORT_LINE_MIN_ITEMS = 3
# Morphemes per bunsetsu-like phrase (Morphs.phrases), measured on JSQuAD: Japanese
# repetition is counted in phrases, as Korean in eojeol.
JA_MORPHEMES_PER_PHRASE = 2.6


# ---------------------------------------------------------------------------- signals
# Signals that need the morphological analysis, per language; every other signal is
# read off the surface text. Korean keeps eojeol-based signals (as Polyglot-Ko and
# Gopher define them) on the surface, so kiwi is needed only for word counts.
WORD_SIGNALS = {
    "ko": {
        "n_words",
        "function_word_ratio",
        "lm_score",
        "word_order_gain",
        "terminated_char_ratio",
        "long_terminated_char_ratio",
    },
    "ja": {
        "n_words",
        "function_word_ratio",
        "lm_score",
        "mean_word_len",
        "symbol_word_ratio",
        "flagged_word_ratio",
        "terminated_char_ratio",
        "long_terminated_char_ratio",
        "top_2gram_frac",
        "top_3gram_frac",
        "top_4gram_frac",
    }
    | {f"dup_{n}gram_frac" for n in range(5, 11)},
}


def surface_signals(text: str, lang: str, cfg: dict) -> dict[str, float]:
    """Signals read off the characters, lines and space-separated units of a text."""
    s: dict[str, float] = {}
    n_chars = len(text)
    nonspace = max(1, len(_NON_SPACE.findall(text)))
    units = eojeols(text)  # space-separated units: eojeol in Korean, words in spaced languages
    n_units = max(1, len(units))
    # Counts are taken over at least count_min_words words (see _short_scale); Japanese
    # words are estimated from characters before segmentation.
    n_est = nonspace / JA_CHARS_PER_WORD if lang == "ja" else len(units)
    few = _short_scale(n_est, int(cfg.get("count_min_words") or 0))
    rep_words = nonspace / (JA_CHARS_PER_WORD * JA_MORPHEMES_PER_PHRASE) if lang == "ja" else len(units)
    rep = _short_scale(rep_words, int(cfg.get("repetition_min_words") or 0))
    s["n_chars"] = n_chars
    if lang not in WORD_SIGNALS:
        words = [w for w in units if _WORDISH.search(w)]
        s["n_words"] = len(words)
        stop = set(cfg.get("stop_words") or ())
        s["function_word_ratio"] = (
            sum(1 for w in units if w.lower().strip(".,;:!?\"'()") in stop) / n_units if stop else None
        )
    if lang != "ja":
        # Polyglot-Ko measures mean word length on eojeol, Gopher on whitespace words.
        s["mean_word_len"] = sum(map(len, units)) / len(units) if units else 0.0
        s["symbol_word_ratio"] = few * len(_SYMBOL_WORD.findall(text)) / n_units
        s.update(_ngram_fracs(units, int(cfg.get("repetition_min_words") or 0)))  # Gopher repetition on eojeol / words
    n_alnum = _count(_WORDISH, text)
    s["symbol_ratio"] = few * max(0, nonspace - n_alnum) / nonspace
    s["digit_ratio"] = few * _count(_DIGIT, text) / nonspace

    lines = [l.strip() for l in text.split("\n")]
    lines = [l for l in lines if l]
    n_lines = max(1, len(lines))
    s["n_lines"] = len(lines)
    ends = [_terminated(l) for l in lines]
    # Gopher counts every bulleted line; a bulleted sentence ("- 1392년 조선이 건국되었다.")
    # is a list in an article, so only bulleted lines that end no sentence count here.
    s["bullet_line_ratio"] = few * sum(1 for l, e in zip(lines, ends) if not e and _BULLET.match(l)) / n_lines
    # Gopher's ellipsis lines are snippets cut short ("충격 고백…", "Read more..."); an
    # ellipsis after a sentence-final ending closes a sentence (봤어요..., 良かったね…), as
    # comments write it, and is not counted.
    # Like the short-line share, it is taken over at least 3 lines: a page of snippets is
    # many lines, and a one-line comment trailing off ("기대되는 영화..") is none.
    s["ellipsis_line_ratio"] = (
        few * sum(1 for l in lines if _ELLIPSIS_MARK.search(l)) / max(n_lines, SHORT_LINE_MIN_ITEMS)
    )
    s["punct_end_line_ratio"] = sum(1 for l in lines if _PUNCT_END.search(l)) / n_lines
    s.update(_terminated_ratios(lines, ends))
    short = int(cfg.get("short_line_chars", 30))
    items = _line_items(lines, ends, lang)
    # FineWeb judges pages of lines: a text of one or two short lines (a question, a
    # comment) is no page of short lines, so the share is taken over at least 3 items.
    s["short_line_ratio"] = sum(1 for l in items if len(l) <= short and not _FIELD_ROW.match(l)) / max(
        SHORT_LINE_MIN_ITEMS, len(items)
    )
    s["keyword_rows"] = sum(1 for l, e in zip(lines, ends) if not e and _keyword_row(l))
    s.update(_dup_fracs(lines, "line", rep))
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    s.update(_dup_fracs(paras, "para", rep))

    s["hangul_ratio"] = _count(_HANGUL, text) / nonspace
    s["jamo_ratio"] = few * _count(_JAMO_RUN, text) / nonspace
    s["chatter_ratio"] = few * _count(_CHATTER, text) / nonspace
    s["kana_ratio"] = _count(_KANA, text) / nonspace
    s["hiragana_ratio"] = _count(_HIRAGANA, text) / nonspace
    s["kanji_ratio"] = _count(_KANJI, text) / nonspace
    s["ja_script_ratio"] = s["kana_ratio"] + s["kanji_ratio"]
    s["latin_ratio"] = _count(_LATIN, text) / nonspace
    s["latin_mash_ratio"] = few * mash_chars(text) / nonspace
    s["mojibake_ratio"] = few * _count(_mojibake_pattern(lang), text) / nonspace
    s["url_density"] = few * _count(_URL, text) / max(1, n_chars)
    s["email_density"] = few * len(_EMAIL.findall(text)) / n_units
    unevaded = _unevade(text, lang)
    n_flagged = _flagged_hits(unevaded, cfg)
    if lang != "ja":
        s["flagged_word_ratio"] = _flagged_rate(n_flagged, n_units, cfg)
    units = _sentences(unevaded) if n_flagged else []
    s["flagged_lines"] = _flagged_lines(units, cfg) if n_flagged else 0
    s["flagged_lead_ratio"] = _flagged_lead_ratio(units, cfg)
    if lang == "ja":
        s["kana_mash_ratio"] = (
            few * (sum(len(l) for l in lines if _HIRAGANA_LINE.match(l)) + _count(_BAD_SOKUON, text)) / nonspace
        )
        s["non_jis_kanji_ratio"] = few * _count(_non_jis_kanji(), text) / nonspace
        s["same_lead_ratio"] = _same_lead_ratio(_sentences(text))
    return s


def _terminated_ratios(lines: list[str], ends: list[int]) -> dict[str, float | None]:
    """terminated_char_ratio: FineWeb's line-ending rule is all-or-nothing on a one-line
    paragraph whose last sentence was cut; the share of line characters up to the last
    sentence end in their line grades it instead (0 for menus, keyword lists and number
    tables). long_terminated_char_ratio: the same on documents of 8+ lines (null below):
    there one or two long real sentences must not carry a page of navigation items
    ("홈\n뉴스\n스포츠\n... + a lead sentence")."""
    ratio = sum(ends) / max(1, sum(map(len, lines)))
    return {"terminated_char_ratio": ratio, "long_terminated_char_ratio": ratio if len(lines) >= 8 else None}


def _grammar_sentence_ends(morphs) -> tuple[list[str], list[int]] | None:
    """Lines of the analysed text and, per line, the characters up to its last sentence
    end, where a sentence ends at punctuation (_terminated) or where the analyser finds
    one by grammar (Morphs.sentence_ends): Korean comments close sentences with -다, -요,
    -죠, -음, -함, -네, -까 and no full stop ("...연출의 한계가 드러난다"), Japanese
    captions with a verb and no 。 ("商品棚にパンやケーキが並んでいる")."""
    if morphs.text is None or morphs.sentence_ends is None:
        return None
    lines, ends = [], []
    ef = sorted(morphs.sentence_ends)
    k, pos = 0, 0
    for raw in morphs.text.split("\n"):
        start = pos + len(raw) - len(raw.lstrip())
        line = raw.strip()
        pos += len(raw) + 1
        while k < len(ef) and ef[k] <= start:
            k += 1
        if not line:
            continue
        last = 0
        while k < len(ef) and ef[k] <= start + len(line):
            last = ef[k] - start
            k += 1
        lines.append(line)
        ends.append(max(_terminated(line), last))
    return lines, ends


# Spam keywords spelled apart so that a word list misses them: 바.카.라, 출_장_마_사_지,
# "출 장 안 마", セ・フ・レ.
_EVADE_KO = re.compile(r"(?<=[가-힣])[._*·~](?=[가-힣])")
_SPACED_SYLLABLES = re.compile(r"(?:(?<=\s)|^)((?:[가-힣] ){2,}[가-힣])(?=\s|$)", re.M)
_EVADE_JA = re.compile(r"(?<=[\u3041-\u30ff\u4e00-\u9fff])[・★☆\s._*](?=[\u3041-\u30ff\u4e00-\u9fff](?:[・★☆\s._*]|$))")


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


# Japanese kana-keyboard mash: lines of 10+ hiragana and nothing else, and a small tsu
# where no word has one (before a vowel, ん, another small tsu, a Latin letter, a line end).
_HIRAGANA_LINE = re.compile(r"^[\u3041-\u309fー]{10,}$")
_BAD_SOKUON = re.compile(r"っ(?=[っあいうえおんーａ-ｚＡ-Ｚa-zA-Z]|$)", re.M)


_KEYWORD_TOKEN = re.compile(r"[^\s,#、，|/]+")


def _keyword_row(line: str) -> bool:
    """An unterminated row of 6+ tokens where one string of 2-8 characters is in half
    the tokens and makes 40% of their characters: the keyword row SEO pages stack
    ("강남 맛집 추천 강남 맛집 가격 강남 맛집 후기 ...", "東京 賃貸 東京 賃貸 格安 ...")."""
    tokens = _KEYWORD_TOKEN.findall(line)
    if len(tokens) < 6:
        return False
    held: dict[str, int] = {}
    for token in set(tokens):
        for sub in {token[i : i + k] for k in range(2, min(len(token), 8) + 1) for i in range(len(token) - k + 1)}:
            held[sub] = held.get(sub, 0) + tokens.count(token)
    total = sum(map(len, tokens))
    for sub, n in held.items():
        if 2 * n >= len(tokens) and _WORD2.search(sub):
            if 10 * sum(t.count(sub) * len(sub) for t in tokens) >= 4 * total:
                return True
    return False


_WORD2 = re.compile(r"\w\w")


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
    leads = [m.group(0) for m in (_JA_LEAD.match(_LEAD_TRIM.sub("", u)) for u in units) if m]
    leads = [l for l in leads if len(_NON_WORD.sub("", l)) >= 2]
    if not leads:
        return 0.0
    n = Counter(leads).most_common(1)[0][1]
    return n / len(units) if n >= 3 else 0.0


_LEAD_TRIM = re.compile(r"^[\W_]+")
_NON_WORD = re.compile(r"\W")


def _flagged(cfg: dict) -> re.Pattern | None:
    return _flagged_pattern(str(cfg["flagged_words"])) if cfg.get("flagged_words") else None


def _flagged_hits(text: str, cfg: dict) -> int:
    flagged = _flagged(cfg)
    return len(flagged.findall(text)) if flagged else 0


def _flagged_rate(hits: int, n_words: int, cfg: dict) -> float:
    """Spam phrases per word, a short text's taken over ``flagged_min_words`` words."""
    return hits / max(n_words, int(cfg.get("flagged_min_words") or 1))


def _flagged_lead_ratio(units: list[str], cfg: dict) -> float:
    """Share of sentences that open with a spam phrase, when three or more do: a doorway
    page puts its keyword in front of scraped sentences ("먹튀검증 수족관에서, ...",
    "アダルト動画なら1998年..."); an article mentions such words inside its sentences."""
    flagged = _flagged(cfg)
    if flagged is None or not units:
        return 0.0
    lead = sum(1 for u in units if flagged.search(u[:12]))
    return lead / len(units) if lead >= 3 else 0.0


def _flagged_lines(units: list[str], cfg: dict) -> int:
    """Sentences (or unterminated line ends) made mostly of spam phrases: two or more
    covering half the characters, the keyword line SEO spam appends to scraped text
    ("高収入 副業 風俗 割り切り") or glues after a real sentence, which a rate over the
    whole document dilutes below any threshold."""
    flagged = _flagged(cfg)
    if flagged is None:
        return 0
    n = 0
    for unit in units:
        found = [m.group(0) for m in flagged.finditer(unit)]
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


def word_signals(text: str, morphs, lang: str, cfg: dict) -> dict[str, float]:
    """Signals of a Korean or Japanese text that need its words (curate.stages.segment.Morphs)."""
    if lang not in WORD_SIGNALS or morphs is None:
        return {}
    s = {"n_words": morphs.n_words, "function_word_ratio": morphs.function_ratio, "lm_score": morphs.lm_score}
    found = _grammar_sentence_ends(morphs)
    if found is not None:
        s.update(_terminated_ratios(*found))
    if lang == "ja":
        words = morphs.content_words()
        n_words = max(1, s["n_words"])
        s["mean_word_len"] = sum(map(len, words)) / len(words) if words else 0.0
        s["symbol_word_ratio"] = len(_SYMBOL_WORD.findall(text)) / max(n_words, int(cfg.get("count_min_words") or 1))
        s["flagged_word_ratio"] = _flagged_rate(_flagged_hits(_unevade(text, lang), cfg), n_words, cfg)
        # Gopher n-grams on bunsetsu-like phrases: morphemes are too short for Gopher's n
        s.update(_ngram_fracs(morphs.phrases(), int(cfg.get("repetition_min_words") or 0)))
    return s


def document_signals(text: str, morphs, lang: str, cfg: dict) -> dict[str, float]:
    """Every signal of one document except model scores. ``morphs`` is its
    curate.stages.segment.Morphs (None: word signals are left out)."""
    s = surface_signals(text, lang, cfg)
    s.update(word_signals(text, morphs, lang, cfg))
    return s


def failed_rule(signals: dict, rules) -> str | None:
    for name, signal, bound, thr in rules:
        v = signals.get(signal)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue  # a signal this run did not compute (e.g. no model) cannot fail
        if (bound == "min" and v < thr) or (bound == "max" and v > thr):
            return name
    return None


def headroom(signals: dict, rules) -> float:
    """Mean over rules of how far the signal sits inside its threshold, in units of the
    threshold itself, clipped to [0, 1]: 0 on (or past) the threshold, 1 at twice the
    minimum or at zero for a maximum."""
    hs = []
    for _, signal, bound, thr in rules:
        v = signals.get(signal)
        if v is None or signal == "model_score":
            continue
        scale = abs(thr) if thr else 1.0
        h = (v - thr) / scale if bound == "min" else (thr - v) / scale
        hs.append(min(1.0, max(0.0, h)))
    return float(np.mean(hs)) if hs else 1.0


# ---------------------------------------------------------------------------- stage
WORD_ORDER_WINDOW = 120  # eojeol: enough for a stable per-character score, bounded cost


class QualityStage:
    name = "quality"

    def __init__(self, cfg: dict, lang: str, scorers: list[Scorer] | None = None):
        self.lang = lang
        self.cfg = _merged(dict(cfg), lang)
        self.rules = ordered_rules(self.cfg, lang)
        self.batch_size = int(self.cfg.get("batch_size", 256))
        self.workers = int(self.cfg.get("workers", 1))
        self.use_morphs = self.cfg.get("segment", "morph") != "space"
        self.analyze_dropped = bool(self.cfg.get("analyze_dropped", False))
        self.model_weight = float(self.cfg.get("model_weight", 0.5))
        self.scorers = list(SCORERS if scorers is None else scorers)
        if self.cfg.get("model"):
            from curate.stages.quality_model import model_scorer

            self.scorers.append(model_scorer(self.cfg["model"]))

    def signals(self, texts: list[str], complete: bool | None = None) -> list[dict]:
        """Signals of a list of texts, in batches. Unless ``complete`` (or the recipe's
        ``analyze_dropped: true``), a text that already fails a surface rule is not
        segmented nor model-scored: its word signals stay null (the fast path: on web
        crawls most drops are menus, lists and mojibake, and kiwi is the cost)."""
        complete = self.analyze_dropped if complete is None else complete
        word_sigs = WORD_SIGNALS.get(self.lang, set()) | {"model_score"}
        surface_rules = [r for r in self.rules if r[1] not in word_sigs]
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            sigs = [surface_signals(t, self.lang, self.cfg) for t in batch]
            todo = [i for i, sig in enumerate(sigs) if complete or failed_rule(sig, surface_rules) is None]
            sub = [batch[i] for i in todo]
            if self.use_morphs and sub:
                for i, m in zip(todo, analyze(sub, self.lang, self.workers)):
                    sigs[i].update(word_signals(batch[i], m, self.lang, self.cfg))
                if self.lang == "ko":
                    self._word_order_gain([batch[i] for i in todo], [sigs[i] for i in todo])
            for scorer in self.scorers:
                if not sub:
                    break
                for name, values in scorer(sub, self.lang).items():
                    for i, v in zip(todo, values):
                        sigs[i][name] = float(v)
            out.extend(sigs)
        return out

    def _word_order_gain(self, texts: list[str], sigs: list[dict]) -> None:
        """word_order_gain: kiwi's log-prob per character of a text's first
        WORD_ORDER_WINDOW eojeol minus that of the same eojeol shuffled. Real sentences
        lose their grammar when shuffled; word salad made of real words (SEO filler) has
        none to lose. Only for texts of 25+ eojeol whose lm_score is already low
        (``word_order_gate``): prose scores above it, so kiwi runs again on few texts."""
        gate = float(self.cfg.get("word_order_gate", -3.5))
        todo, windows, shuffled = [], [], []
        for i, (text, sig) in enumerate(zip(texts, sigs)):
            sig["word_order_gain"] = None
            words = text.split()
            if sig.get("lm_score") is None or sig["lm_score"] >= gate or len(words) < 25:
                continue
            window = words[:WORD_ORDER_WINDOW]
            mixed = list(window)
            random.Random(len(window)).shuffle(mixed)  # seeded: the same text, the same signal
            todo.append(i)
            windows.append(" ".join(window) if len(words) > WORD_ORDER_WINDOW else None)
            shuffled.append(" ".join(mixed))
        if not todo:
            return
        whole = [w for w in windows if w is not None]
        scored = iter(analyze(whole, self.lang, self.workers)) if whole else iter(())
        for i, window, mixed in zip(todo, windows, analyze(shuffled, self.lang, self.workers)):
            base = sigs[i]["lm_score"] if window is None else next(scored).lm_score
            if base is not None and mixed.lm_score is not None:
                sigs[i]["word_order_gain"] = base - mixed.lm_score

    def score(self, sig: dict) -> float:
        h = headroom(sig, self.rules)
        m = sig.get("model_score")
        return h if m is None else (1 - self.model_weight) * h + self.model_weight * m

    def __call__(self, table: pa.Table) -> pa.Table:
        live = live_mask(table)
        idx = np.flatnonzero(live)
        texts = table.column("text").to_pylist()
        sigs = self.signals([texts[i] or "" for i in idx])
        structs: list[dict | None] = table.column("quality_signals").to_pylist()
        scores: list[float | None] = table.column("quality_score").to_pylist()
        reasons: list[str | None] = [None] * table.num_rows
        for i, sig in zip(idx, sigs):
            structs[i] = {n: sig.get(n) for n in SIGNAL_NAMES}
            scores[i] = self.score(sig)
            rule = failed_rule(sig, self.rules)
            if rule:
                reasons[i] = f"quality:{rule}"
        table = set_column(table, "quality_signals", pa.array(structs, type=QUALITY_SIGNALS_TYPE))
        table = set_column(table, "quality_score", scores)
        return merge_drop_reasons(table, reasons)


def make_stage(cfg: dict, lang: str) -> QualityStage:
    return QualityStage(cfg, lang)


def rule_pass_counts(table: pa.Table, cfg: dict, lang: str) -> dict[str, int]:
    """For the report: of the documents the quality stage judged (live ones, and those it
    dropped itself), how many pass each rule on its own. Uses the signals already in
    the table when the quality stage filled them, computes them otherwise."""
    merged = _merged(dict(cfg or {}), lang)
    rules = ordered_rules(merged, lang)
    reasons = table.column("drop_reason").to_pylist()
    live = np.array([r is None or r.startswith("quality:") for r in reasons], dtype=bool)
    structs = table.column("quality_signals").to_pylist()
    stage = QualityStage(cfg or {}, lang)
    needed = {r[1] for r in rules if r[1] != "model_score" or stage.scorers}
    # documents without signals, or dropped on the fast path before their words were counted
    todo = [i for i in np.flatnonzero(live) if not structs[i] or any(structs[i].get(k) is None for k in needed)]
    if todo:
        texts = table.column("text").to_pylist()
        for i, sig in zip(todo, stage.signals([texts[i] or "" for i in todo], complete=True)):
            structs[i] = sig
    counts = {name: 0 for name, *_ in rules}
    for i in np.flatnonzero(live):
        for rule in rules:
            if failed_rule(structs[i], [rule]) is None:
                counts[rule[0]] += 1
    return counts
