"""`curate compare A B`: numbers side by side, the recipe difference, documents whose fate changed."""

from __future__ import annotations

import json
from pathlib import Path

from test_report import SAMPLE, _read, build_curated_dir, curated_dir

from curate.report import compare
from curate.report.run_diff import ABSENT, fate_changes, format_recipe_diff, recipe_diff


def test_compare_shows_what_a_stage_changes(capsys):
    a = curated_dir()
    b = curated_dir(("normalize", "langid", "pii", "dedup"))
    rows = {
        (s, n): (x, y)
        for s, n, x, y in compare.compare_rows(compare.load_numbers(str(a)), compare.load_numbers(str(b)))
    }
    kept_a, kept_b = rows[("counts", "kept")]
    quality_drops = sum(x for (s, n), (x, _) in rows.items() if s == "dropped" and n.startswith("quality:"))
    assert quality_drops > 0 and all(
        y == 0 for (s, n), (_, y) in rows.items() if s == "dropped" and n.startswith("quality:")
    )
    assert kept_b > kept_a
    assert compare.main([str(a), str(b), "--changed"]) == 0
    printed = capsys.readouterr().out
    assert "quality:min_n_chars" in printed and "counts" in printed


def _fates(out: Path) -> dict[str, str]:
    """Each document's fate read straight from the shard files."""
    kept = {i: "kept" for i in _read(out, "shards").column("id").to_pylist()}
    rejected = _read(out, "rejected").to_pydict()
    return {**kept, **dict(zip(rejected["id"], rejected["drop_reason"]))}


def test_documents_whose_fate_changed(capsys):
    a, b = curated_dir(), curated_dir(("normalize", "langid", "pii", "dedup"))
    fa, fb = _fates(a), _fates(b)
    want = {i for i in fa if fa[i] != fb.get(i)}
    changed, total = fate_changes(str(a), str(b))
    read = json.loads((a / "manifest.json").read_text(encoding="utf-8"))["counts"]["read"]
    assert {i for i, _, _ in changed} == want and want and total == read  # quarantined records too
    assert all((fa[i], fb[i]) == (before, after) for i, before, after in changed)
    assert any(before == "quality:min_n_chars" and after == "kept" for _, before, after in changed)

    assert compare.main([str(a), str(b), "--changed", "--limit", "3"]) == 0
    printed = capsys.readouterr().out
    section = printed.split("documents whose fate changed: ")[1].split("\n\n")[0].splitlines()
    assert section[0] == f"{len(want):,} of {total:,} (by id; showing 3)" and len(section) == 4
    i, before, after = changed[0]
    assert section[1].split() == [i, before, "->", after]


def test_recipe_difference(capsys, tmp_path):
    a, b = curated_dir(), curated_dir(("normalize", "langid", "pii", "dedup"))
    assert compare.main([str(a), str(b)]) == 0
    said = capsys.readouterr()
    assert "recipe (A -> B):\n  changed  stages: " in said.out
    assert '"quality", "dedup"] -> ["normalize", "langid", "pii", "dedup"]' in said.out
    assert said.err == ""  # same language, same input: no warning

    # the recipe a run wrote, with one threshold changed, one key added and one removed
    manifest = json.loads((a / "manifest.json").read_text(encoding="utf-8"))
    other = json.loads(json.dumps(manifest))
    other["recipe"]["quality"]["min_n_chars"] = manifest["recipe"]["quality"]["min_n_chars"] + 5
    other["recipe"]["quality"]["max_extra"] = 2
    del other["recipe"]["langid"]["min_score"]
    diff = recipe_diff(manifest, other)
    n = manifest["recipe"]["quality"]["min_n_chars"]
    assert diff == [
        ("langid.min_score", manifest["recipe"]["langid"]["min_score"], ABSENT),
        ("quality.min_n_chars", n, n + 5),
        ("quality.max_extra", ABSENT, 2),
    ]
    text = format_recipe_diff(diff)
    assert f"  changed  quality.min_n_chars: {n} -> {n + 5}" in text
    assert "  added    quality.max_extra: (absent) -> 2" in text and "  removed  langid.min_score: " in text
    assert recipe_diff(manifest, manifest) == [] and format_recipe_diff([]) == "recipe: the same"


def test_warns_when_language_or_inputs_differ(capsys, tmp_path):
    a = curated_dir()
    ja = build_curated_dir(tmp_path / "ja", ["normalize", "langid"], lang="ja")
    assert ja["lang"] == "ja"
    part = tmp_path / "part.jsonl"
    part.write_text("".join(SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)[:60]), encoding="utf-8")
    build_curated_dir(tmp_path / "part", ["normalize", "langid"], sample=part)

    assert compare.main([str(a), str(tmp_path / "ja")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == ["warning: the runs curate different languages (A ko, B ja)"]
    assert compare.main([str(a), str(tmp_path / "part")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("warning: the runs read different inputs (A ")
    assert str(part) in err[0]


def test_json_rows_keep_one_shape(capsys):
    a, b = curated_dir(), curated_dir(("normalize", "langid", "pii", "dedup"))
    assert compare.main([str(a), str(b), "--changed", "--json", "--limit", "2"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(set(r) == {"section", "name", "a", "b"} and r["a"] != r["b"] for r in rows)
    assert [r["section"] for r in rows].count("document") == 2
    assert any(r["section"] == "recipe" and r["name"] == "stages" for r in rows)
