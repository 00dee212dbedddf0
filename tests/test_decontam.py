"""Benchmark decontamination on real Korean/Japanese text (samples in tests/data/decontam)."""

import gzip
import html
import json
import random
import unicodedata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import yaml

from curate.dedup.minhash import mix64
from curate.io.schema import SHARD_SCHEMA
from curate.stages.decontam import main_index
from curate.stages.decontam.build import RECIPE_DEFAULTS, build_index
from curate.stages.decontam.hashing import window_hashes
from curate.stages.decontam.index import Index
from curate.stages.decontam.matching import find_matches, reference_matches
from curate.stages.decontam.stage import DecontamStage, decontam_totals
from curate.stages.decontam.units import normalize_units

DATA = Path(__file__).parent / "data" / "decontam"
BENCHMARKS = [DATA / "ko-klue-sentences.jsonl.gz", DATA / "ja-jglue-sentences.jsonl.gz"]


def read(name):
    with gzip.open(DATA / name, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def index():
    return build_index(BENCHMARKS, unit="char")


# ---- the edits a copied benchmark passage goes through on the web

_HALF = {}  # full-width katakana (and voiced ones as base + mark) -> half-width
for cp in range(0xFF61, 0xFFA0):
    _HALF.setdefault(unicodedata.normalize("NFKC", chr(cp)), chr(cp))
for cp in range(0x30A0, 0x3100):
    d = unicodedata.normalize("NFD", chr(cp))
    if len(d) == 2 and d[0] in _HALF and d[1] in "\u3099\u309a":
        _HALF[chr(cp)] = _HALF[d[0]] + ("\uff9e" if d[1] == "\u3099" else "\uff9f")


def to_width_variant(s):
    """ASCII -> full-width, full-width katakana -> half-width."""
    out = []
    for c in s:
        if "!" <= c <= "~":
            out.append(chr(ord(c) + 0xFEE0))
        elif c == " ":
            out.append("\u3000")
        else:
            out.append(_HALF.get(c, c))
    return "".join(out)


def to_spacing_variant(s, rng):
    if rng.random() < 0.5:
        return "".join(s.split())  # spaces removed
    return "".join(c + (" " if rng.random() < 0.3 else "") for c in s)  # spaces added, some doubled


def to_punct_variant(s, rng):
    swap = {"。": ".", "、": ",", ".": "。", ",": "、", "?": "？", "!": "！", '"': "“", "'": "’"}
    out = []
    for c in s:
        if unicodedata.category(c).startswith("P"):
            r = rng.random()
            out.append("" if r < 0.3 else swap.get(c, c) if r < 0.8 else c + c)
        else:
            out.append(c)
            if c == " " and rng.random() < 0.1:
                out.append("- ")
    return "".join(out)


def with_typo(s, rng):
    """One letter replaced by another (not a normalization variant: needs max_gap)."""
    letters = [i for i, c in enumerate(s) if c.isalpha()]
    i = letters[len(letters) // 2 + rng.randrange(-3, 4)]
    return s[:i] + ("의" if s[i] != "의" else "가") + s[i + 1 :]


_REFS = ["&quot;", "&#39;", "&#x27;", "&amp;quot;", "&ldquo;", "&lt;", "&nbsp;"]


def to_html_variant(s, rng):
    """As an HTML extractor may leave it: & " ' escaped, a phrase a third of the way in
    wrapped in character references, a space written &nbsp;."""
    a, b = len(s) // 3, 2 * len(s) // 3
    out = html.escape(s[:a]) + rng.choice(_REFS) + html.escape(s[a:b]) + rng.choice(_REFS) + html.escape(s[b:])
    return out.replace(" ", "&nbsp;", 1)


def to_invisible_variant(s, rng):
    """Decomposed (NFD), with zero-width spaces, soft hyphens and joiners between code points:
    between a Hangul lead and vowel jamo, or a kana and its voicing mark."""
    return "".join(
        c + (rng.choice("\u200b\u00ad\u200d\u2060\ufeff") if rng.random() < 0.2 else "")
        for c in unicodedata.normalize("NFD", s)
    )


def partial(s, rng, share=0.8):
    """A contiguous ``share`` of the passage: the rest was not copied."""
    k = round(len(s) * share)
    at = rng.randrange(len(s) - k + 1)
    return s[at : at + k]


def variants(s, rng):
    return {
        "verbatim": s,
        "spacing": to_spacing_variant(s, rng),
        "punct": to_punct_variant(s, rng),
        "width": to_width_variant(s),
        "html": to_html_variant(s, rng),
        "invisible": to_invisible_variant(s, rng),
        "partial": partial(s, rng),
        "all": to_width_variant(to_punct_variant(to_spacing_variant(s, rng), rng)),
        "all+html": to_invisible_variant(to_html_variant(to_width_variant(to_spacing_variant(s, rng)), rng), rng),
    }


def passages():
    """Benchmark passages of 50+ chars: single KLUE sentences, JGLUE items (pairs) and long sentences."""
    ko = [r["text"] for r in read("ko-klue-sentences.jsonl.gz") if len(r["text"]) >= 50]
    items = {}
    for r in read("ja-jglue-sentences.jsonl.gz"):
        items.setdefault(r["id"].rsplit("-", 1)[0], []).append(r["text"])
    ja = [t for ts in items.values() for t in (ts + ["".join(ts)]) if len(t) >= 50]
    return ko, ja


def insert(host, passage, rng):
    at = rng.randrange(len(host) + 1)  # anywhere, even inside a word
    return host[:at] + passage + host[at:]


def test_recall_on_edited_passages(index):
    rng = random.Random(0)
    ko, ja = passages()
    assert len(ko) >= 500 and len(ja) >= 150
    hosts = {
        "ko": [r["text"] for r in read("ko-news-paragraphs.jsonl.gz")],
        "ja": [r["text"] for r in read("ja-wiki-paragraphs.jsonl.gz")],
    }
    docs, kinds = [], []
    for lang, ps in (("ko", ko), ("ja", ja)):
        for p in ps:
            for kind, v in variants(p, rng).items():
                docs.append(insert(rng.choice(hosts[lang]), v, rng))
                kinds.append((lang, kind))
    flagged = {m.doc for m in find_matches(docs, index)}
    for key in sorted(set(kinds)):
        idx = [i for i, k in enumerate(kinds) if k == key]
        recall = sum(i in flagged for i in idx) / len(idx)
        assert recall >= 0.99, (key, recall)


def test_partial_copy_of_two_sentences_from_different_items(index):
    # 80% of two benchmark sentences that were not next to each other in the file: no
    # n-gram spans the join, so each sentence's piece must yield n-grams on its own; a
    # piece of ~10 units does only when n is small enough.
    rng = random.Random(7)
    ko = [r["text"] for r in read("ko-klue-sentences.jsonl.gz") if 20 <= len(r["text"]) < 50]
    ja = [r["text"] for r in read("ja-jglue-sentences.jsonl.gz") if len(r["text"]) >= 20]
    hosts = {
        "ko": [r["text"] for r in read("ko-news-paragraphs.jsonl.gz")],
        "ja": [r["text"] for r in read("ja-wiki-paragraphs.jsonl.gz")],
    }
    for lang, sents, joiner in (("ko", ko, " "), ("ja", ja, "")):
        pairs = [joiner.join(rng.sample(sents, 2)) for _ in range(800)]
        docs = [insert(rng.choice(hosts[lang]), partial(p, rng), rng) for p in pairs if len(p) >= 50][:300]
        flagged = {m.doc for m in find_matches(docs, index)}
        assert len(docs) >= 200 and len(flagged) / len(docs) >= 0.99, (lang, len(flagged) / len(docs))


def test_one_changed_letter_inside_a_passage_is_bridged(index):
    rng = random.Random(5)
    ko, ja = passages()
    hosts = [r["text"] for r in read("ko-news-paragraphs.jsonl.gz")]
    docs = [insert(rng.choice(hosts), with_typo(p, rng), rng) for p in ko[:300] + ja[:100]]
    flagged = {m.doc for m in find_matches(docs, index)}
    strict = Index(index.unit, index.n, index.min_match, 0, index.sets, index.kinds, index.meta)
    flagged_strict = {m.doc for m in find_matches(docs, strict)}
    assert len(flagged) / len(docs) >= 0.97 and len(flagged) > len(flagged_strict)


def test_unrelated_paragraphs_are_not_flagged(index):
    docs = [
        r["text"]
        for name in ("ko-news-paragraphs.jsonl.gz", "ja-wiki-paragraphs.jsonl.gz", "ko-nsmc-review-groups.jsonl.gz")
        for r in read(name)
    ]
    assert len(docs) >= 2000
    flagged = {m.doc for m in find_matches(docs, index)}
    assert len(flagged) / len(docs) <= 0.001, [docs[i][:80] for i in sorted(flagged)]


def test_short_shared_phrase_does_not_flag(index):
    # A 25-char stretch of a benchmark sentence (n-grams match, but the run is < min_match).
    s = next(r["text"] for r in read("ko-klue-sentences.jsonl.gz") if len(r["text"]) >= 60)
    part = s[:25]
    assert find_matches(["오늘의 기사입니다. " + part + " 그리고 다른 이야기."], index) == []
    assert find_matches(["오늘의 기사입니다. " + s + " 그리고 다른 이야기."], index)


# ---- normalization and hashing


def test_normalization_makes_variants_equal():
    nfd = unicodedata.normalize("NFD", "한국어")
    pairs = [
        ("ｶﾞｿﾘﾝ　ＡＢＣ１２３", "ガソリン abc123"),
        ("수 있다, 그리고!", "수있다그리고"),
        ("㎏", "kg"),
        (unicodedata.normalize("NFD", "한국어 가나다"), "한국어가나다"),
        # character references are read as the character they stand for
        ("caf&eacute; &quot;한국&quot;&nbsp;&#39;어&#x27; &amp;amp; &amp;quot;x&amp;quot;", "café 한국 어 x"),
        # invisible format chars vanish, even between jamo or kana and voicing mark
        (nfd[0] + "\u200b" + nfd[1:4] + "\u00ad" + nfd[4:] + "\u200d", "한국어"),
        ("ｶ\u200bﾞｿ\u2060ﾘﾝ か\ufeff\u3099", "ガソリン が"),
        ("&qu\u200bot;가", "가"),
        # Hangul fillers standing where the spaces were (blank on screen, letters to Unicode)
        ("모든\u3164응모자가\uffa0다\u3164당첨되었다", "모든 응모자가 다 당첨되었다"),
        # unknown or unterminated names are text, not references (a bare &copy is a URL parameter)
        ("AT&T &copy x&foo; y", "AT T copy x foo y"),
    ]
    for a, b in pairs:
        ua, ub = normalize_units([a], "char"), normalize_units([b], "char")
        assert ua.values.tolist() == ub.values.tolist(), (a, b)


def test_unit_spans_point_into_original_text():
    texts = ["ｶﾞｿﾘﾝ、ＡＢＣ", unicodedata.normalize("NFD", "한 국"), "Hello, World"]
    u = normalize_units(texts, "char")
    got = ["".join(texts[d][s:e] for d, s, e in zip(u.doc, u.start, u.end) if d == i) for i in range(3)]
    assert got == ["ｶﾞｿﾘﾝＡＢＣ", unicodedata.normalize("NFD", "한국"), "HelloWorld"]
    refs = ["x&eacute;y&#44032;&quot;", unicodedata.normalize("NFD", "한") + "\u200b" + "&amp;&#x41;"]
    u = normalize_units(refs, "char")
    assert [refs[d][s:e] for d, s, e in zip(u.doc, u.start, u.end)] == [
        "x",
        "&eacute;",
        "y",
        "&#44032;",
        refs[1][:3],
        "&#x41;",
    ]
    assert "".join(chr(v) for v in u.values.tolist()) == "xéy가한a"
    w = normalize_units(["Hello, wide-world ㎏ end"], "word")
    assert [texts_ for texts_ in (["Hello, wide-world ㎏ end"][0][s:e] for s, e in zip(w.start, w.end))] == [
        "Hello",
        "wide",
        "world",
        "㎏",
        "end",
    ]


def test_window_hashes_equal_scalar_polynomial():
    rng = np.random.default_rng(1)
    v = rng.integers(0, 0x30000, 300).astype(np.uint64)
    for n in (1, 7, 13, 20, 50):
        ref = []
        for i in range(len(v) - n + 1):
            x = 0
            for c in v[i : i + n].tolist():
                x = (x * 0x100000001B3 + c) % 2**64
            ref.append(x)
        assert window_hashes(v, n).tolist() == mix64(np.array(ref, np.uint64)).tolist()


def test_word_units_for_other_languages(tmp_path):
    bench = tmp_path / "squad-mini.jsonl"
    q = "The supercomputer at Lawrence Livermore National Laboratory mainly will be used to simulate weapons."
    bench.write_text(json.dumps({"id": "q1", "question": q}) + "\n", encoding="utf-8")
    idx = build_index([bench], unit="word")
    assert idx.unit == "word" and idx.n == 13
    doc = "Officials said: THE SUPERCOMPUTER at Lawrence-Livermore National Laboratory, mainly, will be used to simulate weapons!"
    assert [m.benchmark for m in find_matches([doc, "An unrelated sentence about weather."], idx)] == ["squad-mini"]
    # 12 shared words are below the 13-gram threshold
    assert (
        find_matches(["at Lawrence Livermore National Laboratory mainly will be used to simulate weapons"], idx) == []
    )


# ---- the stage


def _table(texts, drop=None):
    n = len(texts)
    cols = {f.name: pa.nulls(n, f.type) for f in SHARD_SCHEMA}
    cols["id"] = pa.array([f"d{i}" for i in range(n)])
    cols["text"] = pa.array(texts)
    cols["lang"] = pa.array(["ko"] * n)
    cols["drop_reason"] = pa.array(drop or [None] * n, pa.string())
    return pa.table(cols, schema=SHARD_SCHEMA)


def _stage_inputs():
    news = [r["text"] for r in read("ko-news-paragraphs.jsonl.gz")[:6]]
    klue = next(r["text"] for r in read("ko-klue-sentences.jsonl.gz") if len(r["text"]) >= 60)
    long_host = " ".join(news[2:5])
    texts = [
        news[0],
        news[1] + " " + klue,
        long_host[:300] + " " + to_width_variant(klue) + " " + long_host[300:],
        klue,
    ]
    return texts, klue, long_host


@pytest.mark.parametrize("action", ["drop", "cut"])
def test_stage_actions(index, action):
    texts, klue, long_host = _stage_inputs()
    table = _table(texts + [klue], drop=[None] * 4 + ["quality:short"])
    stage = DecontamStage(
        DecontamStage.Settings.from_section({"action": action, "margin_chars": 20, "min_keep_chars": 200}, "ko"),
        index=index,
    )
    out = stage(table)
    assert out.num_rows == table.num_rows and out.column("id").to_pylist() == table.column("id").to_pylist()
    reasons = out.column("drop_reason").to_pylist()
    cont = out.column("contamination").to_pylist()
    assert reasons[0] is None and cont[0] is None
    assert reasons[4] == "quality:short" and cont[4] is None  # already dropped: untouched
    for i in (1, 2, 3):
        assert cont[i][0]["benchmark"] == "ko-klue-sentences"
        assert cont[i][0]["matched_chars"] >= len("".join(klue.split())) - 2
        assert cont[i][0]["ngrams"] > 0
    out_texts = out.column("text").to_pylist()
    if action == "drop":
        assert reasons[1:4] == ["decontam:ko-klue-sentences"] * 3
        assert out_texts == texts + [klue]
    else:
        assert reasons[1] == reasons[3] == "decontam:ko-klue-sentences"  # too little left after the cut
        assert reasons[2] is None
        assert to_width_variant(klue) not in out_texts[2]
        assert long_host[:250] in out_texts[2] and long_host[350:] in out_texts[2]
        assert find_matches([out_texts[2]], index) == []
    totals = decontam_totals(out)
    assert totals["ko-klue-sentences"]["docs"] == 3
    assert totals["ko-klue-sentences"]["chars"] == sum(cont[i][0]["matched_chars"] for i in (1, 2, 3))


def test_make_stage_reads_recipe_defaults(tmp_path):
    from curate.recipe import RECIPE_DIR, load_recipe
    from curate.stages.registry import build_stage

    recipe = tmp_path / "ko.yaml"
    recipe.write_text(
        f"lang: ko\ndecontam: {{include: {RECIPE_DIR / 'decontam' / 'defaults.yaml'}, action: cut}}\n", encoding="utf-8"
    )
    cut = build_stage("decontam", load_recipe("ko", str(recipe)), "ko")
    defaults = yaml.safe_load(RECIPE_DEFAULTS.read_text(encoding="utf-8"))
    assert cut.settings.action == "cut" and cut.settings.margin_chars == 200
    assert cut.settings.section["char"]["min_match"] == defaults["char"]["min_match"]
    stage = DecontamStage.from_section({"benchmarks": [str(BENCHMARKS[0])]}, "ko")
    assert stage.name == "decontam" and stage.settings.action == "drop"
    assert stage.settings.section["char"]["n"] == defaults["char"]["n"]
    out = stage(_table(_stage_inputs()[0]))
    assert out.column("drop_reason").to_pylist()[0] is None
    assert out.column("drop_reason").to_pylist()[3] == "decontam:ko-klue-sentences"


def test_index_save_load_round_trip(index, tmp_path):
    path = tmp_path / "bench.npz"
    index.save(path)
    loaded = Index.load(path)
    assert (loaded.unit, loaded.n, loaded.min_match, loaded.max_gap) == (
        index.unit,
        index.n,
        index.min_match,
        index.max_gap,
    )
    assert loaded.names == index.names == ["ko-klue-sentences", "ja-jglue-sentences"]
    for name in index.names:
        assert np.array_equal(loaded.sets[name], index.sets[name])
        assert loaded.meta[name]["ngrams"] == len(index.sets[name]) > 1000
    docs = _stage_inputs()[0]
    assert [(m.doc, m.start, m.end) for m in find_matches(docs, loaded)] == [
        (m.doc, m.start, m.end) for m in find_matches(docs, index)
    ]
    from_file = DecontamStage.from_section({"index": str(path)}, "ko")(_table(docs))
    assert from_file.column("drop_reason").to_pylist() == [None] + ["decontam:ko-klue-sentences"] * 3


def test_benchmark_text_is_normalized_like_documents(tmp_path):
    # A benchmark file holding references and invisible chars indexes what a reader sees.
    rows = [r["text"] for r in read("ko-klue-sentences.jsonl.gz") if len(r["text"]) >= 50][:20]
    rng = random.Random(2)
    bench = tmp_path / "escaped.jsonl"
    bench.write_text(
        "".join(
            json.dumps({"text": to_html_variant(to_invisible_variant(t, rng), rng)}, ensure_ascii=False) + "\n"
            for t in rows
        ),
        encoding="utf-8",
    )
    idx = build_index([bench], unit="char")
    host = read("ko-news-paragraphs.jsonl.gz")[0]["text"]
    assert {m.doc for m in find_matches([host + " " + t for t in rows] + [host], idx)} == set(range(len(rows)))


def test_cli_builds_index_and_bloom_agrees(tmp_path, index):
    out = tmp_path / "idx.npz"
    assert main_index([str(BENCHMARKS[0]), f"jglue={BENCHMARKS[1]}", "--lang", "ja", "--out", str(out)]) == 0
    loaded = Index.load(out)
    assert loaded.names == ["ko-klue-sentences", "jglue"] and loaded.unit == "char"
    bloom = build_index(BENCHMARKS, {"bloom_above_ngrams": 0}, unit="char")
    assert set(bloom.kinds.values()) == {"bloom"}
    texts = _stage_inputs()[0] + [r["text"] for r in read("ja-wiki-paragraphs.jsonl.gz")[:200]]
    assert [(m.doc, m.benchmark) for m in find_matches(texts, bloom)] == [
        (m.doc, m.benchmark) for m in find_matches(texts, index)
    ]


def test_vectorized_path_equals_plain_python_reference(index):
    ko, ja = passages()
    rng = random.Random(3)
    hosts = [r["text"] for r in read("ko-news-paragraphs.jsonl.gz")[:80]] + [
        r["text"] for r in read("ja-wiki-paragraphs.jsonl.gz")[:80]
    ]
    kinds = ["spacing", "punct", "width", "all", "verbatim", "html", "invisible", "all+html", "partial", "verbatim"]
    docs = hosts[:60] + [
        insert(h, variants(p, rng)[k], rng) for h, p, k in zip(hosts[60:], ko[:50] + ja[:50], kinds * 10)
    ]
    docs += [insert(h, with_typo(p, rng), rng) for h, p in zip(hosts[:60], ko[50:80] + ja[50:80])]
    benches = {b.name.split(".")[0]: [s for r in read(b.name) for s in [r["text"]]] for b in BENCHMARKS}
    ref = reference_matches(docs, benches, index.n, index.min_match, index.max_gap)
    got = {}
    units = normalize_units(docs, "char")
    for m in find_matches(docs, index):
        inside = (units.doc == m.doc) & (units.start >= m.start) & (units.end <= m.end)
        got[(m.doc, m.benchmark)] = got.get((m.doc, m.benchmark), 0) + int(inside.sum())
    assert len(ref) >= 140 and got == ref


def test_corpus_with_benchmarks_flag(tmp_path):
    """`curate corpus --benchmarks FILE` turns the stage on and drops the copied documents."""
    import gzip
    import json

    import ray

    from pipelines.corpus import run_corpus

    bench = tmp_path / "bench.jsonl"
    sentence = "흡연자분들은 발코니가 있는 방이면 발코니에서 흡연이 가능하며 실내에서는 흡연이 금지되어 있습니다."
    bench.write_text(json.dumps({"premise": sentence}, ensure_ascii=False) + "\n", encoding="utf-8")
    corpus = tmp_path / "in.jsonl.gz"
    docs = [
        {"text": "숙소 안내입니다. " + sentence + " 체크인은 오후 세 시부터입니다."},
        {"text": "오늘 서울의 날씨는 맑고 기온은 어제보다 조금 높겠습니다. 주말에는 비 소식이 있습니다."},
    ]
    with gzip.open(corpus, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        manifest = run_corpus(
            [str(corpus)],
            str(tmp_path / "out"),
            "ko",
            stages=["normalize", "langid"],
            benchmarks=[str(bench)],
            progress=False,
        )
    finally:
        ray.shutdown()
    assert manifest["stages"][-1] == "decontam"
    assert manifest["counts"]["drop_reasons"] == {"decontam:bench": 1}
    assert manifest["counts"]["kept"] == 1
