"""`curate corpus --output s3://...` writes straight to the bucket (a moto S3 server on
127.0.0.1): no local copy of the corpus, kill -9 then the same command gives the shards
of a local run byte for byte, a new run replaces an old one, and the readers take the URI."""

import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.fs as pafs
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "ko.jsonl.gz"
PARTS = 8
BUCKET = "curated"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def bucket(tmp_path_factory):
    """A moto server, its bucket, and the environment that points S3 clients at it."""
    server_mod = pytest.importorskip("moto.server", reason="moto[server] is a test dependency")
    port = _free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    env = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}",
    }
    s3 = pafs.S3FileSystem(
        access_key="test",
        secret_key="test",
        endpoint_override=f"127.0.0.1:{port}",
        scheme="http",
        region="us-east-1",
        allow_bucket_creation=True,
    )
    s3.create_dir(BUCKET)
    try:
        yield s3, env
    finally:
        server.stop()


@pytest.fixture
def short_tmpdir():
    folder = Path(tempfile.mkdtemp(prefix="s3out-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _split_sample(dst: Path, parts: int) -> None:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        lines = f.readlines()
    dst.mkdir()
    step = len(lines) // parts + 1
    for i in range(parts):
        (dst / f"part{i:02d}.jsonl").write_text("".join(lines[i * step : (i + 1) * step]), encoding="utf-8")


class Runner:
    """`curate` as a user runs it, in an empty folder, with an empty CURATE_CACHE and TMPDIR
    (a short path of its own: Ray's socket paths under it must stay within 107 bytes)."""

    def __init__(self, tmp: Path, s3_env: dict, tmpdir: Path):
        self.cwd, self.cache, self.tmpdir = tmp / "cwd", tmp / "cache", tmpdir
        for d in (self.cwd, self.cache):
            d.mkdir()
        self.env = {
            **os.environ,
            **s3_env,
            "PYTHONPATH": str(ROOT),
            "RAY_AUTH_MODE": "disabled",
            "CURATE_CACHE": str(self.cache),
            "TMPDIR": str(self.tmpdir),
        }

    def corpus(self, inputs: list[Path], out: str, **popen) -> subprocess.Popen:
        cmd = [
            *("-m", "curate.cli", "corpus", "--lang", "ko", "--input", *map(str, inputs), "--output", out),
            *("--stages", "normalize,langid,dedup", "--workers", "1", "--batch-size", "64", "--shard-rows", "300"),
            "--no-progress",
        ]
        return self.popen(cmd, **popen)

    def popen(self, args: list[str], **popen) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, *args], cwd=self.cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen
        )

    def ok(self, proc: subprocess.Popen) -> str:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode(errors="replace")[-3000:]
        return out.decode()


def _local_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*.parquet")}


def _bucket_files(s3: pafs.S3FileSystem, prefix: str) -> dict[str, bytes]:
    infos = s3.get_file_info(pafs.FileSelector(prefix, recursive=True, allow_not_found=True))
    out = {}
    for i in infos:
        if i.type == pafs.FileType.File and i.path.endswith(".parquet"):
            with s3.open_input_stream(i.path) as f:
                out[i.path[len(prefix) + 1 :]] = f.read()
    return out


def _no_corpus_under(folder: Path) -> list[str]:
    """Files under folder that belong to a curated run (Ray's own session files aside)."""
    names = ("manifest.json", "report.json", "report.html", "index.json")
    return [str(p) for p in folder.rglob("*") if p.is_file() and (p.suffix == ".parquet" or p.name in names)]


def _kill_once_staged(proc: subprocess.Popen, s3: pafs.S3FileSystem, prefix: str) -> list[str]:
    """Wait until pass 1 has staged at least one input file in the bucket, then kill -9."""
    deadline, staged = time.time() + 240, []
    while time.time() < deadline and proc.poll() is None:
        infos = s3.get_file_info(pafs.FileSelector(f"{prefix}/_work", recursive=True, allow_not_found=True))
        staged = [i.path for i in infos if i.path.endswith(".parquet") and not i.path.endswith(".keys.parquet")]
        if any("/files/" in p for p in staged):
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return [p for p in staged if "/files/" in p]


def test_killed_s3_run_resumes_to_the_local_runs_bytes(bucket, tmp_path, short_tmpdir):
    s3, s3_env = bucket
    run = Runner(tmp_path, s3_env, short_tmpdir)
    inputs = tmp_path / "in"
    _split_sample(inputs, PARTS)
    files = sorted(inputs.iterdir())

    reference = tmp_path / "reference"
    run.ok(run.corpus(files, str(reference)))
    expected = _local_files(reference)
    assert any(k.startswith("shards/") for k in expected) and any(k.startswith("rejected/") for k in expected)

    proc = run.corpus(files, f"s3://{BUCKET}/run", start_new_session=True)
    staged = _kill_once_staged(proc, s3, f"{BUCKET}/run")
    assert 0 < len(staged) < PARTS
    assert list(run.cache.iterdir()) == [] and _no_corpus_under(run.tmpdir) == []  # the work is in the bucket
    assert s3.get_file_info(f"{BUCKET}/run/manifest.json").type == pafs.FileType.NotFound

    run.ok(run.corpus(files, f"s3://{BUCKET}/run"))
    assert _bucket_files(s3, f"{BUCKET}/run") == expected  # names and bytes, and no staged file left
    manifest = json.loads(s3.open_input_stream(f"{BUCKET}/run/manifest.json").read())
    assert sorted(e["path"] for kind in ("shards", "rejected", "quarantine") for e in manifest[kind]) == sorted(
        expected
    )
    for name in ("report.json", "report.html"):
        assert s3.get_file_info(f"{BUCKET}/run/{name}").size > 1000
    assert s3.get_file_info(f"{BUCKET}/run/_work").type == pafs.FileType.NotFound

    assert list(run.cache.iterdir()) == []
    assert list(run.cwd.iterdir()) == []
    assert _no_corpus_under(run.tmpdir) == []


def test_a_new_run_replaces_the_previous_one_and_readers_take_the_uri(bucket, tmp_path, short_tmpdir):
    s3, s3_env = bucket
    run = Runner(tmp_path, s3_env, short_tmpdir)
    inputs = tmp_path / "in"
    _split_sample(inputs, PARTS)
    files = sorted(inputs.iterdir())
    uri = f"s3://{BUCKET}/replaced"

    run.ok(run.corpus(files, uri))
    before = _bucket_files(s3, f"{BUCKET}/replaced")
    run.ok(run.corpus(files[:2], uri))  # fewer rows: fewer pass-2 units than the run it replaces
    after = _bucket_files(s3, f"{BUCKET}/replaced")
    manifest = json.loads(s3.open_input_stream(f"{BUCKET}/replaced/manifest.json").read())
    assert sorted(after) == sorted(e["path"] for kind in ("shards", "rejected") for e in manifest[kind])
    assert len(after) < len(before)
    assert manifest["counts"]["read"] == sum(len(p.read_text().splitlines()) for p in files[:2])
    stats = s3.get_file_info(pafs.FileSelector(f"{BUCKET}/replaced/stats", recursive=True))
    assert len([i for i in stats if i.type == pafs.FileType.File]) == len(after)

    s3.delete_file(f"{BUCKET}/replaced/report.json")
    printed = run.ok(run.popen(["-m", "curate.cli", "report", uri]))
    assert f"kept {manifest['counts']['kept']:,}" in printed
    report = json.loads(s3.open_input_stream(f"{BUCKET}/replaced/report.json").read())
    assert report["counts"]["kept"] == manifest["counts"]["kept"]

    printed = run.ok(run.popen(["-m", "curate.cli", "inspect", uri, "--kind", "shards", "--limit", "2"]))
    assert f"{manifest['counts']['kept']:,} matching documents in shards" in printed
    assert list(run.cwd.iterdir()) == [] and list(run.cache.iterdir()) == []
