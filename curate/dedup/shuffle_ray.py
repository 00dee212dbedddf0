"""The hash-partitioned shuffle under every corpus step (curate/dedup/near_ray.py).

Map: split a block into P parts by a key. Reduce: one task per part, handed every
block's piece of it. With a scratch folder (curate/dedup/spill_ray.py) each map task
writes its P pieces as the record batches of one file in the shuffle's folder, and
one ``ShuffleDir`` handle, made when they all have, stands for every reducer's pieces:
the driver holds a reference per block and a task spec per reducer of a few bytes,
not one per block and partition (P x P for a shuffle of reducer outputs, which grew
the driver with the corpus). A reducer is submitted with ``.at(p)`` and reads batch
p of each file. Without a scratch folder the pieces are P returns of the map task,
in Ray's object store.
"""

from __future__ import annotations

import uuid

import numpy as np
import pyarrow as pa

from curate.dedup.minhash import mix64
from curate.dedup.spill_ray import disk_task, gathered, scratch_folder, write_split
from curate.io import fs


def _partition_of(values: np.ndarray, parts: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        return (mix64(values.astype(np.uint64)) % np.uint64(parts)).astype(np.int64)


def _pieces(table: pa.Table, key: str, parts: int) -> list[pa.Table]:
    part = _partition_of(table.column(key).to_numpy(zero_copy_only=False), parts)
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(parts + 1))
    return [table.take(order[bounds[p] : bounds[p + 1]]) for p in range(parts)]


@disk_task
def _split(table: pa.Table, key: str, parts: int) -> list[pa.Table]:
    return _pieces(table, key, parts)


@disk_task
def _split_file(folder: str, block: int, table: pa.Table, key: str, parts: int) -> int:
    return write_split(folder, block, _pieces(table, key, parts))


def shuffle(blocks: list, key: str, parts: int) -> list[list]:
    """For each partition, the ObjectRefs its reducer is handed (one per input block);
    submit the reducer of partition p with ``task.at(p)``."""
    if parts == 1:
        return [list(blocks)]
    folder = scratch_folder()
    if folder is not None and blocks:
        folder = fs.join(folder, f"shuffle-{uuid.uuid4().hex}")
        fs.makedirs(folder)
        handle = gathered.remote(folder, *[_split_file.remote(folder, i, b, key, parts) for i, b in enumerate(blocks)])
        return [[handle] for _ in range(parts)]
    pieces = [_split.options(num_returns=parts).remote(b, key, parts) for b in blocks]
    return [[pieces[i][p] for i in range(len(blocks))] for p in range(parts)]


def concat_pieces(tables, schema: pa.Schema | None = None) -> pa.Table:
    """The non-empty pieces as one table; when all are empty, the first piece (or
    ``schema``'s empty table, for a partition that may have no pieces at all)."""
    full = [t for t in tables if t.num_rows]
    if not full:
        return schema.empty_table() if schema is not None else tables[0]
    return pa.concat_tables(full, promote_options="default") if len(full) > 1 else full[0]
