"""What bounds a corpus step's memory per task whatever the corpus size: a task reads
at most a unit of a staged file's keys, and tables travel between tasks as files in a
scratch folder, so Ray's object store (mapped by every worker that touches it) holds
only their handles."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import ray

from curate.dedup.corpus_ray import key_units
from curate.dedup.near_ray import _join_partitions, partitions_for
from curate.dedup.one_task import file_texts
from curate.dedup.settings import settings
from curate.dedup.shuffle_ray import shuffle
from curate.dedup.spill_ray import OnDisk, ShuffleDir, disk_task, scratch
from curate.dedup.step import StagedFile


@pytest.fixture(scope="module")
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _write_groups(path, sizes: list[int], start: int = 0) -> None:
    """A Parquet file of rows start.. with one row group per entry of sizes."""
    writer = None
    for n in sizes:
        t = pa.table(
            {"row": pa.array(np.arange(start, start + n), pa.int64()), "text": [f"t{start + i}" for i in range(n)]}
        )
        writer = writer or pq.ParquetWriter(path, t.schema)
        writer.write_table(t)
        start += n
    writer.close()


def test_key_units_never_exceed_the_limit_and_cover_every_row_group_once(tmp_path):
    sizes = {"a": [300, 300, 300, 50, 1200, 10], "b": [], "c": [700, 1]}
    files, first = [], 0
    for i, (name, groups) in enumerate(sizes.items()):
        path = tmp_path / f"{name}.keys.parquet"
        if groups:
            _write_groups(path, groups)
        files.append(StagedFile(i, "", str(path), first, sum(groups), sum(groups)))
        first += sum(groups)
    for limit in (1, 299, 700, 1000, 5000):
        units = key_units(files, limit)
        for u in units:
            assert u.rows == sum(sizes[u.file.keys.split("/")[-1][0]][g] for g in u.groups)
            assert u.rows <= limit or len(u.groups) == 1  # only a row group larger than the limit stands alone
        covered = [(u.file.index, g) for u in units for g in u.groups]
        assert covered == [(f.index, g) for f in files for g in range(len(sizes["abc"[f.index]]))]
    assert [u.rows for u in key_units(files, 700)] == [600, 350, 1200, 10, 700, 1]


def test_staged_texts_reads_exactly_the_rows_asked(tmp_path):
    path = tmp_path / "staged.parquet"
    _write_groups(path, [5, 7, 3, 9, 4])
    texts = [f"t{i}" for i in range(28)]
    rng = np.random.default_rng(0)
    for k in (1, 3, 10, 28):
        local = np.sort(rng.choice(28, size=k, replace=False))
        assert file_texts(str(path), local) == [texts[i] for i in local]


@disk_task(num_returns=3)
def _three(n: int):
    t = pa.table({"x": pa.array(np.arange(n), pa.int64())})
    return t, pa.table({"y": ["a"] * n}), n


@disk_task
def _total(table: pa.Table, other: pa.Table) -> pa.Table:
    return pa.table({"sum": [int(np.sum(table.column("x").to_numpy())) + other.num_rows]})


def test_disk_task_tables_travel_as_handles_to_files(local_ray, tmp_path):
    folder = tmp_path / "scratch"
    with scratch(str(folder)):
        a, b, n = _three.remote(4)
        got = ray.get([a, b, n])
        assert isinstance(got[0], OnDisk) and isinstance(got[1], OnDisk) and got[2] == 4
        assert got[0].rows == 4 and got[0].load().column("x").to_pylist() == [0, 1, 2, 3]
        assert got[1].load().column("y").to_pylist() == ["a"] * 4
        empty = ray.get(_three.remote(0))
        assert empty[0].rows == 0 and empty[0].load().schema == pa.schema([("x", pa.int64())])
        total = ray.get(_total.remote(a, b))  # a task is handed the tables behind the handles
        assert isinstance(total, OnDisk) and total.load().column("sum").to_pylist() == [10]
        assert len(list(folder.iterdir())) >= 3
    assert not folder.exists()  # the scratch folder goes with the decision
    plain = ray.get(_three.remote(2))  # without a scratch folder: a plain Ray task
    assert isinstance(plain[0], pa.Table) and plain[0].num_rows == 2


@disk_task
def _rows_of(*pieces: pa.Table) -> list[int]:
    return [r for t in pieces for r in t.column("row").to_pylist()]


def test_partitions_grow_with_the_keys_so_a_partition_holds_the_setting(local_ray, tmp_path):
    s = settings({"partition_docs": 1000, "partition_pairs": 500})
    for n in (1, 999, 1000, 1001, 64_000, 1_000_000):
        parts = partitions_for(n, s)
        assert parts * s.partition_docs >= n > (parts - 1) * s.partition_docs
    with scratch(str(tmp_path / "scratch")):
        pairs = [ray.put(pa.table({"a": np.arange(k), "b": np.arange(k) + 1})) for k in (900, 900, 900)]
        assert _join_partitions(pairs, 2, s) == 6  # 2,700 pairs at most 500 a partition
        blocks = [ray.put(pa.table({"row": np.arange(i * 3000, (i + 1) * 3000)})) for i in range(4)]
        parts = partitions_for(12_000, s)
        pieces = shuffle(blocks, "row", parts)
        # one handle for every partition's pieces: the driver holds no reference per block and partition
        assert len(pieces) == 12 and all(p == pieces[0] and len(p) == 1 for p in pieces)
        handle = ray.get(pieces[0][0])
        assert isinstance(handle, ShuffleDir) and handle.files == 4
        got = ray.get([_rows_of.at(p).remote(*pieces[p]) for p in range(parts)])  # each reads its own batches
        assert sorted(r for g in got for r in g) == list(range(12_000))
        assert all(g == sorted(g) for g in got)  # pieces in block order
        assert max(len(g) for g in got) < 1.25 * s.partition_docs  # a hash partition holds about its share
        with pytest.raises(ray.exceptions.RayTaskError, match="without .at"):
            ray.get(_rows_of.remote(*pieces[0]))


def test_bucket_pairs_formed_chunk_by_chunk_equal_the_whole(monkeypatch):
    from curate.dedup import near_ray
    from curate.dedup.pairs import bucket_pairs, unique_pairs

    rng = np.random.default_rng(1)
    keys = rng.integers(0, 300, 5000).astype(np.uint64)  # buckets of every size, some over max_all_pairs
    keys[:40] = 7  # one bucket larger than a chunk
    rows = rng.permutation(5000).astype(np.int64)
    rows[rng.random(5000) < 0.3] += near_ray.BODY  # bodies among the full signatures
    table = pa.table({"band_key": pa.array(keys, pa.uint64()), "row": pa.array(rows, pa.int64())})
    a, b = bucket_pairs(keys, rows, 16)
    ok = (a < near_ray.BODY) & (b - near_ray.BODY != a)
    expected = unique_pairs(a[ok], b[ok])
    sorted_keys = np.sort(keys)
    largest_bucket = int(np.unique(keys, return_counts=True)[1].max())
    for chunk in (7, 100, 10_000):
        spans = near_ray._bucket_chunks(sorted_keys, chunk)
        assert spans[0][0] == 0 and spans[-1][1] == len(keys)
        assert all(hi == lo2 for (_, hi), (lo2, _) in zip(spans, spans[1:]))  # consecutive, nothing left out
        assert all(lo == 0 or sorted_keys[lo] != sorted_keys[lo - 1] for lo, _ in spans)  # never inside a bucket
        assert max(hi - lo for lo, hi in spans) < chunk + largest_bucket  # a chunk's rows and one bucket at most
        monkeypatch.setattr(near_ray, "BUCKET_CHUNK_ROWS", chunk)
        got = near_ray._bucket_reduce.fn(16, table.slice(0, 2500), table.slice(2500))
        assert len(got) > 1000
        assert got.column("a").to_pylist() == expected[0].tolist()
        assert got.column("b").to_pylist() == expected[1].tolist()
