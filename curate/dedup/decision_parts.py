"""A corpus step's decision on disk, one Parquet part per staged file.

Pass 2 applies a decision batch by batch, a batch never spanning two staged files; what
it is handed is a ``DecisionParts`` (a folder name: the same few bytes for any corpus),
and each process reads only the part of the staged file it is on, once. A part holds
the file's decided rows with ``row`` local to the file, ascending; a file without any
has no part. ``index.json``, written last, lists each staged file's first global row
and the step's summary, and marks the decision complete (a resumed run reuses it).
The folder may be on any filesystem (curate.io.fs): the workers write their parts to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.io import fs

INDEX = "index.json"


def part_name(file_index: int) -> str:
    return f"part-{file_index:06d}.parquet"


@dataclass(frozen=True)
class DecisionParts:
    folder: str

    def done(self) -> bool:
        return fs.is_file(fs.join(self.folder, INDEX))

    def summary(self) -> dict:
        return _index(self.folder)[1]

    def locate(self, offset: int) -> tuple[int, int]:
        """(staged file index, its first global row) of the file holding global row ``offset``."""
        starts = _index(self.folder)[0]
        i = int(np.searchsorted(starts, offset, side="right")) - 1
        return i, int(starts[i])

    def part(self, file_index: int) -> pa.Table | None:
        """The decided rows of one staged file (local rows), None when it has none."""
        return _read_part(self.folder, file_index)

    def start(self) -> None:
        """An empty folder for a decision about to be written (clears a crashed attempt)."""
        fs.remove_tree(self.folder)
        fs.makedirs(self.folder)
        _index.cache_clear()
        _read_part.cache_clear()

    def finish(self, starts: list[int], summary: dict) -> None:
        """Mark the decision complete: every part is written."""
        fs.write_text(
            fs.join(self.folder, INDEX), json.dumps({"starts": starts, "summary": summary}, ensure_ascii=False)
        )


def write_part(folder: str, file_index: int, table: pa.Table) -> None:
    """One staged file's part (rows local, any order), written atomically."""
    with fs.open_output(fs.join(folder, part_name(file_index))) as f:
        pq.write_table(table.sort_by("row"), f)


def write_global(parts: DecisionParts, table: pa.Table, row_counts: list[int], summary: dict) -> DecisionParts:
    """A decision held in one process (global rows) written as parts: for in-process
    use (evaluations, benches, tests); a corpus run writes its parts on the workers."""
    parts.start()
    starts = np.r_[0, np.cumsum(row_counts)[:-1]].astype(np.int64)
    rows = table.column("row").to_numpy()
    file_of = np.searchsorted(starts, rows, side="right") - 1
    for i in np.unique(file_of):
        sel = table.filter(pa.array(file_of == i))
        write_part(parts.folder, int(i), sel.set_column(0, "row", pc.subtract(sel.column("row"), int(starts[i]))))
    parts.finish(starts.tolist(), summary)
    return parts


@lru_cache(maxsize=8)
def _index(folder: str) -> tuple[np.ndarray, dict]:
    index = json.loads(fs.read_text(fs.join(folder, INDEX)))
    return np.asarray(index["starts"], dtype=np.int64), index["summary"]


@lru_cache(maxsize=4)
def _read_part(folder: str, file_index: int) -> pa.Table | None:
    path = fs.join(folder, part_name(file_index))
    return fs.parquet_file(path).read() if fs.is_file(path) else None
