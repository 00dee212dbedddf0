"""A corpus run across a local two-node Ray cluster (a head and a worker raylet)."""

import gzip
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import ray
from ray.cluster_utils import Cluster

from pipelines.corpus import run_corpus

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "ja.jsonl.gz"


@pytest.fixture()
def two_nodes():
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, log_to_driver=False)
    cluster.wait_for_nodes()
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def test_corpus_across_two_nodes(tmp_path, two_nodes):
    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    inputs = tmp_path / "in"
    inputs.mkdir()
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        lines = f.readlines()
    for i in range(4):
        (inputs / f"p{i}.jsonl").write_text("".join(lines[i::4]), encoding="utf-8")
    manifest = run_corpus(
        [str(inputs)], str(tmp_path / "out"), "ja", stages=["normalize", "langid", "dedup"], workers=2, progress=False
    )
    c = manifest["counts"]
    assert c["read"] == len(lines) == c["kept"] + c["rejected"] + c["quarantined"]
    kept = sum(pq.read_metadata(tmp_path / "out" / e["path"]).num_rows for e in manifest["shards"])
    assert kept == c["kept"] > 0
