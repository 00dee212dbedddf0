"""`curate compare DIR_A DIR_B`: what changed between two curation runs, as a table.

Counts, kept characters, drops per reason (each quality rule is its own reason),
language mix and per-rule pass rates, from each folder's report numbers (report.json
when present and current, else computed from manifest + stats, never from the text);
above them the recipe keys that differ, below them the documents whose fate changed
(curate.report.run_diff). Runs of different languages or inputs are warned about.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from curate.report.cli_args import OneLineParser, count
from curate.report.fmt import fmt_number
from curate.report.model import compute_report
from curate.report.pipe import to_reader
from curate.report.run_diff import (
    fate_changes,
    format_fate_changes,
    format_recipe_diff,
    read_manifest,
    recipe_diff,
    run_warnings,
)


def load_numbers(out_dir: str) -> dict:
    out = Path(out_dir)
    report = out / "report.json"
    manifest = out / "manifest.json"
    if report.exists() and manifest.exists() and report.stat().st_mtime >= manifest.stat().st_mtime:
        return json.loads(report.read_text(encoding="utf-8"))
    return compute_report(out)


def compare_rows(a: dict, b: dict) -> list[tuple[str, str, float | int | None, float | int | None]]:
    """(section, name, value in A, value in B) for every number that differs or matters."""
    rows = []
    for k in ("read", "kept", "rejected", "quarantined", "kept_chars", "kept_words"):
        rows.append(("counts", k, a["counts"].get(k), b["counts"].get(k)))
    ra, rb = a.get("drop_reasons") or {}, b.get("drop_reasons") or {}
    for r in sorted(set(ra) | set(rb), key=lambda r: -(ra.get(r, 0) + rb.get(r, 0))):
        rows.append(("dropped", r, ra.get(r, 0), rb.get(r, 0)))
    la, lb = a.get("languages") or {}, b.get("languages") or {}
    for l in sorted(
        set(la) | set(lb), key=lambda l: -((la.get(l) or {}).get("kept", 0) + (lb.get(l) or {}).get("kept", 0))
    ):
        rows.append(("kept lang", l, (la.get(l) or {}).get("kept", 0), (lb.get(l) or {}).get("kept", 0)))
    qa = {x["rule"]: x["pass_rate"] for x in ((a.get("quality_rules") or {}).get("rules") or [])}
    qb = {x["rule"]: x["pass_rate"] for x in ((b.get("quality_rules") or {}).get("rules") or [])}
    for r in list(qa) + [r for r in qb if r not in qa]:
        rows.append(("pass rate", r, qa.get(r), qb.get(r)))
    fa, fb = {f["step"]: f for f in a.get("funnel") or []}, {f["step"]: f for f in b.get("funnel") or []}
    for s in list(fa) + [s for s in fb if s not in fa]:
        rows.append(("chars after", s, (fa.get(s) or {}).get("chars"), (fb.get(s) or {}).get("chars")))
    return rows


def _delta(a, b) -> str:
    if a is None or b is None:
        return "new" if a is None and b is not None else ("gone" if b is None and a is not None else "")
    d = b - a
    if d == 0:
        return "="
    rel = f" ({d / a:+.1%})" if a and not isinstance(a, float) else ""
    return (f"{d:+.3f}" if isinstance(d, float) else f"{d:+,}") + rel


def format_table(rows, name_a: str, name_b: str, changed_only: bool = False) -> str:
    body = [(s, n, fmt_number(a), fmt_number(b), _delta(a, b)) for s, n, a, b in rows if not changed_only or a != b]
    header = ("section", "name", name_a, name_b, "change")
    widths = [max(len(str(r[i])) for r in body + [header]) for i in range(5)]
    lines = ["  ".join(str(h).ljust(w) if i < 2 else str(h).rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    prev = None
    for r in body:
        sec = r[0] if r[0] != prev else ""
        prev = r[0]
        lines.append(
            "  ".join(
                (sec if i == 0 else str(c)).ljust(w) if i < 2 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(r, widths))
            )
        )
    return "\n".join(lines)


def _json_rows(rows, recipe, changed, args) -> list[dict]:
    """The number rows, then recipe keys and (with --changed) documents as rows of their own sections."""
    shown = [r for r in rows if not args.changed or r[2] != r[3]]
    shown += [("recipe", k, before, after) for k, before, after in recipe]
    if args.changed:
        shown += [("document", i, before, after) for i, before, after in changed[: args.limit]]
    return [dict(zip(("section", "name", "a", "b"), r)) for r in shown]


def _print(args, rows, recipe, changed, total) -> None:
    if args.json:
        print(json.dumps(_json_rows(rows, recipe, changed, args), ensure_ascii=False, indent=1))
        return
    print(format_recipe_diff(recipe) + "\n")
    print(format_table(rows, "A", "B", args.changed))
    if args.changed:
        print("\n" + format_fate_changes(changed, total, args.limit))
    else:
        print(f"\n{len(changed):,} of {total:,} documents changed fate (--changed lists them)")
    print(f"\nA = {args.dir_a}\nB = {args.dir_b}")


def main(argv: list[str] | None = None) -> int:
    ap = OneLineParser(prog="curate compare", description="what changed between two curated folders")
    ap.add_argument("dir_a")
    ap.add_argument("dir_b")
    ap.add_argument(
        "--changed", action="store_true", help="show only numbers that differ, and the documents whose fate changed"
    )
    ap.add_argument("--limit", type=count(1), default=10, help="with --changed: list at most N documents (default 10)")
    ap.add_argument("--json", action="store_true", help="print rows as JSON")
    args = ap.parse_args(argv)
    for d in (args.dir_a, args.dir_b):
        if not (Path(d) / "manifest.json").exists():
            print(f"curate compare: {d}/manifest.json not found", file=sys.stderr)
            return 2
    manifests = read_manifest(args.dir_a), read_manifest(args.dir_b)
    for line in run_warnings(*manifests):
        print(line, file=sys.stderr)
    rows = compare_rows(load_numbers(args.dir_a), load_numbers(args.dir_b))
    recipe = recipe_diff(*manifests)
    changed, total = fate_changes(args.dir_a, args.dir_b)
    with to_reader():
        _print(args, rows, recipe, changed, total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
