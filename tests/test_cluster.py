"""`curate corpus` through a local two-node Ray cluster (a head and a worker raylet,
each with one CPU) joined with RAY_ADDRESS: the same files as a run on its own, and
both passes' work spread over both nodes."""

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import ray
from ray.cluster_utils import Cluster
from run_files import output_files

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "ja.jsonl.gz"


def _split_sample(folder: Path) -> int:
    folder.mkdir()
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        lines = f.readlines()
    for i in range(4):
        (folder / f"p{i}.jsonl").write_text("".join(lines[i::4]), encoding="utf-8")
    return len(lines)


def _curate(inputs: Path, out: Path, workers: int, ray_address: str | None) -> str:
    """Run the command line as its own process (the driver); its stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    if ray_address:
        env["RAY_ADDRESS"] = ray_address
    cmd = [sys.executable, "-m", "curate.cli", "corpus", "--lang", "ja", "--input", str(inputs)]
    cmd += ["--output", str(out), "--stages", "normalize,langid,dedup", "--workers", str(workers)]
    cmd += ["--shard-rows", "300"]  # ten pass-2 tasks
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


def test_corpus_across_two_nodes(tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    n = _split_sample(tmp_path / "in")
    _curate(tmp_path / "in", tmp_path / "alone", 1, None)

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        log = _curate(tmp_path / "in", tmp_path / "cluster", 2, cluster.address)
        ray.init(address=cluster.address, log_to_driver=False)
        nodes = {node["NodeID"] for node in ray.nodes() if node["Alive"]}
    finally:
        ray.shutdown()
        cluster.shutdown()

    assert len(nodes) == 2
    # pass 1: a task per input file (one batch each), spread over both nodes
    assert re.search(r"pass 1 staged (\d+) batch\(es\) on (\d+) node\(s\)", log).groups() == ("4", "2")
    tasks, on_nodes = map(int, re.search(r"pass 2 ran (\d+) task\(s\) on (\d+) node\(s\)", log).groups())
    assert (tasks, on_nodes) == (-(-n // 300), 2)
    alone, spread = output_files(tmp_path / "alone"), output_files(tmp_path / "cluster")
    assert len([f for f in alone if f.startswith("shards/")]) == tasks
    assert spread == alone
