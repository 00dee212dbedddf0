"""`curate corpus --output s3://...` writes straight to the bucket (a moto S3 server on
127.0.0.1): no local copy of the corpus, kill -9 then the same command gives the shards
of a local run byte for byte, a new run replaces an old one, and the readers take the URI."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.fs as pafs
import pytest
from run_files import kill_when, split_sample
from s3_server import ENV, moto_s3

from curate.io import fs

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "ko.jsonl.gz"
PARTS = 8
BUCKET = "curated"


@pytest.fixture(scope="module")
def bucket():
    """A moto server with a bucket, and the environment that points S3 clients at it."""
    with moto_s3() as (port, s3):
        s3.create_dir(BUCKET)
        yield s3, {**ENV, "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}"}


@pytest.fixture
def run(bucket, tmp_path):
    folder = Path(tempfile.mkdtemp(prefix="s3out-"))
    yield Runner(tmp_path, bucket[1], folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def files(tmp_path):
    split_sample(SAMPLE, tmp_path / "in", PARTS)
    return sorted((tmp_path / "in").iterdir())


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


def _listed(s3: pafs.S3FileSystem, folder: str, wanted):
    """A function that lists the files under folder whose path is `wanted`."""
    return lambda: [
        i.path
        for i in s3.get_file_info(pafs.FileSelector(folder, recursive=True, allow_not_found=True))
        if wanted(i.path)
    ]


def _staged_rows(path: str) -> bool:
    return "/files/" in path and path.endswith(".parquet") and not path.endswith(".keys.parquet")


def test_killed_s3_run_resumes_to_the_local_runs_bytes(bucket, run, files, tmp_path):
    s3 = bucket[0]

    reference = tmp_path / "reference"
    run.ok(run.corpus(files, str(reference)))
    expected = _local_files(reference)
    assert any(k.startswith("shards/") for k in expected) and any(k.startswith("rejected/") for k in expected)

    proc = run.corpus(files, f"s3://{BUCKET}/run", start_new_session=True)
    staged = kill_when(proc, _listed(s3, f"{BUCKET}/run/_work", _staged_rows))  # pass 1 staged an input file
    assert 0 < len(staged) < PARTS
    assert list(run.cache.iterdir()) == [] and _no_corpus_under(run.tmpdir) == []  # the work is in the bucket
    assert s3.get_file_info(f"{BUCKET}/run/manifest.json").type == pafs.FileType.NotFound

    proc = run.corpus(files, f"s3://{BUCKET}/run", start_new_session=True)
    assert kill_when(proc, _listed(s3, f"{BUCKET}/run/shards", lambda p: p.endswith(".parquet")))  # pass 2 wrote one
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


def test_a_new_run_replaces_the_previous_one_and_readers_take_the_uri(bucket, run, files):
    s3 = bucket[0]
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


def test_tokenizer_and_token_shards_read_the_curated_uri(bucket, run, files, tmp_path, monkeypatch):
    """The trainer's readers take the bucket URI and get what a local copy of the run gives."""
    from train import token_shards as K
    from train import tokenizer as T

    s3 = bucket[0]
    for key, value in run.env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    uri = f"s3://{BUCKET}/for-tokens"
    run.ok(run.corpus(files[:3], uri))
    copy = tmp_path / "copy"
    for name, data in _bucket_files(s3, f"{BUCKET}/for-tokens").items():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes(data)
    (copy / "manifest.json").write_bytes(s3.open_input_stream(f"{BUCKET}/for-tokens/manifest.json").read())

    from_uri = T.train_from_shards(["ko"], [uri], 600, str(tmp_path / "tok-uri"), workers=1)
    from_copy = T.train_from_shards(["ko"], [str(copy)], 600, str(tmp_path / "tok-copy"), workers=1)
    assert (Path(from_uri) / "tokenizer.json").read_bytes() == (Path(from_copy) / "tokenizer.json").read_bytes()
    [data] = json.loads((Path(from_uri) / T.TRAINING_META).read_text())["data"]
    [data_copy] = json.loads((Path(from_copy) / T.TRAINING_META).read_text())["data"]
    assert data["dir"] == uri and data["manifest_sha256"] == data_copy["manifest_sha256"] is not None

    on_uri = K.write_token_shards(uri, from_copy, str(tmp_path / "tokens-uri"), workers=1)
    on_copy = K.write_token_shards(str(copy), from_copy, str(tmp_path / "tokens-copy"), workers=1)
    kept = json.loads((copy / "manifest.json").read_text())["counts"]["kept"]
    assert on_uri["n_docs"] == on_copy["n_docs"] == kept and on_uri["curated_dir"] == uri
    assert on_uri["curated_manifest_sha256"] == on_copy["curated_manifest_sha256"]
    for part in on_copy["parts"]:
        assert (tmp_path / "tokens-uri" / part["bin"]).read_bytes() == (
            tmp_path / "tokens-copy" / part["bin"]
        ).read_bytes()


def test_a_file_appears_whole_or_not_at_all(bucket, tmp_path, monkeypatch):
    for key, value in bucket[1].items():
        monkeypatch.setenv(key, value)
    for path in (str(tmp_path / "x.json"), f"s3://{BUCKET}/atomic/x.json"):
        with pytest.raises(ValueError), fs.open_output(path) as f:
            f.write(b"half")
            raise ValueError("the writer fails")
        assert not fs.exists(path), path
        fs.write_text(path, "whole")
        assert fs.read_text(path) == "whole"
    assert os.listdir(tmp_path) == ["x.json"]  # no temporary name left behind
    assert fs.join("s3://b/run?region=x", "shards", "a.parquet") == "s3://b/run/shards/a.parquet?region=x"
