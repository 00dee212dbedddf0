"""The quality stage's fast paths give what the straightforward computations give:
batch character-class counts, the URL and address prechecks, the patterns written to
open with a character, line ends and cut-short lines, sentence leads, keyboard mash,
the failed rule and the rule headroom."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

from curate.stages import gibberish
from curate.stages.quality.char_counts import CLASSES, class_counts
from curate.stages.quality.chars import (
    _CHATTER,
    _EMAIL,
    _JA_LEAD,
    _SENTENCE_END,
    _URL,
    PUNCT_END_CHARS,
    _count,
    _same_lead_ratio,
    email_count,
    url_chars,
)
from curate.stages.quality.flagged import _EVADE_JA, _sentences
from curate.stages.quality.lines import _ELLIPSIS_MARK, _terminated, cut_short
from curate.stages.quality.rules import failed_rule, headroom, margins
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
        # doorway leads behind opening marks; keyboard mash beside addresses
        + ["「東京賃貸、安い部屋です。」■東京賃貸、駅から近い。・東京賃貸、広いです。" * 2]
        + ["asdfghjkl qwrtzxcv www.qzxv-kdjf.com xkcdqwpz@mail.com jfkdlsajfk", "WWW.ZXQV.JP dkssudgktpdy"]
        # laughter, kaomoji, orz and sentence ends beside digits, letters and line starts
        + ["セ・フ・レ募集 出 会 い 系 人★妻 素_人\n女\n性 東京・大阪", "あ・\nい ア.イ"]
        + ["始まった…\n衝撃の真相とは…」\n本当に?…。続く‥\n見たよ..終わり.. 次。…", "충격 고백…\n재밌다...\n봤어요.."]
        + ["ｗｗｗ草wwwそうだねｗ(笑)（´・ω・`）orz borz orz\nww www.x.jp ^^ ㅋㅋㅋ", "1.5倍だ. 2. x!y? 終わり!\n?!」"]
    )


def test_class_counts_equal_regex_counts_on_real_text():
    texts = _real_texts()
    got = class_counts(texts)
    assert len(got) == len(texts)
    for text, counts in zip(texts, got):
        assert counts == {name: _count(pattern(), text) for name, pattern in CLASSES.items()}, text
    # the comparison covers every class
    assert all(sum(c[name] for c in got) > 0 for name in CLASSES)


def test_class_counts_in_chunks_equal_counts_at_once(monkeypatch):
    """Texts are looked up CHUNK_CHARS characters at a time, a longer text alone."""
    from curate.stages.quality import char_counts

    texts = _real_texts()
    at_once = class_counts(texts)
    monkeypatch.setattr(char_counts, "CHUNK_CHARS", 150)
    assert class_counts(texts) == at_once
    assert class_counts(["", ""]) == [dict.fromkeys(CLASSES, 0)] * 2


def test_url_and_address_counts_equal_the_patterns():
    texts = _real_texts()
    assert [url_chars(t) for t in texts] == [_count(_URL, t) for t in texts]
    assert [email_count(t) for t in texts] == [len(_EMAIL.findall(t)) for t in texts]
    assert sum(map(url_chars, texts)) > 0 and sum(map(email_count, texts)) > 0


def _reference_headroom(signals: dict, rules) -> float:
    hs = [min(1.0, max(0.0, h)) for h in margins(signals, rules)]
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


def test_line_end_characters_equal_the_terminal_punctuation_pattern():
    pattern = re.compile(r"[.!?。！？．…\"'”’」』）)]\s*$")  # C4 / FineWeb's, with CJK marks
    lines = [l.strip() for t in _real_texts() for l in t.split("\n") if l.strip()]
    lines += ["終わり。", "終わり", "「引用」", "Really?!", "数字 1.5", "…", "end. \u3000x"]
    got = [l[-1] in PUNCT_END_CHARS for l in lines]
    assert got == [bool(pattern.search(l)) for l in lines]
    assert 0 < sum(got) < len(got)


def _reference_same_lead_ratio(sentences: list[str]) -> float:
    units = [u for u in sentences if len(u) >= 8]
    leads = [m.group(0) for m in (_JA_LEAD.match(re.sub(r"^[\W_]+", "", u)) for u in units) if m]
    leads = [l for l in leads if len(re.sub(r"\W", "", l)) >= 2]
    if not leads:
        return 0.0
    n = Counter(leads).most_common(1)[0][1]
    return n / len(units) if n >= 3 else 0.0


def test_same_lead_ratio_equals_trimming_then_matching():
    sentences = [_sentences(t) for t in _real_texts()]
    got = [_same_lead_ratio(s) for s in sentences]
    assert got == [_reference_same_lead_ratio(s) for s in sentences]
    assert any(got)


def _reference_mash_chars(text: str) -> int:
    if gibberish._FULLWIDTH_LATIN.search(text):
        import unicodedata

        text = unicodedata.normalize("NFKC", text)
    n = 0
    for word in gibberish._LATIN_WORD.findall(gibberish._ADDRESS.sub(" ", text)):
        score = gibberish.word_score(word)
        if score is not None and score < gibberish.MASH_SCORE:
            n += len(word)
    return n if n >= gibberish.MIN_MASH_CHARS else 0


def test_mash_chars_equal_with_addresses_always_blanked():
    texts = _real_texts()
    got = [gibberish.mash_chars(t) for t in texts]
    assert got == [_reference_mash_chars(t) for t in texts]
    assert any(got)


def test_patterns_opening_with_a_character_match_as_written_before():
    """_CHATTER, _SENTENCE_END and _EVADE_JA as first written, look-behinds in front."""
    chatter = re.compile(
        r"[\u1100-\u11ff\u3131-\u318e]+|(?<![A-Za-zＡ-Ｚａ-ｚ])[wｗＷ]{2,}(?![A-Za-zＡ-Ｚａ-ｚ.])"
        r"|[（(][笑泣汗][）)]|[（(][^\w()（）\s]{0,3}[;_^ω´`・ー゜∀Д][^()（）\s]{0,6}[）)]|\borz\b|\^\^"
    )
    sentence_end = re.compile(r"(?<![0-9])[.!?][\"'”’」』）)\]]*(?=\s|$)|[。！？…‥][\"'”’」』）)\]]*")
    evade = re.compile(r"(?<=[\u3041-\u30ff\u4e00-\u9fff])[・★☆\s._*](?=[\u3041-\u30ff\u4e00-\u9fff](?:[・★☆\s._*]|$))")
    texts = _real_texts()
    for old, new in ((chatter, _CHATTER), (sentence_end, _SENTENCE_END), (evade, _EVADE_JA)):
        spans = [[m.span() for m in new.finditer(t)] for t in texts]
        assert spans == [[m.span() for m in old.finditer(t)] for t in texts]
        assert sum(map(len, spans)) > 10  # the texts hold matches of each


def _reference_terminated(line: str) -> int:
    end = 0
    for m in _SENTENCE_END.finditer(line):
        if not _ELLIPSIS_MARK.search(line, max(0, m.start() - 1), m.end()):
            end = m.end()
    return end


def test_sentence_ends_and_cut_short_lines_equal_the_forward_scan():
    lines = [l.strip() for t in _real_texts() for l in t.split("\n") if l.strip()]
    assert [_terminated(l) for l in lines] == [_reference_terminated(l) for l in lines]
    cut = [cut_short(l) for l in lines]
    assert cut == [_ELLIPSIS_MARK.search(l) is not None for l in lines]
    assert 0 < sum(cut) < len(cut)


def _reference_failed_rule(signals: dict, rules) -> str | None:
    for name, signal, bound, thr in rules:
        v = signals.get(signal)
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        if (bound == "min" and v < thr) or (bound == "max" and v > thr):
            return name
    return None


def test_failed_rule_skips_missing_and_nan_signals_as_before():
    rules = QualityStage.from_section({}, "ja").settings.rules
    sigs = QualityStage.from_section({"analyze_dropped": True}, "ja").signals(
        [t for t in _real_texts() if "\ud800" not in t]
    )
    edge = []
    for _, signal, _, thr in rules[:6]:
        for v in (thr, thr - 1, thr + 1, float("nan"), np.float64("nan"), None, int(thr)):
            edge.append({signal: v})
    got = [failed_rule(s, rules) for s in sigs + edge]
    assert got == [_reference_failed_rule(s, rules) for s in sigs + edge]
    assert 0 < sum(g is None for g in got) < len(got)
