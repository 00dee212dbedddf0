"""Pass 2's time with 1 and with 2 workers on the same corpus, in one run.

    .venv/bin/python bench/pass2.py [--docs 200000] [--join 1] [--stages normalize,dedup] [--repeat 1] [--corpora DIR]

The corpus is bench/scale.py's (real Korean text from ../shared/corpora, repeated with
light mutations); `--join K` makes each document K of its texts, one a line (a page of
comments rather than one review), so that pass 2 has more text per document to write. Each measurement runs `curate corpus --workers W` as its own process
and reads pass 2's seconds from the manifest's `timings`; the runs alternate between 1
and 2 workers so a change in the machine's load falls on both. It prints every run,
the load average, and the ratio of the medians (2 workers / 1 worker).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import scale

ROOT = Path(__file__).resolve().parents[1]


def run(corpus: Path, out: Path, workers: int, stages: str) -> dict:
    cmd = [sys.executable, "-m", "curate.cli", "corpus", "--lang", "ko", "--input", str(corpus)]
    cmd += ["--output", str(out), "--workers", str(workers), "--no-progress"]
    cmd += ["--stages", stages] if stages else []
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled"}
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {"wall": wall, "timings": manifest["timings"], "units": len(manifest["shards"])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=200_000, help="documents in the corpus")
    ap.add_argument("--join", type=int, default=1, help="texts per document")
    ap.add_argument("--stages", default="normalize,dedup", help="stages to run ('' : the recipe's)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per worker count")
    ap.add_argument("--corpora", type=Path, default=scale.SHARED, help="folder with the real corpora")
    args = ap.parse_args()
    scale.SHARED = args.corpora
    if not scale.SHARED.exists():
        print(f"{scale.SHARED} not found: this benchmark needs ../shared/corpora")
        return
    factor = 4
    texts = scale.base_documents(-(-args.docs * args.join // factor), random.Random(0))
    base = ["\n".join(texts[i : i + args.join]) for i in range(0, len(texts), args.join)]
    seconds: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl.gz"
        n = scale.write_corpus(corpus, base, factor, seed=1)
        mb = corpus.stat().st_size / 2**20
        print(
            f"{n:,d} documents ({mb:.0f} MB gzipped), stages {args.stages or '(recipe)'}, {os.cpu_count()} CPUs",
            flush=True,
        )
        for i in range(args.repeat):
            for workers in (1, 2) if i % 2 == 0 else (2, 1):
                load = os.getloadavg()[0]
                r = run(corpus, Path(tmp) / f"out-{workers}-{i}", workers, args.stages)
                seconds[workers].append(r["timings"]["pass2"])
                t = "  ".join(f"{k} {v:.1f}" for k, v in r["timings"].items())
                print(f"workers {workers}: pass2 {r['timings']['pass2']:6.1f} s  ({t})  load before {load:.1f}")
    one, two = statistics.median(seconds[1]), statistics.median(seconds[2])
    print(f"\npass 2, median seconds: 1 worker {one:.1f}, 2 workers {two:.1f}; ratio {two / one:.2f}x")
    print(f"load average now: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
