"""The batch stages, in pipeline order, and the chain that runs them.

A new stage is one import and one entry in BATCH_STAGES (see README, "Adding a stage").
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from curate.dedup.exact import text_hashes
from curate.stages.base import BatchStage, live_mask, set_column
from curate.stages.decontam.stage import DecontamStage
from curate.stages.extract import ExtractStage
from curate.stages.langid import LangIdStage
from curate.stages.normalize import NormalizeStage
from curate.stages.pii.stage import PIIStage
from curate.stages.quality.stage import QualityStage
from curate.stages.urlfilter import UrlFilterStage

BATCH_STAGES: tuple[type[BatchStage], ...] = (
    ExtractStage,
    NormalizeStage,
    UrlFilterStage,
    LangIdStage,
    DecontamStage,
    PIIStage,
    QualityStage,
)
BY_NAME = {stage.name: stage for stage in BATCH_STAGES}


def build_stage(name: str, recipe: dict, lang: str) -> BatchStage:
    """The batch stage ``name`` built from its section of the recipe."""
    return BY_NAME[name].from_section(recipe.get(name), lang)


class StageChain:
    """Runs the batch stages in order, then computes dedup keys for live rows.

    Built once per worker process (Ray actor) so models load once.
    """

    def __init__(self, recipe: dict, lang: str, stages: list[str], near_dedup: bool = False):
        self.stages = [build_stage(n, recipe, lang) for n in stages if n in BY_NAME]
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
