"""The one interface every stage implements.

A stage is built from its recipe section and then called on a ``pyarrow.Table``
holding SHARD_SCHEMA columns. It returns a table with the same rows in the same
order. Rows whose ``drop_reason`` is already set are passed through untouched; a
stage that drops a live row sets ``drop_reason`` to ``"<stage>:<rule>"`` (the first
reason wins). Stages never import Ray: a unit test calls them on one table and
Ray Data calls them unchanged inside ``map_batches``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class Stage(Protocol):
    name: str

    def __call__(self, table: pa.Table) -> pa.Table: ...


def live_mask(table: pa.Table) -> np.ndarray:
    """Boolean numpy mask of rows no stage has dropped yet."""
    return pc.is_null(table.column("drop_reason")).to_numpy(zero_copy_only=False)


def set_column(table: pa.Table, name: str, values: Any) -> pa.Table:
    """Replace column ``name`` with ``values`` cast to the schema's type."""
    idx = table.schema.get_field_index(name)
    typ = table.schema.field(name).type
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, type=typ)
    if arr.type != typ:
        arr = arr.cast(typ)
    return table.set_column(idx, table.schema.field(name), arr)


def merge_drop_reasons(table: pa.Table, reasons: list[str | None]) -> pa.Table:
    """Set drop_reason where it is still null; earlier reasons win."""
    current = table.column("drop_reason").to_pylist()
    merged = [c if c is not None else r for c, r in zip(current, reasons)]
    return set_column(table, "drop_reason", merged)


class StageNotBuilt(RuntimeError):
    """Raised when a recipe or --stages asks for a stage that does not exist yet."""


StageFactory = Callable[[dict, str], Stage]


def reason_stage(reason: str) -> str:
    """The step that set a drop reason: "quality:short_line" -> "quality"; duplicates -> "dedup"."""
    if reason in ("exact_dup", "near_dup"):
        return "dedup"
    return reason.split(":", 1)[0]
