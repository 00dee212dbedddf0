import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from curate.io.readers import InputError, expand_inputs, read_records, read_tables
from curate.io.schema import SHARD_SCHEMA

DOCS = [
    {"id": "nsmc-1", "text": "디렉터스컷으로봐서 거의 3시간짜리인데 참 흡인력있다", "url": "http://example.org/a"},
    {"text": "時計がついている場所にパブリックマーケットセンターとかかれた看板が設置されています。", "source": "jglue"},
]


def _jsonl_bytes(docs):
    return "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs).encode()


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst"])
def test_jsonl_readers(tmp_path, suffix):
    path = tmp_path / f"in{suffix}"
    data = _jsonl_bytes(DOCS)
    if suffix.endswith(".gz"):
        data = gzip.compress(data)
    elif suffix.endswith(".zst"):
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    recs = list(read_records(str(path)))
    assert [r.text for r in recs] == [d["text"] for d in DOCS]
    assert recs[0].id == "nsmc-1" and recs[0].url == "http://example.org/a"
    assert recs[1].id == f"in{suffix}:2"  # stable id from file and line
    assert recs[1].source == "jglue" and recs[0].source == f"in{suffix}"
    assert all(r.error is None for r in recs)


def test_parquet_reader(tmp_path):
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": [d["text"] for d in DOCS] + [None], "url": ["u1", None, None]}), path)
    recs = list(read_records(str(path)))
    assert [r.text for r in recs[:2]] == [d["text"] for d in DOCS]
    assert recs[0].url == "u1" and recs[0].id == "in.parquet:1"
    assert recs[2].error and "null" in recs[2].error


def test_parquet_without_text_column_is_quarantined(tmp_path):
    path = tmp_path / "no_text.parquet"
    pq.write_table(pa.table({"body": ["x"]}), path)
    (rec,) = read_records(str(path))
    assert "no 'text' column" in rec.error


def test_plain_text_blocks(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text("첫 문단 첫 줄\n첫 문단 둘째 줄\n\n\n둘째 문단\n", encoding="utf-8")
    recs = list(read_records(str(path)))
    assert [r.text for r in recs] == ["첫 문단 첫 줄\n첫 문단 둘째 줄", "둘째 문단"]
    assert [r.origin.rsplit(":", 1)[1] for r in recs] == ["1", "5"]


def test_bad_records_are_quarantined_with_reasons(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"text": "정상 문서입니다"}, ensure_ascii=False).encode()
    path.write_bytes(
        good
        + b"\n"
        + b'{"text": "\xff\xfe broken utf8"}\n'
        + b'{"text": "unterminated\n'
        + b'{"title": "no text"}\n'
        + b'["not", "an", "object"]\n'
    )
    recs = list(read_records(str(path)))
    assert recs[0].error is None
    errors = [r.error for r in recs[1:]]
    assert "invalid UTF-8" in errors[0]
    assert "malformed JSON" in errors[1]
    assert "no 'text'" in errors[2]
    assert "not an object" in errors[3]
    assert [r.origin for r in recs[1:]] == [f"{path}:{i}" for i in (2, 3, 4, 5)]


def test_truncated_gzip_keeps_good_lines_and_quarantines_the_rest(tmp_path):
    path = tmp_path / "cut.jsonl.gz"
    data = gzip.compress(_jsonl_bytes([{"text": f"문서 {i} " * 20} for i in range(200)]))
    path.write_bytes(data[: len(data) // 2])
    recs = list(read_records(str(path)))
    assert recs[-1].error and "truncated" in recs[-1].error
    assert all(r.error is None for r in recs[:-1]) and len(recs) > 1


def test_empty_file_and_huge_document(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    (rec,) = read_records(str(empty))
    assert rec.error == "empty file"
    huge = tmp_path / "huge.jsonl"
    huge.write_text(json.dumps({"text": "가" * (50 << 20)}, ensure_ascii=False) + "\n", encoding="utf-8")
    (rec,) = read_records(str(huge), max_doc_chars=1_000_000)
    assert rec.error.startswith("document too large") and len(rec.text) <= 1000


def test_tables_follow_schema_and_mark_quarantine(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(_jsonl_bytes(DOCS) + b"{oops\n")
    (table,) = list(read_tables(str(path), batch_size=10))
    assert table.schema == SHARD_SCHEMA
    assert table.column("drop_reason").to_pylist()[:2] == [None, None]
    assert table.column("drop_reason").to_pylist()[2].startswith("quarantine: malformed JSON")


def test_expand_inputs_globs_and_errors(tmp_path):
    for name in ("a.jsonl", "b.jsonl"):
        (tmp_path / name).write_bytes(_jsonl_bytes(DOCS))
    assert len(expand_inputs([str(tmp_path / "*.jsonl")])) == 2
    assert len(expand_inputs([str(tmp_path)])) == 2
    with pytest.raises(InputError, match="missing.jsonl"):
        expand_inputs([str(tmp_path / "missing.jsonl")])
    with pytest.raises(InputError, match=r"nothing\*"):
        expand_inputs([str(tmp_path / "nothing*")])


@pytest.mark.parametrize("suffix", [".jsonl.bz2", ".jsonl.xz", ".jsonl.zst"])
def test_other_compressions_and_multiframe_zstd(tmp_path, suffix):
    import bz2
    import lzma

    data = _jsonl_bytes(DOCS)
    packed = {
        ".jsonl.bz2": bz2.compress,
        ".jsonl.xz": lzma.compress,
        ".jsonl.zst": lambda d: b"".join(
            zstandard.ZstdCompressor().compress(d[i : i + 40]) for i in range(0, len(d), 40)
        ),
    }[suffix](data)  # zstd: many frames
    path = tmp_path / f"in{suffix}"
    path.write_bytes(packed)
    assert [r.text for r in read_records(str(path))] == [d["text"] for d in DOCS]


def test_truncated_zstd_is_quarantined_not_cut_short(tmp_path):
    docs = [{"text": f"{DOCS[0]['text']} {i}"} for i in range(300)]
    packed = zstandard.ZstdCompressor().compress(_jsonl_bytes(docs))
    for cut in (packed[: len(packed) // 2], packed[:-3]):  # mid-frame; the checksum's last bytes
        path = tmp_path / "cut.jsonl.zst"
        path.write_bytes(cut)
        recs = list(read_records(str(path)))
        assert recs[-1].error and "truncated" in recs[-1].error
        assert all(r.error is None for r in recs[:-1]) and len(recs) - 1 < len(docs)


def test_corrupt_zstd_hands_out_what_came_before_the_damage():
    """A frame checksum makes zstd raise on damage it would otherwise pass on as other
    bytes; every whole block before the damaged one still comes out, then the error."""
    import io

    from curate.io.streams import ZstdReader

    plain = _jsonl_bytes([{"text": f"{DOCS[0]['text']} {i}"} for i in range(6000)])
    packed = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(plain))
    packed[-40:-20] = bytes(b ^ 0x5A for b in packed[-40:-20])  # in the last block
    out = bytearray()
    reader = ZstdReader(io.BytesIO(bytes(packed)))  # one read chunk holds the whole file
    with pytest.raises(zstandard.ZstdError):
        while chunk := reader.read(8192):
            out += chunk
    assert len(out) >= 2 * 128 * 1024 and plain.startswith(bytes(out))


def test_unreadable_json_values_are_quarantined(tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + _jsonl_bytes(DOCS[:1])  # a byte order mark before the first record
        + b"[" * 200_000
        + b"\n"  # nesting no parser follows
        + b'{"text": "x", "n": '
        + b"9" * 5000
        + b"}\n"  # an integer past Python's limit
        + _jsonl_bytes(DOCS[1:])
    )
    recs = list(read_records(str(path)))
    assert [r.error is None for r in recs] == [True, False, False, True]
    assert recs[0].text == DOCS[0]["text"] and recs[1].origin.endswith(":2") and recs[2].origin.endswith(":3")


def test_parquet_rows_are_counted_when_lost(tmp_path):
    path = tmp_path / "no_text.parquet"
    pq.write_table(pa.table({"body": ["a", "b", "c"]}), path)
    recs = list(read_records(str(path)))
    assert len(recs) == 3 and all("no 'text' column" in r.error for r in recs)
    good = tmp_path / "groups.parquet"
    pq.write_table(pa.table({"text": [f"문장 {i}" for i in range(60)]}), good, row_group_size=20)
    data = bytearray(good.read_bytes())
    meta = pq.ParquetFile(good).metadata.row_group(1).column(0)
    start, size = meta.dictionary_page_offset or meta.data_page_offset, meta.total_compressed_size
    data[start + 4 : start + size] = b"\xff" * (size - 4)  # the second row group's page is garbage
    good.write_bytes(bytes(data))
    recs = list(read_records(str(good)))
    assert len(recs) == 60
    assert sum(r.error is None for r in recs) == 40 and all(r.error for r in recs[20:40])


def test_folder_inputs_name_each_file_once_and_skip_hidden_ones(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(_jsonl_bytes(DOCS))
    (tmp_path / "[1].jsonl").write_bytes(_jsonl_bytes(DOCS))
    (tmp_path / "notes.md").write_text("not a corpus file")
    (tmp_path / ".DS_Store").write_bytes(b"\x00")
    (tmp_path / "_SUCCESS").write_bytes(b"")
    same = [str(tmp_path / "a.jsonl"), str(tmp_path / "sub" / ".." / "a.jsonl")]
    (tmp_path / "sub").mkdir()
    assert expand_inputs(same) == same[:1]
    assert expand_inputs([str(tmp_path / "[1].jsonl")]) == [str(tmp_path / "[1].jsonl")]  # a name, not a glob
    found = expand_inputs([str(tmp_path)])
    assert sorted(p.rsplit("/", 1)[1] for p in found) == ["[1].jsonl", "a.jsonl", "notes.md"]
    (rec,) = read_records(str(tmp_path / "notes.md"))
    assert "unknown input format" in rec.error  # quarantined, so the run's counts show it
