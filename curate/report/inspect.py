"""`curate inspect DIR`: print documents of a curated folder that match a filter.

    curate inspect out/corpus/ko --where "drop_reason == 'quality:max_top_4gram_frac' and lang == 'ko'" --limit 5
    curate inspect out/corpus/ko --reason near_dup --columns id,dup_of,text
    curate inspect out/corpus/ko --where "pii_counts['tel'] > 0 and lang in ['ko', 'ja']" --sample 5 --seed 1

The first line says how many documents match; --sample N picks N of them at random
(the same ones for the same --seed) instead of the first N in file order. --where is
parsed by curate.report.where into a pyarrow expression: nothing typed runs as Python.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from curate.io import fs
from curate.report.cli_args import OneLineParser, count
from curate.report.pipe import to_reader
from curate.report.show import SIGNALS, print_docs
from curate.report.where import GRAMMAR, WhereError, parse_where

DEFAULT_COLUMNS = ["id", "source", "lang", "lang_score", "quality_score", "drop_reason", "dup_cluster", "text"]
QUARANTINE_COLUMNS = ["id", "origin", "error", "raw"]
KINDS = {"all": ["shards", "rejected"], "shards": ["shards"], "rejected": ["rejected"], "quarantine": ["quarantine"]}


class InspectError(ValueError):
    """A usage mistake, said in one line."""


def reason_filter(reason: str) -> pc.Expression:
    """--reason near_dup / quality / quality:min_n_chars / min_n_chars."""
    r = pc.field("drop_reason")
    return (r == reason) | pc.starts_with(r, pattern=f"{reason}:") | pc.ends_with(r, pattern=f":{reason}")


def open_dataset(out_dir: str, kinds: list[str]) -> ds.Dataset | None:
    """The parquet files of `kinds` in a curated folder (None: the folder has none of them)."""
    if not fs.is_dir(out_dir):
        raise InspectError(f"{out_dir}: no such folder")
    if not fs.is_file(fs.join(out_dir, "manifest.json")) and not any(
        fs.is_dir(fs.join(out_dir, k)) for k in KINDS["all"]
    ):
        raise InspectError(f"{out_dir} is not a curated output (no manifest.json, shards/ or rejected/)")
    filesystem, root = fs.resolve(out_dir)
    files = [
        f"{root}/{kind}/{name}"
        for kind in kinds
        for name in fs.list_relative(fs.join(out_dir, kind))
        if name.endswith(".parquet") and "/" not in name
    ]
    return ds.dataset(files, format="parquet", filesystem=filesystem) if files else None


def _check_reason(dataset: ds.Dataset, reason: str) -> None:
    if "drop_reason" not in dataset.schema.names:
        raise InspectError("--reason reads drop reasons of shards and rejected; use --where \"error contains '...'\"")
    present = Counter(r for r in dataset.to_table(columns=["drop_reason"]).column(0).to_pylist() if r)
    if not any(r == reason or r.startswith(f"{reason}:") or r.endswith(f":{reason}") for r in present):
        listed = ", ".join(f"{r} ({n})" for r, n in present.most_common()) or "none: every document was kept"
        raise InspectError(f"no drop reason {reason!r} in this folder; reasons present: {listed}")


def _columns(columns: list[str] | None, schema: pa.Schema, kinds: list[str]) -> list[str]:
    if not columns:
        default = QUARANTINE_COLUMNS if kinds == ["quarantine"] else DEFAULT_COLUMNS
        return [c for c in default if c in schema.names]
    unknown = [c for c in columns if c not in schema.names]
    if unknown:
        raise InspectError(
            f"unknown column {', '.join(map(repr, unknown))} in --columns (columns: {', '.join(schema.names)})"
        )
    return columns


def _filter(dataset: ds.Dataset, where: str | None, reason: str | None) -> pc.Expression | None:
    expr = parse_where(where, dataset.schema) if where else None
    if reason:
        _check_reason(dataset, reason)
        expr = reason_filter(reason) if expr is None else expr & reason_filter(reason)
    return expr


def _pick(n_match: int, limit: int, sample: bool, seed: int) -> list[int]:
    """Positions among the matches to show: the first `limit`, or `limit` drawn with `seed`."""
    if not sample or n_match <= limit:
        return list(range(min(limit, n_match)))
    return sorted(random.Random(seed).sample(range(n_match), limit))


def _rows_at(scanner: ds.Scanner, positions: list[int]) -> list[dict]:
    """The rows at `positions` (sorted) of a scan, reading it batch by batch."""
    rows, offset, want = [], 0, iter(positions)
    nxt = next(want, None)
    for batch in scanner.to_batches():
        if nxt is None:
            break
        local = []
        while nxt is not None and nxt < offset + batch.num_rows:
            local.append(nxt - offset)
            nxt = next(want, None)
        if local:
            rows.extend(batch.take(pa.array(local)).to_pylist())
        offset += batch.num_rows
    return rows


def find_docs(out_dir, where=None, reason=None, kinds=("shards", "rejected"), columns=None, limit=5, seed=None):
    """(number of matches, the rows shown): the first `limit`, or a sample when `seed` is given."""
    dataset = open_dataset(out_dir, list(kinds))
    if dataset is None:
        return 0, []
    expr = _filter(dataset, where, reason)
    cols = _columns(columns, dataset.schema, list(kinds))
    if "drop_reason" in cols and SIGNALS in dataset.schema.names and SIGNALS not in cols:
        cols.append(SIGNALS)  # the failing signal of a quality drop is shown first
    try:
        n_match = dataset.count_rows(filter=expr)
        positions = _pick(n_match, limit, seed is not None, seed or 0)
        return n_match, _rows_at(dataset.scanner(columns=cols, filter=expr), positions)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise InspectError(f"--where cannot be evaluated on these columns ({str(exc).splitlines()[0]})") from exc


def quality_rules_of(out_dir: str) -> dict[str, tuple]:
    """rule -> (signal, bound, threshold) from the run's own recipe ({} without the quality stage)."""
    manifest = fs.join(out_dir, "manifest.json")
    if not fs.is_file(manifest):
        return {}
    m = json.loads(fs.read_text(manifest))
    from curate.report.stats import quality_rules

    rules = quality_rules(m.get("recipe") or {}, m.get("lang") or "")
    return {name: (signal, bound, thr) for name, signal, bound, thr in rules or []}


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = OneLineParser(
        prog="curate inspect",
        description="print matching documents of a curated folder",
        epilog="--where grammar:\n" + GRAMMAR,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("dir")
    ap.add_argument("--where", help="filter, e.g. \"drop_reason == 'quality:max_top_4gram_frac' and lang == 'ko'\"")
    ap.add_argument("--reason", help="drop reason or its stage/rule (near_dup, quality, min_n_chars, ...)")
    ap.add_argument("--kind", choices=list(KINDS), default="all", help="which files to search (all: shards+rejected)")
    pick = ap.add_mutually_exclusive_group()
    pick.add_argument("--limit", type=count(1), default=5, help="show the first N matches (default 5)")
    pick.add_argument("--sample", type=count(1), metavar="N", help="show N matches drawn at random")
    ap.add_argument("--seed", type=int, default=0, help="the draw of --sample (default 0)")
    ap.add_argument("--columns", help=f"comma-separated columns to show (default: {','.join(DEFAULT_COLUMNS)})")
    ap.add_argument("--chars", type=count(0), default=600, help="show at most N characters of text")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    kinds = KINDS[args.kind]
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    limit = args.sample or args.limit
    try:
        n_match, rows = find_docs(
            args.dir, args.where, args.reason, kinds, columns, limit, args.seed if args.sample else None
        )
    except (WhereError, InspectError) as exc:
        print(f"curate inspect: {exc}", file=sys.stderr)
        return 2
    if not rows:
        print("no matching documents", file=sys.stderr)
        return 1
    how = f"{len(rows)} drawn with seed {args.seed}" if args.sample else f"the first {len(rows)}"
    with to_reader():
        print(f"{n_match:,} matching documents in {', '.join(kinds)}; showing {how}")
        shown = columns or [c for c in rows[0] if c != SIGNALS]
        quality_drop = any((r.get("drop_reason") or "").startswith("quality:") for r in rows)
        print_docs(rows, shown, args.chars, quality_rules_of(args.dir) if quality_drop else {})
    return 0


if __name__ == "__main__":
    sys.exit(main())
