"""Inputs and outputs on an S3-style URI: a local moto S3 server on 127.0.0.1."""
import json
import socket
from pathlib import Path

import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
import ray

from pipelines.corpus import run_corpus

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "ja.jsonl.gz"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def s3(monkeypatch, tmp_path):
    server_mod = pytest.importorskip("moto.server", reason="moto[server] is a test dependency")
    port = _free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CURATE_CACHE", str(tmp_path / "cache"))
    fs = pafs.S3FileSystem(endpoint_override=f"127.0.0.1:{port}", scheme="http", region="us-east-1",
                           allow_bucket_creation=True)
    fs.create_dir("corpus")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield fs, f"endpoint_override=127.0.0.1:{port}&scheme=http&region=us-east-1"
    ray.shutdown()
    server.stop()


def test_corpus_from_and_to_s3(s3):
    fs, query = s3
    with fs.open_output_stream("corpus/raw/ja.jsonl.gz", compression=None) as f:
        f.write(SAMPLE.read_bytes())
    manifest = run_corpus([f"s3://corpus/raw/*.jsonl.gz?{query}"], f"s3://corpus/out?{query}", "ja",
                          stages=["normalize", "langid", "dedup"], progress=False)
    remote = json.loads(fs.open_input_stream("corpus/out/manifest.json").read())
    assert manifest["counts"]["quarantined"] == 0
    assert remote["counts"] == manifest["counts"]
    assert remote["inputs"][0]["path"].startswith("s3://corpus/raw/ja.jsonl.gz")
    kept = sum(pq.read_metadata(fs.open_input_file(f"corpus/out/{e['path']}")).num_rows for e in remote["shards"])
    assert kept == manifest["counts"]["kept"] > 0
    assert fs.get_file_info("corpus/out/report.json").type == pafs.FileType.File
