"""Boilerplate lines: keys, counting by first-pass cluster, stripping, and the two-pass dedup."""

import gzip
import json

import numpy as np
import pyarrow as pa
import pytest
from chrome_pages import DATA, pages_in_chrome, short_sentences

from curate.dedup.boilerplate import (
    EDGE_LINES,
    boilerplate_lines,
    cluster_labels,
    line_hash,
    line_hash_array,
    line_hashes,
    rows_with,
    strip_lines,
)
from curate.dedup.line_keys import LineHashes, line_key
from curate.dedup.near import cluster, dedup_texts
from curate.dedup.settings import settings
from curate.dedup.signatures import keys_for_texts


def test_line_key_folds_digits_case_width_and_punctuation():
    assert line_key("最終更新 2021年8月12日 (日) 05:33") == line_key("最終更新 2017年２月26日（日）10:50")
    assert line_key("Copyright ⓒ All rights reserved.") == line_key("COPYRIGHT ⓒ all rights reserved")
    assert line_key("좋아요 12 · 댓글 3") != line_key("좋아요 · 공유하기")
    assert line_key(" · — ") == ""


def test_line_hashes_skip_one_line_texts_and_keep_the_edges():
    assert line_hashes("한 줄짜리 문서입니다.") == []
    assert line_hashes("같은 줄\n같은 줄.") == []  # one distinct line
    two = line_hashes("본문 첫 줄입니다.\n이 기사를 공유합니다")
    assert len(two) == 2 and two == sorted(two)
    long = "\n".join(f"{i}번째 줄: " + "가나다라마바사"[i % 7] * 3 for i in range(200))
    assert len(line_hashes(long)) <= 2 * EDGE_LINES


def test_strip_lines_keeps_content_and_the_rarest_line_of_an_all_chrome_page():
    page = "ホーム > ニュース > 社会\n赤信号で車が止まっています。\nこの記事をシェアする"
    counts = {line_hash("ホーム > ニュース > 社会"): 40, line_hash("この記事をシェアする"): 40}
    assert strip_lines(page, counts) == "赤信号で車が止まっています。"
    assert strip_lines("赤信号で車が止まっています。\n別の行です。", counts) is None  # nothing to strip
    # a short page copied to several sites: its own line is "frequent" too, but rarer than the chrome
    content = {line_hash("赤信号で車が止まっています。"): 6}
    assert strip_lines(page, {**counts, **content}) == "赤信号で車が止まっています。"
    same = {line_hash(line): 40 for line in page.split("\n")}
    assert strip_lines(page, same) is None  # all chrome, nothing rarer: the whole page stands


def test_top_lines_name_the_most_widespread_chrome_with_a_real_text():
    from curate.dedup.boilerplate import top_lines

    pages = [
        "좋아요 12 · 댓글 3 · 공유하기\n본문 하나입니다.",
        "관련기사 더보기\n본문 둘입니다.\n좋아요 7 · 댓글 0 · 공유하기",
    ]
    boiler = (np.array(sorted([line_hash("좋아요 1 · 댓글 1 · 공유하기"), line_hash("관련기사 더보기")]), np.uint64),)
    counts = {line_hash("좋아요 1 · 댓글 1 · 공유하기"): 40, line_hash("관련기사 더보기"): 9}
    boiler += (np.array([counts[h] for h in boiler[0].tolist()], np.int64),)
    assert top_lines(pages, boiler) == [
        {"line": "좋아요 12 · 댓글 3 · 공유하기", "clusters": 40},
        {"line": "관련기사 더보기", "clusters": 9},
    ]
    assert top_lines(pages, boiler, limit=1) == [{"line": "좋아요 12 · 댓글 3 · 공유하기", "clusters": 40}]


def test_lines_are_counted_per_first_pass_cluster_not_per_document():
    article = "서울시는 올해 공공자전거 대여소를 200곳 늘린다고 밝혔다.\n시민 의견은 다음 달까지 받는다."
    texts = [article] * 30 + [
        f"{s}\n관련기사 더보기" for s in ("가 문서입니다", "나 문서입니다", "다 문서입니다", "라 문서입니다")
    ]
    rows = np.arange(len(texts))
    members = pa.table({"row": pa.array(rows[:30], pa.int64()), "dup_cluster": pa.array(["d0"] * 30)})
    labels = cluster_labels(rows, members)
    assert len(set(labels[:30])) == 1 and len(set(labels)) == 5
    lists = line_hash_array(texts)
    hashes, counts = boilerplate_lines(lists, labels, 4)
    assert hashes.tolist() == [line_hash("관련기사 더보기")]  # only the chrome line
    assert counts.tolist() == [4]
    assert rows_with(lists, hashes).tolist() == [30, 31, 32, 33]
    assert (
        len(boilerplate_lines(lists, rows.astype(np.int64), 4)[0]) == 3
    )  # per document, the article's lines would count


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_short_pages_in_site_chrome(lang):
    """Short real sentences, each once bare and once inside 1-3 lines of site chrome, plus
    other short sentences inside the same chrome. The chrome is most of each page, so one
    pass misses the copies and links unrelated pages of one site; the second pass must
    find >= 98% of the copies and link no two different sentences."""
    texts, family = pages_in_chrome(lang)
    assert len(set(family)) >= 80
    ids = [str(i) for i in range(len(texts))]

    def score(result):
        cluster_of = {r["row"]: r["dup_cluster"] for r in result.to_pylist()}
        bare = {f: r for r, f in enumerate(family) if "\n" not in texts[r]}
        found = [
            cluster_of.get(r) is not None and cluster_of.get(bare[f]) == cluster_of[r]
            for r, f in enumerate(family)
            if "\n" in texts[r] and f in bare
        ]
        members: dict = {}
        for row, c in cluster_of.items():
            members.setdefault(c, set()).add(family[row])
        return float(np.mean(found)), sum(len(v) > 1 for v in members.values())

    no_core = settings({"core_links": False})  # body links alone find most copies; this is about the second pass
    one_pass = score(cluster(keys_for_texts(texts, ids, no_core, lang), no_core))
    two_pass = score(dedup_texts(texts, ids, settings(), lang))
    assert one_pass[0] < 0.5  # the case the second pass is for
    assert two_pass[0] >= 0.98, (one_pass, two_pass)
    assert two_pass[1] == 0, two_pass


def test_second_pass_off_is_the_first_pass():
    texts = short_sentences("ko")[:40]
    texts = texts + [f"{t}\n관련기사 더보기\n이 기사를 공유합니다" for t in texts]
    ids = [str(i) for i in range(len(texts))]
    off = settings({"boilerplate_clusters": 0})
    assert (
        dedup_texts(texts, ids, off, "ko").to_pylist()
        == cluster(keys_for_texts(texts, ids, off, "ko"), off).to_pylist()
    )
    assert dedup_texts(texts, ids, settings(), "ko").num_rows == 80


@pytest.mark.parametrize("max_bucket", [16, 2])
def test_one_process_second_pass_equals_a_full_second_clustering(max_bucket):
    """The second pass on one process reuses the first pass's pairs and re-pairs only the
    buckets a re-signed document leaves or joins; it must give what a full clustering of
    the re-signed keys gives (max_bucket 2: touched buckets are large, the fallback runs)."""
    from curate.dedup.near import cluster_without_boilerplate
    from curate.dedup.signatures import stripped_keys

    texts, _ = pages_in_chrome("ko")
    with gzip.open(DATA / "eval-ko.jsonl.gz", "rt", encoding="utf-8") as f:
        texts += [json.loads(line)["text"] for line in f][:400]  # paragraph families with edits
    ids = [str(i) for i in range(len(texts))]
    cfg = settings({"max_bucket_all_pairs": max_bucket})
    keys = keys_for_texts(texts, ids, cfg, "ko")

    def resign(rows, boiler):
        return stripped_keys([texts[r] for r in rows], rows, boiler, cfg, "ko")

    reused = cluster_without_boilerplate(keys, cfg, resign)
    full = cluster_without_boilerplate(keys, cfg, resign, cluster_fn=lambda k, c: cluster(k, c))
    assert reused.num_rows > 100 and reused.to_pylist() == full.to_pylist()


def test_edge_line_weight_leaves_out_words_with_links_and_addresses():
    # letters of the words that hold no "://", "www." or "@"; unspaced Japanese is one word
    from curate.dedup.line_keys import _weight

    assert _weight("会社概要はこちら https://example.co.jp/about 연락처 a@b.kr") == len("会社概要はこちら") + len(
        "연락처"
    )
    assert _weight("お問い合わせ:info@example.jp") == 0
    assert _weight("www.site.kr\u3000오늘의 뉴스") == len("오늘의뉴스")
    assert _weight("2021年8月12日 05:33") == len("年月日")
    long = "あ" * 5000 + "http://x" + "い" * 5000  # one word: all of it is the link
    assert _weight(long + " 次へ") == 2


def _real_pages() -> list[str]:
    """Real multi-line texts: the bundled samples' documents, chrome pages and their lines joined."""
    texts = []
    for lang in ("ko", "ja"):
        with gzip.open(DATA.parents[2] / "data" / "sample" / f"{lang}.jsonl.gz", "rt", encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f]
        texts += pages_in_chrome(lang)[0]
    texts += ["\n".join(texts[i : i + 70]) for i in range(0, 700, 70)]  # pages over 2 x EDGE_LINES lines
    return texts


def test_line_keys_of_a_whole_text_are_each_lines_key():
    from curate.dedup.line_keys import line_keys

    texts = _real_pages() + [
        "Ａ１\n\u0301é\n_x_\n\n한\u1161\nᄀ\nᅡ가\n",  # a mark or a jamo at a line's start, underscores, empty lines
        "ﬁ\u2028ß\r\nİ\u0085Ⅻ\n①②\n",
    ]
    assert sum("\n" in t for t in texts) > 100
    for text in texts:
        assert line_keys(text) == [line_key(line) for line in text.split("\n")]


def test_code_point_tables_are_the_scalar_predicates_over_all_of_unicode():
    from curate.dedup.line_keys import _tables

    kept, decimal, letter = _tables()
    chars = [chr(i) for i in range(0x110000)]
    assert kept.tolist() == [c.isalnum() or c == "\n" for c in chars]
    assert decimal.tolist() == [c.isdecimal() for c in chars]
    assert letter.tolist() == [c.isalpha() for c in chars]


def test_line_weights_count_each_lines_letters_outside_links():
    from curate.dedup.line_keys import _weight, line_weights

    texts = _real_pages() + [
        "자세히 보기 https://news.example.co.kr/a?id=12\n문의: desk@example.jp 担当\nwww.사이트.kr 홈 ②Ⅻ\n",
        "𠮷野家\n\U0001f600 ok\n",
    ]
    for text in texts:
        assert line_weights(text) == [_weight(line) for line in text.split("\n")]
    import curate.dedup.line_keys as lk

    want = [[_weight(line) for line in text.split("\n")] for text in texts]
    assert lk.weights_of(texts) == want
    lk._PASS_CHARS, saved = 700, lk._PASS_CHARS  # many passes, a long text alone in one
    try:
        assert lk.weights_of(texts) == want
    finally:
        lk._PASS_CHARS = saved


def test_line_keys_and_weights_hold_for_any_text():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from curate.dedup.line_keys import _weight, line_keys, line_weights

    # line breaks among marks, jamo, compatibility forms, digits, links and astral letters
    alphabet = st.sampled_from(list("\n\n a1_@:/.w\u0301\u3099\u1100\u1161\u11a8가ｶﾞＡ①Ⅻﬁßİ\u2028\r한日本") + ["𠮷"])

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet, max_size=40))
    def check(text):
        lines = text.split("\n")
        assert line_keys(text) == [line_key(line) for line in lines]
        assert line_weights(text) == [_weight(line) for line in lines]

    check()


def test_exact_and_line_hashes_from_one_fold_equal_each_alone():
    from curate.dedup.boilerplate import exact_and_line_hashes
    from curate.dedup.exact import fold, text_hashes

    texts = _real_pages() + ["", "\n", "한 줄\n\n둘째 줄 2021\n", "Ａ_b\nＡ-B\n①\nⅫ"]
    words = [a + b for a in "가나다라마바사아" for b in "자차카타파하"]
    for n in (2 * EDGE_LINES - 1, 2 * EDGE_LINES, 2 * EDGE_LINES + 1, 3 * EDGE_LINES):  # edges meet, or not
        texts += ["\n".join(words[:n]), "\n".join(["머리말", *words[:n], "머리말"]), "\n".join(["-"] * n + ["끝"])]
    exact, lines, every_line = exact_and_line_hashes(texts, [fold(t) for t in texts])
    back = LineHashes.from_columns(*every_line.columns().values())  # as pass 1 stages them
    assert all(np.array_equal(a, b) for a, b in zip(back, every_line)) and back.keyed.sum() > 1000
    assert exact.tolist() == text_hashes(texts).tolist()
    assert lines.to_pylist() == line_hash_array(texts).to_pylist()
    assert sum(bool(x) for x in lines.to_pylist()) > 50
    one_line = ["한 줄", "", "Ａ_b"]  # no line to share, in a batch of their own
    assert exact_and_line_hashes(one_line, [fold(t) for t in one_line])[1].to_pylist() == [[], [], []]


def test_stripped_keys_sign_the_stripped_texts_from_the_folds():
    """The re-signed keys take each stripped text's fold from the kept lines' folds: the
    same signatures, body signatures and lengths as signing strip_lines' texts anew."""
    from collections import Counter

    from curate.dedup.boilerplate import line_hash_lists
    from curate.dedup.signatures import core_columns, folds_and_lines, from_fixed_list, stripped_keys, text_signatures

    s = settings({"core_links": True})
    texts = _real_pages() + ["Ａ１ 무단전재\n\u0301é 본문 ﬁ\nⓒ 뉴스 ß\n"]
    common = Counter(h for hashes in line_hash_lists(texts) for h in hashes).most_common(40)
    boiler = (np.array([h for h, _ in common], np.uint64), np.array([n for _, n in common], np.int64))
    rows = np.arange(len(texts))
    got = stripped_keys(texts, rows, boiler, s, "ko")
    assert got.equals(stripped_keys(texts, rows, boiler, s, "ko", folds_and_lines(texts)))
    lookup = dict(zip(boiler[0].tolist(), boiler[1].tolist()))
    stripped = [(r, t) for r, t in enumerate(texts) if strip_lines(t, lookup) is not None]
    assert got.column("row").to_pylist() == [r for r, _ in stripped] and len(stripped) >= 50
    plain = [strip_lines(t, lookup) for _, t in stripped]
    assert (from_fixed_list(got.column("minhash")) == text_signatures(plain, s, "ko")).all()
    core = core_columns(plain, s, "ko")
    assert got.column("core_minhash").combine_chunks().equals(core["core_minhash"])
    assert got.column("core_chars").combine_chunks().equals(core["core_chars"])


def test_body_signatures_from_the_folds_equal_folding_each_body():
    """A body's fold is its lines' folds joined, but where stripping its ends took
    something (here a leading space, and '¨', whose fold starts with a space)."""
    from curate.dedup.exact import fold
    from curate.dedup.signatures import core_columns

    s = settings({"core_links": True})
    edge = "메뉴\n홈\n"
    texts = _real_pages() + [
        edge + " 본문은 여기 길게 이어지는 문장입니다. 앞에 빈칸이 있습니다.\n끝",
        edge + "¨본문은 여기 길게 이어지는 문장입니다. 앞에 분음 부호가 있습니다.\n끝",
        edge + "본문은 여기 길게 이어지는 문장입니다.\u3000\n끝",
    ]
    plain = core_columns(texts, s, "ko")
    assert sum(plain["core_chars"].to_pylist()[-3:]) > 0
    assert core_columns(texts, s, "ko", [fold(t) for t in texts]) == plain


@pytest.mark.parametrize("shingles", [None, {"ko": {"kind": "word", "n": 2}}, {"ko": {"kind": "char", "n": 9}}])
def test_body_signatures_from_the_texts_shingles_equal_signing_each_body(monkeypatch, shingles):
    """signed_columns takes a body's signature from the range of its text's permuted
    shingles (in passes cut anywhere among the texts, bodies in the same pass as their
    text or not): the same columns as signing each text and each body alone, with the
    bodies too short for the range (fewer than n units) and those whose ends were
    stripped signed apart."""
    import curate.dedup.minhash as minhash
    import curate.dedup.signatures as signatures
    from curate.dedup.exact import fold

    s = settings({"core_links": True, **({"shingles": shingles} if shingles else {})})
    edge = "메뉴\n홈\n"
    texts = _real_pages() + [
        edge + " 본문은 여기 길게 이어지는 문장입니다. 앞에 빈칸이 있습니다.\n끝",
        edge + "본문 짧음\n끝",
        "메뉴\n\n가나다라마바사아자차카타파하 가나다\n홈",
        "",
    ]
    folds = [fold(t) for t in texts]
    want = {
        "minhash": signatures.to_fixed_list(signatures.text_signatures(texts, s, "ko")),
        **signatures.core_columns(texts, s, "ko"),
    }
    for chars, cells in [(signatures._MAX_CHARS_PER_PASS, minhash._CHUNK_CELLS), (3000, 128 * 50)]:
        monkeypatch.setattr(signatures, "_MAX_CHARS_PER_PASS", chars)
        monkeypatch.setattr(minhash, "_CHUNK_CELLS", cells)
        got = signatures.signed_columns(texts, s, "ko", folds)
        assert list(got) == list(want)
        for name in want:
            assert got[name].equals(want[name]), (name, chars)
    bodies = signatures._bodies(texts, s, folds)
    assert sum(b.span is not None for b in bodies) > 50 and sum(b.span is None for b in bodies) >= 1


def test_hashed_lines_equal_each_lines_key_hashed_alone():
    """hashed_lines' hash of every line (in slices of a bounded size) is key_hashes of
    that line's line_key; distinct keys of real pages get distinct hashes."""
    import curate.dedup.line_keys as lk
    from curate.dedup.exact import fold

    texts = _real_pages() + ["", "\n", "Ａ１\n\u0301é\n_x_\n\n한\u1161\nᄀ\nᅡ가\n", "ﬁ\u2028ß\r\nİ\u0085Ⅻ\n①②\n"]
    for most in (lk._PASS_CHARS, 500):  # one pass, and many small ones
        lk._PASS_CHARS, saved = most, lk._PASS_CHARS
        try:
            lines, exact = lk.hashed_lines([fold(t) for t in texts], exact=True)
        finally:
            lk._PASS_CHARS = saved
        assert exact == [lk.dedup_key(t) for t in texts]
        for i, text in enumerate(texts):
            keys = [line_key(line) for line in text.split("\n")]
            hashes, keyed = lines.of(i)
            assert keyed.tolist() == [bool(k) for k in keys]
            assert hashes[keyed].tolist() == lk.key_hashes([k for k in keys if k]).tolist()
    keys = {line_key(line) for t in texts for line in t.split("\n")} - {""}
    assert len(keys) > 1000 and len(set(lk.key_hashes(sorted(keys)).tolist())) == len(keys)


def test_kept_line_masks_are_kept_lines_of_every_text():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from curate.dedup.boilerplate import kept_line_masks, kept_lines
    from curate.dedup.line_keys import LineHashes

    count = st.sampled_from([None, 0, 0, 3, 5, 9])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.lists(count, min_size=1, max_size=7), min_size=1, max_size=6))
    def check(texts):
        # line hash = its count + 1 (0 stands for a line with no key); counts as boilerplate
        flat = [c for t in texts for c in t]
        lines = LineHashes(
            np.r_[0, np.cumsum([len(t) for t in texts])],
            np.array([0 if c is None else c + 1 for c in flat], np.uint64),
            np.array([c is not None for c in flat]),
        )
        boiler = (np.array([4, 6, 10], np.uint64), np.array([3, 5, 9], np.int64))
        for counts, mask in zip(texts, kept_line_masks(lines, boiler)):
            kept = kept_lines(counts)
            assert (mask is None) == (kept is None)
            if kept is not None:
                assert np.flatnonzero(mask).tolist() == kept

    check()


def test_top_lines_in_a_tie_go_by_the_line_not_its_hash():
    from curate.dedup.boilerplate import top_lines

    lines = ["관련기사 더보기", "무단전재 및 재배포 금지", "ⓒ 뉴스", "구독하기"]
    pages = [f"{line}\n본문 {i}입니다." for i, line in enumerate(lines)]
    hashes = np.array(sorted(line_hash(line) for line in lines), np.uint64)
    got = top_lines(pages, (hashes, np.array([7, 7, 7, 7], np.int64)))
    assert [x["line"] for x in got] == sorted(lines)


def test_fold_line_by_line_is_nfkc_and_casefold_of_the_whole_text():
    """fold normalizes only the lines that need it; the result is NFKC then casefold
    of the whole text, on real pages and on any text of marks, jamo and line breaks."""
    import unicodedata

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from curate.dedup.exact import fold

    def whole(text):
        return unicodedata.normalize("NFKC", text).casefold()

    texts = _real_pages()
    assert sum(not unicodedata.is_normalized("NFKC", t) for t in texts if "\n" in t) > 50
    assert [fold(t) for t in texts] == [whole(t) for t in texts]

    alphabet = st.sampled_from(
        list("\n\n\r a1AßİΣς\u0301\u0308\u3099\u309a\u1100\u1161\u11a8\u3131\u314b가かｶﾞＡ①ﬁ¨\u2028")
    )

    @settings(max_examples=500, deadline=None)
    @given(st.text(alphabet, max_size=30))
    def check(text):
        assert fold(text) == whole(text)

    check()


def test_pairs_after_a_change_equal_pairing_anew():
    """near_pairs_after_change keeps the pairs of unchanged documents and pairs again
    only the buckets a changed one leaves or joins: the same pairs as near_pairs over
    the new signatures, for a few changed documents and for most of them."""
    from curate.dedup.pairs import near_pairs, near_pairs_after_change
    from curate.dedup.signatures import text_signatures

    s = settings()
    texts = sorted({t for t in _real_pages() if len(t) > 80})[:1500]
    texts += [t.replace("다.", "다!") for t in texts[:300]]  # near copies, so buckets have pairs
    sigs = text_signatures(texts, s, "ko")
    chars = np.array([len(t) for t in texts])
    a, b, keys = near_pairs(sigs, chars, s)
    assert len(a) > 50
    for changed in (np.arange(0, len(texts), 9), np.arange(0, len(texts), 2)[:1000]):
        new = sigs.copy()
        new[changed] = text_signatures([texts[i][: len(texts[i]) // 2] for i in changed], s, "ko")
        want = near_pairs(new, chars, s)
        got = near_pairs_after_change(new, chars, s, keys, a, b, changed)
        if 2 * len(changed) > len(texts):  # most changed: near_pairs does less
            assert got is None
            continue
        assert sorted(zip(*got[:2])) == sorted(zip(*want[:2])) and np.array_equal(got[2], want[2])


def test_threads_give_the_same_pairs_lines_and_rows():
    """near_pairs, boilerplate_lines and rows_with on threads (slices of the band keys
    and the bands, the halves of the hash range, slices of the lines) equal them on one."""
    from curate.dedup.pairs import near_pairs
    from curate.dedup.signatures import text_signatures

    s = settings()
    texts = sorted({t for t in _real_pages() if len(t) > 80})[:1500]
    texts += [t.replace("다.", "다!") for t in texts[:300]]  # near copies, so buckets have pairs
    sigs = text_signatures(texts, s, "ko")
    chars = np.array([len(t) for t in texts])
    # and with bodies (the second half of each text) as nodes, some taking no part
    bodies = text_signatures([t[len(t) // 2 :] for t in texts], s, "ko")
    present = np.r_[np.ones(len(texts), bool), np.arange(len(texts)) % 7 != 0]
    cases = [(sigs, chars, None, None), (np.r_[sigs, bodies], np.r_[chars, chars // 2], present, len(texts))]
    for nodes, lengths, p, n_full in cases:
        one = near_pairs(nodes, lengths, s, p, n_full)
        assert len(one[0]) > 50
        for threads in (2, 3):
            many = near_pairs(nodes, lengths, s, p, n_full, threads=threads)
            assert all(np.array_equal(x, y) for x, y in zip(one, many))

    chrome = pages_in_chrome("ko")[0]
    lists = line_hash_array(chrome + texts)
    hashes = lists.flatten().to_numpy()
    assert (hashes >= np.uint64(1 << 63)).any() and (hashes < np.uint64(1 << 63)).any()
    labels = np.arange(len(chrome + texts)) // 3
    lines = boilerplate_lines(lists, labels, 3)
    assert len(lines[0]) > 5
    for threads in (2, 5):
        assert all(np.array_equal(x, y) for x, y in zip(lines, boilerplate_lines(lists, labels, 3, threads)))
        assert np.array_equal(rows_with(lists, lines[0]), rows_with(lists, lines[0], threads))


def test_scatter_lists_places_each_rows_list_and_leaves_the_others_empty():
    from curate.dedup.signatures import scatter_lists

    lists = pa.chunked_array([[[1, 2], [], [3]], [[4, 5, 6]]], pa.list_(pa.uint64()))
    idx = np.array([1, 2, 5, 6])
    got = scatter_lists(lists, idx, 8)
    want = [[], [1, 2], [], [], [], [3], [4, 5, 6], []]
    assert got.type == lists.type and got.to_pylist() == want
    sliced = pa.array([[9], [1, 2], [], [3]], pa.list_(pa.uint64())).slice(1)  # a list array with an offset
    assert scatter_lists(sliced, np.array([0, 2, 3]), 4).to_pylist() == [[1, 2], [], [], [3]]
