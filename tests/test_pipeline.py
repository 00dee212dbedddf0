"""End-to-end runs of `curate corpus` through Ray on real text."""

import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import ray

from curate.report.boilerplate_docs import boilerplate_docs
from pipelines.corpus import run_corpus

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def sha256_file(path: str) -> str:
    """Checked independently of the code under test."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _rows(out: Path, kind: str) -> list[dict]:
    rows = []
    for f in sorted((out / kind).glob("*.parquet")):
        rows += pq.read_table(f).to_pylist()
    return rows


def _lines(path: Path) -> int:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return sum(1 for _ in f)


def test_bundled_sample_end_to_end(tmp_path):
    """The default Korean recipe, every stage, on the bundled sample."""
    out = tmp_path / "ko"
    manifest = run_corpus([str(SAMPLE / "ko.jsonl.gz")], str(out), "ko", progress=False)
    kept, rejected, quarantined = _rows(out, "shards"), _rows(out, "rejected"), _rows(out, "quarantine")
    n_in = _lines(SAMPLE / "ko.jsonl.gz")
    assert len(kept) + len(rejected) + len(quarantined) == n_in == manifest["counts"]["read"]
    assert all(r["drop_reason"] is None for r in kept)
    assert all(r["drop_reason"] for r in rejected)
    reasons = {r["drop_reason"] for r in rejected}
    assert {"langid:other_lang", "near_dup", "quality:min_n_chars"} <= reasons
    assert {r["lang"] for r in kept} == {"ko"}
    # duplicates point at a kept document of their cluster; every edited copy is caught:
    # it shares a cluster with its original and exactly one of the two is kept (which one
    # is the keeper rule's choice: their quality scores differ by a few thousandths)
    kept_ids = {r["id"] for r in kept}
    dups = [r for r in rejected if r["drop_reason"] in ("exact_dup", "near_dup")]
    assert dups and all(r["dup_of"] in kept_ids and r["dup_cluster"] == r["dup_of"] for r in dups)
    by_id = {r["id"]: r for r in kept + rejected}
    edited = [r for r in by_id.values() if r["source"] == "ko-news (edited copy)"]
    assert len(edited) >= 30
    for copy in edited:
        original = by_id[copy["id"].removesuffix("-edited")]
        assert copy["dup_cluster"] is not None and copy["dup_cluster"] == original["dup_cluster"], copy["id"]
        assert {copy["drop_reason"], original["drop_reason"]} == {None, "near_dup"}, copy["id"]
    # synthetic identifiers are scrubbed and counted
    pii_rows = [r for r in kept + rejected if r["source"].endswith("synthetic identifier")]
    assert pii_rows and all(dict(r["pii_counts"]) for r in pii_rows)
    assert not any("010-" in r["text"] for r in pii_rows)
    assert all(r["quality_score"] is not None for r in kept)
    # laughter runs are squeezed
    assert not any("ㅋㅋㅋㅋㅋ" in r["text"] for r in kept)
    # manifest: inputs, checksums, per-stage counts
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["counts"] == manifest["counts"]
    assert on_disk["inputs"][0]["sha256"] == sha256_file(str(SAMPLE / "ko.jsonl.gz"))
    for entry in on_disk["shards"] + on_disk["rejected"]:
        assert sha256_file(str(out / entry["path"])) == entry["sha256"]
    per_stage = on_disk["counts"]["per_stage"]
    assert list(per_stage) == ["extract", "normalize", "urlfilter", "langid", "pii", "quality", "dedup"]
    assert per_stage["langid"]["dropped"] == sum(r["drop_reason"] == "langid:other_lang" for r in rejected)
    assert per_stage["dedup"]["out"] == len(kept)
    assert (out / "report.html").stat().st_size > 10_000
    report = json.loads((out / "report.json").read_text())
    assert json.dumps(report).count("near_dup") >= 1
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


def test_bad_inputs_are_quarantined_not_lost(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    good = [
        {"text": "흡연자분들은 발코니가 있는 방이면 발코니에서 흡연이 가능합니다."},
        {"text": "어떤 방에서도 흡연은 금지됩니다."},
    ]
    lines = b"".join(json.dumps(d, ensure_ascii=False).encode() + b"\n" for d in good)
    (src / "good.jsonl").write_bytes(lines + b'{"text": "\xff\xfe"}\n{"broken\n{"title": "x"}\n')
    big = gzip.compress(
        b"".join(json.dumps({"text": f"뉴스 문장 {i} " * 30}, ensure_ascii=False).encode() + b"\n" for i in range(300))
    )
    (src / "cut.jsonl.gz").write_bytes(big[: len(big) // 2])
    (src / "empty.jsonl").write_bytes(b"")
    (src / "huge.jsonl").write_text(json.dumps({"text": "가" * 2_000_001}, ensure_ascii=False) + "\n")
    out = tmp_path / "out"
    manifest = run_corpus([str(src)], str(out), "ko", stages=["normalize", "langid"], progress=False)
    quarantine = _rows(out, "quarantine")
    errors = " | ".join(r["error"] for r in quarantine)
    for needle in ("invalid UTF-8", "malformed JSON", "no 'text'", "truncated", "empty file", "document too large"):
        assert needle in errors
    assert all(":" in r["origin"] and r["origin"].split(":")[0].endswith((".jsonl", ".gz")) for r in quarantine)
    c = manifest["counts"]
    assert c["read"] == c["kept"] + c["rejected"] + c["quarantined"] and c["quarantined"] == len(quarantine)


def test_worker_count_does_not_change_shards(tmp_path):
    shards = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        run_corpus(
            [str(SAMPLE / "ja.jsonl.gz")],
            str(out),
            "ja",
            stages=["normalize", "langid", "dedup"],
            workers=workers,
            batch_size=256,
            progress=False,
        )
        shards.append([sha256_file(str(p)) for p in sorted((out / "shards").glob("*.parquet"))])
    assert shards[0] == shards[1] and shards[0]


def test_dedup_partitions_do_not_change_the_result(tmp_path):
    recipe = tmp_path / "ja.yaml"
    recipe.write_text(
        (ROOT / "pipelines" / "recipes" / "ja.yaml")
        .read_text()
        .replace("distributed_above_docs: 2000000", "partition_docs: 200\n  one_task_docs: 0")
    )
    kept = []
    for name, rec in (("one-task", None), ("partitioned", str(recipe))):
        out = tmp_path / name
        run_corpus(
            [str(SAMPLE / "ja.jsonl.gz")],
            str(out),
            "ja",
            recipe_file=rec,
            stages=["normalize", "langid", "dedup"],
            progress=False,
        )
        kept.append([(r["id"], r["dup_cluster"]) for r in _rows(out, "shards")])
        rejected = _rows(out, "rejected")
        assert any(r["drop_reason"] == "near_dup" for r in rejected)
    assert kept[0] == kept[1]


def test_dedup_sees_through_site_chrome(tmp_path):
    """Short real sentences, bare and inside site chrome, over two input files: the
    boilerplate pass reads the staged texts back, and one page of every pair goes as
    near_dup, with one shuffle partition and with several; unrelated pages of the site stay."""
    from chrome_pages import pages_in_chrome

    texts, family = pages_in_chrome("ja")
    docs = [{"id": f"f{f}-{i}", "text": t} for i, (t, f) in enumerate(zip(texts, family))]
    inputs = []
    for k, part in enumerate((docs[: len(docs) // 2], docs[len(docs) // 2 :])):
        path = tmp_path / f"pages-{k}.jsonl"
        path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in part), encoding="utf-8")
        inputs.append(str(path))
    recipe = tmp_path / "ja.yaml"
    recipe.write_text(
        (ROOT / "pipelines" / "recipes" / "ja.yaml")
        .read_text()
        .replace("distributed_above_docs: 2000000", "partition_docs: 200\n  one_task_docs: 0")
    )
    pairs = {f for f in family if family.count(f) == 2}
    for name, rec in (("one-task", None), ("partitioned", str(recipe))):
        out = tmp_path / name
        manifest = run_corpus(inputs, str(out), "ja", recipe_file=rec, stages=["normalize", "dedup"], progress=False)
        summary = manifest["dedup"]
        assert summary["boilerplate_lines"] >= 6 and summary["resigned_docs"] >= len(pairs)
        assert {"この記事をシェアする", "トップページへ戻る"} <= {x["line"] for x in summary["top_boilerplate"]}
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        shown = report["duplicates"]["boilerplate"]  # the manifest's lines, with the documents that carry them
        assert shown["top_boilerplate"] == summary["top_boilerplate"]  # as pass 2 counted them
        bare = [{"line": x["line"], "clusters": x["clusters"]} for x in summary["top_boilerplate"]]
        assert (
            boilerplate_docs(str(out), dict(manifest, dedup=dict(summary, top_boilerplate=bare)))
            == shown["top_boilerplate"]
        )  # the same as the report reads them from the shards
        assert {k: v for k, v in shown.items() if k != "top_boilerplate"} == {
            k: v for k, v in summary.items() if k != "top_boilerplate"
        }
        assert all(x["docs"] >= x["kept_docs"] and x["docs"] >= 1 for x in shown["top_boilerplate"])
        assert "この記事をシェアする" in (out / "report.html").read_text(encoding="utf-8")
        removed = [r["id"] for r in _rows(out, "rejected") if r["drop_reason"] == "near_dup"]
        removed_families = [int(i[1:].split("-")[0]) for i in removed]
        assert len(set(removed_families)) == len(removed_families)  # one page per pair, never both
        assert set(removed_families) <= pairs  # no page of the site without a copy
        assert len(removed) >= 0.98 * len(pairs), (name, len(removed), len(pairs))


def test_exact_only_run_keeps_the_document_a_near_run_keeps(tmp_path):
    """One keeper rule for both dedup paths (curate/dedup/keeper.py): of exact duplicates
    (the same text up to case, width, spacing and punctuation) the best member is kept,
    here the longer copy that comes second in input order, with or without near dedup."""
    with gzip.open(SAMPLE / "ko.jsonl.gz", "rt", encoding="utf-8") as f:
        texts = [t for t in (json.loads(line)["text"] for line in f) if 200 <= len(t) <= 600][:3]
    docs = [
        {"id": "first", "text": texts[0]},
        {"id": "second", "text": texts[0] + " !!"},  # the same dedup key, more characters
        {"id": "other-1", "text": texts[1]},
        {"id": "other-2", "text": texts[2]},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    for near in ("false", "true"):
        recipe = tmp_path / f"near-{near}.yaml"
        recipe.write_text(f"lang: ko\nstages: [normalize, dedup]\ndedup: {{near: {near}}}\n")
        out = tmp_path / f"out-{near}"
        manifest = run_corpus([str(path)], str(out), "ko", recipe_file=str(recipe), progress=False)
        assert manifest["near_dedup"] is (near == "true")
        assert sorted(r["id"] for r in _rows(out, "shards")) == ["other-1", "other-2", "second"], near
        (dropped,) = _rows(out, "rejected")
        assert (dropped["id"], dropped["drop_reason"], dropped["dup_of"]) == ("first", "exact_dup", "second"), near


def test_command_line_files_go_into_the_recipe_or_are_named(tmp_path):
    from curate.io.readers import InputError
    from curate.recipe import apply_cli_options, load_recipe

    recipe = load_recipe("ko")
    with pytest.raises(FileNotFoundError, match=r"nope\.bin: language-ID model not found"):
        apply_cli_options(recipe, None, langid_model=str(tmp_path / "nope.bin"))
    bogus = tmp_path / "lid.bin"
    bogus.write_bytes(b"not a fastText model at all")
    with pytest.raises(InputError, match=r"lid\.bin: not a fastText model"):
        apply_cli_options(recipe, None, langid_model=str(bogus))
    with pytest.raises(FileNotFoundError, match="benchmark file or decontamination index not found"):
        apply_cli_options(recipe, None, decontam_index=str(tmp_path / "none.npz"))
    assert apply_cli_options(recipe, ["normalize"]) == ["normalize"]  # no files: nothing changes
    assert "decontam" not in recipe
    bench = tmp_path / "bench.jsonl"
    bench.write_text('{"text": "a benchmark question"}\n', encoding="utf-8")
    assert apply_cli_options(recipe, ["normalize"], benchmarks=[str(bench)]) == ["normalize", "decontam"]
    assert recipe["decontam"]["benchmarks"] == [os.path.abspath(bench)]
    assert "include" not in recipe["decontam"] and len(recipe["decontam"]) > 1  # over the defaults


def test_failed_run_leaves_previous_output_intact(tmp_path, monkeypatch):
    out = tmp_path / "out"
    run_corpus([str(SAMPLE / "ja.jsonl.gz")], str(out), "ja", stages=["normalize"], progress=False)
    before = (out / "manifest.json").read_text()
    shard = sorted((out / "shards").glob("*.parquet"))[0]
    checksum = sha256_file(str(shard))
    bogus = tmp_path / "broken-recipe.yaml"
    bogus.write_text("lang: ja\nstages: [normalize, langid]\nlangid: {model: /nonexistent/lid.bin}\n")
    with pytest.raises(Exception):  # noqa: B017 (a crash inside a stage worker, whatever its type)
        run_corpus([str(SAMPLE / "ja.jsonl.gz")], str(out), "ja", recipe_file=str(bogus), progress=False)
    assert (out / "manifest.json").read_text() == before
    assert sha256_file(str(shard)) == checksum
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


def _curate_corpus(*args: str) -> subprocess.CompletedProcess:
    """`curate corpus --lang ko ARGS` as a user runs it, from the repo root."""
    cmd = [sys.executable, "-m", "curate.cli", "corpus", "--lang", "ko", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)


def test_cli_errors_name_the_problem(tmp_path):
    missing = tmp_path / "nope.jsonl"
    proc = _curate_corpus("--input", str(missing), "--output", str(tmp_path / "o"))
    assert proc.returncode == 2 and str(missing) in proc.stderr
    proc = _curate_corpus(
        "--input", str(SAMPLE / "ko.jsonl.gz"), "--output", str(tmp_path / "o"), "--stages", "normalize,bogus"
    )
    assert proc.returncode == 2 and "bogus" in proc.stderr


def test_unknown_stage_fails_clearly():
    from curate.recipe import STAGE_ORDER, RecipeError, load_recipe, select_stages
    from curate.stages.registry import BATCH_STAGES

    assert STAGE_ORDER == [stage.name for stage in BATCH_STAGES] + ["dedup"]
    with pytest.raises(
        RecipeError, match=r"unknown stage\(s\): piii \(known: extract, .*, pii, quality, perplexity, dedup\)"
    ):
        select_stages(load_recipe("ko"), ["normalize", "piii"])
    assert select_stages(load_recipe("ko"), ["pii", "dedup"]) == ["extract", "normalize", "pii", "dedup"]


def _recipe_errors(tmp_path, texts) -> dict[str, str]:
    """The RecipeError each recipe text gives when loaded, its file's path written PATH."""
    from curate.recipe import RecipeError, load_recipe

    errors = {}
    for i, text in enumerate(texts):
        path = tmp_path / f"r{i}.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(RecipeError) as exc:
            load_recipe("ko", str(path))
        errors[text] = str(exc.value).replace(str(path), "PATH")
    return errors


def test_stage_settings_are_checked_when_the_recipe_loads(tmp_path):
    """A wrong key, type or range in a stage's section fails at load time, naming the
    recipe file, the stage and the key (not inside a worker)."""
    cases = {
        "langid:\n  model: /nonexistent/lid.bin\n": "langid: model: /nonexistent/lid.bin: file not found",
        "langid:\n  min_score: 2\n": "langid: min_score: must be between 0.0 and 1.0",
        "langid:\n  keep: [ko, 3]\n": "langid: keep: must be a string or a list of strings",
        "normalize:\n  max_repeat: many\n": "normalize: max_repeat: must be a whole number",
        "normalize:\n  max_repaet: 3\n": "normalize: max_repaet: unknown setting",
        "pii:\n  mode: mask\n": "pii: mode: must be one of replace, drop",
        "pii:\n  kinds: [ssn]\n": "pii: kinds: unknown pii kinds",
        "quality:\n  min_no_such_signal: 1\n": "quality: min_no_such_signal: unknown setting or rule",
        "quality:\n  min_n_chars: short\n": "quality: min_n_chars: a threshold must be a number",
        "quality:\n  model: /nonexistent/q.bin\n": "quality: model: /nonexistent/q.bin: file not found",
        "urlfilter:\n  blocked_domains: [no_such_list.txt]\n": "urlfilter: blocked_domains: .*no_such_list.txt: list file not found",
        "decontam:\n  action: keep\n": "decontam: action: must be one of drop, cut",
        "decontam:\n  char: {n: 10, min_match: 5}\n": "decontam: char.min_match: must be >= char.n",
        "extract:\n  favor_precision: maybe\n": "extract: favor_precision: must be true or false",
    }
    for text, message in _recipe_errors(tmp_path, cases).items():
        assert re.match(f"PATH: {cases[text]}", message), message


def test_recipe_mistakes_are_named_before_the_run(tmp_path):
    from curate.recipe import RecipeError, load_recipe

    cases = {
        "dedup:\n  threshhold: 0.5\n": "threshhold",  # misspelt: would silently use the default
        "dedup:\n  threshold: 5.0\n": "threshold",
        "dedup:\n  bands: 0\n": "bands",
        "stages: normalize\n": "stages",
        "langid: [ko]\n": "langid",
        "- normalize\n": "mapping",
    }
    for text, message in _recipe_errors(tmp_path, cases).items():
        assert re.search(cases[text], message), message
    (tmp_path / "latin1.yaml").write_bytes("stages: [normalize]  # caf\xe9\n".encode("latin-1"))
    with pytest.raises(RecipeError, match="not UTF-8"):
        load_recipe("ko", str(tmp_path / "latin1.yaml"))
    ok = tmp_path / "ok.yaml"
    ok.write_text("stages: [normalize, langid]\nlangid:\n  keep: ko\n", encoding="utf-8")
    from curate.stages.langid import LangIdStage

    assert LangIdStage.from_section(load_recipe("ko", str(ok))["langid"], "ko").settings.keep == {
        "ko"
    }  # one code, not its letters


def test_output_folder_inside_an_input_folder_is_not_read_back(tmp_path):
    from pipelines.corpus import _outside_output

    inputs = [
        str(tmp_path / "a.jsonl"),
        str(tmp_path / "out" / "shards" / "part-00000.parquet"),
        str(tmp_path / "out" / "manifest.json"),
    ]
    assert _outside_output(inputs, str(tmp_path / "out")) == inputs[:1]
    assert _outside_output(inputs[:1], str(tmp_path / "outside")) == inputs[:1]


def test_cli_rejects_bad_counts_and_a_file_as_output(tmp_path):
    sample = str(SAMPLE / "ko.jsonl.gz")
    for flag in ("--workers", "--batch-size", "--shard-rows"):
        proc = _curate_corpus("--input", sample, "--output", str(tmp_path / "o"), flag, "0")
        assert proc.returncode == 2 and flag in proc.stderr, flag
    taken = tmp_path / "taken"
    taken.write_text("x")
    proc = _curate_corpus("--input", sample, "--output", str(taken), "--stages", "normalize")
    assert proc.returncode == 2 and "not a folder" in proc.stderr and "Traceback" not in proc.stderr
