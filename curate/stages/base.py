"""The one interface every batch stage implements, and the helpers stages share.

A batch stage is a class with

- ``name``: its recipe section and the prefix of its drop reasons;
- ``Settings``: a frozen dataclass built by ``Settings.from_section(section, lang)``
  from the recipe section (a dict) and the corpus language. It checks every key, type
  and range there and raises SettingError naming the key; the recipe loader calls it
  once per recipe, so a wrong setting fails before any work starts;
- ``__init__(settings)`` and ``from_section(section, lang)`` (the two steps at once);
- ``__call__(table) -> table``: called on a ``pyarrow.Table`` holding SHARD_SCHEMA
  columns, it returns a table with the same rows in the same order. Rows whose
  ``drop_reason`` is already set are passed through untouched; a stage that drops a
  live row sets ``drop_reason`` to ``"<stage>:<rule>"`` (the first reason wins);
- ``stats(table) -> dict`` and ``merge_stats(parts) -> dict``: what the stage adds to
  the per-shard statistics of the report (counts; histograms under "hist"; under
  "sample_groups", rows grouped for sample documents; see curate.stages.summaries),
  computed from the columns it fills, and how its counts merge; ``word_counts(table)`` when the stage counts words better than whitespace
  does. The report driver calls them for every registered stage without knowing
  which stage it is.

Stages never import Ray: a unit test calls them on one table and Ray Data calls them
unchanged inside ``map_batches``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Recipes and the default settings files stages read (quality thresholds, URL lists, ...).
RECIPE_DIR = Path(__file__).resolve().parents[2] / "pipelines" / "recipes"


class SettingError(ValueError):
    """A recipe setting with an unknown name, or a value of the wrong type or range."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key


class BatchStage:
    """Base of the batch stages (see the module docstring for the contract)."""

    name: ClassVar[str]
    Settings: ClassVar[type]

    def __init__(self, settings):
        self.settings = settings

    @classmethod
    def from_section(cls, section: dict | None, lang: str):
        """The stage built from its recipe section (None: every default)."""
        return cls(cls.Settings.from_section(dict(section or {}), lang))

    def __call__(self, table: pa.Table) -> pa.Table:
        raise NotImplementedError

    @staticmethod
    def stats(table: pa.Table) -> dict:
        """This stage's part of the statistics of one shard table (none by default)."""
        return {}

    @staticmethod
    def merge_stats(parts: list[dict]) -> dict:
        """Merge the parts stats() made of any split of the data (histograms and samples
        merge by themselves)."""
        return {}

    @staticmethod
    def word_counts(table: pa.Table) -> pa.ChunkedArray | None:
        """Words per document as this stage counted them (null where it did not), for
        the report's word counts; None: the stage counts no words."""
        return None


class Section:
    """Typed reads of one recipe section; ``from_section`` methods use it so that every
    setting is checked the same way and an unknown key is an error."""

    def __init__(self, section: dict, known: set[str] | frozenset[str]):
        unknown = sorted(str(k) for k in section if k not in known)
        if unknown:
            raise SettingError(unknown[0], f"unknown setting (known: {', '.join(sorted(known))})")
        self.section = section

    def get(self, key: str, default: Any = None) -> Any:
        value = self.section.get(key)
        return default if value is None else value

    def integer(self, key: str, default: int | None, minimum: int | None = None) -> int | None:
        value = self.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingError(key, f"must be a whole number, got {value!r}")
        if minimum is not None and value < minimum:
            raise SettingError(key, f"must be {minimum} or more, got {value}")
        return value

    def number(self, key: str, default: float, low: float | None = None, high: float | None = None) -> float:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingError(key, f"must be a number, got {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise SettingError(key, f"must be between {low} and {high}, got {value}")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise SettingError(key, f"must be true or false, got {value!r}")
        return value

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.get(key, default)
        if value not in choices:
            raise SettingError(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def strings(self, key: str, default: list[str] | None) -> tuple[str, ...] | None:
        """A list of strings (one string is a list of one)."""
        value = self.get(key, default)
        if value is None:
            return None
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise SettingError(key, f"must be a string or a list of strings, got {value!r}")
        return tuple(value)

    def existing_file(self, key: str, base: Path | None = None) -> str | None:
        """A path that must exist now (relative paths: from ``base``, else as given)."""
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, (str, os.PathLike)):
            raise SettingError(key, f"must be a file path, got {value!r}")
        path = Path(value) if base is None or Path(value).is_absolute() else base / value
        if not path.exists():
            raise SettingError(key, f"{path}: file not found")
        return str(value)


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


def reason_stage(reason: str) -> str:
    """The step that set a drop reason: "quality:short_line" -> "quality"; duplicates -> "dedup"."""
    if reason in ("exact_dup", "near_dup"):
        return "dedup"
    return reason.split(":", 1)[0]
