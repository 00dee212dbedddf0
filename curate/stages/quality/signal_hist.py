"""Histograms of every quality signal, kept vs dropped by a quality rule: the quality
stage's part of the report statistics that lets a reader see where a rule's threshold
falls among the documents.

Bin edges are fixed per signal (not per run) so that histograms of different shards,
and of runs with different thresholds, add bin by bin; a value outside the edges is
counted in the first or last bin.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.stages import summaries
from curate.stages.quality.rules import SIGNAL_NAMES

_RATIO = [i / 40 for i in range(41)]
_COUNT = [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 1_000_000]
_COUNT_SIGNALS = {"n_chars", "n_words", "n_lines", "keyword_rows", "flagged_lines"}
# signals that are neither ratios in [0, 1] nor counts, each over the range it takes
_RANGES = {
    "mean_word_len": [i / 2 for i in range(41)],  # 0..20
    "lm_score": [-15 + i / 2 for i in range(31)],  # log-prob per character, -15..0
    "word_order_gain": [-1 + i / 10 for i in range(31)],  # -1..2
}


def signal_edges(signal: str) -> list[float]:
    """The fixed bin edges of one signal's histogram."""
    if signal in _COUNT_SIGNALS:
        return _COUNT
    return _RANGES.get(signal, _RATIO)


def stats(table: pa.Table) -> dict:
    """signal -> {"edges", "kept", "dropped"}: documents with the signal computed, kept
    ones and those a quality rule dropped (documents a later stage dropped are left out:
    a rule did not judge them alone)."""
    if "quality_signals" not in table.column_names or table.num_rows == 0:
        return {}
    reasons = table.column("drop_reason")
    kept = pc.is_null(reasons).to_numpy(zero_copy_only=False)
    dropped = pc.fill_null(pc.starts_with(reasons, "quality:"), False).to_numpy(zero_copy_only=False)
    sig = table.column("quality_signals")
    out = {}
    for signal in SIGNAL_NAMES:
        values = summaries.floats(pc.struct_field(sig, signal))
        if np.isnan(values).all():
            continue
        edges = signal_edges(signal)
        out[signal] = {
            "edges": edges,
            "kept": summaries.histogram(values[kept], edges)["counts"],
            "dropped": summaries.histogram(values[dropped], edges)["counts"],
        }
    return out


def merge(parts: list[dict]) -> dict:
    """Histograms of several parts added bin by bin."""
    out: dict = {}
    for part in parts:
        for signal, h in (part or {}).items():
            m = out.setdefault(
                signal, {"edges": h["edges"], "kept": [0] * len(h["kept"]), "dropped": [0] * len(h["kept"])}
            )
            if m["edges"] != h["edges"]:
                raise ValueError(f"stats: signal histogram '{signal}' has different bin edges across shards")
            m["kept"] = [a + b for a, b in zip(m["kept"], h["kept"])]
            m["dropped"] = [a + b for a, b in zip(m["dropped"], h["dropped"])]
    return out
