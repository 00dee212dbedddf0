"""Mergeable per-shard statistics: the report is built from these, never from the text.

`table_stats(table)` summarises one shard table (kept or rejected) into a small
JSON-able dict; `merge_stats([...])` combines any number of them into the same shape.
This module computes what every table has (rows, characters, words, drop reasons,
sources, repeated lines, sample documents by drop reason); each registered stage adds
its own part through its ``stats`` / ``merge_stats`` (curate.stages.base), and so do
the duplicate clusters (curate.report.clusters, curate.report.dup_pairs) and the domains
(curate.report.domains). Histograms a part puts under "hist"
merge here, bin by bin (their edges are fixed); a part's "sample_groups" (a group code
per row and the groups' names) become sample documents under "samples", the bottom-k
by key of each group (curate.stages.summaries), which merge here too. Everything merges exactly except
the repeated-lines summary, a bounded heavy-hitters summary with an error bound:
repeated lines keep the top-K lines of each shard plus a floor (the largest count a
line not kept could have); merged counts are lower bounds, `err` their slack.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.report import clusters, domains, dup_pairs
from curate.stages import summaries
from curate.stages.registry import BATCH_STAGES
from curate.stages.summaries import sample_key  # noqa: F401  (the report's sampling key, for callers)

STATS_VERSION = 4
INF = float("inf")
# Fixed bin edges: histograms of different shards add bin by bin.
EDGES = {
    "chars": [0, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, INF],
    "words": [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, INF],
}
TOP_LINES = 200  # lines kept per summary
LINE_KEY_CHARS = 200  # a line is keyed (and shown) by its first 200 characters
MIN_LINE_CHARS = 4  # shorter lines ("", "-", "ㅋㅋ") say nothing about boilerplate
# Whatever adds a part of its own: the batch stages, in pipeline order, then the clusters
# and the domains.
PARTS = (*BATCH_STAGES, clusters, dup_pairs, domains)


# ---------------------------------------------------------------------------- per shard
def _top_lines(text) -> dict:
    """Exact top-K lines of this table and the floor (largest count of a line not kept)."""
    lines = pc.list_flatten(pc.split_pattern(pc.fill_null(text, ""), "\n"))
    lines = pc.utf8_trim_whitespace(lines)
    lines = lines.filter(pc.greater_equal(pc.utf8_length(lines), MIN_LINE_CHARS))
    if len(lines) == 0:
        return {"items": {}, "floor": 0, "k": TOP_LINES}
    lines = pc.utf8_slice_codeunits(lines, 0, LINE_KEY_CHARS)
    vc = pc.value_counts(lines)
    counts = vc.field("counts").to_numpy()
    order = np.argsort(-counts, kind="stable")
    keep, rest = order[:TOP_LINES], order[TOP_LINES:]
    vals = vc.field("values")
    items = {vals[int(i)].as_py(): [int(counts[i]), 0] for i in keep if counts[i] > 1}
    # the largest count of a line not kept (single occurrences are not kept either)
    floor = max(int(counts[rest].max()) if len(rest) else 0, 1 if len(items) < len(keep) else 0)
    return {"items": items, "floor": floor, "k": TOP_LINES}


def rule_passes(table: pa.Table, rules) -> dict | None:
    """Of the documents the quality stage judged (those with signals: kept ones, those it
    dropped, and those a later stage such as dedup dropped), how many had each rule's
    signal computed, and how many of those pass the rule on its own. A signal that was
    not computed (null: a rule for long documents on a short one, a word signal on a
    text never segmented) is counted apart, never as a pass. Vectorised twin of
    curate.stages.quality.rules.failed_rule over the stored signals."""
    if not rules or "quality_signals" not in table.column_names or table.num_rows == 0:
        return None
    sig = table.column("quality_signals")
    judged = pc.is_valid(pc.struct_field(sig, "n_chars")).to_numpy(zero_copy_only=False)
    passes, missing = {}, {}
    for name, signal, bound, thr in rules:
        v = summaries.floats(pc.struct_field(sig, signal))
        computed = judged & ~np.isnan(v)
        fail = (v < thr) if bound == "min" else (v > thr)
        passes[name] = int((computed & ~fail).sum())
        missing[name] = int((judged & ~computed).sum())
    return {"judged": int(judged.sum()), "pass": passes, "not_computed": missing, "order": [r[0] for r in rules]}


def _words(table: pa.Table) -> np.ndarray:
    """Words per document: whitespace words, or the words a stage counted (Japanese has no spaces)."""
    from curate.report.words import word_counts  # numba: imported where shards are summarised only

    words = pa.array(word_counts(table.column("text")), pa.int64())
    for stage in BATCH_STAGES:
        if (counted := stage.word_counts(table)) is not None:
            words = pc.coalesce(counted, words)
    return words.to_numpy(zero_copy_only=False).astype(np.float64)


def _chars_by_reason(reasons, chars: np.ndarray) -> dict[str, int]:
    rt = pa.table({"r": pc.fill_null(reasons, "kept"), "c": pa.array(chars)})
    agg = rt.group_by("r").aggregate([("c", "sum")])
    return dict(zip(agg.column("r").to_pylist(), (int(x) for x in agg.column("c_sum").to_pylist())))


def _reason_groups(reasons) -> tuple[np.ndarray, list[str]]:
    """Each row's drop reason as a code into the list of reasons (-1: kept)."""
    if not len(reasons):
        return np.zeros(0, dtype=np.int64), []
    enc = pc.dictionary_encode(reasons).combine_chunks()
    return pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary.to_pylist()


def table_stats(table: pa.Table, rules: list | None = None) -> dict:
    """Statistics of one shard table (SHARD_SCHEMA columns).

    rules: the quality rules as (name, signal, 'min'|'max', threshold) (see
    quality_rules()); when given, each rule's pass count is computed from
    quality_signals, otherwise only the first-failure counts in drop_reasons exist.
    """
    n = table.num_rows
    text = table.column("text")
    chars = pc.fill_null(pc.utf8_length(text), 0).cast(pa.int64()).to_numpy(zero_copy_only=False)
    words = _words(table)
    reasons = table.column("drop_reason")
    out = {
        "stats_version": STATS_VERSION,
        "rows": n,
        "kept": int(reasons.null_count),  # rows without a drop reason
        "chars": int(chars.sum()),
        "words": int(np.nansum(words)),
        "chars_by_reason": _chars_by_reason(reasons, chars) if n else {},
        "drop_reasons": summaries.value_counts(reasons.drop_null()),
        "source": (
            summaries.value_counts(pc.fill_null(table.column("source"), "(none)"))
            if "source" in table.column_names
            else {}
        ),
        "hist": {
            "chars": summaries.histogram(chars.astype(np.float64), EDGES["chars"]),
            "words": summaries.histogram(words, EDGES["words"]),
        },
        "rules": rule_passes(table, rules),
        "top_lines": _top_lines(text) if n else {"items": {}, "floor": 0, "k": TOP_LINES},
        "samples": {},
    }
    groups = {"drop_reason": _reason_groups(reasons)}
    for part in PARTS:
        for key, value in part.stats(table).items():
            if key == "hist":
                out[key].update(value)
            elif key == "sample_groups":
                groups.update(value)
            else:
                out[key] = value
    keys = summaries.sample_keys(table)  # one key per document, shared by every grouping
    for name, (codes, labels) in groups.items():
        out["samples"][name] = summaries.bottom_k(table, keys, codes, labels)
    return out


def quality_rules(recipe: dict, lang: str) -> list | None:
    """The quality rules a run applied, from its recipe (None when the quality stage is off)."""
    stages = recipe.get("stages")
    if stages is not None and "quality" not in stages:
        return None
    from curate.stages.quality.stage import QualityStage

    settings = QualityStage.Settings.from_section(dict(recipe.get("quality") or {}), lang)
    return [list(r) for r in settings.file_rules]


def stats_fn_for(recipe: dict, lang: str):
    """table -> stats with the run's quality rules bound (what the writer calls)."""
    rules = quality_rules(recipe, lang)
    return lambda table: table_stats(table, rules=rules)


# ---------------------------------------------------------------------------- merging
def _merge_lines(parts: list[dict]) -> dict:
    k = max([p.get("k", TOP_LINES) for p in parts] or [TOP_LINES])
    total_floor = sum(p["floor"] for p in parts)
    merged: dict[str, list[int]] = {}
    for p in parts:
        for line, (c, e) in p["items"].items():
            m = merged.setdefault(line, [0, 0, 0])
            m[0] += c
            m[1] += e
            m[2] += p["floor"]  # floors of summaries that did hold it, subtracted below
    # a line missing from a summary may still have up to that summary's floor there
    items = {line: [c, e + total_floor - f] for line, (c, e, f) in merged.items()}
    ranked = sorted(items.items(), key=lambda kv: (-kv[1][0], kv[0]))
    keep, rest = ranked[:k], ranked[k:]
    floor = max([total_floor] + [c + e for _, (c, e) in rest])
    return {"items": dict(keep), "floor": floor, "k": k}


def merge_stats_rules(parts: list[dict | None]) -> dict | None:
    parts = [p for p in parts if p]
    if not parts:
        return None
    order = parts[0]["order"]
    return {
        "judged": sum(p["judged"] for p in parts),
        "pass": {r: sum(p["pass"].get(r, 0) for p in parts) for r in order},
        "not_computed": {r: sum((p.get("not_computed") or {}).get(r, 0) for p in parts) for r in order},
        "order": order,
    }


def merge_stats(parts: list[dict]) -> dict:
    """Combine table_stats() results (of any split of the data) into one."""
    if not parts:
        return table_stats(pa.Table.from_pylist([], schema=_empty_schema()))
    out = {"stats_version": STATS_VERSION}
    for key in ("rows", "kept", "chars", "words"):
        out[key] = sum(p[key] for p in parts)
    for key in ("chars_by_reason", "drop_reasons", "source"):
        out[key] = summaries.add_counts(p.get(key) for p in parts)
    out["hist"] = {}
    for name in parts[0]["hist"]:
        edges = parts[0]["hist"][name]["edges"]
        if any(p["hist"][name]["edges"] != edges for p in parts):
            raise ValueError(f"stats: histogram '{name}' has different bin edges across shards")
        counts = np.sum([p["hist"][name]["counts"] for p in parts], axis=0).astype(int).tolist()
        out["hist"][name] = {"edges": edges, "counts": counts}
    out["rules"] = merge_stats_rules([p.get("rules") for p in parts])
    out["top_lines"] = _merge_lines([p["top_lines"] for p in parts])
    groups = dict.fromkeys(g for p in parts for g in p["samples"])
    out["samples"] = {g: summaries.merge_samples([p["samples"].get(g, {}) for p in parts]) for g in groups}
    for part in PARTS:
        out.update(part.merge_stats(parts))
    return out


def _empty_schema() -> pa.Schema:
    from curate.io.schema import SHARD_SCHEMA

    return SHARD_SCHEMA
