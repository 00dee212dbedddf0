"""Random bytes, hostile Unicode and malformed files: nothing crashes, nothing is lost."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.io.readers import clean_text, read_records
from curate.io.records import Record, records_to_table
from curate.stages.langid import LangIdStage
from curate.stages.normalize import NormalizeStage
from curate.stages.registry import build_stage

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Surrogates, RTL marks, zero-width characters, combining sequences, Hangul jamo, emoji.
PIECES = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "\u200f",
            "\u202e",
            "\u200b",
            "\ufeff",
            "\u0301",
            "\u1100\u1161\u11a8",
            "ㅋ" * 30,
            "ㅠ",
            "&amp;",
            "&#0;",
            "&#xD800;",
            "\x00",
            "\r",
            "\n\n\n",
            "🇰🇷",
            "\U0001f600",
            "\ud800",
            "\udfff",
            "\ud83d\ude00",
        ]
    ),
)
HOSTILE = st.lists(PIECES, max_size=40).map("".join)


@FUZZ
@given(data=st.binary(max_size=2000))
def test_random_bytes_as_jsonl_are_accounted_for(tmp_path, data):
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data)
    records = list(read_records(str(path)))
    non_blank = [line for line in data.split(b"\n") if line.strip()]
    assert records, "every file yields at least one record or a quarantine row"
    if non_blank:
        assert len(records) == len(non_blank)
    assert all((r.error is None) == isinstance(r.text, str) or r.error for r in records)


@FUZZ
@given(data=st.binary(max_size=3000))
def test_random_bytes_as_parquet_and_text(tmp_path, data):
    for name in ("fuzz.parquet", "fuzz.txt", "fuzz.jsonl.gz", "fuzz.jsonl.zst"):
        path = tmp_path / name
        path.write_bytes(data)
        records = list(read_records(str(path)))
        assert records
        assert all(r.error or isinstance(r.text, str) for r in records)


@FUZZ
@given(texts=st.lists(HOSTILE, min_size=1, max_size=8))
def test_hostile_unicode_through_the_stages(texts):
    # JSON escapes let a file carry lone surrogates; the reader must repair them.
    objs = [json.dumps({"text": t}) for t in texts]
    records = [Record(f"d{i}", clean_text(json.loads(o)["text"]), f"fuzz:{i}") for i, o in enumerate(objs)]
    table = records_to_table(records)
    stages = [NormalizeStage.from_section({}, "ko"), LangIdStage.from_section({"keep": ["ko"]}, "ko")]
    for optional in ("pii", "quality"):
        try:
            stages.append(build_stage(optional, {}, "ko"))
        except Exception:
            pass  # not built in this checkout
    for stage in stages:
        out = stage(table)
        assert out.num_rows == table.num_rows
        assert out.column("id").to_pylist() == table.column("id").to_pylist()
        table = out
    reasons = table.column("drop_reason").to_pylist()
    texts_out = table.column("text").to_pylist()
    for r, t in zip(reasons, texts_out):
        assert r is not None or (isinstance(t, str) and t)
        if isinstance(t, str):
            t.encode("utf-8")  # no lone surrogates survive


def test_lone_surrogates_in_json_are_repaired(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"text": "a\\ud800b \\ud83d\\ude00"}\n', encoding="utf-8")
    (rec,) = read_records(str(path))
    assert rec.text == "a\ufffdb \U0001f600"
