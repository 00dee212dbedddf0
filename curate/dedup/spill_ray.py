"""Ray tasks whose tables travel through files, not through Ray's object store.

A corpus step's shuffles hold the whole corpus's keys, pairs and edges at once. Kept in
Ray's object store, every worker maps the store's pages it reads or writes, and a
reused worker keeps them mapped: its resident memory grows with the corpus even though
each task holds one partition. With a scratch folder set (``scratch``, on the driver),
a ``disk_task`` writes every table it returns into that folder (Arrow IPC, one file
per task, one record batch per table) and returns an ``OnDisk`` handle of a few bytes
instead; a task handed a handle reads only its own batch, with plain reads into
private memory that it gives back to the system when it returns. Without a scratch
folder a ``disk_task`` is a plain Ray task (in-process evaluations, benches, tests).
The folder must be visible to every node, as the staged files are: it lies beside the
decision, on the output's filesystem (local, or an object store through curate.io.fs).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

import pyarrow as pa
import ray

from curate.io import fs

_FOLDER: list[str | None] = [None]
_LIBC = (
    ctypes.CDLL(ctypes.util.find_library("c")) if sys.platform.startswith("linux") else None
)  # on the driver: where the running decision's tasks write


@dataclass(frozen=True)
class OnDisk:
    """A table a task wrote: record batch ``batch`` of the IPC file ``path``."""

    path: str
    batch: int
    rows: int
    nbytes: int

    def load(self) -> pa.Table:
        with _reading(self.path) as f:  # read, not mapped: the pages are this task's, freed with it
            return pa.Table.from_batches([pa.ipc.open_file(f).get_batch(self.batch)])


@dataclass(frozen=True)
class ShuffleDir:
    """A finished shuffle's map outputs: ``files`` files in ``folder`` (block order), record
    batch p of each being partition p's piece. One such handle, the same few bytes for
    every reducer, stands for all the pieces of a partition."""

    folder: str
    files: int

    def load(self, partition: int) -> pa.Table:
        pieces = [OnDisk(split_path(self.folder, i), partition, 0, 0).load() for i in range(self.files)]
        return pa.concat_tables(pieces)


@dataclass(frozen=True)
class Partition:
    """The last argument of a reducer submitted with ``.at(p)``: which partition of a ShuffleDir it reads."""

    index: int


def split_path(folder: str, block: int) -> str:
    return fs.join(folder, f"{block:06d}.arrow")


def write_split(folder: str, block: int, pieces: list[pa.Table]) -> int:
    """A map task's pieces (one schema) as the record batches of its file, in partition order."""
    with _writing(split_path(folder, block)) as sink, pa.ipc.new_file(sink, pieces[0].schema) as writer:
        for piece in pieces:
            batches = piece.combine_chunks().to_batches()
            writer.write_batch(batches[0] if batches else pa.RecordBatch.from_pylist([], schema=piece.schema))
    return sum(p.num_rows for p in pieces)


@ray.remote(num_cpus=0)
def gathered(folder: str, *written: int) -> ShuffleDir:
    """The shuffle's handle, once every map task has written its file."""
    return ShuffleDir(folder, len(written))


def scratch_folder() -> str | None:
    """Where the running decision's tasks write (None: into Ray's object store)."""
    return _FOLDER[0]


@contextmanager
def scratch(folder: str):
    """Tasks submitted inside write their tables under ``folder``, removed on exit."""
    fs.makedirs(folder)
    _FOLDER[0] = folder
    try:
        yield folder
    finally:
        _FOLDER[0] = None
        if fs.is_uri(folder):
            fs.remove_tree(folder)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _reading(path: str):
    """A scratch file opened for random access, on whatever filesystem holds it."""
    filesystem, p = fs.resolve(path)
    return filesystem.open_input_file(p)


def _writing(path: str):
    """A new scratch file. No temporary name: its handle exists only once it is written."""
    filesystem, p = fs.resolve(path)
    return filesystem.open_output_stream(p, compression=None)


def loaded(value, partition: int | None = None):
    """A task's argument as the task function takes it: a handle's table (a ShuffleDir's
    pieces of ``partition``), anything else as is."""
    if isinstance(value, ShuffleDir):
        if partition is None:
            raise ValueError(f"{value.path}: a shuffled piece handed to a task submitted without .at(partition)")
        return value.load(partition)
    return value.load() if isinstance(value, OnDisk) else value


def _spilled(folder: str, outputs: list) -> list:
    """The outputs with every table written to one IPC file per schema and replaced by its handle."""
    by_schema: dict[pa.Schema, list[int]] = {}
    for i, o in enumerate(outputs):
        if isinstance(o, pa.Table):
            by_schema.setdefault(o.schema.remove_metadata(), []).append(i)
    out = list(outputs)
    for schema, positions in by_schema.items():
        path = fs.join(folder, f"{uuid.uuid4().hex}.arrow")
        with _writing(path) as sink, pa.ipc.new_file(sink, schema) as writer:
            for batch_index, i in enumerate(positions):
                table = outputs[i].replace_schema_metadata(None).combine_chunks()
                batches = table.to_batches()
                writer.write_batch(batches[0] if batches else pa.RecordBatch.from_pylist([], schema=schema))
                out[i] = OnDisk(path, batch_index, table.num_rows, table.nbytes)
    return out


def _give_back_memory() -> None:
    """Return the task's freed memory to the system: a reused worker would otherwise keep
    the peak of the largest task it ever ran (Arrow's pool and glibc's heap both retain)."""
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _runner(fn):
    """The Ray task body of ``fn``: handles in, ``fn``, tables out to the scratch folder."""

    def run(num_returns: int, folder: str | None, *args):
        partition = None
        if args and isinstance(args[-1], Partition):
            partition, args = args[-1].index, args[:-1]
        result = fn(*(loaded(a, partition) for a in args))
        if folder is None:
            return result
        outputs = list(result) if num_returns > 1 else [result]
        del result
        out = _spilled(folder, outputs)
        del outputs
        _give_back_memory()
        return out if num_returns > 1 else out[0]

    run.__name__ = run.__qualname__ = fn.__name__
    return run


class DiskTask:
    """``fn`` as a Ray task (``.remote``, ``.options``) whose tables go through the scratch folder."""

    def __init__(self, fn, options: dict | None = None, base=None):
        self.fn = fn
        self.opts = {"num_returns": 1, **(options or {})}
        self._base = base or ray.remote(_runner(fn))  # exported to the workers once
        self._remote = self._base.options(**self.opts)

    def options(self, **options) -> DiskTask:
        return DiskTask(self.fn, {**self.opts, **options}, self._base)

    def remote(self, *args):
        return self._remote.remote(self.opts["num_returns"], _FOLDER[0], *args)

    def at(self, partition: int) -> _AtPartition:
        """The reducer of ``partition``: ``task.at(p).remote(...)``."""
        return _AtPartition(self, partition)


@dataclass(frozen=True)
class _AtPartition:
    task: DiskTask
    partition: int

    def remote(self, *args):
        return self.task.remote(*args, Partition(self.partition))


def disk_task(fn=None, **options):
    """Decorator: ``@disk_task`` or ``@disk_task(num_returns=2)``."""
    if fn is None:
        return lambda f: DiskTask(f, options)
    return DiskTask(fn, options)
