"""Morpheme signals on a sample of a long Korean text (curate.stages.quality.morph_sample):
the same drop decisions as analysing every text whole, on the project's judged and
derived quality documents, and a drop is never decided on a sample."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from curate.io.schema import SHARD_SCHEMA
from curate.stages.quality.morph_sample import sample_of
from curate.stages.quality.stage import QualityStage

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(DATA / "quality"))
from make_bad import make_bad  # noqa: E402


def table_of(texts: list[str]) -> pa.Table:
    cols = {name: pa.nulls(len(texts), SHARD_SCHEMA.field(name).type) for name in SHARD_SCHEMA.names}
    cols["id"] = pa.array([f"doc-{i}" for i in range(len(texts))])
    cols["text"] = pa.array(texts)
    return pa.table(cols, schema=SHARD_SCHEMA)


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def korean_documents() -> list[str]:
    """Judged documents (NSMC comment pages, wiki, news, constructed junk) and news
    paragraphs of 5 sentences with bad documents derived from them."""
    news = [r["text"] for r in _jsonl(DATA / "quality" / "ko-news-sentences.jsonl") if r["variety"] == "south"]
    paragraphs = [" ".join(news[i : i + 5]) for i in range(0, len(news) - 4, 5)]
    bad = [t for _, t in make_bad(paragraphs, "ko", n_per_kind=5, seed=3)]
    return [r["text"] for r in _jsonl(DATA / "quality_labels_ko.jsonl")] + paragraphs + bad


@pytest.fixture(scope="module")
def both_ways():
    docs = korean_documents()
    whole = QualityStage.from_section({"morph_sample_chars": 0}, "ko")(table_of(docs))
    stage = QualityStage.from_section({}, "ko")
    sampled = stage(table_of(docs))
    return docs, whole, sampled, stage


def test_sampling_keeps_every_decision(both_ways):
    docs, whole, sampled, stage = both_ways
    assert stage.settings.morph_sample_chars > 0  # the recipe samples
    assert sampled.column("drop_reason").to_pylist() == whole.column("drop_reason").to_pylist()
    # and the sample did the work: long texts kept on their samples' values
    n = stage.settings.morph_sample_chars
    on_sample = [
        i
        for i, (a, b) in enumerate(
            zip(whole.column("quality_signals").to_pylist(), sampled.column("quality_signals").to_pylist())
        )
        if sample_of(docs[i], n) is not None and a["n_words"] is not None and a["lm_score"] != b["lm_score"]
    ]
    assert len(on_sample) >= 50
    assert stage.seconds["morphemes"] > 0


def test_drops_are_decided_on_whole_texts(both_ways):
    """Every dropped document carries the signals of its whole text."""
    _, whole, sampled, _ = both_ways
    reasons = sampled.column("drop_reason").to_pylist()
    a, b = whole.column("quality_signals").to_pylist(), sampled.column("quality_signals").to_pylist()
    dropped_on_words = [i for i, r in enumerate(reasons) if r and b[i]["n_words"] is not None]
    assert dropped_on_words
    for i in dropped_on_words:
        same = {k: v for k, v in a[i].items() if k != "word_order_gain"}
        assert {k: b[i][k] for k in same} == same


def test_a_menu_after_a_lead_sentence_is_judged_whole():
    """The sample (the lead sentence) reads as prose; the lines after it end no sentence,
    so the sample cannot settle the sentence-end rules and the whole text decides."""
    lead = "서울시는 오늘 시청 앞 광장에서 새해 맞이 행사를 열고 시민 수천 명이 함께 새해를 맞았다고 밝혔다."
    menu = "\n".join(
        f"{w} 바로가기 전체보기"
        for w in ("뉴스", "정치", "경제", "사회", "국제", "문화", "스포츠", "연예", "날씨", "지역")
    )
    text = f"{lead}\n{menu}"
    stage = QualityStage.from_section({}, "ko")
    sample = sample_of(text, stage.settings.morph_sample_chars)
    assert sample.text.startswith(lead) and len(sample.text) < len(text)
    whole = QualityStage.from_section({"morph_sample_chars": 0}, "ko")
    assert stage.signals([text]) == whole.signals([text])
    assert stage(table_of([text])).column("drop_reason").to_pylist()[0] is not None


def test_sample_is_whole_sentences_spread_over_the_text():
    text = "첫 문장이다. 둘째 문장도 있다. 셋째 문장은 조금 더 길게 이어진다. 넷째 문장.\n다섯째 줄이다"
    sample = sample_of(text, 24)  # the 1st, then every 2nd sentence that fits in 24 characters
    assert [text[a:b] for a, b in sample.spans] == ["첫 문장이다.", "다섯째 줄이다"]
    assert sample.text == "첫 문장이다.\n다섯째 줄이다"
    assert sample.offset_in_document(len("첫 문장이다.\n다섯째")) == text.index("다섯째") + len("다섯째")
    assert sample_of(text, 200) is None  # short enough: analysed whole
    long_first = "가" * 50 + ". 나머지 문장." * 10
    assert sample_of(long_first, 20).text.startswith("가" * 50 + ".")  # the first sentence whole
    assert sample_of("가나다 " * 40, 20) is None  # no sentence end: analysed whole
    assert sample_of("가" * 90 + ". 끝.", 20) is None  # the first sentence beyond reach


def test_word_order_gain_only_for_texts_standing():
    """Word salad of nouns fails the function-word rule: its word order is not measured,
    unless every signal is asked for."""
    nouns = (
        "사과 배 포도 자동차 학교 컴퓨터 바다 하늘 연필 책상 의자 창문 나무 구름 강아지 고양이 기차 버스 병원 시장 "
        "우산 신발 모자 시계 전화 가방 거울 냉장고 세탁기 냄비 접시 숟가락 칠판 지우개 공책 달력 사진 편지 우체국 도서관"
    )
    salad = nouns + "."
    stage = QualityStage.from_section({}, "ko")
    fast, full = stage.signals([salad])[0], stage.signals([salad], complete=True)[0]
    assert full["lm_score"] < stage.settings.section["word_order_gate"]
    assert full["word_order_gain"] is not None and fast.get("word_order_gain") is None
    assert stage(table_of([salad])).column("drop_reason").to_pylist() == ["quality:min_function_word_ratio"]


def test_a_sample_that_cannot_clear_would_not_have():
    """can_clear is an upper bound: every sample it turns away (the text then goes whole
    at once) fails clear_pass once analysed, so the skip changes no signal."""
    from curate.stages.quality.morph_sample import can_clear, clear_pass, extend_to_whole
    from curate.stages.quality.signals import word_signals
    from curate.stages.segment import analyze

    stage = QualityStage.from_section({}, "ko")
    rules, n, section = stage._word_rules, stage.settings.morph_sample_chars, stage.settings.section
    sampled = [(t, s) for t in korean_documents() if (s := sample_of(t, n)) is not None]
    turned_away = [(t, s) for t, s in sampled if not can_clear(t, s, rules)]
    assert len(turned_away) >= 10 and len(turned_away) < len(sampled)
    for (text, sample), morphs in zip(turned_away, analyze([s.text for _, s in turned_away], "ko", 1)):
        if extend_to_whole(morphs, text, sample):
            assert not clear_pass(word_signals(text, morphs, "ko", section), rules)
