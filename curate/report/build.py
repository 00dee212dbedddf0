"""`curate report DIR`: report.json and one self-contained report.html for a curated folder.

The numbers come from curate.report.model (manifest.json and the per-shard statistics, so
the cost does not grow with the text), the charts from curate.report.plots and the page
from curate.report.page. Without any CJK font the report is still written, its CJK plot
labels shown as '?'.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context

from curate.io import fs
from curate.report import webfont
from curate.report.model import compute_report
from curate.report.page import render_html
from curate.report.plots import Plots, render_plots


def build_report(out_dir: str | os.PathLike) -> dict:
    """Write DIR/report.json and DIR/report.html; returns the report's numbers. Without a
    CJK font both are still written; report["font_error"] says why the font is missing."""
    out = os.fspath(out_dir)
    report = compute_report(out)
    p = Plots()
    report["font"] = p.font
    report["font_file"] = p.font_file
    report["font_error"] = p.font_error
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        face = _font_face(pool, p.font_file, report)  # subset in another process while the charts are drawn
        plots, _ = render_plots(report, p)
        report["missing_glyphs"] = p.missing_glyphs
        fs.write_text(fs.join(out, "report.json"), json.dumps(report, ensure_ascii=False, indent=1) + "\n")
        face = face.result() if face else ""
    fs.write_text(fs.join(out, "report.html"), render_html(report, plots, face))
    return report


class _EveryChart(dict):
    """Charts as the page's text sees them: every one present, its PNG (base64, ASCII) left out."""

    def __contains__(self, name) -> bool:
        return True

    def __getitem__(self, name) -> str:
        return ""


def _font_face(pool: ProcessPoolExecutor, font_file: str | None, report: dict) -> Future | None:
    """The @font-face rule of the page, subset in `pool`. The subset holds the characters
    of the page as rendered without it: the charts' base64 and the rule add only ASCII,
    which the subset always has, and a chart without data shows its alt text either way."""
    if not font_file:
        return None
    return pool.submit(webfont.font_face_css, font_file, set(render_html(report, _EveryChart())))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="curate report", description="build report.html and report.json for a curated folder"
    )
    ap.add_argument("dir", help="output folder of `curate corpus` (holds manifest.json)")
    args = ap.parse_args(argv)
    if not fs.is_file(fs.join(args.dir, "manifest.json")):
        print(f"curate report: {args.dir}/manifest.json not found (not a curated folder?)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        r = build_report(args.dir)
    except (json.JSONDecodeError, FileNotFoundError, OSError) as exc:  # a cut manifest, a deleted shard
        print(f"curate report: {args.dir}: cannot read the curated folder: {exc}", file=sys.stderr)
        return 2
    c = r["counts"]
    print(
        f"kept {c['kept']:,}  rejected {c['rejected']:,}  quarantined {c['quarantined']:,}  "
        f"-> {fs.join(args.dir, 'report.html')} ({time.perf_counter() - t0:.1f}s)"
    )
    if r["font_error"]:
        print(f"warning: {r['font_error']}: plot labels show Hangul and Kana as '?'", file=sys.stderr)
    if r["missing_glyphs"]:
        print(f"warning: {len(r['missing_glyphs'])} glyphs missing from the plot font", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
