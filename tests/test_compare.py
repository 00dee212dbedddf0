"""`curate compare A B`: numbers side by side, the recipe difference, documents whose fate changed."""

from __future__ import annotations

from test_report import curated_dir

from curate.report import compare


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
