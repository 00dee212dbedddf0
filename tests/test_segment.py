"""Word segmentation: the fast paths give exactly what the analysers give."""

from __future__ import annotations

import json
from pathlib import Path

from curate.stages.segment import FUNCTION, PUNCT, KoreanSegmenter, analyze, get_segmenter, segmented

DATA = Path(__file__).parent / "data" / "quality"


def _texts(name: str, n: int) -> list[str]:
    return [json.loads(l)["text"] for l in open(DATA / name, encoding="utf-8")][:n]


def test_japanese_fast_path_equals_fugashi_nodes():
    seg = get_segmenter("ja")
    for text in _texts("ja-wiki-jsquad.jsonl", 20):
        nodes = seg.tagger(text)
        m = seg.analyze([text])[0]
        assert m.words == [n.surface for n in nodes]
        pos1 = [n.feature.pos1 for n in nodes]
        assert [c == FUNCTION for c in m.classes] == [p in ("助詞", "助動詞") for p in pos1]
        assert [c == PUNCT for c in m.classes] == [p in ("補助記号", "空白") for p in pos1]
        # phrases regroup the words without losing or adding characters
        assert "".join(m.phrases()) == "".join(w for w, c in zip(m.words, m.classes) if c != PUNCT)


def test_korean_words_are_kiwi_morphemes_and_batch_equals_single():
    texts = _texts("ko-news-sentences.jsonl", 15)
    single = get_segmenter("ko")
    assert single.kiwi.model_type == "cong"
    got = single.analyze(texts)
    for text, m in zip(texts, got):
        assert m.words == [t.form for t in single.kiwi.tokenize(text)]
    # eojeol split into morphemes: more words than spaces give
    assert sum(m.n_words for m in got) > 1.5 * sum(len(t.split()) for t in texts)
    threaded = KoreanSegmenter(workers=2).analyze(texts)
    assert [m.words for m in threaded] == [m.words for m in got]


def test_long_documents_are_analysed_on_a_prefix_and_scaled():
    text = " ".join(_texts("ko-news-sentences.jsonl", 60))
    seg = KoreanSegmenter(max_chars=len(text) // 3)
    part, full = seg.analyze([text])[0], get_segmenter("ko").analyze([text])[0]
    assert part.scale > 2.5
    assert abs(part.n_words - full.n_words) / full.n_words < 0.15


def test_segmented_text_for_fasttext():
    ja = _texts("ja-wiki-jsquad.jsonl", 1)[0]
    out = segmented([ja], "ja")[0]
    assert len(out.split()) > 30 and out.replace(" ", "") == "".join(ja.split())
    assert segmented(["hello   world\nagain"], "en") == ["hello world again"]
    assert analyze(["a b ."], "en")[0].n_words == 2
