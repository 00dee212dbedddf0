"""The one interface every corpus step implements.

A corpus step decides over the whole corpus what no batch can decide alone (which
documents are duplicates, which exceed their domain's cap). It works in three parts,
run by pipelines/corpus.py:

1. ``keys(table) -> table`` in pass 1, on the workers, after the batch stages: it
   fills or adds the step's key columns for the live rows (a dropped row's keys are
   never read). The columns named in ``key_columns`` are kept per live row in the
   staged keys files (see ``live_keys``).
2. ``decide(corpus, decided)`` once, over the whole staged corpus (``StagedCorpus``),
   after the steps before it, in Ray tasks that read the staged files themselves (the
   driver holds a list of files, never a row's keys); ``decided`` maps each earlier
   step's name to its decision, which a step may revise (the domain cap promotes a
   duplicate whose keeper it drops). A decision is a small handle on parts written per
   staged file (curate/dedup/decision_parts.py), sent as is to every pass-2 task.
3. ``apply(table, offset, decision) -> table`` in pass 2, on each staged batch (rows
   offset .. offset + n in input order, inside one staged file), before the rows are written.

``manifest(decision)`` gives the step's fields of the run's manifest. A step is
built by its ``build(recipe, stages, lang)`` classmethod, which returns None when
the run does not ask for it; its settings are checked and frozen there, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class StagedFile:
    """One staged file as a task reads it: its rows (``staged``), the keys of its live
    rows (``keys``, rows local; None without corpus-step keys), its index in input
    order, its first row in the corpus (input order), its row and live-row counts."""

    index: int
    staged: str
    keys: str | None
    first_row: int
    rows: int
    live: int


class StagedCorpus(Protocol):
    """What a step reads of pass 1's output (pipelines.staging.StagedRun)."""

    work: str  # where a step keeps its decision (a resumed run reuses it), on any filesystem (curate.io.fs)

    def files(self) -> list[StagedFile]: ...


class CorpusStep(Protocol):
    name: str
    key_columns: tuple[str, ...]

    def keys(self, table: pa.Table) -> pa.Table: ...

    def decide(self, corpus: StagedCorpus, decided: dict[str, Any]) -> Any: ...

    def apply(self, table: pa.Table, offset: int, decision: Any) -> pa.Table: ...

    def manifest(self, decision: Any) -> dict: ...


def live_keys(table: pa.Table, first_row: int, columns: list[str]) -> pa.Table:
    """``row`` (first_row + position) and the given key columns of the live rows."""
    cols = {"row": pa.array(np.arange(first_row, first_row + table.num_rows, dtype=np.int64))}
    cols.update({name: table.column(name) for name in columns})
    return pa.table(cols).filter(pc.is_null(table.column("drop_reason")))


def batch_positions(rows: np.ndarray, offset: int, n: int) -> tuple[int, int]:
    """The slice of the ascending global ``rows`` that falls in the batch offset .. offset + n."""
    lo, hi = np.searchsorted(rows, [offset, offset + n])
    return int(lo), int(hi)
