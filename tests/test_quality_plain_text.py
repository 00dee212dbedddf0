"""Real text the Korean quality rules once dropped for what it is not: a rare-but-valid
syllable taken for mojibake, a one-line review taken for a page of short lines, news
that mentions loans taken for loan spam; and the damage those rules are for, still
dropped. Samples: tests/data/quality (make_samples.py, NOTICE)."""

from __future__ import annotations

import pytest
from test_quality import _rows, good_docs, table_of

from curate.stages.quality.stage import QualityStage


@pytest.fixture(scope="module")
def ko():
    return QualityStage.from_section({}, "ko")


def _informal(kind: str) -> list[str]:
    return [r["text"] for r in _rows("ko-nsmc-informal.jsonl") if r["kind"] == kind]


def _reasons(stage, texts: list[str]) -> list:
    return stage(table_of(texts)).column("drop_reason").to_pylist()


# ---------------------------------------------------------------------------- mojibake
def test_one_rare_syllable_is_no_mojibake(ko):
    reviews = _informal("rare_syllable")  # NSMC reviews with one syllable outside KS X 1001
    assert len(reviews) == 60
    assert [s["mojibake_ratio"] for s in ko.signals(reviews)] == [0.0] * len(reviews)
    assert "quality:max_mojibake_ratio" not in _reasons(ko, reviews)


@pytest.mark.parametrize("codec", ["cp949", "cp1252", "latin-1", "shift_jis"])
def test_short_reviews_read_with_the_wrong_codec_are_mojibake(ko, codec):
    # however short: a one-line review is garbled all the same
    reviews = [t for t in _informal("rare_syllable") + _informal("one_line") if len(t.split()) >= 2]
    garbled = [t.encode("utf-8").decode(codec, errors="replace") for t in reviews]
    limit = ko.settings.section["max_mojibake_ratio"]
    ratios = [s["mojibake_ratio"] for s in ko.signals(garbled)]
    assert sum(r > limit for r in ratios) >= 0.95 * len(garbled), sorted(ratios)[:10]


def test_replacement_characters_saved_as_cp949_are_mojibake(ko):
    # U+FFFD written out as UTF-8 and read back as cp949 is the familiar 占쏙옙
    review = _informal("one_line")[0]
    lost = " ".join(w if i % 2 else "占쏙옙占쏙옙" for i, w in enumerate(review.split()))
    (s,) = ko.signals([lost])
    assert s["mojibake_ratio"] > ko.settings.section["max_mojibake_ratio"]
    assert _reasons(ko, [lost]) == ["quality:max_mojibake_ratio"]


# ---------------------------------------------------------------------------- short lines
def test_a_one_line_review_is_no_page_of_short_lines(ko):
    reviews = _informal("one_line")  # colloquial eojeol that mostly end without a particle
    assert len(reviews) == 60
    assert all(s["short_line_ratio"] <= 1 / 3 for s in ko.signals(reviews))
    assert "quality:max_short_line_ratio" not in _reasons(ko, reviews)


# ---------------------------------------------------------------------------- spam
def _phrase_reasons(stage, texts: list[str]) -> list:
    return [r for r in _reasons(stage, texts) if r and "flagged" in r]


def test_news_and_policy_text_on_loans_is_not_spam(ko):
    rows = _rows("ko-plain-topic-words.jsonl")  # every news and KLUE sentence with 대출, 성인...
    texts = [r["text"] for r in rows]
    policy = [r["text"] for r in rows if r["source"].startswith("policy") and "대출" in r["text"]]
    assert len(policy) >= 3
    texts += [" ".join(policy)]  # the policy sentences as one paragraph: 대출 many times over
    assert _phrase_reasons(ko, texts) == []


LOAN_ADS = [
    "직장인대출 주부대출 사업자대출 당일 승인 무방문 무서류 010-2345-6789 카톡 문의",
    "급전 필요하신 분 대출 당일 승인 <|tel|> 신용무관 누구나 대출 가능",
    "햇살론 대출 즉시 승인 1588-1234 대출 문의 환영 대출 상담 24시간",
]


@pytest.mark.parametrize("ad", LOAN_ADS)
def test_loan_ads_are_spam(ko, ad):
    news = good_docs("ko")[:10]
    pages = [ad, " ".join([ad] * 3), *[f"{d}\n{ad}" for d in news]]  # alone, repeated, below an article
    reasons = _reasons(ko, pages)
    assert all(reasons), reasons
    assert reasons[0] == "quality:max_flagged_word_ratio"  # the ad alone: its phrases, not its shape
