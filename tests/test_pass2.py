"""Pass 2 as Ray tasks: how the staged rows are cut into units, how a unit reads its
rows, and that 1 and 2 workers write the same bytes."""

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import ray
from run_files import output_files

from curate.io.schema import SHARD_SCHEMA
from pipelines.corpus import run_corpus
from pipelines.pass2 import MIN_UNIT_ROWS, MIN_UNITS, Piece, plan_units, read_piece, unit_rows

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "ko.jsonl.gz"


def test_units_are_consecutive_rows_cut_at_unit_rows_and_file_ends():
    units = plan_units(["a", "b", "c"], [5, 12, 0], 4)
    assert [[(p.path, p.start, p.stop, p.offset) for p in u] for u in units] == [
        [("a", 0, 4, 0)],
        [("a", 4, 5, 4), ("b", 0, 3, 5)],
        [("b", 3, 7, 8)],
        [("b", 7, 11, 12)],
        [("b", 11, 12, 16)],
    ]
    assert plan_units(["a"], [0], 4) == []


def test_a_piece_reads_only_its_rows_across_row_groups(tmp_path):
    n = 40
    table = SHARD_SCHEMA.empty_table().to_pydict()
    table = {name: [None] * n for name in table}
    table["id"] = [f"d{i}" for i in range(n)]
    path = tmp_path / "staged.parquet"
    pq.write_table(pa.table(table, schema=SHARD_SCHEMA), path, row_group_size=7)
    batches = list(read_piece(Piece(str(path), 5, 23, 105), batch_size=4))
    assert all(b.num_rows <= 4 and b.schema == SHARD_SCHEMA for b in batches)
    assert [x for b in batches for x in b.column("id").to_pylist()] == [f"d{i}" for i in range(5, 23)]


@pytest.fixture()
def ray_two_cpus():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _split_sample(folder: Path, parts: int) -> int:
    """The Korean sample as `parts` input files of uneven sizes (in order)."""
    folder.mkdir()
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        lines = f.readlines()
    cuts = [0, 150, 1900, 2000, len(lines)][: parts + 1]
    for i, (a, b) in enumerate(zip(cuts, cuts[1:])):
        (folder / f"p{i}.jsonl").write_text("".join(lines[a:b]), encoding="utf-8")
    return cuts[-1]


def test_one_and_two_workers_write_the_same_files(tmp_path, ray_two_cpus):
    n = _split_sample(tmp_path / "in", 4)
    runs = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        manifest = run_corpus([str(tmp_path / "in")], str(out), "ko", workers=workers, shard_rows=700, progress=False)
        assert manifest["counts"]["read"] == n
        assert list(manifest["timings"]) == ["startup", "pass1", "decide", "pass2", "shutdown", "publish", "report"]
        assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["timings"] == manifest["timings"]
        stages = manifest["stage_seconds"]
        assert set(stages) >= {"normalize", "quality", "dedup keys"} and all(v >= 0 for v in stages.values())
        assert sum(stages.values()) > 0
        for key in ("created", "timings", "stage_seconds"):
            manifest.pop(key)
        runs[workers] = (output_files(out), manifest)
    files, manifest = runs[1]
    # 2,000 rows in the first three files: units of 700 rows span file ends
    assert len([f for f in files if f.startswith("shards/")]) == -(-n // 700)
    assert all(e["rows"] <= 700 for kind in ("shards", "rejected") for e in manifest[kind])
    assert runs[2] == runs[1]


def test_units_are_equal_and_a_small_corpus_still_shares():
    assert unit_rows(35_152, 25_000) == 4_394  # 8 units, not 25,000 + 10,152
    assert unit_rows(208_136, 25_000) == 23_127  # 9 units of at most 25,000
    assert unit_rows(3_000, 25_000) == 1_500 and unit_rows(500, 25_000) == 500
    assert unit_rows(0, 25_000) == 1 and unit_rows(10_000, 1_000) == 1_000  # shard_rows caps
    for total in (1, 1_999, 2_001, 16_000, 16_001, 199_999, 200_001, 1_000_003):
        rows = unit_rows(total, 25_000)
        n = -(-total // rows)
        assert rows <= 25_000 and n >= min(MIN_UNITS, -(-total // MIN_UNIT_ROWS))
        assert total - (n - 1) * rows > 0  # no empty unit
