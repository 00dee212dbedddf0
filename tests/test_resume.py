"""kill -9 a real `curate corpus` run mid-way, re-run it, and get the same kept set."""

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
from run_files import kill_when, split_sample

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "ko.jsonl.gz"


def _cli(out: Path, inputs: Path, **popen):
    cmd = [
        sys.executable,
        "-m",
        "curate.cli",
        "corpus",
        "--lang",
        "ko",
        "--input",
        str(inputs),
        "--output",
        str(out),
        "--stages",
        "normalize,langid,dedup",
        "--workers",
        "1",
        "--batch-size",
        "64",
        "--no-progress",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled"}
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **popen)


def _kept(out: Path) -> list[tuple]:
    rows = []
    for f in sorted((out / "shards").glob("*.parquet")):
        rows += [(r["id"], r["text"], r["dup_cluster"]) for r in pq.read_table(f).to_pylist()]
    return rows


def test_kill_minus_nine_then_resume(tmp_path):
    inputs = tmp_path / "in"
    split_sample(SAMPLE, inputs, 8)

    reference = tmp_path / "reference"
    assert _cli(reference, inputs).wait(timeout=300) == 0

    out = tmp_path / "killed"
    proc = _cli(out, inputs, start_new_session=True)
    finished_files = kill_when(
        proc, lambda: [p for p in out.glob("_work/*/files/*.parquet") if not p.name.endswith(".keys.parquet")]
    )
    assert not (out / "manifest.json").exists()
    assert finished_files and len(finished_files) < 8

    assert _cli(out, inputs).wait(timeout=300) == 0
    assert _kept(out) == _kept(reference)
    assert not (out / "_work").exists()
