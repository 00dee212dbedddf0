"""Latin letter soup (keyboard mash, Korean typed with the IME off) inside real text."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from test_quality import table_of

from curate.stages import gibberish
from curate.stages.gibberish import MASH_SCORE, mash_chars, word_score
from curate.stages.quality.stage import QualityStage

DATA = Path(__file__).parent / "data" / "quality"

# NSMC reviews (CC0) as users wrote them: mash, and Korean typed on a QWERTY layout
NSMC_MASH = [
    "재밌게봄alsdkjhaldjfbn",
    "그냥저냥 akdljhaldvbnlk",
    "배신자시x durtlakwdkdiwl",
    "완전재미짱!!! (감동 쩔) 유유  woalttmqslek !!!(rkaehdWjf) dbdb (didgPdud)",
]


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in open(DATA / name, encoding="utf-8")]


@pytest.mark.parametrize(
    "word",
    [
        "Seoul",
        "Hyundai",
        "strengths",
        "Schwarzschild",
        "Nguyen",
        "Llanfair",
        "Fukushima",
        "Gyeongbokgung",
        "Shibuya",
        "développement",
    ],
)
def test_real_words_and_names_are_not_mash(word):
    assert word_score(word) > MASH_SCORE, word


@pytest.mark.parametrize(
    "word", ["asdfghjkl", "jfkdlsajfkdls", "zxcvbnm", "qwrtpsdfg", "dkssudgktpdy", "rkaehdWjf", "gksrnrdj"]
)  # 안녕하세요, 감동쩔, 한국어 typed in QWERTY
def test_mash_and_ime_off_korean_score_low(word):
    assert word_score(word) < MASH_SCORE, word


def test_words_the_model_does_not_judge():
    assert word_score("abc") is None  # too short to tell
    assert word_score("NHK") is None and word_score("KBSMBC") is None  # acronyms
    assert word_score("Straße") is None  # ß is outside the model's letters


def test_one_odd_name_is_not_mash():
    # real words the model scores low (a brand name, a rare spelling) are not mash
    # alone: one of them is below MIN_MASH_CHARS (KLUE's Airbnb review sentences)
    assert word_score("Airbnb") < MASH_SCORE and word_score("rhythm") < MASH_SCORE
    assert mash_chars("Airbnb의 경험으로 볼 때 가장 좋은 곳이라고 생각합니다.") == 0
    assert mash_chars("The rhythm section played on.") == 0
    # a random-looking URL is url_density's business
    assert mash_chars("자세한 내용은 https://qxzkvbnm.example/jfkdlsajfkd 에서 확인하세요.") == 0


def test_nsmc_mash_reviews_counted():
    for review in NSMC_MASH:
        assert mash_chars(review) >= gibberish.MIN_MASH_CHARS, review


def test_clean_text_has_no_mash_share():
    """No clean en/fr sentence, KLUE/news sentence or JSQuAD paragraph shipped with the
    tests reaches the recipes' 0.1 share of characters."""
    texts = [
        r["text"]
        for name in (
            "en-fr-sentences.jsonl",
            "ko-news-sentences.jsonl",
            "ko-klue-wiki-sentences.jsonl",
            "ja-wiki-jsquad.jsonl",
        )
        for r in _rows(name)
    ]
    assert len(texts) > 1000
    worst = max(texts, key=lambda t: mash_chars(t) / max(1, len(re.findall(r"\S", t))))
    assert mash_chars(worst) / len(re.findall(r"\S", worst)) < 0.1, worst


@pytest.mark.parametrize("lang", ["ja", "ko"])
def test_mash_line_between_real_sentences_dropped(lang):
    """A line of Latin mash between two real sentences: no jamo, kana or chatter to
    give it away, and the Japanese or Korean around it reads as clean."""
    name = "ja-wiki-jsquad.jsonl" if lang == "ja" else "ko-news-sentences.jsonl"
    sents = [r["text"] for r in _rows(name)][:40]
    rng = random.Random(0)
    pool = "asdfghjkl" if lang == "ja" else "qwertyuiopasdfghjklzxcvbnm"
    docs, clean = [], []
    for i in range(0, 40, 2):
        mash = " ".join("".join(rng.choice(pool) for _ in range(rng.randint(5, 10))) for _ in range(rng.randint(6, 12)))
        docs.append(f"{sents[i]}\n{mash}\n{sents[i + 1]}")
        clean.append(f"{sents[i]}\n{sents[i + 1]}")
    out = QualityStage.from_section({}, lang)(table_of(docs + clean)).column("drop_reason").to_pylist()
    mashed, kept = out[: len(docs)], out[len(docs) :]
    assert sum(r == "quality:max_latin_mash_ratio" for r in mashed) >= 0.9 * len(docs), mashed
    assert all(r != "quality:max_latin_mash_ratio" for r in kept), kept


def test_build_counts_letter_transitions(tmp_path):
    src = tmp_path / "words.jsonl"
    src.write_text(json.dumps({"text": "Abc été, NHK ab"}) + "\n", encoding="utf-8")
    model = gibberish.build([str(src)], tmp_path / "bigrams.json")
    # abc -> ^a ab bc c$; été -> ^e et te e$; NHK -> ^n nh hk k$; ab -> ^a ab b$
    assert model["words"] == 4
    assert model["counts"]["^"] == {"a": 2, "e": 1, "n": 1}
    assert model["counts"]["a"] == {"b": 2}
    assert json.loads((tmp_path / "bigrams.json").read_text()) == model


def test_fullwidth_mash_from_a_japanese_input_method():
    # typed with the IME in full-width alphabet mode: ｓｄｆｇｈｊ
    assert mash_chars("今日は疲れた ｓｄｆｇｈｊｋ ｊｆｋｄｌｓａ") >= gibberish.MIN_MASH_CHARS
    assert mash_chars("ＮＨＫのニュースでＴｏｋｙｏの天気を見た") == 0
