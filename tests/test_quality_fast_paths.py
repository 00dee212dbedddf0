"""The quality stage's fast paths give what the straightforward computations give:
batch character-class counts, the URL and address prechecks, the rule headroom."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from curate.stages.quality.char_counts import CLASSES, class_counts
from curate.stages.quality.chars import _EMAIL, _URL, _count, email_count, url_chars
from curate.stages.quality.rules import headroom
from curate.stages.quality.stage import QualityStage

DATA = Path(__file__).parent / "data"


def _texts(path: Path, n: int) -> list[str]:
    return [json.loads(l)["text"] for l in open(path, encoding="utf-8")][:n]


def _real_texts() -> list[str]:
    return (
        _texts(DATA / "quality" / "ja-wiki-jsquad.jsonl", 60)
        + _texts(DATA / "quality_labels_ja.jsonl", 200)
        + _texts(DATA / "quality" / "ko-nsmc-informal.jsonl", 60)
        + _texts(DATA / "quality" / "en-fr-sentences.jsonl", 20)
        # empty texts, astral kanji and letters, half-width kana, a lone surrogate, U+FFFD
        + ["", "𠮷野家の𩸽定食 ｶﾀｶﾅ ＡＢＣ１２３", "\ud800a\ufffd", "", "ㅋㅋㅋ 縺ｧ 걼 简体字"]
        + [
            "詳しくはhttps://www.example.co.jpでinfo@example.comへ",
            "http://localhost:8080/a",
            "ＵＲＬ：ｗｗｗ．ｘ．ｊｐ",
        ]
    )


def test_class_counts_equal_regex_counts_on_real_text():
    texts = _real_texts()
    got = class_counts(texts)
    assert len(got) == len(texts)
    for text, counts in zip(texts, got):
        assert counts == {name: _count(pattern(), text) for name, pattern in CLASSES.items()}, text
    # the comparison covers every class
    assert all(sum(c[name] for c in got) > 0 for name in CLASSES)


def test_url_and_address_counts_equal_the_patterns():
    texts = _real_texts()
    assert [url_chars(t) for t in texts] == [_count(_URL, t) for t in texts]
    assert [email_count(t) for t in texts] == [len(_EMAIL.findall(t)) for t in texts]
    assert sum(map(url_chars, texts)) > 0 and sum(map(email_count, texts)) > 0


def _reference_headroom(signals: dict, rules) -> float:
    hs = []
    for _, signal, bound, thr in rules:
        v = signals.get(signal)
        if v is None or signal == "model_score":
            continue
        scale = abs(thr) if thr else 1.0
        h = (v - thr) / scale if bound == "min" else (thr - v) / scale
        hs.append(min(1.0, max(0.0, h)))
    return float(np.mean(hs)) if hs else 1.0


def test_headroom_is_np_mean_of_the_clipped_margins_to_the_bit():
    for lang in ("ja", "ko"):
        stage = QualityStage.from_section({"analyze_dropped": True}, lang)
        rules = stage.settings.rules
        sigs = stage.signals([t for t in _real_texts() if "\ud800" not in t])  # the analysers take UTF-8
        # a threshold hit exactly, NaN, a negative zero margin, one rule only, none
        edge = dict(sigs[0])
        edge.update({rules[0][1]: rules[0][3], rules[1][1]: float("nan"), rules[2][1]: -0.0})
        for sig in sigs + [edge, {rules[0][1]: 0.5}, {}]:
            assert repr(headroom(sig, rules)) == repr(_reference_headroom(sig, rules))
    # margins of -0.0 and NaN alone: min/max make both +0.0
    zero = [("min_x", "x", "min", 0.0)]
    for value in (-0.0, float("nan"), 0.0, 2.5):
        assert repr(headroom({"x": value}, zero)) == repr(_reference_headroom({"x": value}, zero))
