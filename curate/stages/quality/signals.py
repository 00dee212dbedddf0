"""The quality signals of one document: those read off its surface and those that need
its words."""

from __future__ import annotations

import re

from curate.stages.gibberish import mash_chars
from curate.stages.quality.char_counts import class_counts
from curate.stages.quality.chars import (
    _BAD_SOKUON,
    _BULLET,
    _CHATTER,
    _HIRAGANA_LINE,
    _SYMBOL_WORD,
    _WORDISH,
    PUNCT_END_CHARS,
    _count,
    _mojibake_pattern,
    _same_lead_ratio,
    email_count,
    ko_mojibake_chars,
    url_chars,
)
from curate.stages.quality.flagged import (
    _flagged_hits,
    _flagged_lead_ratio,
    _flagged_lines,
    _flagged_rate,
    _sentences,
    _unevade,
)
from curate.stages.quality.lines import (
    _FIELD_ROW,
    JA_CHARS_PER_WORD,
    JA_MORPHEMES_PER_PHRASE,
    SHORT_LINE_MIN_ITEMS,
    _dup_fracs,
    _grammar_sentence_ends,
    _keyword_row,
    _line_items,
    _ngram_fracs,
    _short_scale,
    _terminated,
    _terminated_ratios,
    cut_short,
)
from curate.stages.quality.rules import WORD_SIGNALS
from curate.stages.segment import eojeols


def surface_signals(texts: list[str], lang: str, cfg: dict) -> list[dict[str, float]]:
    """Signals read off the characters, lines and space-separated units of each text."""
    return [_surface(text, lang, cfg, chars) for text, chars in zip(texts, class_counts(texts))]


def _surface(text: str, lang: str, cfg: dict, chars: dict[str, int]) -> dict[str, float]:
    """The surface signals of one text; ``chars``: its characters per class (class_counts)."""
    s: dict[str, float] = {}
    n_chars = len(text)
    units = eojeols(text)  # space-separated units: eojeol in Korean, words in spaced languages
    nonspace = max(1, sum(map(len, units)))  # str.split's spaces are exactly regex \s
    n_units = max(1, len(units))
    # Counts are taken over at least count_min_words words (see _short_scale); Japanese
    # words are estimated from characters before segmentation.
    n_est = nonspace / JA_CHARS_PER_WORD if lang == "ja" else len(units)
    few = _short_scale(n_est, int(cfg.get("count_min_words") or 0))
    rep_words = nonspace / (JA_CHARS_PER_WORD * JA_MORPHEMES_PER_PHRASE) if lang == "ja" else len(units)
    rep = _short_scale(rep_words, int(cfg.get("repetition_min_words") or 0))
    s["n_chars"] = n_chars
    s.update(_unit_signals(text, units, lang, cfg, few))
    s["symbol_ratio"] = few * max(0, nonspace - chars["wordish"]) / nonspace
    s["digit_ratio"] = few * chars["digit"] / nonspace
    lines = [l for l in (l.strip() for l in text.split("\n")) if l]
    s.update(_line_signals(text, lines, lang, cfg, few, rep))
    s.update(_script_signals(text, lines, lang, few, nonspace, chars))
    s["url_density"] = few * url_chars(text) / max(1, n_chars)
    s["email_density"] = few * email_count(text) / n_units
    s.update(_flagged_signals(text, lang, cfg, n_units))
    return s


def _unit_signals(text: str, units: list[str], lang: str, cfg: dict, few: float) -> dict[str, float]:
    """Signals of space-separated units: word counts of spaced languages, Polyglot-Ko /
    Gopher mean word length, symbol words and n-gram repetition."""
    s: dict[str, float] = {}
    n_units = max(1, len(units))
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
    return s


def _line_signals(text: str, lines: list[str], lang: str, cfg: dict, few: float, rep: float) -> dict[str, float]:
    """Signals of the non-empty lines (stripped) and paragraphs of a text."""
    s: dict[str, float] = {}
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
    s["ellipsis_line_ratio"] = few * sum(map(cut_short, lines)) / max(n_lines, SHORT_LINE_MIN_ITEMS)
    s["punct_end_line_ratio"] = sum(1 for l in lines if l[-1] in PUNCT_END_CHARS) / n_lines
    s.update(_terminated_ratios(lines, ends))
    short = int(cfg.get("short_line_chars", 30))
    # FineWeb judges pages of lines: a text of one or two short lines (a question, a
    # comment) is no page of short lines, so the share is taken over at least 3 items;
    # and a line is split into menu items only beside other lines: a one-line comment of
    # colloquial eojeol ("송지효 병원에 입원해 있을때 미모 터짐 진짜 예쁨") reads like a row
    # of bare nouns but is no menu (a keyword row under an article still splits).
    items = _line_items(lines, ends, lang) if len(lines) > 1 else lines
    s["short_line_ratio"] = sum(1 for l in items if len(l) <= short and not _FIELD_ROW.match(l)) / max(
        SHORT_LINE_MIN_ITEMS, len(items)
    )
    s["keyword_rows"] = sum(1 for l, e in zip(lines, ends) if not e and _keyword_row(l))
    s.update(_dup_fracs(lines, "line", rep))
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    s.update(_dup_fracs(paras, "para", rep))
    return s


def _script_signals(
    text: str, lines: list[str], lang: str, few: float, nonspace: int, chars: dict[str, int]
) -> dict[str, float]:
    """Shares of each script, of chat noise, keyboard mash and mojibake."""
    s: dict[str, float] = {}
    s["hangul_ratio"] = chars["hangul"] / nonspace
    s["jamo_ratio"] = few * chars["jamo"] / nonspace
    s["chatter_ratio"] = few * _count(_CHATTER, text) / nonspace
    s["kana_ratio"] = chars["kana"] / nonspace
    s["hiragana_ratio"] = chars["hiragana"] / nonspace
    s["kanji_ratio"] = chars["kanji"] / nonspace
    s["ja_script_ratio"] = s["kana_ratio"] + s["kanji_ratio"]
    s["latin_ratio"] = chars["latin"] / nonspace
    s["latin_mash_ratio"] = few * mash_chars(text) / nonspace
    if lang == "ko":  # runs of marks, whatever the length: see ko_mojibake_chars
        s["mojibake_ratio"] = ko_mojibake_chars(text) / nonspace
    else:
        mojibake = chars["ja_mojibake"] if lang == "ja" else _count(_mojibake_pattern(lang), text)
        s["mojibake_ratio"] = few * mojibake / nonspace
    if lang == "ja":
        s["kana_mash_ratio"] = (
            few * (sum(len(l) for l in lines if _HIRAGANA_LINE.match(l)) + _count(_BAD_SOKUON, text)) / nonspace
        )
        s["non_jis_kanji_ratio"] = few * chars["non_jis_kanji"] / nonspace
        s["same_lead_ratio"] = _same_lead_ratio(_sentences(text))
    return s


def _flagged_signals(text: str, lang: str, cfg: dict, n_units: int) -> dict[str, float]:
    """Spam phrases: their rate per unit (Japanese: per morpheme, in word_signals), the
    sentences made of them, and sentences that open with one."""
    s: dict[str, float] = {}
    unevaded = _unevade(text, lang)
    n_flagged = _flagged_hits(unevaded, cfg)
    if lang != "ja":
        s["flagged_word_ratio"] = _flagged_rate(n_flagged, n_units, cfg)
    units = _sentences(unevaded) if n_flagged else []
    s["flagged_lines"] = _flagged_lines(units, cfg) if n_flagged else 0
    s["flagged_lead_ratio"] = _flagged_lead_ratio(units, cfg)
    return s


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
    s = surface_signals([text], lang, cfg)[0]
    s.update(word_signals(text, morphs, lang, cfg))
    return s
