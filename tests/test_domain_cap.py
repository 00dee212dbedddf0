"""Per-domain caps after dedup: no domain over its cap, no duplicate family lost."""

import gzip
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.dedup.domain_cap import CAP_REASON, apply_domain_cap
from curate.dedup.domain_cap_plan import plan_domain_cap

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "ko.jsonl.gz"


def staged(rows):
    """rows: (id, url, staged drop_reason)."""
    ids, urls, reasons = zip(*rows)
    return [pa.table({"id": list(ids), "url": list(urls), "drop_reason": pa.array(reasons, pa.string())})]


def test_capped_keeper_hands_its_cluster_to_a_member_with_room():
    tables = staged(
        [
            ("a1", "https://a.example/1", None),
            ("a2", "https://a.example/2", None),
            ("k", "https://a.example/3", None),  # keeper of cluster k, over a's cap
            ("m1", "https://a.example/4", None),  # a member on the full domain
            ("m2", "https://b.example/1", None),  # the first member with room
            ("m3", None, None),
            ("a5", "https://a.example/5", None),
            ("q", "https://b.example/2", "quality:short"),
        ]
    )
    decisions = {2: ("k", None, None), 3: ("k", "k", "near_dup"), 4: ("k", "k", "near_dup"), 5: ("k", "k", "exact_dup")}
    capped = plan_domain_cap(tables, decisions, cap=2)
    assert capped == {2, 6}
    assert decisions[4] == ("k", None, None)  # promoted
    assert decisions[3] == ("k", "m2", "near_dup") and decisions[5] == ("k", "m2", "exact_dup")
    rows = np.array(sorted(capped))
    out = apply_domain_cap(tables[0], 0, rows)
    assert out.column("drop_reason").to_pylist() == [
        None,
        None,
        CAP_REASON,
        None,
        None,
        None,
        CAP_REASON,
        "quality:short",
    ]
    later = apply_domain_cap(tables[0].slice(4), 4, rows)  # a later batch: global rows 4..7
    assert later.column("drop_reason").to_pylist() == [None, None, CAP_REASON, "quality:short"]


def test_family_on_full_domains_only_is_capped_whole():
    tables = staged(
        [("a1", "https://a.example/1", None), ("k", "https://a.example/2", None), ("m", "https://a.example/3", None)]
    )
    decisions = {1: ("k", None, None), 2: ("k", "k", "near_dup")}
    before = dict(decisions)
    assert plan_domain_cap(tables, decisions, cap=1) == {1}
    assert decisions == before  # nowhere with room: nothing promoted


def test_member_without_url_is_promoted_and_rows_count_across_batches():
    tables = staged([("a1", "https://a.example/1", None)]) + staged(
        [("k", "https://a.example/2", None), ("m", None, None)]
    )
    decisions = {1: ("k", None, None), 2: ("k", "k", "near_dup")}
    assert plan_domain_cap(tables, decisions, cap=1) == {1}
    assert decisions[2] == ("k", None, None)


def test_pipeline_keeps_a_duplicate_when_the_cap_drops_its_keeper(tmp_path):
    import ray

    from pipelines.corpus import run_corpus

    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        texts = [
            t
            for t in (json.loads(line)["text"] for line in f)
            if 300 <= len(t) <= 700 and sum("가" <= c <= "힣" for c in t) > 0.6 * len(t)
        ][:4]
    original, filler = texts[0], texts[1:]
    longer = original + " 자세한 내용은 다음 기사에서 이어진다."  # the longer copy is the dedup keeper
    docs = [{"id": f"a{i}", "text": t, "url": f"https://a.example/{i}"} for i, t in enumerate(filler)]
    docs.append({"id": "a-copy", "text": longer, "url": "https://a.example/copy"})
    docs.append({"id": "b-copy", "text": original, "url": "https://b.example/story"})
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    recipe = tmp_path / "ko.yaml"
    recipe.write_text("lang: ko\nstages: [normalize, urlfilter, dedup]\nurlfilter: {max_per_domain: 3}\n")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        manifest = run_corpus([str(path)], str(tmp_path / "out"), "ko", recipe_file=str(recipe), progress=False)
    finally:
        ray.shutdown()
    out = tmp_path / "out"
    kept = pa.concat_tables([pq.read_table(out / e["path"]) for e in manifest["shards"]]).to_pylist()
    rejected = pa.concat_tables([pq.read_table(out / e["path"]) for e in manifest["rejected"]]).to_pylist()
    assert sorted(r["id"] for r in kept) == ["a0", "a1", "a2", "b-copy"]
    b = next(r for r in kept if r["id"] == "b-copy")
    assert b["dup_cluster"] is not None and b["dup_of"] is None
    (a,) = rejected
    assert a["id"] == "a-copy" and a["drop_reason"] == CAP_REASON
    assert manifest["counts"]["drop_reasons"] == {CAP_REASON: 1}
