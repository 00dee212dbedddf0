"""Clustering: keeper choice, exact-then-near, union-find, and Ray equals single process."""

import gzip
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from curate.dedup.exact import text_hashes
from curate.dedup.near import cluster
from curate.dedup.pairs import bucket_pairs, components, has_shingles
from curate.dedup.settings import settings
from curate.dedup.signatures import dedup_keys, from_fixed_list, keys_for_texts, text_signatures

DATA = Path(__file__).parent / "data" / "dedup"


def load(lang, n=None):
    with gzip.open(DATA / f"eval-{lang}.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return rows[:n] if n else rows


def keys_for(texts, ids=None, quality=None, lang="ko", s=None):
    n = len(texts)
    return keys_for_texts(
        texts, ids or [f"d{i}" for i in range(n)], s or settings(), lang, rows=np.arange(n) * 3 + 5, quality=quality
    )  # rows need not be dense


BASE = (
    "캐이트 맥캔은 사립탐정을 고용해 매들린을 찾는데 모든 수단을 다 쓸 것이라고 말했다. "
    "그는 이번 사건에서 포르투갈 경찰이 자신을 용의자로 지목한 것에 대해 강하게 반발했다. "
    "경찰은 추가 조사를 위해 관련 자료를 검토하고 있다고 밝혔다."
)
OTHER = (
    "미국은 1992년에 지하 핵실험을 중지시켰기 때문에 이러한 모의 실험은 한 치의 오차도 없어야만 한다. "
    "에너지부의 핵 안보 차관은 이 수퍼컴퓨터가 국가의 비축 핵무기를 유지하기 위한 임무의 핵심이라고 말했다."
)


def test_dedup_keys_schema_and_values():
    t = pa.table({"id": ["a", "b"], "text": [BASE, OTHER]})
    keys = dedup_keys(t, settings({"num_perm": 64}), "ko")
    assert keys.column_names == ["id", "text_hash", "minhash", "line_hashes", "core_minhash", "core_chars"]
    assert keys.column("text_hash").to_pylist() == text_hashes([BASE, OTHER]).tolist()
    assert keys.column("line_hashes").to_pylist() == [[], []]  # one-line texts have nothing to strip
    assert not has_shingles(from_fixed_list(keys.column("core_minhash"))).any()  # nor a body to sign apart
    assert keys.column("core_chars").to_pylist() == [0, 0]
    assert keys.schema.field("minhash").type == pa.list_(pa.uint32(), 64)
    assert np.array_equal(
        from_fixed_list(keys.column("minhash")), text_signatures([BASE, OTHER], settings({"num_perm": 64}), "ko")
    )


def test_exact_then_near_with_keeper_by_quality_then_length_then_row():
    texts = [
        BASE,  # 0 exact group with 1, 2
        BASE.replace(" ", "  ") + "!",  # 1 same text_hash as 0
        BASE,  # 2
        BASE[: int(len(BASE) * 0.9)],  # 3 near dup of the group
        OTHER,  # 4 unique
        "관련기사 더보기\n" + BASE,  # 5 near dup, longest
    ]
    out = cluster(keys_for(texts, quality=[0.5, 0.9, 0.9, None, 1.0, 0.2]), settings())
    got = {r["row"]: r for r in out.to_pylist()}
    rows = {i: i * 3 + 5 for i in range(6)}
    assert rows[4] not in got  # unique docs are not returned
    assert set(got) == {rows[i] for i in (0, 1, 2, 3, 5)}
    # kept: highest quality (1 and 2 tie at 0.9; 1 is longer)
    assert got[rows[1]]["drop_reason"] is None and got[rows[1]]["dup_of"] is None
    assert {got[rows[i]]["dup_cluster"] for i in (0, 1, 2, 3, 5)} == {"d1"}
    assert got[rows[0]]["drop_reason"] == got[rows[2]]["drop_reason"] == "exact_dup"
    assert got[rows[3]]["drop_reason"] == got[rows[5]]["drop_reason"] == "near_dup"
    assert all(got[rows[i]]["dup_of"] == "d1" for i in (0, 2, 3, 5))


def test_tie_breaks_on_length_then_row_and_switches():
    texts = [BASE, BASE, BASE + " 끝."]
    out = cluster(keys_for(texts), settings()).to_pylist()
    # longest kept (quality all null); row 0 represents its exact group in the near step
    assert [r["drop_reason"] for r in out] == ["near_dup", "exact_dup", None]
    out = cluster(keys_for(texts[:2]), settings()).to_pylist()
    assert [r["drop_reason"] for r in out] == [None, "exact_dup"]  # smallest row
    assert cluster(keys_for(texts), settings({"exact": False, "near": False})).num_rows == 0
    only_exact = cluster(keys_for(texts), settings({"near": False})).to_pylist()
    assert [r["row"] for r in only_exact] == [5, 8]


def test_unrelated_paragraphs_stay_and_one_kept_per_cluster():
    docs = load("ja")
    keys = keys_for([d["text"] for d in docs], ids=[d["id"] for d in docs], lang="ja")
    out = cluster(keys, settings())
    kept_per_cluster = {}
    for r in out.to_pylist():
        kept_per_cluster.setdefault(r["dup_cluster"], 0)
        kept_per_cluster[r["dup_cluster"]] += r["drop_reason"] is None
    assert set(kept_per_cluster.values()) == {1}
    in_cluster = set(out.column("row").to_pylist())
    unrelated_rows = [i * 3 + 5 for i, d in enumerate(docs) if d["kind"] == "unrelated"]
    assert not in_cluster.intersection(unrelated_rows)


def _bfs_components(n, a, b):
    adj = [[] for _ in range(n)]
    for x, y in zip(a, b):
        adj[x].append(y)
        adj[y].append(x)
    label = [-1] * n
    for s in range(n):
        if label[s] < 0:
            stack, label[s] = [s], s
            while stack:
                x = stack.pop()
                for y in adj[x]:
                    if label[y] < 0:
                        label[y] = s
                        stack.append(y)
    return label


@pytest.mark.parametrize("seed", range(5))
def test_union_find_equals_bfs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    m = int(rng.integers(0, 2 * n))
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    assert components(n, a, b).tolist() == _bfs_components(n, a.tolist(), b.tolist())


def test_bucket_pairs_small_all_pairs_large_star_and_chain():
    keys = np.array([7, 7, 7, 9, 1, 1, 1, 1, 1], dtype=np.uint64)
    members = np.array([3, 1, 2, 4, 10, 14, 11, 13, 12])
    a, b = bucket_pairs(keys, members, max_all_pairs=3)
    pairs = set(zip(a.tolist(), b.tolist()))
    assert {(1, 2), (1, 3), (2, 3)} <= pairs
    assert {(10, 11), (10, 12), (10, 13), (10, 14), (11, 12), (12, 13), (13, 14)} == pairs - {(1, 2), (1, 3), (2, 3)}
    # two large buckets side by side: each gets its own star and chain
    keys = np.array([5, 5, 5, 5, 6, 6, 6, 6], dtype=np.uint64)
    a, b = bucket_pairs(keys, np.array([4, 3, 2, 1, 8, 7, 6, 5]), max_all_pairs=2)
    assert set(zip(a.tolist(), b.tolist())) == {
        (1, 2),
        (1, 3),
        (1, 4),
        (2, 3),
        (3, 4),
        (5, 6),
        (5, 7),
        (5, 8),
        (6, 7),
        (7, 8),
    }


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


# Real one-line captions (JGLUE) that share a template and differ in one word.
SHORT_TEMPLATE_PAIRS = [
    ("砂の上にウマを連れた男性が座っています。", "砂の上にウマを連れた男性が立っています。"),
    ("車のミラーに運転手が写っています。", "バイクのミラーに運転手が写っています。"),
    ("みかんの木に黄色い鳥が止まっています。", "バナナの木に黄色い鳥が止まっています。"),
    ("赤い小型のバスが停まっています。", "赤い大型のバスが停まっています。"),
    ("廊下で二人の料理人が立っています。", "キッチンで二人の料理人が立っています。"),
]


def short_variants(text):
    """Edits that keep a short text the same text: spacing, punctuation and width, a cut tail."""
    return [" ".join(text), text.replace("。", "."), text.replace("2", "２") + "!", text[: int(len(text) * 0.9)]]


def test_short_texts_link_on_edits_but_not_on_a_shared_template():
    texts = [t for pair in SHORT_TEMPLATE_PAIRS for t in pair]
    got = cluster(keys_for(texts, lang="ja", s=settings()), settings())
    assert got.num_rows == 0  # one changed word in a caption is another caption
    # at the long-text threshold the same pairs would be removed: the rule is what keeps them
    loose = settings({"short_threshold": 0.6})
    assert cluster(keys_for(texts, lang="ja", s=loose), loose).num_rows >= 4
    for original, _ in SHORT_TEMPLATE_PAIRS:
        family = [original] + short_variants(original)
        out = cluster(keys_for(family, lang="ja", s=settings()), settings()).to_pylist()
        assert len(out) == len(family) and sum(r["drop_reason"] is None for r in out) == 1, original


def test_ray_global_dedup_equals_single_process(local_ray):
    from curate.dedup.near_ray import global_dedup

    docs = load("ko", 300)
    texts = [d["text"] for d in docs]
    texts += texts[:20]  # exact copies on top of the near-dup families
    for original, other in SHORT_TEMPLATE_PAIRS:  # short texts take the stricter threshold on both paths
        texts += [original, other, *short_variants(original)]
    rng = np.random.default_rng(0)
    quality = [None if q < 0.2 else float(q) for q in rng.random(len(texts))]
    keys = keys_for(texts, quality=quality)
    expected = cluster(keys, settings())
    assert expected.num_rows > 40 and "exact_dup" in expected.column("drop_reason").to_pylist()
    got = global_dedup(keys, settings({"partitions": 3}))
    assert got.to_pylist() == expected.to_pylist()
    ds = local_ray.data.from_arrow(keys).repartition(4)
    assert (
        global_dedup(ds, settings({"partitions": 2, "exact": False})).to_pylist()
        == cluster(keys, settings({"exact": False})).to_pylist()
    )


def test_ray_boilerplate_pass_equals_single_process(local_ray):
    """The two-pass dedup with Ray's clustering and line counting gives the single-process result."""
    from curate.dedup.boilerplate import boilerplate_lines
    from curate.dedup.near import cluster_without_boilerplate
    from curate.dedup.near_ray import boilerplate_lines as boilerplate_lines_on_ray
    from curate.dedup.near_ray import global_dedup
    from curate.dedup.signatures import stripped_keys

    chrome = [
        "관련기사 더보기",
        "이 기사를 공유합니다",
        "ⓒ 한국일보, 무단 전재 및 재배포 금지",
        "입력 2023.{}.{} 오전 10:30",
        "좋아요 {} · 댓글 {} · 공유하기",
        "기자 프로필 구독 응원하기",
    ]
    rng = np.random.default_rng(1)
    texts = []
    for d in load("ko", 160):
        first = d["text"].split("다.")[0][:45] + "다."
        lines = [c.format(*rng.integers(1, 13, 2)) for c in rng.choice(chrome, rng.integers(1, 4), replace=False)]
        texts += [first, "\n".join([first, *lines]), d["text"]]
    keys = keys_for(texts)

    def resign(sel, boiler):
        return stripped_keys([texts[(r - 5) // 3] for r in sel], sel, boiler, settings(), "ko")

    labels = np.arange(len(texts)) * 7
    single = boilerplate_lines(keys.column("line_hashes"), labels, 5)
    on_ray = boilerplate_lines_on_ray(keys.column("line_hashes"), labels, 5, parts=3)
    assert len(single[0]) >= 4 and all(np.array_equal(a, b) for a, b in zip(single, on_ray))
    expected = cluster_without_boilerplate(keys, settings(), resign)
    assert expected.num_rows > cluster(keys, settings()).num_rows  # the second pass found the chrome-wrapped copies
    got = cluster_without_boilerplate(
        keys, settings({"partitions": 3}), resign, lambda k, c: global_dedup(k, c), boilerplate_lines_on_ray
    )
    assert got.to_pylist() == expected.to_pylist()


def _rare_chrome_keys(lang="ko"):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from chrome_pages import pages_in_rare_chrome

    texts, family = pages_in_rare_chrome(lang)
    site = [
        "우리동네 커뮤니티 - 이웃과 함께",
        "자유게시판 | 글쓰기 | 목록",
        "회원가입 | 로그인 | 사이트맵",
        "추천 0 | 비추천 0 | 조회 12",
        "Copyright (c) 2019 우리동네",
        "이용약관 | 개인정보처리방침",
        "광고문의 | 제휴문의 | 고객센터",
        "이메일무단수집거부 | 청소년보호정책",
    ]
    short = [(t, f) for t, f in zip(texts, family) if "\n" not in t and len(t) <= 60][:6]
    for t, f in short:  # a small site whose frame outweighs its short posts
        texts.append("\n".join(site[:3] + [t] + site[3:]))
        family.append(f)
    return texts, family


def _families_found(texts, family, result):
    cluster_of = {r["row"]: r["dup_cluster"] for r in result.to_pylist()}
    by_family: dict = {}
    for pos, f in enumerate(family):
        by_family.setdefault(f, []).append(5 + 3 * pos)  # keys_for's rows
    found = [
        cluster_of.get(rs[0]) is not None and len({cluster_of.get(r) for r in rs}) == 1
        for rs in by_family.values()
        if len(rs) > 1
    ]
    members: dict = {}
    for row, c in cluster_of.items():
        members.setdefault(c, set()).add(family[(row - 5) // 3])
    return float(np.mean(found)), sum(len(m) > 1 for m in members.values())


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_body_links_find_short_pages_in_chrome_of_their_own(lang):
    """A short page inside a byline, tags and a link of its own (never boilerplate: seen
    once) matches a bare copy through its body; pages sharing a frame never link."""
    texts, family = _rare_chrome_keys(lang)
    off = settings({"core_links": False})
    without = _families_found(texts, family, cluster(keys_for(texts, lang=lang, s=off), off))
    with_bodies = _families_found(texts, family, cluster(keys_for(texts, lang=lang), settings()))
    assert without[0] < 0.6 and with_bodies[0] >= 0.95, (without, with_bodies)
    assert with_bodies[1] == 0


def test_frame_check_keeps_pages_of_a_small_site_apart():
    texts, family = _rare_chrome_keys("ko")
    posts = [(t, f) for t, f in zip(texts, family) if t.startswith("우리동네 커뮤니티")]
    bare = [t.split("\n")[3] for t, _ in posts]
    site = [t for t, _ in posts]
    no_check = settings({"frame_threshold": 0})
    assert cluster(keys_for(site), no_check).num_rows >= 2  # the frame alone links different posts
    assert cluster(keys_for(site), settings()).num_rows == 0
    out = cluster(keys_for(site + bare), settings()).to_pylist()  # each post still finds its bare copy
    assert len(out) == 2 * len(site) and sum(r["drop_reason"] is None for r in out) == len(site)


def test_ray_global_dedup_with_bodies_equals_single_process(local_ray):
    from curate.dedup.near_ray import global_dedup

    texts, _ = _rare_chrome_keys("ko")
    texts += [t + "\n" + "좋아요 3 · 댓글 1" for t in texts[:60]]
    keys = keys_for(texts)
    for cfg in ({}, {"max_bucket_all_pairs": 2}, {"frame_threshold": 0}):  # 2: star-and-chain buckets
        expected = cluster(keys, settings(cfg))
        assert expected.num_rows > 100
        assert global_dedup(keys, settings({**cfg, "partitions": 3})).to_pylist() == expected.to_pylist(), cfg


def test_ray_connected_components_on_long_chains(local_ray):
    from curate.dedup.near_ray import connected_components

    rng = np.random.default_rng(3)
    n = 400
    perm = rng.permutation(n)
    a = np.r_[perm[:-1][:250], rng.integers(0, n, 60)]  # a 250-node path in shuffled order + random edges
    b = np.r_[perm[1:][:250], rng.integers(0, n, 60)]
    blocks = [
        local_ray.put(pa.table({"u": pa.array(a[i::3], pa.int64()), "v": pa.array(b[i::3], pa.int64())}))
        for i in range(3)
    ]
    for parts in (4, 1):  # 1: a single task, union-find instead of star rounds
        stars = pa.concat_tables(local_ray.get(connected_components(blocks, parts)))
        label = np.arange(n)
        label[stars.column("v").to_numpy()] = stars.column("u").to_numpy()
        assert label.tolist() == _bfs_components(n, a.tolist(), b.tolist()), parts


def test_null_text_hash_is_unique_and_empty_texts_are_not_near_dups():
    texts = ["!!!", "???", BASE, BASE]
    keys = keys_for(texts)
    keys = keys.set_column(2, "text_hash", pa.array([1, 2, None, None], pa.uint64()))
    out = cluster(keys, settings()).to_pylist()
    # no shingles in the first two: not linked; the null-hash pair is linked only as near dups
    assert [(r["row"], r["drop_reason"]) for r in out] == [(11, None), (14, "near_dup")]


def test_the_recipe_picks_the_corpus_steps():
    from curate.dedup.domain_cap import DomainCap
    from curate.dedup.duplicates import ExactDedup, NearDedup
    from curate.dedup.steps import build_steps, key_columns

    both = build_steps({"dedup": {}, "urlfilter": {"max_per_domain": 3}}, ["normalize", "urlfilter", "dedup"], "ko")
    assert [type(s) for s in both] == [NearDedup, DomainCap] and both[1].cap == 3
    exact = build_steps({"dedup": {"near": False}}, ["normalize", "dedup"], "ko")
    assert [type(s) for s in exact] == [ExactDedup]
    assert key_columns(exact) == ["id", "text_hash", "quality_score", "n_chars"]
    assert key_columns(both)[-6:] == [
        *("minhash", "line_hashes", "core_minhash", "core_chars"),
        *("all_line_hashes", "keyed_lines"),  # every line's hash, for the re-signing
    ]
    plain = build_steps({"dedup": {"boilerplate_clusters": 0}}, ["normalize", "dedup"], "ko")
    assert key_columns(plain)[-4:] == ["minhash", "line_hashes", "core_minhash", "core_chars"]
    assert build_steps({"urlfilter": {"max_per_domain": 3}}, ["normalize"], "ko") == []  # urlfilter not run
    with pytest.raises(ValueError, match="threshold must be a number from 0 to 1"):
        build_steps({"dedup": {"threshold": 5}}, ["dedup"], "ko")


def test_duplicate_decisions_apply_to_their_rows_and_keep_earlier_reasons():
    from curate.dedup.duplicates import Duplicates, ExactDedup
    from curate.io.schema import SHARD_SCHEMA

    batch = pa.table(
        {name: pa.array([None] * 4, SHARD_SCHEMA.field(name).type) for name in ("dup_cluster", "dup_of")}
        | {"drop_reason": pa.array([None, None, "quality:short", None], pa.string())}
    )
    members = {1: ("x", None, None), 5: ("a", None, None), 6: ("a", "a", "exact_dup"), 7: ("a", "a", "near_dup")}
    columns = {
        name: [v[i] for v in members.values()] for i, name in enumerate(("dup_cluster", "dup_of", "drop_reason"))
    }
    decision = Duplicates.written(pa.table({"row": list(members), **columns}), [2, 8])  # two staged files
    out = ExactDedup(settings({"near": False}), "ko").apply(batch, 4, decision)  # global rows 4..7, the second file
    assert out.to_pylist() == [
        {"dup_cluster": None, "dup_of": None, "drop_reason": None},
        {"dup_cluster": "a", "dup_of": None, "drop_reason": None},
        {"dup_cluster": "a", "dup_of": "a", "drop_reason": "quality:short"},  # the first reason stays
        {"dup_cluster": "a", "dup_of": "a", "drop_reason": "near_dup"},
    ]
