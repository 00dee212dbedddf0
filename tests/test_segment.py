"""Word segmentation: the fast paths give exactly what the analysers give."""

from __future__ import annotations

import json
from pathlib import Path

from curate.stages.segment import CONTENT, FUNCTION, PUNCT, KoreanSegmenter, analyze, get_segmenter, segmented

DATA = Path(__file__).parent / "data" / "quality"


def _texts(name: str, n: int) -> list[str]:
    return [json.loads(l)["text"] for l in open(DATA / name, encoding="utf-8")][:n]


def _ja_texts() -> list[str]:
    """JSQuAD paragraphs, the judged documents (captions without 。, lists, mash) and
    texts with the whitespace MeCab skips between words."""
    judged = [json.loads(l)["text"] for l in open(DATA.parent / "quality_labels_ja.jsonl", encoding="utf-8")]
    spaced = [" 東京に  行きました。\n\n走る\t見る", "\u3000雨が降る\u3000\nそうですね ", "ああ\r\nいい", "", " \n"]
    # MeCab stops at a NUL: the words no longer join up to the text
    spaced += ["走る。見る\x00そして帰る。", "雨が降る\v\n 晴れた\x00"]
    return _texts("ja-wiki-jsquad.jsonl", 40) + judged + spaced


def _reference_morphs(nodes) -> tuple[list[int], list[int]]:
    """Classes and sentence ends straight from fugashi's UniDic nodes and features."""
    classes, spans, pos = [], [], 0
    for n in nodes:
        pos1 = n.feature.pos1
        classes.append(PUNCT if pos1 in ("補助記号", "空白") else FUNCTION if pos1 in ("助詞", "助動詞") else CONTENT)
        start = pos + len(n.white_space)
        pos = start + len(n.surface)
        spans.append((start, pos))
    ends = []
    for j, n in enumerate(nodes):
        f = n.feature
        final = (f.pos1, f.pos2) == ("助詞", "終助詞") or (
            f.pos1 in ("動詞", "形容詞", "助動詞") and (f.cForm or "").startswith(("終止形", "連体形"))
        )
        last = j + 1 == len(nodes)
        if final and (last or classes[j + 1] == PUNCT or "\n" in nodes[j + 1].white_space):
            ends.append(spans[j][1])
    return classes, ends


def test_japanese_fast_path_equals_fugashi_nodes():
    """Surfaces and right context ids (the fast path) give the words, classes and
    grammar sentence ends that fugashi's full UniDic features give."""
    import fugashi

    seg, reference = get_segmenter("ja"), fugashi.Tagger()
    texts = _ja_texts()
    got = seg.analyze(texts)
    assert sum(len(m.sentence_ends) for m in got) > 200  # the comparison covers grammar ends
    for text, m in zip(texts, got):
        nodes = reference(text)
        assert m.words == [n.surface for n in nodes], text
        assert (m.classes, m.sentence_ends) == _reference_morphs(nodes), text
        assert m.phrases() == _reference_phrases(m.words, m.classes), text


def _reference_phrases(words: list[str], classes: list[int]) -> list[str]:
    """Phrases word by word: a content word after a function word starts one,
    punctuation ends one."""
    out, cur, prev = [], "", PUNCT
    for w, c in zip(words, classes):
        if c == PUNCT or (c == CONTENT and prev == FUNCTION):
            out.append(cur)
            cur = ""
        if c != PUNCT:
            cur += w
        prev = c
    return [p for p in out + [cur] if p]


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
