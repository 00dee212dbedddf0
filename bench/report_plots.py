"""The report's fixed cost, by part, and its signal histograms drawn as one reused figure
with fixed margins against a reference: a new figure per chart saved with a tight
bounding box (how the report drew them before), both in this process.

    PYTHONPATH=. .venv/bin/python bench/report_plots.py OUT [--repeat 3]

OUT is a curated folder (`make corpus LANG=ko` writes out/corpus/ko). Prints the seconds
(wall and CPU of this process) of compute_report, render_plots and render_html, then
the best of --repeat runs of each way of drawing the signal histograms and their ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curate.report import plots  # noqa: E402
from curate.report.model import compute_report  # noqa: E402
from curate.report.page import render_html  # noqa: E402


def timed(fn, *args):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - w, time.process_time() - c


def reference_signal_plots(p: plots.Plots, r: dict, out: dict) -> None:
    """One figure per histogram, saved with bbox_inches='tight' (the reference)."""
    for h in r.get("signal_histograms") or []:
        fig, ax = p.figure(4.2, 2.4)
        plots.signal_hist(ax, h)
        out[f"signal:{h['rule']}"] = p.png(fig)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", help="a curated folder (holds manifest.json)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    r, w, c = timed(compute_report, Path(args.out))
    print(f"compute_report   wall {w:6.2f} s  cpu {c:6.2f} s")
    (charts, p), w, c = timed(plots.render_plots, r)
    print(f"render_plots     wall {w:6.2f} s  cpu {c:6.2f} s  ({len(charts)} charts)")
    _, w, c = timed(render_html, r, charts)
    print(f"render_html      wall {w:6.2f} s  cpu {c:6.2f} s")
    n = len(r.get("signal_histograms") or [])
    best = {"reference": [1e9, 1e9], "reused figure": [1e9, 1e9]}
    for _ in range(args.repeat):  # alternate, so both see the same load
        for name, fn in (("reference", reference_signal_plots), ("reused figure", plots._signal_plots)):
            _, w, c = timed(fn, p, r, {})
            best[name] = [min(best[name][0], w), min(best[name][1], c)]
    for name, (w, c) in best.items():
        print(f"{n} signal histograms, {name:13s}  wall {w:6.2f} s  cpu {c:6.2f} s")
    (rw, rc), (nw, nc) = best["reference"], best["reused figure"]
    print(f"speed-up of the reused figure: wall {rw / nw:.2f}x  cpu {rc / nc:.2f}x")


if __name__ == "__main__":
    main()
