"""Shard report: its numbers against the shards, stats merging.

The curated folders are built from real text (tests/data/report, see NOTICE) by the real
reader, stages and writer, without Ray: exact dedup is applied the way the pipeline
applies it (first row of a hash cluster kept).
"""

from __future__ import annotations

import atexit
import functools
import json
import math
import random
import shutil
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from curate.dedup.duplicates import Duplicates, ExactDedup
from curate.dedup.near import cluster
from curate.dedup.settings import settings
from curate.dedup.step import live_keys
from curate.io.readers import is_quarantined, read_tables
from curate.io.schema import SCHEMA_VERSION, SHARD_SCHEMA
from curate.io.writer import QUARANTINE_SCHEMA, ShardWriter, atomic_write_json, to_quarantine
from curate.recipe import load_recipe
from curate.report import build as report
from curate.report import fmt, model, plots
from curate.report.page import render_html
from curate.report.stats import merge_stats, quality_rules, stats_fn_for, table_stats
from pipelines.pass1 import StageChain

DATA = Path(__file__).parent / "data" / "report"
SAMPLE = DATA / "sample.jsonl"


# ---------------------------------------------------------------------------- fixture folders
EXACT = ExactDedup(settings({"near": False}), "ko")


def _dedup(table: pa.Table) -> pa.Table:
    keys = live_keys(table, 0, list(EXACT.key_columns))
    return EXACT.apply(table, 0, Duplicates.written(cluster(keys, EXACT.s), [table.num_rows]))


def _stage_of(reason: str) -> str:
    return "dedup" if reason in ("exact_dup", "near_dup") else reason.split(":", 1)[0]


def build_curated_dir(
    out: Path, stages: list[str], lang: str = "ko", shard_rows: int = 25, sample: Path = SAMPLE
) -> dict:
    """Curate `sample` into `out` (shards, rejected, quarantine, stats, manifest)."""
    recipe = load_recipe(lang)
    recipe.pop("_path", None)
    recipe["stages"] = stages
    table = pa.concat_tables(read_tables(str(sample), batch_size=4096))
    quarantined = np.array([is_quarantined(r) for r in table.column("drop_reason").to_pylist()])
    parsed = table.filter(pa.array(~quarantined))
    parsed = StageChain(recipe, lang, stages, [EXACT] if "dedup" in stages else [])(parsed)
    if "dedup" in stages:
        parsed = _dedup(parsed)
    parsed = parsed.select(SHARD_SCHEMA.names)
    stats_fn = stats_fn_for(recipe, lang)
    writers = {
        k: ShardWriter(str(out), k, max_rows=shard_rows, stats_fn=stats_fn, stats_dir=str(out / "stats"))
        for k in ("shards", "rejected")
    }
    writers["quarantine"] = ShardWriter(str(out), "quarantine", schema=QUARANTINE_SCHEMA, max_rows=shard_rows)
    kept = pc.is_null(parsed.column("drop_reason"))
    for kind, part in (("shards", parsed.filter(kept)), ("rejected", parsed.filter(pc.invert(kept)))):
        for start in range(0, part.num_rows, shard_rows):  # the writer cuts a shard between writes
            writers[kind].write(part.slice(start, shard_rows))
    writers["quarantine"].write(to_quarantine(table.filter(pa.array(quarantined))))
    entries = {k: w.close() for k, w in writers.items()}

    reasons = Counter(r for r in parsed.column("drop_reason").to_pylist() if r)
    per_stage, docs = {}, parsed.num_rows
    for s in stages:
        dropped = sum(n for r, n in reasons.items() if _stage_of(r) == s)
        per_stage[s] = {"in": docs, "dropped": dropped, "out": docs - dropped}
        docs -= dropped
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "created": "2026-01-01T00:00:00+00:00",
        "lang": lang,
        "recipe": recipe,
        "inputs": [{"path": str(sample), "bytes": sample.stat().st_size, "sha256": ""}],
        "versions": {},
        "code_version": "test",
        "stages": stages,
        "counts": {
            "read": table.num_rows,
            "kept": entries["shards"] and sum(e["rows"] for e in entries["shards"]),
            "rejected": sum(e["rows"] for e in entries["rejected"]),
            "quarantined": int(quarantined.sum()),
            "per_stage": per_stage,
            "drop_reasons": dict(reasons),
        },
        **entries,
    }
    atomic_write_json(str(out / "manifest.json"), manifest)
    return manifest


_TMP = tempfile.mkdtemp(prefix="report-test-")
atexit.register(shutil.rmtree, _TMP, True)


@functools.cache
def curated_dir(stages: tuple[str, ...] = ("normalize", "langid", "pii", "quality", "dedup")) -> Path:
    """Built once per test process; tests treat it as read-only (reports go to copies)."""
    out = Path(_TMP) / "-".join(stages)
    build_curated_dir(out, list(stages))
    return out


BUNDLED = Path(__file__).parent.parent / "data" / "sample"
BUNDLED_ROWS = 600  # the first rows of a bundled sample: every kind of source, quick to curate


@functools.cache
def bundled_dir(lang: str) -> Path:
    """The first BUNDLED_ROWS records of data/sample/LANG.jsonl.gz, curated with every stage."""
    import gzip

    src = Path(_TMP) / f"bundled-{lang}.jsonl"
    with gzip.open(BUNDLED / f"{lang}.jsonl.gz", "rt", encoding="utf-8") as f:
        src.write_text("".join(line for _, line in zip(range(BUNDLED_ROWS), f)), encoding="utf-8")
    out = Path(_TMP) / f"bundled-{lang}"
    build_curated_dir(out, ["normalize", "langid", "pii", "quality", "dedup"], lang=lang, shard_rows=150, sample=src)
    return out


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _read(out: Path, kind: str) -> pa.Table:
    files = sorted((out / kind).glob("*.parquet"))
    return pa.concat_tables([pq.read_table(f) for f in files]) if files else SHARD_SCHEMA.empty_table()


# ---------------------------------------------------------------------------- the report
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = _copy(curated_dir(), tmp_path_factory.mktemp("rep") / "out")
    return out, report.build_report(out)


def test_counts_add_up_and_match_shards(built):
    out, r = built
    kept, rejected = _read(out, "shards"), _read(out, "rejected")
    quarantine = pq.read_table(next((out / "quarantine").glob("*.parquet")))
    c = r["counts"]
    assert len(list((out / "shards").glob("*.parquet"))) > 1  # several shards: numbers are merged
    assert c["kept"] == kept.num_rows and c["rejected"] == rejected.num_rows
    assert c["quarantined"] == quarantine.num_rows == 1
    assert c["read"] == c["kept"] + c["rejected"] + c["quarantined"] == sum(1 for _ in SAMPLE.open())
    assert c["kept_chars"] == pc.sum(pc.utf8_length(kept.column("text"))).as_py()
    assert r["funnel"][-1]["docs"] == c["kept"] and r["funnel"][-1]["chars"] == c["kept_chars"]
    docs = [f["docs"] for f in r["funnel"]]
    assert docs == sorted(docs, reverse=True)
    assert r["funnel"][1]["chars"] == c["kept_chars"] + c["rejected_chars"]


def test_every_drop_reason_in_rejected_is_reported(built):
    out, r = built
    rejected = _read(out, "rejected")
    truth = Counter(rejected.column("drop_reason").to_pylist())
    assert None not in truth and len(truth) >= 3  # langid, quality rules, exact_dup
    assert r["drop_reasons"] == dict(truth)
    page = (out / "report.html").read_text(encoding="utf-8")
    for reason in truth:
        assert reason in page
        assert r["samples"]["drop_reason"][reason]  # at least one sample per reason
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["drop_reasons"] == dict(truth)


def test_histograms_languages_and_duplicates_match_shards(built):
    out, r = built
    kept, rejected = _read(out, "shards"), _read(out, "rejected")
    for name in ("length_chars", "length_words", "lang_score"):
        assert sum(r[name]["kept"]) == kept.num_rows and sum(r[name]["rejected"]) == rejected.num_rows
    scored = pc.sum(pc.is_valid(kept.column("quality_score"))).as_py()
    assert sum(r["quality_score"]["kept"]) == scored
    assert {l: v["kept"] for l, v in r["languages"].items() if v["kept"]} == dict(
        Counter(kept.column("lang").to_pylist())
    )
    # most documents first, ties by name: the order does not depend on the hash seed
    totals = [(-(v["kept"] + v["rejected"]), l) for l, v in r["languages"].items()]
    assert totals == sorted(totals)
    # clusters span shards: sizes must equal a global group-by
    members = Counter(c for t in (kept, rejected) for c in t.column("dup_cluster").to_pylist() if c)
    assert r["duplicates"]["clusters"] == len(members) > 0
    assert r["duplicates"]["size_distribution"] == {str(k): v for k, v in sorted(Counter(members.values()).items())}
    assert r["duplicates"]["exact_dup"] == sum(
        1 for x in rejected.column("drop_reason").to_pylist() if x == "exact_dup"
    )
    top = r["duplicates"]["largest"][0]
    assert top["size"] == max(members.values()) and top["example"]["text"]
    for c in r["duplicates"]["largest"]:  # each example is a member of its own cluster
        assert c["example"]["dup_cluster"] == c["cluster"]


def test_sources_kept_and_rejected_match_shards(built):
    out, r = built
    kept = Counter(_read(out, "shards").column("source").to_pylist())
    rejected = Counter(_read(out, "rejected").column("source").to_pylist())
    assert set(r["sources"]) == set(kept) | set(rejected) and len(r["sources"]) >= 3
    for s, v in r["sources"].items():
        assert (v["kept"], v["rejected"]) == (kept[s], rejected[s]), s
        assert v["kept_share"] == kept[s] / (kept[s] + rejected[s])
    assert sum(v["rejected"] for v in r["sources"].values()) == r["counts"]["rejected"]
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["sources"] == r["sources"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="sources">' in page and '<a href="#sources">' in page
    for s in r["sources"]:
        assert f"<td>{s}</td>" in page


def test_samples_fold(built):
    out, r = built
    page = (out / "report.html").read_text(encoding="utf-8")
    samples = page[page.index('id="samples"') : page.index('id="files"')]
    groups = len(r["samples"]["quality_decile"]) + len(r["samples"]["drop_reason"])
    assert samples.count('<details class="samples"><summary>') == samples.count("</details>") == groups
    assert "<h3>" not in samples


def test_rule_pass_rates_match_quality_stage(built):
    from curate.stages.quality.rules import failed_rule

    out, r = built
    manifest = json.loads((out / "manifest.json").read_text())
    rules = [tuple(x) for x in quality_rules(manifest["recipe"], "ko")]
    rows = [
        s
        for t in (_read(out, "shards"), _read(out, "rejected"))
        for s in t.column("quality_signals").to_pylist()
        if s and s.get("n_chars") is not None
    ]
    got = {x["rule"]: x for x in r["quality_rules"]["rules"]}
    assert r["quality_rules"]["judged"] == len(rows)
    for name, signal, _, _ in rules:
        computed = [s for s in rows if s.get(signal) is not None and not math.isnan(s[signal])]
        x = got[name]
        assert (x["computed"], x["not_computed"]) == (len(computed), len(rows) - len(computed)), name
        assert x["pass"] == sum(
            failed_rule(s, [(name, signal, b, t)]) is None for s in computed for (n, _, b, t) in rules if n == name
        ), name
        assert x["pass_rate"] == (x["pass"] / len(computed) if computed else None), name
    assert got["min_n_chars"]["pass"] < len(rows)  # the sample has short reviews
    # a rule for long documents is not computed on short ones: never counted as passing them
    long_rule = got["min_long_terminated_char_ratio"]
    assert long_rule["not_computed"] > 0 and long_rule["pass"] <= long_rule["computed"] < len(rows)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "not computed" in page


def test_quality_score_is_explained_as_the_mean_headroom_it_is(built):
    """The page says what quality_score is; recomputing it from the signals that way agrees."""
    from curate.stages.quality.rules import headroom

    out, r = built
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="quality-score"' in page and "the score averages, the rules do not" in page
    manifest = json.loads((out / "manifest.json").read_text())
    rules = [tuple(x) for x in quality_rules(manifest["recipe"], "ko")]
    checked = 0
    for t in (_read(out, "shards"), _read(out, "rejected")):
        for sig, score in zip(t.column("quality_signals").to_pylist(), t.column("quality_score").to_pylist()):
            if score is None or not sig or sig.get("model_score") is not None:
                continue
            assert headroom(sig, rules) == pytest.approx(score, abs=1e-6)
            checked += 1
    assert checked > 100


def test_signal_histograms_count_kept_and_rule_dropped_documents_with_threshold(built):
    from curate.stages.quality.signal_hist import signal_edges

    out, r = built
    rules = {x["rule"]: x for x in r["quality_rules"]["rules"]}
    hists = r["signal_histograms"]
    assert {h["rule"] for h in hists} == {n for n, x in rules.items() if x["computed"]}
    kept, rejected = _read(out, "shards"), _read(out, "rejected")
    dropped = rejected.filter(pc.starts_with(rejected.column("drop_reason"), "quality:"))
    page = (out / "report.html").read_text(encoding="utf-8")
    for h in hists:
        assert (h["signal"], h["bound"], h["threshold"]) == tuple(
            rules[h["rule"]][k] for k in ("signal", "bound", "threshold")
        )
        edges = np.array(signal_edges(h["signal"]), dtype=float)
        assert h["edges"] == list(edges)
        for side, t in (("kept", kept), ("dropped", dropped)):
            v = np.array(
                [
                    s[h["signal"]]
                    for s in t.column("quality_signals").to_pylist()
                    if s and s.get(h["signal"]) is not None
                ],
                float,
            )
            v = np.clip(v[~np.isnan(v)], edges[0], edges[-1])  # outside the range: the end bins
            assert h[side] == np.histogram(v, edges)[0].tolist(), (h["rule"], side)
        assert f'data-rule="{h["rule"]}"' in page
    n_chars = next(h for h in hists if h["rule"] == "min_n_chars")
    assert sum(n_chars["dropped"]) > 0 and sum(n_chars["kept"]) == kept.num_rows


def test_duplicate_pairs_show_kept_and_dropped_member_of_sampled_clusters(built):
    from curate.dedup.minhash import jaccard
    from curate.report.dup_pairs import PAIR_CLUSTERS, _signature
    from curate.stages.summaries import sample_key

    out, r = built
    every = pa.concat_tables([_read(out, "shards"), _read(out, "rejected")])
    rows = [x for x in every.to_pylist() if x["dup_cluster"]]
    by_cluster: dict[str, list[dict]] = {}
    for x in rows:
        by_cluster.setdefault(x["dup_cluster"], []).append(x)
    sampled = sorted(by_cluster, key=lambda c: (sample_key(c), c))[:PAIR_CLUSTERS]
    with_pair = [c for c in sampled if {m["drop_reason"] is None for m in by_cluster[c]} == {True, False}]
    pairs = r["duplicates"]["pairs"]
    assert [p["cluster"] for p in pairs] == with_pair[: model.PAIRS_SHOWN] and pairs
    page = (out / "report.html").read_text(encoding="utf-8")
    for p in pairs:
        members = {m["id"]: m for m in by_cluster[p["cluster"]]}
        kept, dropped = members[p["kept"]["id"]], members[p["dropped"]["id"]]
        assert kept["drop_reason"] is None and dropped["drop_reason"] in ("exact_dup", "near_dup")
        assert p["size"] == len(members)
        assert dropped["text"].startswith(p["dropped"]["text"].rstrip("…"))
        sig = [np.frombuffer(bytes.fromhex(_signature(m["text"], m["lang"])), "<u4") for m in (kept, dropped)]
        assert p["similarity"] == round(float(jaccard(*sig)), 4)
        assert f"<code>{p['cluster']}</code>" in page
    assert 'class="dup-pairs"' in page


def test_pair_similarity_estimates_the_jaccard_of_shingles():
    from curate.dedup.shingles import shingle_config, shingle_strings
    from curate.report.dup_pairs import _member, similarity

    table = pa.concat_tables(read_tables(str(SAMPLE), batch_size=4096))
    texts = [t for t in table.column("text").to_pylist() if len(t or "") > 400]
    a = texts[0]
    for b in (a, a[: len(a) * 3 // 4], a[len(a) // 2 :] + texts[1]):
        sh = shingle_config(None, "ko")
        sa, sb = (set(shingle_strings(t, sh["kind"], sh["n"])) for t in (a, b))
        exact = len(sa & sb) / len(sa | sb)
        est = similarity(*(_member({"id": "x", "text": t, "lang": "ko", "drop_reason": None}) for t in (a, b)))
        assert abs(est - exact) < 0.15, (exact, est)


def edge_line_keys(out: Path) -> dict[str, set[str]]:
    """doc id -> keys of its first and last lines, as the boilerplate pass reads them
    (none for a one-line text or one with fewer than two distinct keys)."""
    from curate.dedup.line_keys import line_key

    keys_of = {}
    for d in (d for k in ("shards", "rejected") for d in _read(out, k).select(["id", "text"]).to_pylist()):
        lines = (d["text"] or "").split("\n")
        keys = {line_key(x) for x in lines[:32] + lines[-32:]} - {""}
        keys_of[d["id"]] = keys if len(lines) > 1 and len(keys) >= 2 else set()
    return keys_of


def with_boilerplate_summary(out: Path) -> list[str]:
    """Give the curated folder's manifest a dedup summary listing the three lines most
    often found in its multi-line documents (as the dedup pass lists boilerplate lines)."""
    multi = {i for i, keys in edge_line_keys(out).items() if keys}
    texts = [d["text"] for k in ("shards", "rejected") for d in _read(out, k).to_pylist() if d["id"] in multi]
    common = Counter(x.strip() for t in texts for x in set(t.split("\n")) if x.strip())
    listed = [line for line, n in common.most_common(3) if n > 1]
    manifest = json.loads((out / "manifest.json").read_text())
    top = [{"line": line, "clusters": 2} for line in listed]
    manifest["dedup"] = {"boilerplate_lines": len(listed), "resigned_docs": 0, "top_boilerplate": top}
    atomic_write_json(str(out / "manifest.json"), manifest)
    return listed


def test_boilerplate_lines_name_the_documents_that_carry_them(tmp_path):
    from curate.dedup.line_keys import line_key
    from curate.stages.summaries import sample_key

    out = _copy(bundled_dir("ko"), tmp_path / "out")
    listed = with_boilerplate_summary(out)
    r = report.build_report(out)
    kept_ids = set(_read(out, "shards").column("id").to_pylist())
    rows = r["duplicates"]["boilerplate"]["top_boilerplate"]
    assert [x["line"] for x in rows] == listed and listed
    for x in rows:
        carriers = sorted((sample_key(i), i) for i, keys in edge_line_keys(out).items() if line_key(x["line"]) in keys)
        assert x["docs"] == len(carriers) > 1
        assert x["kept_docs"] == sum(i in kept_ids for _, i in carriers)
        assert x["example_id"] == carriers[0][1]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="boilerplate"' in page and f"<code>{rows[0]['example_id']}</code>" in page


def test_html_is_self_contained_and_escaped(built):
    out, r = built
    page = (out / "report.html").read_text(encoding="utf-8")
    # nothing is loaded from elsewhere (document text may well mention URLs)
    import re

    assert not re.findall(r"""(?:src|href)\s*=\s*["'](?!data:|#)""", page)
    assert "<link" not in page and "@import" not in page and not re.findall(r"url\((?!data:)", page)
    assert page.count("@font-face{") == 1 and "url(data:font/woff;base64," in page  # the embedded font
    assert page.count('src="data:image/png;base64,') >= 6
    for f in r["files"]:
        assert f["sha256"] in page and f["path"] in page
    assert r["missing_glyphs"] == []
    # text of the samples appears escaped, never as markup
    assert "<script" not in page


def test_uniform_samples_are_the_smallest_keys_of_all_documents(built):
    from curate.report.stats import sample_key

    out, r = built
    every = pa.concat_tables([_read(out, "shards"), _read(out, "rejected")]).to_pylist()
    by_decile: dict[str, list] = {}
    for d in every:
        if d["quality_score"] is not None:
            by_decile.setdefault(str(min(9, int(d["quality_score"] * 10))), []).append(d)
    assert set(r["samples"]["quality_decile"]) == set(by_decile)
    for dec, docs in by_decile.items():
        want = [d["id"] for d in sorted(docs, key=lambda d: (sample_key(d["id"]), d["id"]))[:3]]
        assert [d["id"] for d in r["samples"]["quality_decile"][dec]] == want, dec


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_uniform_samples_of_bundled_corpora_show_kept_documents(lang, tmp_path):
    out = _copy(bundled_dir(lang), tmp_path / lang)
    r = report.build_report(out)
    shown = [d for docs in r["samples"]["quality_decile"].values() for d in docs]
    kept = [d for d in shown if d["drop_reason"] is None]
    # most judged documents are kept: a uniform sample cannot be all dropped ones
    assert r["counts"]["kept"] > r["counts"]["rejected"] / 2 and kept, [d["drop_reason"] for d in shown]


def test_missing_stats_file_is_recomputed_from_shard(built, tmp_path):
    out, r = built
    copy = _copy(out, tmp_path / "copy")
    victim = sorted((copy / "stats").glob("rejected-*.json"))[0]
    victim.unlink()
    r2 = model.compute_report(copy)
    assert r2["stats_recomputed"] == [f"rejected/{victim.stem.split('-', 1)[1]}.parquet"]
    for key in ("counts", "drop_reasons", "languages", "length_chars", "quality_rules", "duplicates", "pii"):
        assert r2[key] == r[key], key


def test_stats_file_of_an_older_version_is_recomputed(built, tmp_path):
    out, r = built
    copy = _copy(out, tmp_path / "copy")
    old = sorted((copy / "stats").glob("shards-*.json"))[0]
    stale = json.loads(old.read_text(encoding="utf-8"))
    stale["stats_version"] -= 1
    stale["rows"] += 1000  # a number an older version could have got wrong
    old.write_text(json.dumps(stale), encoding="utf-8")
    r2 = model.compute_report(copy)
    assert r2["stats_recomputed"] == [f"shards/{old.stem.split('-', 1)[1]}.parquet"]
    for key in ("counts", "quality_rules", "samples", "sources"):
        assert r2[key] == r[key], key


def test_report_cli(built, tmp_path, capsys):
    out, _ = built
    copy = _copy(out, tmp_path / "c")
    (copy / "report.html").unlink()
    assert report.main([str(copy)]) == 0
    assert (copy / "report.html").exists() and not list(copy.glob("*.tmp-*"))
    assert report.main([str(tmp_path / "nothing")]) == 2


def test_empty_run_still_reports(tmp_path):
    atomic_write_json(
        str(tmp_path / "manifest.json"),
        {
            "lang": "ko",
            "stages": ["normalize"],
            "counts": {"read": 0, "kept": 0, "rejected": 0, "quarantined": 0},
            "shards": [],
            "rejected": [],
            "quarantine": [],
        },
    )
    r = report.build_report(tmp_path)
    assert r["counts"]["kept"] == 0 and r["drop_reasons"] == {}
    assert "Shard quality report" in (tmp_path / "report.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- stats merging
def _real_table() -> pa.Table:
    return pa.concat_tables(_read(curated_dir(), k) for k in ("shards", "rejected"))


EXACT_KEYS = (
    "rows",
    "kept",
    "chars",
    "words",
    "chars_by_reason",
    "drop_reasons",
    "lang",
    "source",
    "hist",
    "quality_decile",
    "pii",
    "pii_docs",
    "rules",
    "dup_clusters",
    "samples",
    "signal_hist",
    "cluster_pairs",
)


@pytest.mark.parametrize("seed", [0, 1])
def test_merge_of_any_split_equals_whole(seed):
    table = _real_table()
    rules = quality_rules(load_recipe("ko"), "ko")
    table = table.take(pa.array(np.random.default_rng(seed).permutation(table.num_rows)))
    whole = table_stats(table, rules=rules)
    cuts = sorted(random.Random(seed).sample(range(1, table.num_rows), 4))
    parts = [table_stats(table.slice(a, b - a), rules=rules) for a, b in zip([0] + cuts, cuts + [table.num_rows])]
    merged = merge_stats(json.loads(json.dumps(parts)))  # through JSON, as the files are
    for k in EXACT_KEYS:
        assert merged[k] == json.loads(json.dumps(whole[k])), k
    assert merge_stats([merged]) == merged


def test_pii_counts_sum_over_slices():
    # map columns: the per-kind sums must respect slicing (a sliced MapArray's .keys do not)
    table = _real_table()
    maps = [
        [("email", t.count("@")), ("tel", t.count("0"))] if i % 3 else []
        for i, t in enumerate(table.column("text").to_pylist())
    ]
    table = table.set_column(
        table.schema.get_field_index("pii_counts"),
        SHARD_SCHEMA.field("pii_counts"),
        pa.array(maps, SHARD_SCHEMA.field("pii_counts").type),
    )
    want = Counter()
    docs = Counter()
    for m in maps:
        for k, v in m:
            want[k] += v
            docs[k] += v > 0
    parts = [table_stats(table.slice(a, 40)) for a in range(0, table.num_rows, 40)]
    merged = merge_stats(parts)
    assert merged["pii"] == {k: v for k, v in want.items() if v} and merged["pii"]["tel"] > 0
    assert merged["pii_docs"] == {k: v for k, v in docs.items() if v}


def test_repeated_lines_summary_bounds():
    # documents made of real lines, so that lines repeat across documents and shards
    texts = _real_table().column("text").to_pylist()
    lines = [l for t in texts for l in t.split("\n") if len(l.strip()) >= 4][:60]
    rng = random.Random(3)
    weights = [1 / (i + 1) for i in range(len(lines))]  # Zipf-like: a few lines repeat a lot
    docs = ["\n".join(rng.choices(lines, weights, k=rng.randint(1, 6))) for _ in range(1500)]
    truth = Counter(l.strip()[:200] for d in docs for l in d.split("\n"))
    table = pa.table({"id": [str(i) for i in range(len(docs))], "text": docs}).cast(
        pa.schema([SHARD_SCHEMA.field("id"), SHARD_SCHEMA.field("text")])
    )
    full = SHARD_SCHEMA.empty_table().to_pydict()
    for name in SHARD_SCHEMA.names:
        full[name] = (
            table.column(name) if name in table.column_names else pa.nulls(len(docs), SHARD_SCHEMA.field(name).type)
        )
    table = pa.table(full, schema=SHARD_SCHEMA)
    import curate.report.stats as stats

    old = stats.TOP_LINES
    stats.TOP_LINES = 10  # small summaries so that the bound matters
    try:
        parts = [table_stats(table.slice(i, 100)) for i in range(0, len(docs), 100)]
    finally:
        stats.TOP_LINES = old
    merged = merge_stats(parts)["top_lines"]
    assert len(merged["items"]) == 10
    for line, (count, err) in merged["items"].items():
        assert count <= truth[line] <= count + err
    for line, n in truth.items():
        if line not in merged["items"]:
            assert n <= merged["floor"]
    top3 = [l for l, _ in truth.most_common(3)]
    assert all(l in merged["items"] for l in top3)


# ---------------------------------------------------------------------------- fonts
def test_korean_title_renders_with_cjk_font_and_fails_without():
    import matplotlib.pyplot as plt

    from curate.report.fonts import find_cjk_font, use_cjk_font

    name = use_cjk_font()
    assert name and Path(find_cjk_font()).exists()

    def glyph_warnings(family):
        fig, ax = plt.subplots()
        ax.set_title("언어 구성 / 言語構成 / ひらがな", family=family)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.canvas.draw()
        plt.close(fig)
        return [w for w in caught if "missing from font" in str(w.message)]

    assert glyph_warnings(name) == []
    assert glyph_warnings("DejaVu Sans")  # the check can fail: DejaVu has no Hangul


# ---------------------------------------------------------------------------- wording
def _plot_titles(r: dict, monkeypatch) -> list[str]:
    titles = []
    png = plots.Plots.png

    def record(self, fig, **kw):
        titles.extend(ax.get_title() for ax in fig.axes)
        return png(self, fig, **kw)

    monkeypatch.setattr(plots.Plots, "png", record)
    plots.render_plots(r)
    return titles


def test_chart_titles_are_in_the_run_language(built, monkeypatch):
    import re

    _, r = built
    hangul, kana = re.compile("[\uac00-\ud7a3]"), re.compile("[\u3040-\u30ff]")
    japanese = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")  # kana or kanji ("言語構成" is all kanji)
    for lang, own, other in (("ko", hangul, japanese), ("ja", japanese, hangul)):
        titles = _plot_titles(dict(r, lang=lang), monkeypatch)
        assert any("language mix" in t for t in titles)
        assert not any(other.search(t) for t in titles), (lang, titles)
        assert any(own.search(t) for t in titles), (lang, titles)
    titles = _plot_titles(dict(r, lang="en"), monkeypatch)
    assert not any(hangul.search(t) or kana.search(t) for t in titles)


def test_counts_are_pluralized(built):
    _, r = built
    assert fmt.plural(1, "time") == "1 time" and fmt.plural(2, "time") == "2 times"
    assert fmt.plural(1200, "document") == "1,200 documents"
    line = {"line": "이 영화 정말 재밌어요", "count": 4, "err": 0}
    for floor in (1, 3):
        page = render_html(dict(r, top_lines={"floor": floor, "lines": [line]}), {})
        assert "1 times" not in page
        assert ("at most 1 time." if floor == 1 else "at most 3 times.") in page


def test_no_repeated_lines_is_said_once(built):
    _, r = built
    line = {"line": "이 영화 정말 재밌어요", "count": 4, "err": 0}
    page = render_html(dict(r, top_lines={"floor": 1, "lines": [line]}), {"top_lines": "AAAA"})
    assert "most a count" in page and "No line of 4" not in page
    for floor in (0, 2):
        page = render_html(dict(r, top_lines={"floor": floor, "lines": []}), {})
        section = page[page.index('id="lines"') : page.index('id="samples"')]
        assert "no data" not in section and "<img" not in section
        assert section.count("No line of 4 or more characters occurs twice") == 1
        assert ("at most 2 times in all" in section) == (floor == 2)


# ---------------------------------------------------------------------------- rule documentation
def test_key_comments_reads_comments_beside_and_above_keys():
    from curate.report.rule_docs import key_comments

    text = (
        "# file header, about no key\n# second header line\n\n"
        "a: 1   # beside a\n"
        "# above b\n# more about b\n"
        "b: 'x # not a comment' # beside b\n"
        "c: 2\n"
        "# orphan, a blank line follows\n\n"
        "d:\n  nested: 3 # nested keys are not thresholds\n"
        "e: path/to#file\n"
    )
    assert key_comments(text) == {"a": "beside a", "b": "above b more about b beside b"}


def test_each_rule_says_what_it_means_its_threshold_and_why(built):
    from curate.report.rule_docs import SIGNAL_MEANING, rule_docs

    out, r = built
    recipe_text = (Path(__file__).parent.parent / "pipelines/recipes/quality/ko.yaml").read_text(encoding="utf-8")
    lines = {l.split(":", 1)[0]: l for l in recipe_text.splitlines() if l and not l[0].isspace() and ":" in l}
    manifest = json.loads((out / "manifest.json").read_text())
    applied = {x[0]: x for x in quality_rules(manifest["recipe"], "ko")}
    for x in r["quality_rules"]["rules"]:
        name, signal, bound, thr = applied[x["rule"]]
        assert (x["signal"], x["bound"], x["threshold"]) == (signal, bound, thr)
        assert x["meaning"] == SIGNAL_MEANING[signal]
        assert x["source"] == "pipelines/recipes/quality/ko.yaml"
        assert x["why"] and x["why"] in lines[name], name  # the comment on the threshold's own line
    assert r["quality_rules"]["rules"][0]["why"].startswith("Polyglot-Ko removes < 50")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "What each rule checks" in page and "≥ 10" in page and "Polyglot-Ko removes &lt; 50" in page
    # a threshold the run's recipe changed is not explained by the default file's comment
    changed = rule_docs([("min_n_chars", "n_chars", "min", 25.0)], "ko")["min_n_chars"]
    assert changed["source"] == "recipe" and changed["why"].startswith("set by the run's recipe; ")
    assert "has 10" in changed["why"]


def test_failing_examples_show_value_and_threshold(built):
    out, r = built
    rules = {x["rule"]: x for x in r["quality_rules"]["rules"]}
    rejected = {d["id"]: d for d in _read(out, "rejected").to_pylist()}
    page = (out / "report.html").read_text(encoding="utf-8")
    seen = 0
    for reason, docs in r["samples"]["drop_reason"].items():
        for d in docs:
            if not reason.startswith("quality:"):
                assert d["rule_value"] is None
                continue
            rule = rules[reason.split(":", 1)[1]]
            v = d["rule_value"]
            assert v == pytest.approx(rejected[d["id"]]["quality_signals"][rule["signal"]], abs=1e-4)
            assert (v < rule["threshold"]) if rule["bound"] == "min" else (v > rule["threshold"])
            assert (
                f"{rule['signal']} = {v:g}</b> (must be {'≥' if rule['bound'] == 'min' else '≤'} {rule['threshold']:g})"
                in page
            )
            seen += 1
    assert seen >= 3


def test_boilerplate_counts_from_staged_line_hashes_equal_counts_from_text(tmp_path):
    """Pass 2 takes the live rows' lines from the hashes pass 1 staged (LineDocs.known)
    and keys the others' text: the same counts as keying every text."""
    import numpy as np
    import pyarrow as pa

    from curate.dedup.boilerplate import line_hash_array
    from curate.report.boilerplate_docs import LineDocs

    out = _copy(bundled_dir("ko"), tmp_path / "out")
    listed = [{"line": line, "clusters": 2} for line in with_boilerplate_summary(out)]
    table = pa.concat_tables([_read(out, k).select(["id", "text"]) for k in ("shards", "rejected")])
    kept = np.arange(table.num_rows) % 3 != 0
    written = np.arange(table.num_rows) % 7 != 0
    from_text = LineDocs(listed)
    from_text.add(table.filter(pa.array(written)), kept[written])
    staged = np.flatnonzero(np.arange(table.num_rows) % 2 == 0)  # half the rows "live" in pass 1
    from_hashes = LineDocs(listed)
    hashes = line_hash_array(table.column("text").take(staged).to_pylist())
    known = from_hashes.known(hashes, staged)
    assert known.hits and from_hashes.wanted
    from_hashes.add(table, kept, known, written=written)
    assert from_hashes.rows() == from_text.rows() and all(x["docs"] >= 1 for x in from_text.rows())
