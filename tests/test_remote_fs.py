"""Inputs and outputs on an S3-style URI (a local moto S3 server on 127.0.0.1) and on
file:// URIs: every input format gives the same shards as the local path."""

import bz2
import gzip
import io
import json
import lzma
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
import ray
import zstandard
from s3_server import ENV, moto_s3
from warcio.warcwriter import WARCWriter
from web_pages import load_paragraphs, page, write_warc

from pipelines.corpus import run_corpus

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "ja.jsonl.gz"
STAGES = ["normalize"]  # extract runs too, on the WARC pages


@pytest.fixture(scope="module")
def s3():
    """One moto server and one Ray session for every test here."""
    with moto_s3() as (port, fs), pytest.MonkeyPatch.context() as mp:
        for key, value in ENV.items():
            mp.setenv(key, value)
        fs.create_dir("corpus")
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            yield fs, f"endpoint_override=127.0.0.1:{port}&scheme=http&region=us-east-1"
        finally:
            ray.shutdown()


def test_corpus_from_and_to_s3(s3):
    fs, query = s3
    with fs.open_output_stream("corpus/raw/ja.jsonl.gz", compression=None) as f:
        f.write(SAMPLE.read_bytes())
    manifest = run_corpus(
        [f"s3://corpus/raw/*.jsonl.gz?{query}"],
        f"s3://corpus/out?{query}",
        "ja",
        stages=["normalize", "langid", "dedup"],
        progress=False,
    )
    remote = json.loads(fs.open_input_stream("corpus/out/manifest.json").read())
    assert manifest["counts"]["quarantined"] == 0
    assert remote["counts"] == manifest["counts"]
    assert remote["inputs"][0]["path"].startswith("s3://corpus/raw/ja.jsonl.gz")
    kept = sum(pq.read_metadata(fs.open_input_file(f"corpus/out/{e['path']}")).num_rows for e in remote["shards"])
    assert kept == manifest["counts"]["kept"] > 0
    assert fs.get_file_info("corpus/out/report.json").type == pafs.FileType.File


def _jsonl(docs: list[dict]) -> bytes:
    return "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs).encode("utf-8")


def _warc_wet(texts: list[str]) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for i, text in enumerate(texts):
        rec = writer.create_warc_record(
            f"https://wet.example/{i}",
            "conversion",
            payload=io.BytesIO(text.encode("utf-8")),
            warc_content_type="text/plain",
        )
        writer.write_record(rec)
    return buf.getvalue()


def _inputs(folder: Path) -> dict[str, int]:
    """One small file per input format, each with its own real paragraphs; returns
    file name -> number of documents in it."""
    paras = [p["text"] for p in load_paragraphs()]
    chunks = iter(paras[i : i + 3] for i in range(0, 60, 3))

    def docs(name):
        return [{"id": f"{name}-{i}", "text": t} for i, t in enumerate(next(chunks))]

    files = {
        "a.jsonl": _jsonl(docs("plain")),
        "b.jsonl.gz": gzip.compress(_jsonl(docs("gz"))),
        "c.jsonl.zst": zstandard.ZstdCompressor().compress(_jsonl(docs("zst"))),
        "d.jsonl.bz2": bz2.compress(_jsonl(docs("bz2"))),
        "e.jsonl.xz": lzma.compress(_jsonl(docs("xz"))),
        "g.txt": "\n\n".join(next(chunks)).encode("utf-8") + b"\n",
        "h.warc.wet.gz": _warc_wet(next(chunks)),
    }
    table = pa.Table.from_pylist(docs("parquet"))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    files["f.parquet"] = sink.getvalue().to_pybytes()
    for name, chunk in files.items():
        (folder / name).write_bytes(chunk)
    for name in ("i.warc", "j.warc.gz"):
        pages = [
            {
                "url": f"https://news.example/{name}/{k}",
                "html": page("ko", t[:20], [t], "utf-8"),
                "encoding": "utf-8",
                "content_type": "text/html; charset=utf-8",
            }
            for k, t in enumerate(next(chunks))
        ]
        write_warc(folder / name, pages)
    return {p.name: 3 for p in folder.iterdir()}


def _shards(fs: pafs.FileSystem, base: str) -> list[tuple]:
    manifest = json.loads(fs.open_input_stream(f"{base}/manifest.json").read())
    rows = []
    for entry in manifest["shards"]:
        with fs.open_input_file(f"{base}/{entry['path']}") as f:
            t = pq.read_table(f, columns=["id", "text", "source", "url"])
        rows += list(zip(*(t.column(c).to_pylist() for c in t.column_names)))
    return rows


def test_every_format_from_s3_and_file_uris_matches_local(s3, tmp_path):
    fs, query = s3
    local_in = tmp_path / "in"
    local_in.mkdir()
    sizes = _inputs(local_in)
    for p in sorted(local_in.iterdir()):
        with fs.open_output_stream(f"corpus/crawl/{p.name}", compression=None) as f:
            f.write(p.read_bytes())

    local = run_corpus([str(local_in)], str(tmp_path / "out-local"), "ko", stages=STAGES, progress=False)
    assert local["counts"]["quarantined"] == 0
    assert local["counts"]["read"] == sum(sizes.values())
    expected = _shards(pafs.LocalFileSystem(), str(tmp_path / "out-local"))
    # every format contributed its documents (WARC sources are archive@offset)
    sources = {s.split("@")[0] for _, _, s, _ in expected}
    assert sources == set(sizes) and len(expected) == sum(sizes.values())

    from_s3 = run_corpus(
        [f"s3://corpus/crawl/*?{query}"], f"s3://corpus/out-all?{query}", "ko", stages=STAGES, progress=False
    )
    assert from_s3["counts"] == local["counts"]
    assert _shards(fs, "corpus/out-all") == expected

    uri = f"file://{local_in}"
    from_file = run_corpus([f"{uri}/*.*"], f"file://{tmp_path / 'out-file'}", "ko", stages=STAGES, progress=False)
    assert from_file["counts"] == local["counts"]
    assert _shards(pafs.LocalFileSystem(), str(tmp_path / "out-file")) == expected
    assert not (tmp_path / "out-file" / "_work").exists()


def test_each_format_reads_the_same_from_s3_and_file_uri(s3, tmp_path):
    """File by file: a reader that loses a remote stream shows up as an error record."""
    fs, query = s3
    folder = tmp_path / "in"
    folder.mkdir()
    sizes = _inputs(folder)
    for name, n in sorted(sizes.items()):
        with fs.open_output_stream(f"corpus/one/{name}", compression=None) as f:
            f.write((folder / name).read_bytes())
        from curate.io.readers import read_records

        local = [(r.id, r.text, r.url) for r in read_records(str(folder / name))]
        assert len(local) == n, name
        for uri in (f"s3://corpus/one/{name}?{query}", f"file://{folder / name}"):
            records = list(read_records(uri))
            assert [r.error for r in records] == [None] * n, uri
            assert [(r.id, r.text, r.url) for r in records] == local, uri
