"""What differs between two curation runs beyond their numbers: recipe keys, inputs, and
each document's fate (kept, or the reason it went), matched by document id."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.dataset as ds

KEPT = "kept"
ABSENT = "(absent)"


def read_manifest(out_dir: str) -> dict:
    return json.loads((Path(out_dir) / "manifest.json").read_text(encoding="utf-8"))


def _flat(d: dict, prefix: str = "") -> dict:
    """{'quality': {'min_n_chars': 10}} -> {'quality.min_n_chars': 10}; lists stay values."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{key}."))
        else:
            out[key] = v
    return out


def recipe_diff(a: dict, b: dict) -> list[tuple[str, object, object]]:
    """(key, value in A, value in B) of every recipe key that differs; ABSENT where a run lacks it."""
    fa, fb = _flat(a.get("recipe") or {}), _flat(b.get("recipe") or {})
    keys = list(fa) + [k for k in fb if k not in fa]
    return [(k, fa.get(k, ABSENT), fb.get(k, ABSENT)) for k in keys if fa.get(k, ABSENT) != fb.get(k, ABSENT)]


def show_value(v) -> str:
    return v if v == ABSENT else json.dumps(v, ensure_ascii=False)


def format_recipe_diff(diff: list[tuple[str, object, object]]) -> str:
    if not diff:
        return "recipe: the same"
    lines = ["recipe (A -> B):"]
    for key, before, after in diff:
        what = "added" if before == ABSENT else "removed" if after == ABSENT else "changed"
        lines.append(f"  {what:<8} {key}: {show_value(before)} -> {show_value(after)}")
    return "\n".join(lines)


def _inputs(m: dict) -> list[str]:
    """The inputs a run read, by content where the manifest has a hash, else by path."""
    return sorted(i.get("sha256") or i.get("path", "") for i in m.get("inputs") or [])


def run_warnings(a: dict, b: dict) -> list[str]:
    """One line per way the two runs are not the same experiment on the same data."""
    out = []
    if a.get("lang") != b.get("lang"):
        out.append(f"warning: the runs curate different languages (A {a.get('lang')}, B {b.get('lang')})")
    if _inputs(a) != _inputs(b):
        paths = [", ".join(i.get("path", "?") for i in m.get("inputs") or []) or "none" for m in (a, b)]
        out.append(f"warning: the runs read different inputs (A {paths[0]}; B {paths[1]})")
    return out


def fates(out_dir: str) -> dict[str, str]:
    """Document id -> 'kept', its drop reason, or 'quarantine: error' (first row of an id wins)."""
    out: dict[str, str] = {}
    root = Path(out_dir)
    for kind, column in (("shards", None), ("rejected", "drop_reason"), ("quarantine", "error")):
        files = [str(p) for p in sorted((root / kind).glob("*.parquet"))]
        if not files:
            continue
        table = ds.dataset(files, format="parquet").to_table(columns=["id"] + ([column] if column else []))
        ids = table.column("id").to_pylist()
        why = table.column(column).to_pylist() if column else [KEPT] * len(ids)
        for i, w in zip(ids, why):
            out.setdefault(i, f"quarantine: {w}" if kind == "quarantine" else w)
    return out


def fate_changes(dir_a: str, dir_b: str) -> tuple[list[tuple[str, str, str]], int]:
    """((id, fate in A, fate in B) for documents whose fate differs, in A's order; ids in both or either)."""
    fa, fb = fates(dir_a), fates(dir_b)
    ids = list(fa) + [i for i in fb if i not in fa]
    changed = [(i, fa.get(i, ABSENT), fb.get(i, ABSENT)) for i in ids if fa.get(i, ABSENT) != fb.get(i, ABSENT)]
    return changed, len(ids)


def format_fate_changes(changed: list[tuple[str, str, str]], total: int, limit: int) -> str:
    lines = [f"documents whose fate changed: {len(changed):,} of {total:,} (by id; showing {min(limit, len(changed))})"]
    shown = changed[:limit]
    width = max([len(i) for i, _, _ in shown] + [2])
    lines += [f"  {i:<{width}}  {before} -> {after}" for i, before, after in shown]
    return "\n".join(lines)
