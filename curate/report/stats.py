"""Mergeable per-shard statistics: the report is built from these, never from the text.

`table_stats(table)` summarises one shard table (kept or rejected) into a small
JSON-able dict; `merge_stats([...])` combines any number of them into the same shape.
Everything merges exactly except the repeated-lines summary, which is a bounded
heavy-hitters summary with an error bound:

- counts, sums and histograms with FIXED bin edges (EDGES below) add up;
- duplicate clusters are a cluster-id -> member-count map (ids come from the global
  dedup pass, so adding counts by id is exact across shards);
- repeated lines keep the top-K lines of each shard plus a floor (the largest count a
  line not kept could have); merged counts are lower bounds, `err` their slack;
- sample documents are bottom-k samples by a hash of the document id (kept and dropped
  documents alike), so the merged
  sample is the same uniform sample whichever way the shards were split.
"""

from __future__ import annotations

import hashlib
import heapq
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

STATS_VERSION = 2
INF = float("inf")
# Fixed bin edges: histograms of different shards add bin by bin.
EDGES = {
    "chars": [0, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, INF],
    "words": [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, INF],
    "lang_score": [i / 20 for i in range(21)],
    "quality_score": [i / 20 for i in range(21)],
}
TOP_LINES = 200  # lines kept per summary
LINE_KEY_CHARS = 200  # a line is keyed (and shown) by its first 200 characters
MIN_LINE_CHARS = 4  # shorter lines ("", "-", "ㅋㅋ") say nothing about boilerplate
SAMPLES_PER_BUCKET = 3
SAMPLE_CHARS = 300
CLUSTER_EXAMPLES = 50  # clusters per shard that carry an example text


# ---------------------------------------------------------------------------- helpers
def _edges_json(edges: list[float]) -> list:
    return [None if math.isinf(e) else e for e in edges]


def _hist(values: np.ndarray, edges: list[float]) -> list[int]:
    """Counts per bin [e_i, e_i+1); the last bin is closed so 1.0 lands in it."""
    values = values[~np.isnan(values)]
    e = np.asarray(edges, dtype=np.float64)
    idx = np.searchsorted(e, values, side="right") - 1
    idx = np.clip(idx, 0, len(e) - 2)
    return np.bincount(idx, minlength=len(e) - 1).astype(int).tolist()


def _floats(arr) -> np.ndarray:
    return pc.fill_null(arr.cast(pa.float64()), float("nan")).to_numpy(zero_copy_only=False)


def sample_key(doc_id: str | None, text: str | None = None) -> int:
    """The 64-bit sampling key of one document: a hash of its id (of its text when it has
    none). Every document gets a key from the same distribution, kept or dropped, with or
    without a text_hash, so the smallest keys are a uniform sample of all of them."""
    data = (doc_id if doc_id is not None else "\x00" + (text or "")).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def _sample_keys(table: pa.Table) -> np.ndarray:
    """sample_key() of every row."""
    ids = table.column("id").to_pylist()
    if any(i is None for i in ids):
        texts = table.column("text").to_pylist()
        return np.fromiter((sample_key(i, t) for i, t in zip(ids, texts)), dtype=np.uint64, count=len(ids))
    return np.fromiter((sample_key(i) for i in ids), dtype=np.uint64, count=len(ids))


def _doc(row: dict, key: int) -> dict:
    text = row.get("text") or ""
    return {
        "key": int(key),
        "id": row.get("id"),
        "source": row.get("source"),
        "lang": row.get("lang"),
        "lang_score": None if row.get("lang_score") is None else round(float(row["lang_score"]), 4),
        "quality_score": None if row.get("quality_score") is None else round(float(row["quality_score"]), 4),
        "drop_reason": row.get("drop_reason"),
        "dup_cluster": row.get("dup_cluster"),
        "chars": len(text),
        "text": text[:SAMPLE_CHARS] + ("…" if len(text) > SAMPLE_CHARS else ""),
        "rule_value": _failed_value(row),
    }


def _failed_value(row: dict) -> float | None:
    """The value of the signal a document failed (drop reason quality:min_X / max_X)."""
    reason = row.get("drop_reason") or ""
    if not reason.startswith("quality:") or not row.get("quality_signals"):
        return None
    signal = reason.split(":", 1)[1].partition("_")[2]
    v = row["quality_signals"].get(signal)
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 4)


def _bottom_k(
    table: pa.Table, keys: np.ndarray, groups: np.ndarray, labels: list[str], k: int
) -> dict[str, list[dict]]:
    """For each group (integer codes into labels, -1 = none), the k rows with the smallest keys."""
    out: dict[str, list[dict]] = {}
    cols = [
        c
        for c in (
            "id",
            "text",
            "source",
            "lang",
            "lang_score",
            "quality_score",
            "drop_reason",
            "dup_cluster",
            "quality_signals",
        )
        if c in table.column_names
    ]
    order = np.lexsort((keys, groups))  # by group, then key
    g_sorted = groups[order]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]]) if len(order) else []
    for s in starts:
        g = int(g_sorted[s])
        if g < 0:
            continue
        end = s + k
        # rows tied with the k-th key come along, so that (key, id) decides as in merge_stats
        while end < len(order) and groups[order[end]] == g and keys[order[end]] == keys[order[end - 1]]:
            end += 1
        pick = order[s:end]
        pick = pick[groups[pick] == g]
        sub = table.select(cols).take(pa.array(pick)).to_pylist()
        docs = sorted((_doc(r, keys[i]) for r, i in zip(sub, pick)), key=lambda d: (d["key"], d["id"] or ""))
        out[labels[g]] = docs[:k]
    return out


def _quality_deciles(scores: np.ndarray) -> np.ndarray:
    """Decile 0-9 of each score, -1 where there is none."""
    dec = np.full(len(scores), -1, dtype=np.int64)
    ok = ~np.isnan(scores)
    dec[ok] = np.clip(np.floor(scores[ok] * 10), 0, 9).astype(np.int64)
    return dec


def _value_counts(arr) -> dict[str, int]:
    if len(arr) == 0:
        return {}
    vc = pc.value_counts(arr)
    vals = vc.field("values").to_pylist()
    counts = vc.field("counts").to_pylist()
    return {("null" if v is None else str(v)): int(c) for v, c in zip(vals, counts)}


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


def _pii(table: pa.Table) -> tuple[dict, dict]:
    if "pii_counts" not in table.column_names:
        return {}, {}
    col = table.column("pii_counts")
    keys, items = [], []
    for chunk in col.chunks:
        # .keys/.items ignore a slice's offset: cut them to this chunk's value range
        off = chunk.offsets
        start, stop = off[0].as_py(), off[-1].as_py()
        keys.append(chunk.keys.slice(start, stop - start))
        items.append(chunk.items.slice(start, stop - start))
    if not keys or sum(len(k) for k in keys) == 0:
        return {}, {}
    kv = pa.table({"kind": pa.concat_arrays(keys), "n": pa.concat_arrays(items).cast(pa.int64())})
    kv = kv.filter(pc.greater(kv.column("n"), 0))
    agg = kv.group_by("kind").aggregate([("n", "sum"), ("n", "count")])
    totals = dict(zip(agg.column("kind").to_pylist(), agg.column("n_sum").to_pylist()))
    docs = dict(zip(agg.column("kind").to_pylist(), agg.column("n_count").to_pylist()))
    return {k: int(v) for k, v in totals.items()}, {k: int(v) for k, v in docs.items()}


def rule_passes(table: pa.Table, rules) -> dict | None:
    """Of the documents the quality stage judged (those with signals: kept ones, those it
    dropped, and those a later stage such as dedup dropped), how many had each rule's
    signal computed, and how many of those pass the rule on its own. A signal that was
    not computed (null: a rule for long documents on a short one, a word signal on a
    text never segmented) is counted apart, never as a pass. Vectorised twin of
    curate.stages.quality.failed_rule over the stored signals."""
    if not rules or "quality_signals" not in table.column_names or table.num_rows == 0:
        return None
    sig = table.column("quality_signals")
    judged = pc.is_valid(pc.struct_field(sig, "n_chars")).to_numpy(zero_copy_only=False)
    passes, missing = {}, {}
    for name, signal, bound, thr in rules:
        v = _floats(pc.struct_field(sig, signal))
        computed = judged & ~np.isnan(v)
        fail = (v < thr) if bound == "min" else (v > thr)
        passes[name] = int((computed & ~fail).sum())
        missing[name] = int((judged & ~computed).sum())
    return {"judged": int(judged.sum()), "pass": passes, "not_computed": missing, "order": [r[0] for r in rules]}


# ---------------------------------------------------------------------------- per shard
def table_stats(table: pa.Table, rules: list | None = None) -> dict:
    """Statistics of one shard table (SHARD_SCHEMA columns).

    rules: the quality rules as (name, signal, 'min'|'max', threshold) (see
    quality_rules()); when given, each rule's pass count is computed from
    quality_signals, otherwise only the first-failure counts in drop_reasons exist.
    """
    n = table.num_rows
    text = table.column("text")
    chars = pc.fill_null(pc.utf8_length(text), 0).cast(pa.int64()).to_numpy(zero_copy_only=False)
    ws_words = pc.fill_null(pc.list_value_length(pc.utf8_split_whitespace(text)), 0)
    words = ws_words.cast(pa.int64())
    if "quality_signals" in table.column_names:
        # morpheme words where the quality stage counted them (Japanese has no spaces)
        words = pc.coalesce(pc.struct_field(table.column("quality_signals"), "n_words"), words)
    words = words.to_numpy(zero_copy_only=False).astype(np.float64)
    reasons = table.column("drop_reason")
    lang_score = _floats(table.column("lang_score"))
    quality = _floats(table.column("quality_score"))
    keys = _sample_keys(table)

    by_reason = {}
    if n:
        rt = pa.table({"r": pc.fill_null(reasons, "kept"), "c": pa.array(chars)})
        agg = rt.group_by("r").aggregate([("c", "sum")])
        by_reason = dict(zip(agg.column("r").to_pylist(), (int(x) for x in agg.column("c_sum").to_pylist())))
    drop_reasons = {k: v for k, v in _value_counts(reasons.drop_null()).items()}
    lang_counts = _value_counts(pc.fill_null(table.column("lang"), "und"))
    source_counts = (
        _value_counts(pc.fill_null(table.column("source"), "(none)")) if "source" in table.column_names else {}
    )

    pii_totals, pii_docs = _pii(table)

    clusters: dict[str, int] = {}
    cluster_examples: dict[str, dict] = {}
    if "dup_cluster" in table.column_names:
        dc = table.column("dup_cluster")
        clusters = _value_counts(dc.drop_null())
        if clusters:
            top = heapq.nlargest(CLUSTER_EXAMPLES, clusters.items(), key=lambda kv: (kv[1], kv[0]))
            wanted = pa.array([c for c, _ in top])
            mask = pc.fill_null(pc.is_in(dc, value_set=wanted), False).to_numpy(zero_copy_only=False)
            rows = np.flatnonzero(mask)
            if len(rows):
                cols = [
                    c
                    for c in (
                        "id",
                        "text",
                        "source",
                        "lang",
                        "lang_score",
                        "quality_score",
                        "drop_reason",
                        "dup_cluster",
                    )
                    if c in table.column_names
                ]
                for i, r in zip(rows, table.select(cols).take(pa.array(rows)).to_pylist()):
                    ex = cluster_examples.get(r["dup_cluster"])
                    # prefer the member that was kept, then the smallest key
                    cand = _doc(r, keys[i])
                    if (
                        ex is None
                        or (ex["drop_reason"] is not None and r["drop_reason"] is None)
                        or ((ex["drop_reason"] is None) == (r["drop_reason"] is None) and cand["key"] < ex["key"])
                    ):
                        cluster_examples[r["dup_cluster"]] = cand

    deciles = _quality_deciles(quality)
    enc = pc.dictionary_encode(reasons).combine_chunks() if n else None
    reason_codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64) if n else deciles
    samples = {
        "quality_decile": _bottom_k(table, keys, deciles, [str(i) for i in range(10)], SAMPLES_PER_BUCKET),
        "drop_reason": _bottom_k(
            table, keys, reason_codes, enc.dictionary.to_pylist() if n else [], SAMPLES_PER_BUCKET
        ),
    }
    dec_counts = np.bincount(deciles + 1, minlength=11)
    decile_counts = {("none" if i == 0 else str(i - 1)): int(c) for i, c in enumerate(dec_counts) if c}

    return {
        "stats_version": STATS_VERSION,
        "rows": n,
        "kept": int(n - reasons.null_count) if n else 0,
        "chars": int(chars.sum()),
        "words": int(np.nansum(words)),
        "chars_by_reason": by_reason,
        "drop_reasons": drop_reasons,
        "lang": lang_counts,
        "source": source_counts,
        "hist": {
            "chars": {"edges": _edges_json(EDGES["chars"]), "counts": _hist(chars.astype(np.float64), EDGES["chars"])},
            "words": {"edges": _edges_json(EDGES["words"]), "counts": _hist(words, EDGES["words"])},
            "lang_score": {"edges": EDGES["lang_score"], "counts": _hist(lang_score, EDGES["lang_score"])},
            "quality_score": {"edges": EDGES["quality_score"], "counts": _hist(quality, EDGES["quality_score"])},
        },
        "quality_decile": decile_counts,
        "pii": pii_totals,
        "pii_docs": pii_docs,
        "rules": rule_passes(table, rules),
        "dup_clusters": clusters,
        "cluster_examples": cluster_examples,
        "top_lines": _top_lines(text) if n else {"items": {}, "floor": 0, "k": TOP_LINES},
        "samples": samples,
    }


def quality_rules(recipe: dict, lang: str) -> list | None:
    """The quality rules a run applied, from its recipe (None when the quality stage is off)."""
    stages = recipe.get("stages")
    if stages is not None and "quality" not in stages:
        return None
    from curate.stages.quality import _merged, rules_from_cfg

    return [list(r) for r in rules_from_cfg(_merged(dict(recipe.get("quality") or {}), lang))]


def stats_fn_for(recipe: dict, lang: str):
    """table -> stats with the run's quality rules bound (what the writer calls)."""
    rules = quality_rules(recipe, lang)
    return lambda table: table_stats(table, rules=rules)


# ---------------------------------------------------------------------------- merging
def _add(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


def _merge_samples(parts: list[dict]) -> dict:
    out: dict[str, list[dict]] = {}
    for p in parts:
        for g, docs in p.items():
            out.setdefault(g, []).extend(docs)
    return {g: sorted(d, key=lambda x: (x["key"], x["id"] or ""))[:SAMPLES_PER_BUCKET] for g, d in out.items()}


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
    for key in (
        "chars_by_reason",
        "drop_reasons",
        "lang",
        "source",
        "quality_decile",
        "pii",
        "pii_docs",
        "dup_clusters",
    ):
        acc: dict = {}
        for p in parts:
            acc = _add(acc, p.get(key) or {})
        out[key] = acc
    out["hist"] = {}
    for name in parts[0]["hist"]:
        edges = parts[0]["hist"][name]["edges"]
        if any(p["hist"][name]["edges"] != edges for p in parts):
            raise ValueError(f"stats: histogram '{name}' has different bin edges across shards")
        counts = np.sum([p["hist"][name]["counts"] for p in parts], axis=0).astype(int).tolist()
        out["hist"][name] = {"edges": edges, "counts": counts}
    out["rules"] = merge_stats_rules([p.get("rules") for p in parts])
    examples: dict[str, dict] = {}
    for p in parts:
        for c, ex in (p.get("cluster_examples") or {}).items():
            cur = examples.get(c)
            if cur is None or (cur["drop_reason"] is not None and ex["drop_reason"] is None):
                examples[c] = ex
    out["cluster_examples"] = examples
    out["top_lines"] = _merge_lines([p["top_lines"] for p in parts])
    out["samples"] = {
        g: _merge_samples([p["samples"].get(g, {}) for p in parts]) for g in ("quality_decile", "drop_reason")
    }
    return out


def _empty_schema() -> pa.Schema:
    from curate.io.schema import SHARD_SCHEMA

    return SHARD_SCHEMA
