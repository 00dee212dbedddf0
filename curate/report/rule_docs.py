"""What each quality rule means and why its threshold is what it is, for the report.

The meaning is one line per signal (below). The "why" is the comment the recipe's
thresholds file writes beside (or just above) the key: YAML parsers drop comments, so
the file's lines are read here, and only the comment of a threshold the run actually
used is quoted (a threshold the run's recipe overrode says so instead).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from curate.recipe import RECIPE_DIR

# signal -> what it measures (a rule keeps documents with min_ <= signal or signal <= max_)
SIGNAL_MEANING = {
    "n_chars": "characters in the document",
    "n_words": "words in the document (eojeol, or morphemes where segmented)",
    "mean_word_len": "mean characters per word",
    "function_word_ratio": "share of morphemes that are particles, endings or auxiliaries (grammar words of prose)",
    "lm_score": "language-model log-probability per character (low: mash, typos, unseen text)",
    "word_order_gain": "how much worse the language model scores the text with its words shuffled (word salad gains little)",
    "symbol_word_ratio": "'#' and ellipses per word",
    "symbol_ratio": "share of non-space characters that are punctuation or symbols",
    "digit_ratio": "share of non-space characters that are digits",
    "bullet_line_ratio": "share of lines that start with a bullet",
    "ellipsis_line_ratio": "share of lines cut short by an ellipsis",
    "punct_end_line_ratio": "share of lines that end in sentence punctuation",
    "terminated_char_ratio": "share of characters in sentences that end (by punctuation or a sentence-final ending)",
    "long_terminated_char_ratio": "terminated_char_ratio, computed only on documents of 8 or more lines",
    "short_line_ratio": "share of lines no longer than short_line_chars",
    "dup_line_frac": "share of lines that repeat another line of the document",
    "dup_line_char_frac": "share of characters in repeated lines",
    "dup_para_frac": "share of paragraphs that repeat another paragraph",
    "dup_para_char_frac": "share of characters in repeated paragraphs",
    "top_2gram_frac": "share of characters covered by the most frequent word 2-gram",
    "top_3gram_frac": "share of characters covered by the most frequent word 3-gram",
    "top_4gram_frac": "share of characters covered by the most frequent word 4-gram",
    "dup_5gram_frac": "share of characters in word 5-grams that occur more than once",
    "dup_6gram_frac": "share of characters in word 6-grams that occur more than once",
    "dup_7gram_frac": "share of characters in word 7-grams that occur more than once",
    "dup_8gram_frac": "share of characters in word 8-grams that occur more than once",
    "dup_9gram_frac": "share of characters in word 9-grams that occur more than once",
    "dup_10gram_frac": "share of characters in word 10-grams that occur more than once",
    "hangul_ratio": "share of non-space characters that are Hangul",
    "jamo_ratio": "share of characters that are bare jamo (ㅋㅋ, ㅠㅠ)",
    "chatter_ratio": "share of characters in laughter, (笑), kaomoji and the like",
    "kana_ratio": "share of non-space characters that are kana",
    "hiragana_ratio": "share of non-space characters that are hiragana",
    "kanji_ratio": "share of non-space characters that are kanji",
    "ja_script_ratio": "share of non-space characters that are kana or kanji",
    "latin_ratio": "share of non-space characters that are Latin letters",
    "latin_mash_ratio": "share of characters in Latin words that read as keyboard mash",
    "mojibake_ratio": "share of characters typical of text decoded with the wrong codec (Korean: in runs of two or more)",
    "kana_mash_ratio": "share of characters in lines of kana-keyboard mash",
    "non_jis_kanji_ratio": "share of kanji that no Japanese codec (CP932) has (simplified Chinese forms)",
    "keyword_rows": "unterminated rows built around one repeated keyword (SEO lists)",
    "same_lead_ratio": "share of sentences opened by the same keyword and a comma (doorway pages)",
    "url_density": "share of characters inside URLs",
    "email_density": "share of characters inside e-mail addresses",
    "flagged_word_ratio": "spam or adult phrases per word",
    "flagged_lines": "lines that are mostly spam phrases",
    "flagged_lead_ratio": "share of sentences opened by a spam phrase",
    "model_score": "the quality model's P(good)",
}

_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:(.*)$")


def _trailing_comment(rest: str) -> str | None:
    """The '# ...' comment after a value on the same line (a '#' inside quotes is text)."""
    quote = None
    for i, ch in enumerate(rest):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or rest[i - 1].isspace()):
            return rest[i + 1 :].strip()
    return None


def key_comments(text: str) -> dict[str, str]:
    """Top-level key -> its comment: the full-line comments right above it (no blank line
    between) and the comment after its value, joined. The file's opening comment block
    (followed by a blank line) belongs to no key."""
    out: dict[str, str] = {}
    above: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            above = []
        elif stripped.startswith("#"):
            above.append(stripped.lstrip("#").strip())
        elif not line[0].isspace() and (m := _KEY.match(line)):
            parts = above + [c for c in [_trailing_comment(m.group(2))] if c]
            if parts:
                out[m.group(1)] = " ".join(parts)
            above = []
        else:
            above = []
    return out


def thresholds_file(lang: str) -> Path:
    return RECIPE_DIR / "quality" / f"{lang}.yaml"


def rule_docs(rules: list, lang: str) -> dict[str, dict]:
    """rule -> {meaning, bound, threshold, why, source} for the rules a run applied."""
    path = thresholds_file(lang)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    defaults = (yaml.safe_load(text) or {}) if text else {}
    comments = key_comments(text)
    rel = f"pipelines/recipes/quality/{path.name}"
    out = {}
    for name, signal, bound, thr in rules:
        default = defaults.get(name)
        if default is not None and float(default) == float(thr):
            why, source = comments.get(name), rel
        else:
            note = (
                f"; {rel} has {default}" + (f": {comments[name]}" if name in comments else "")
                if default is not None
                else ""
            )
            why, source = f"set by the run's recipe{note}", "recipe"
        out[name] = {
            "meaning": SIGNAL_MEANING.get(signal, signal),
            "signal": signal,
            "bound": bound,
            "threshold": thr,
            "why": why,
            "source": source,
        }
    return out
