"""Stage registry: name -> module with make_stage(cfg, lang), and the chain that runs them."""

from __future__ import annotations

import importlib

import numpy as np
import pyarrow as pa

from curate.dedup.exact import text_hashes
from curate.stages.base import Stage, StageNotBuilt, live_mask, set_column

BATCH_STAGES = {
    "extract": "curate.stages.extract",
    "normalize": "curate.stages.normalize",
    "urlfilter": "curate.stages.urlfilter",
    "langid": "curate.stages.langid",
    "decontam": "curate.stages.decontam",
    "pii": "curate.stages.pii",
    "quality": "curate.stages.quality",
}


def stage_module(name: str):
    """The module implementing a batch stage, or StageNotBuilt naming what is missing."""
    module_name = BATCH_STAGES[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise StageNotBuilt(f"stage '{name}' is not built yet ({module_name} does not exist)") from exc
    if not hasattr(module, "make_stage"):
        raise StageNotBuilt(f"stage '{name}' is not built yet ({module_name} has no make_stage)")
    return module


def build_stage(name: str, recipe: dict, lang: str) -> Stage:
    return stage_module(name).make_stage(dict(recipe.get(name) or {}), lang)


def check_stages(names: list[str]) -> None:
    """Fail before any work starts if a requested stage cannot be built (dedup is global, not a batch stage)."""
    for name in names:
        if name != "dedup":
            stage_module(name)


def check_settings(recipe: dict, names: list[str], lang: str) -> None:
    """Build each batch stage once, so that a setting of the wrong type fails here,
    naming its stage and recipe, not later inside a worker."""
    from curate.recipe import RecipeError

    for name in names:
        if name in BATCH_STAGES:
            try:
                build_stage(name, recipe, lang)
            except (ValueError, TypeError, KeyError) as exc:
                raise RecipeError(f"{recipe.get('_path', 'recipe')}: {name}: {exc}") from exc


class StageChain:
    """Runs the batch stages in order, then computes dedup keys for live rows.

    Built once per worker process (Ray actor) so models load once.
    """

    def __init__(self, recipe: dict, lang: str, stages: list[str], near_dedup: bool = False):
        self.stages = [build_stage(n, recipe, lang) for n in stages if n in BATCH_STAGES]
        self.dedup = "dedup" in stages
        self.near_dedup = self.dedup and near_dedup
        self.dedup_cfg = dict(recipe.get("dedup") or {})
        self.lang = lang

    def __call__(self, table: pa.Table) -> pa.Table:
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        for stage in self.stages:
            table = stage(table)
        if self.dedup:
            table = self._add_dedup_keys(table)
        return table

    def _add_dedup_keys(self, table: pa.Table) -> pa.Table:
        live = live_mask(table)
        idx = np.flatnonzero(live)
        texts = table.column("text").to_pylist()
        hashes = np.zeros(table.num_rows, dtype=np.uint64)
        hashes[idx] = text_hashes([texts[i] for i in idx])
        table = set_column(table, "text_hash", pa.array(hashes, mask=~live))
        if self.near_dedup:
            from curate.dedup.near import dedup_keys

            keys = dedup_keys(table.take(pa.array(idx, pa.int64())), self.dedup_cfg, self.lang)
            table = table.append_column("minhash", _scatter_signatures(keys.column("minhash"), idx, table.num_rows))
            if "core_minhash" in keys.column_names:  # dropped rows get empty bodies (all 0xFFFFFFFF)
                table = table.append_column(
                    "core_minhash", _scatter_signatures(keys.column("core_minhash"), idx, table.num_rows, 0xFFFFFFFF)
                )
                chars = np.zeros(table.num_rows, dtype=np.int64)
                chars[idx] = keys.column("core_chars").to_numpy()
                table = table.append_column("core_chars", pa.array(chars, pa.int64()))
            lines = keys.column("line_hashes").to_pylist()
            per_row = [[] for _ in range(table.num_rows)]
            for i, hashes in zip(idx, lines):
                per_row[i] = hashes
            table = table.append_column("line_hashes", pa.array(per_row, keys.schema.field("line_hashes").type))
        return table


def _scatter_signatures(sigs, idx: np.ndarray, n_rows: int, fill: int = 0) -> pa.FixedSizeListArray:
    """Signatures of the rows at idx placed in a column of n_rows (the others ``fill``)."""
    sigs = sigs.combine_chunks() if isinstance(sigs, pa.ChunkedArray) else sigs
    width = sigs.type.list_size
    flat = np.full((n_rows, width), fill, dtype=np.uint32)
    if len(idx):
        flat[idx] = sigs.flatten().to_numpy().reshape(len(idx), width)
    return pa.FixedSizeListArray.from_arrays(pa.array(flat.ravel(), pa.uint32()), width)
