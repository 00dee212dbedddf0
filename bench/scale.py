"""How time and memory grow with corpus size: 1x, 4x and 16x a corpus.

    .venv/bin/python bench/scale.py [--base 10000] [--factors 1,4,16] [--stages ...] [--corpora DIR]

The corpus is made by repeating real text from ../shared/corpora with light
mutations (a changed word, spacing, an appended counter) so that each copy is a new
document, some near-duplicates remain, and nothing is a byte-exact repeat. Each
size runs `curate corpus` in its own process; the table shows wall time, documents
per second, the driver's peak RSS (where the dedup keys live; it should grow only
with the number of documents) and the largest worker's peak RSS (flat).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "corpora"


def base_documents(n: int, rng: random.Random) -> list[str]:
    docs: list[str] = []
    with gzip.open(SHARED / "ko-nsmc-reviews.jsonl.gz", "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= n * 2:
                break
            docs.append(json.loads(line)["text"])
    news = [json.loads(x)["text"] for x in gzip.open(SHARED / "ko-news-sentences.jsonl.gz", "rt", encoding="utf-8")]
    paras = [" ".join(news[i : i + 5]) for i in range(0, len(news), 5)]
    mixed = [d for d in docs if len(d) > 10][: int(n * 0.8)] + paras
    rng.shuffle(mixed)
    return mixed[:n]


def mutate(text: str, copy: int, rng: random.Random) -> str:
    if copy == 0:
        return text
    words = text.split(" ")
    j = rng.randrange(len(words))
    words[j] = words[j] + rng.choice(["", "!", " 진짜", "요"])
    return " ".join(words) + f" ({copy})"


def write_corpus(path: Path, base: list[str], factor: int, seed: int) -> int:
    rng = random.Random(seed)
    n = 0
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for copy in range(factor):
            for i, text in enumerate(base):
                f.write(json.dumps({"id": f"c{copy}-{i}", "text": mutate(text, copy, rng)}, ensure_ascii=False) + "\n")
                n += 1
    return n


def rss_of_tree(pid: int) -> tuple[int, int]:
    """(driver RSS, largest other process RSS) in bytes, from /proc."""
    driver, largest = 0, 0
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/statm") as f:
                rss = int(f.read().split()[1]) * page
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if int(entry) == pid:
            driver = rss
        elif b"ray::" in cmd or b"default_worker.py" in cmd:
            largest = max(largest, rss)
    return driver, largest


def run_one(corpus: Path, out: Path, stages: str) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "curate.cli",
        "corpus",
        "--lang",
        "ko",
        "--input",
        str(corpus),
        "--output",
        str(out),
        "--no-progress",
    ] + (["--stages", stages] if stages else [])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled"}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    peak = [0, 0]

    def sample():
        while proc.poll() is None:
            d, w = rss_of_tree(proc.pid)
            peak[0], peak[1] = max(peak[0], d), max(peak[1], w)
            time.sleep(0.2)

    t = threading.Thread(target=sample)
    t.start()
    stdout = proc.communicate()[0].decode()
    t.join()
    if proc.returncode:
        raise SystemExit(f"curate corpus failed on {corpus}")
    return {
        "seconds": time.perf_counter() - start,
        "driver_rss": peak[0],
        "worker_rss": peak[1],
        "summary": stdout.strip(),
    }


def main() -> None:
    global SHARED
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=int, default=10000, help="documents in the 1x corpus")
    ap.add_argument("--factors", default="1,4,16")
    ap.add_argument("--stages", default="", help="stages to run (default: the recipe's)")
    ap.add_argument(
        "--corpora",
        type=Path,
        default=SHARED,
        help="folder with the real corpora (default: ../shared/corpora beside the repo)",
    )
    args = ap.parse_args()
    SHARED = args.corpora
    if not SHARED.exists():
        print(f"{SHARED} not found: this benchmark needs ../shared/corpora")
        return
    base = base_documents(args.base, random.Random(0))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for factor in (int(x) for x in args.factors.split(",")):
            corpus = Path(tmp) / f"x{factor}.jsonl.gz"
            n = write_corpus(corpus, base, factor, seed=factor)
            r = run_one(corpus, Path(tmp) / f"out{factor}", args.stages)
            rows.append((factor, n, r))
            print(
                f"{factor:>3}x  {n:>9,d} docs  {r['seconds']:8.1f} s  {n / r['seconds']:8.0f} docs/s  "
                f"driver peak {r['driver_rss'] / 2**20:7.0f} MiB  worker peak {r['worker_rss'] / 2**20:7.0f} MiB",
                flush=True,
            )
    f0, n0, r0 = rows[0]
    print("\ngrowth vs 1x: docs | time | driver RSS | worker RSS")
    for factor, n, r in rows:
        print(
            f"{factor:>3}x  {n / n0:5.1f} | {r['seconds'] / r0['seconds']:5.2f} | "
            f"{r['driver_rss'] / max(r0['driver_rss'], 1):5.2f} | {r['worker_rss'] / max(r0['worker_rss'], 1):5.2f}"
        )


if __name__ == "__main__":
    main()
