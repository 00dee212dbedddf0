"""Batch character-class counts equal the per-text regex counts they replace."""

from __future__ import annotations

import json
from pathlib import Path

from curate.stages.quality.char_counts import CLASSES, class_counts
from curate.stages.quality.chars import _count

DATA = Path(__file__).parent / "data"


def _texts(path: Path, n: int) -> list[str]:
    return [json.loads(l)["text"] for l in open(path, encoding="utf-8")][:n]


def test_class_counts_equal_regex_counts_on_real_text():
    texts = (
        _texts(DATA / "quality" / "ja-wiki-jsquad.jsonl", 60)
        + _texts(DATA / "quality_labels_ja.jsonl", 200)
        + _texts(DATA / "quality" / "ko-nsmc-informal.jsonl", 60)
        + _texts(DATA / "quality" / "en-fr-sentences.jsonl", 20)
        # empty texts, astral kanji and letters, half-width kana, a lone surrogate, U+FFFD
        + ["", "𠮷野家の𩸽定食 ｶﾀｶﾅ ＡＢＣ１２３", "\ud800a\ufffd", "", "ㅋㅋㅋ 縺ｧ 걼 简体字"]
    )
    got = class_counts(texts)
    assert len(got) == len(texts)
    for text, counts in zip(texts, got):
        assert counts == {name: _count(pattern(), text) for name, pattern in CLASSES.items()}, text
    # the comparison covers every class
    assert all(sum(c[name] for c in got) > 0 for name in CLASSES)
