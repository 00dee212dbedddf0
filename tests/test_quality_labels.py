"""The default quality rules against documents a person judged by reading them
(tests/data/quality_labels_{ko,ja}.jsonl, rubric in tests/data/QUALITY_RUBRIC.md): real
text, informal comments included, is kept; junk, including junk that looks informal
(keyboard mash, laughter-only comments, spam, copy-paste), is dropped."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from curate.io.schema import SHARD_SCHEMA
from curate.stages.quality.stage import QualityStage

DATA = Path(__file__).parent / "data"
TARGET = 0.95


def labelled(lang: str) -> list[dict]:
    with open(DATA / f"quality_labels_{lang}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def table_of(texts: list[str]) -> pa.Table:
    cols = {name: pa.nulls(len(texts), SHARD_SCHEMA.field(name).type) for name in SHARD_SCHEMA.names}
    cols["id"] = pa.array([f"doc-{i}" for i in range(len(texts))])
    cols["text"] = pa.array(texts)
    return pa.table(cols, schema=SHARD_SCHEMA)


@pytest.fixture(scope="module", params=["ko", "ja"])
def verdicts(request):
    lang = request.param
    rows = labelled(lang)
    out = QualityStage.from_section({}, lang)(table_of([r["text"] for r in rows]))
    return lang, rows, out.column("drop_reason").to_pylist()


def test_labels_cover_informal_text_and_informal_junk(verdicts):
    lang, rows, _ = verdicts
    good = [r for r in rows if r["label"] == "good"]
    junk = [r for r in rows if r["label"] == "junk"]
    assert len(rows) >= 200 and len(good) >= 100 and len(junk) >= 15
    kinds = Counter(r["kind"] for r in junk)
    assert {"mash", "spam", "copy_paste"} <= set(kinds), kinds
    if lang == "ko":  # comment pages and single comments, judged good
        assert sum(r["source"].startswith("nsmc") for r in good) >= 80
        assert "laughter" in kinds or "mash_page" in kinds


def test_good_kept_and_junk_dropped(verdicts):
    lang, rows, reasons = verdicts
    good = [(r, why) for r, why in zip(rows, reasons) if r["label"] == "good"]
    junk = [(r, why) for r, why in zip(rows, reasons) if r["label"] == "junk"]
    kept = sum(why is None for _, why in good) / len(good)
    dropped = sum(why is not None for _, why in junk) / len(junk)
    print(f"\n{lang}: good kept {kept:.3f} of {len(good)}; junk dropped {dropped:.3f} of {len(junk)}")
    print(f"  good dropped by: {Counter(why for _, why in good if why).most_common()}")
    for r, why in good:
        if why:
            print(f"    {why}: {r['text'][:80]!r}")
    for r, why in junk:
        if why is None:
            print(f"    junk kept ({r['kind']}): {r['text'][:80]!r}")
    assert kept >= TARGET
    assert dropped >= TARGET
