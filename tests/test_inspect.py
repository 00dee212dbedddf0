"""`curate inspect`: the --where language, matches counted, sampling, errors in one line.

Curated folders come from test_report's builders (real text through the real stages);
the pii folder takes the bundled Korean sample's synthetic-pii records, some Japanese
ones and Korean news, so pii_counts and two languages are present.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pytest
from test_report import _TMP, _read, _real_table, build_curated_dir, curated_dir

from curate.io.schema import SHARD_SCHEMA
from curate.report import inspect
from curate.report.where import WhereError, parse_where

REPO = Path(__file__).parent.parent
STAGES = ["normalize", "langid", "pii", "quality", "dedup"]


def _bundled(lang: str, keep, n: int) -> list[str]:
    with gzip.open(REPO / "data" / "sample" / f"{lang}.jsonl.gz", "rt", encoding="utf-8") as f:
        return [line for line in f if keep(json.loads(line)["id"])][:n]


@functools.cache
def pii_dir() -> Path:
    """Korean with phone numbers and Japanese, curated with langid keeping ko (ja is rejected)."""
    src = Path(_TMP) / "pii.jsonl"
    lines = _bundled("ko", lambda i: i.startswith("synthetic-pii"), 40) + _bundled("ja", lambda i: True, 20)
    src.write_text("".join(lines), encoding="utf-8")
    out = Path(_TMP) / "pii"
    build_curated_dir(out, STAGES, sample=src)
    return out


def _main(capsys, *argv) -> tuple[int, str, str]:
    rc = inspect.main([str(a) for a in argv])
    said = capsys.readouterr()
    return rc, said.out, said.err


# ---------------------------------------------------------------------------- --where
def test_where_parser_matches_python_filter():
    table = _real_table()
    rows = table.to_pylist()
    cases = {
        "quality_score < 0.9 and lang == 'ko'": lambda d: (
            d["quality_score"] is not None and d["quality_score"] < 0.9 and d["lang"] == "ko"
        ),
        "not (lang in ('ko', 'en')) or len(text) >= 200": lambda d: (
            (d["lang"] not in ("ko", "en")) or len(d["text"]) >= 200
        ),
        "lang in ['ja', 'en'] and len(text) < 300": lambda d: d["lang"] in ("ja", "en") and len(d["text"]) < 300,
        "drop_reason is null and quality_signals.hangul_ratio > 0.8": lambda d: (
            d["drop_reason"] is None and d["quality_signals"]["hangul_ratio"] > 0.8
        ),
        "text contains '영화' and dup_cluster is not null": lambda d: (
            "영화" in d["text"] and d["dup_cluster"] is not None
        ),
        "source startswith 'ja' and lang_score >= 0.5": lambda d: (
            d["source"].startswith("ja") and d["lang_score"] >= 0.5
        ),
    }
    for where, pred in cases.items():
        expr = parse_where(where, table.schema)
        got = sorted(table.filter(expr).column("id").to_pylist())
        want = sorted(d["id"] for d in rows if pred(d))
        assert got == want and want, where


def test_where_reads_a_map_by_key():
    out = pii_dir()
    table = _read(out, "shards")
    for where, pred in {
        "pii_counts['tel'] > 0": lambda d: dict(d["pii_counts"] or []).get("tel", 0) > 0,
        "pii_counts['email'] >= 1 or pii_counts['tel'] is null": lambda d: (
            dict(d["pii_counts"] or []).get("email", 0) >= 1 or "tel" not in dict(d["pii_counts"] or [])
        ),
    }.items():
        got = sorted(table.filter(parse_where(where, table.schema)).column("id").to_pylist())
        want = sorted(d["id"] for d in table.to_pylist() if pred(d))
        assert got == want and want, where


@pytest.mark.parametrize(
    "bad",
    [
        "__import__('os').system('true')",
        "lang == ",
        "lang ==== 'ko'",
        "nosuch > 1",
        "quality_signals.nosuch > 1",
        "text.__class__ == 1",
        "1 < quality_score",
        "lang == 'ko' ;",
        "lang in ['ko', 'ja')",
        "lang['x'] == 1",
        "pii_counts[5] > 0",
    ],
)
def test_where_parser_rejects(bad):
    with pytest.raises(WhereError):
        parse_where(bad, SHARD_SCHEMA)


@pytest.mark.parametrize(
    "where, said",
    [
        ("lang == ko", "'ko' is not a column: write text in quotes, e.g. lang == 'ko'"),
        ("lang in (ko, 'ja')", "write text in quotes, e.g. lang in ('ko', ...)"),
        ("text contains word", "e.g. text contains 'word'"),
        ("quality_score == 'high'", "quality_score holds numbers and cannot be compared with text"),
        ("lang > 3", "lang holds text and cannot be compared with numbers"),
        ("pii_counts['tel'] == 'x'", "pii_counts['tel'] holds numbers"),
        ("pii_counts[tel] > 0", "'tel' is not a column: write text in quotes, e.g. pii_counts['tel']"),
        ("pii_counts[1] > 0", "pii_counts has keys of text, not numbers"),
        ("quality_signals > 0.5", "quality_signals holds fields, not one value"),
        ("len(quality_score) > 3", "len() counts characters of text; quality_score holds numbers"),
    ],
)
def test_where_mistakes_are_said_in_words(where, said):
    with pytest.raises(WhereError) as caught:
        parse_where(where, SHARD_SCHEMA)
    assert said in str(caught.value)


def test_grammar_is_in_help(capsys):
    with pytest.raises(SystemExit):
        inspect.main(["--help"])
    printed = capsys.readouterr().out
    assert "map['key']" in printed and "is [not] null" in printed and "contains|startswith|endswith" in printed


# ---------------------------------------------------------------------------- the command
def test_inspect_cli(capsys):
    out = curated_dir()
    rc, printed, _ = _main(
        capsys, out, "--reason", "exact_dup", "--columns", "id,dup_of,drop_reason,text", "--limit", "2"
    )
    assert rc == 0 and "exact_dup" in printed and "dup_of" in printed
    rc, printed, _ = _main(capsys, out, "--where", "lang == 'ja'", "--reason", "other_lang", "--limit", "1")
    assert rc == 0 and "ja" in printed
    assert inspect.main([str(out), "--where", "lang == 'xx'"]) == 1
    assert inspect.main([str(out), "--where", "os.system('x')"]) == 2


def test_prints_the_number_of_matches(capsys):
    out = curated_dir()
    rejected = _read(out, "rejected")
    n = pc.sum(pc.equal(rejected.column("drop_reason"), "exact_dup")).as_py()
    rc, printed, _ = _main(capsys, out, "--reason", "exact_dup", "--limit", "2")
    assert rc == 0 and printed.splitlines()[0] == f"{n:,} matching documents in shards, rejected; showing the first 2"
    assert printed.count("── ") == 2


def _shown_ids(printed: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in printed.splitlines() if line.strip().startswith("id:")]


def test_sample_is_random_and_fixed_by_its_seed(capsys):
    out = curated_dir()
    args = [out, "--kind", "rejected", "--columns", "id", "--sample", "5"]
    first = _shown_ids(_main(capsys, *args[:-2], "--limit", "5")[1])
    draws = {s: _shown_ids(_main(capsys, *args, "--seed", s)[1]) for s in ("1", "2")}
    assert _shown_ids(_main(capsys, *args, "--seed", "1")[1]) == draws["1"]
    assert draws["1"] != draws["2"] and first not in draws.values()
    rejected = set(_read(out, "rejected").column("id").to_pylist())
    assert all(len(d) == 5 and set(d) <= rejected for d in draws.values())


def test_quarantine_kind(capsys):
    rc, printed, _ = _main(capsys, curated_dir(), "--kind", "quarantine")
    assert rc == 0 and "malformed JSON" in printed and "error:" in printed
    assert '{"id": "broken"' in printed  # the raw line is the text shown


def test_pii_and_language_queries(capsys):
    out = pii_dir()
    rc, printed, _ = _main(
        capsys, out, "--where", "pii_counts['tel'] > 0 and lang in ['ko', 'ja']", "--columns", "id,lang,pii_counts"
    )
    assert rc == 0 and "tel=" in printed and "synthetic-pii" in printed


def test_failing_signal_first(capsys):
    out = curated_dir()
    rc, printed, _ = _main(
        capsys, out, "--reason", "min_n_chars", "--limit", "1", "--columns", "id,drop_reason,quality_signals"
    )
    block = printed.split("── 1 ")[1].splitlines()[1:]
    assert rc == 0 and block[0].strip().startswith("failing: n_chars = ") and block[0].endswith("(must be ≥ 10)")
    signals = next(line for line in block if line.strip().startswith("quality_signals:"))
    assert signals.split(": ", 1)[1].startswith("n_chars = ")  # the failing one leads


@pytest.mark.parametrize(
    "argv, said",
    [
        (["--reason", "nosuch"], "no drop reason 'nosuch' in this folder; reasons present: langid:other_lang ("),
        (["--columns", "id,nosuch"], "unknown column 'nosuch' in --columns (columns: id, text, source"),
        (["--where", "lang == ko"], "write text in quotes"),
        (["--where", "quality_score == 'x'"], "holds numbers and cannot be compared with text"),
        (["--limit", "0"], "--limit: must be at least 1, got 0"),
        (["--chars", "-3"], "--chars: must be 0 or more, got -3"),
    ],
)
def test_errors_are_one_helpful_line(capsys, argv, said):
    try:
        rc = inspect.main([str(curated_dir()), *argv])
    except SystemExit as exc:  # argparse's own checks
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2 and said in err and len(err.strip().splitlines()) == 1, err


def test_a_folder_that_is_not_curated_output(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    rc, _, err = _main(capsys, tmp_path)
    assert rc == 2 and "is not a curated output" in err
    rc, _, err = _main(capsys, tmp_path / "nosuch")
    assert rc == 2 and "no such folder" in err


def test_no_traceback_when_the_reader_stops_early():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "curate.cli", "inspect", str(curated_dir()), "--limit", "50", "--chars", "2000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO)
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 0
