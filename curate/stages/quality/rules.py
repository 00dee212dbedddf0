"""Quality thresholds and rules: the per-language defaults, the recipe overrides, the
order rules are checked in, and how a document fails or passes them."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import yaml

from curate.io.schema import QUALITY_SIGNAL_FIELDS
from curate.stages.base import RECIPE_DIR, SettingError

SIGNAL_NAMES = [n for n, _ in QUALITY_SIGNAL_FIELDS]
# Keys of a quality section that are settings, not rules.
SETTINGS = {
    "short_line_chars",
    "stop_words",
    "flagged_words",
    "flagged_topics",
    "model",
    "model_weight",
    "batch_size",
    "segment",
    "workers",
    "analyze_dropped",
    "morph_sample_chars",
    "include",
    "repetition_min_words",
    "flagged_min_words",
    "word_order_gate",
    "count_min_words",
}


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
        if key in SETTINGS:
            continue
        bound, _, signal = str(key).partition("_")
        if bound not in ("min", "max") or signal not in SIGNAL_NAMES:
            raise SettingError(str(key), f"unknown setting or rule (rules are min_/max_ + one of {SIGNAL_NAMES})")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingError(key, f"a threshold must be a number or null, got {value!r}")
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
    return [r[0] for r in ordered_rules(merged_section(cfg or {}, lang), lang)]


def merged_section(cfg: dict, lang: str) -> dict:
    """The language's default thresholds and settings with the recipe's keys over them."""
    base = load_thresholds(lang)
    base.update(cfg)
    return base


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


def failed_rule(signals: dict, rules) -> str | None:
    for name, signal, bound, thr in rules:
        v = signals.get(signal)
        # a signal this run did not compute (None, e.g. no model) or NaN (no comparison
        # holds) cannot fail
        if v is not None and (v < thr if bound == "min" else v > thr):
            return name
    return None


def headroom(signals: dict, rules) -> float:
    """Mean over rules of how far the signal sits inside its threshold, in units of the
    threshold itself, clipped to [0, 1]: 0 on (or past) the threshold, 1 at twice the
    minimum or at zero for a maximum."""
    # clipped by comparisons: NaN and -0.0 give 0.0, as min(1.0, max(0.0, h)) does
    hs = [1.0 if h >= 1.0 else h if h > 0.0 else 0.0 for h in margins(signals, rules)]
    # np.mean's own sum and division, without its checks (a third of the stage's rule time)
    return float(np.add.reduce(np.array(hs)) / len(hs)) if hs else 1.0


def margins(signals: dict, rules) -> Iterator[float]:
    """How far each computed signal sits inside its rule's threshold, in units of the
    threshold (model scores left out: the score weighs them apart)."""
    for _, signal, bound, thr in rules:
        v = signals.get(signal)
        if v is None or signal == "model_score":
            continue
        scale = abs(thr) if thr else 1.0
        yield (v - thr) / scale if bound == "min" else (thr - v) / scale
