"""How time and memory grow with corpus size: 1x, 4x, 16x and 64x a corpus.

    .venv/bin/python bench/scale.py [--base 4000] [--factors 1,4,16,64] [--docs-per-file 4000]
                                    [--stages dedup] [--shard-rows 10000] [--corpora DIR]

The corpus is made by repeating real text from ../shared/corpora with light
mutations (a changed word, spacing, an appended counter) so that each copy is a new
document, some near-duplicates remain, and nothing is a byte-exact repeat. It is
written as many input files of ``--docs-per-file`` documents, as a crawl comes. Each
size runs `curate corpus` in its own process (its own local Ray); the table shows
wall time, documents per second, the peak memory of the driver (the `curate` process)
and of the largest Ray worker of that run, each as RSS and as private memory (RSS
also counts the pages of Ray's shared object store a process touched), then the
ratios the design aims at: from 4x to 64x the driver's and the largest worker's
peaks stay within 15%, and the time per document does not grow. Shards are ``--shard-rows`` rows at every size, as
a crawl's shards are sized by bytes, not by the corpus.
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


def write_corpus(path: Path, base: list[str], factor: int, seed: int, docs_per_file: int = 0) -> int:
    """factor mutated copies of base: one file at path, or (docs_per_file > 0) files of
    that many documents in the folder path."""
    rng = random.Random(seed)
    n, f = 0, None
    if docs_per_file:
        path.mkdir(parents=True, exist_ok=True)
    for copy in range(factor):
        for i, text in enumerate(base):
            if f is None or (docs_per_file and n % docs_per_file == 0):
                if f is not None:
                    f.close()
                f = gzip.open(
                    path / f"part-{n // docs_per_file:05d}.jsonl.gz" if docs_per_file else path, "wt", encoding="utf-8"
                )
            f.write(json.dumps({"id": f"c{copy}-{i}", "text": mutate(text, copy, rng)}, ensure_ascii=False) + "\n")
            n += 1
    if f is not None:
        f.close()
    return n


def _tree(root: int) -> list[int]:
    """root and every process below it (a local Ray's raylet and workers are the driver's)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, private) bytes of a process: RSS counts the pages of Ray's shared object store
    it has touched (objects it read or wrote, which the store holds, spills and frees),
    private (RssAnon) only what the process holds itself."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "RssAnon:")):
                fields[line.split(":")[0]] = int(line.split()[1]) * 1024
    return fields.get("VmRSS", 0), fields.get("RssAnon", 0)


def memory_of_run(pid: int) -> dict:
    """The driver's RSS and private memory, and the largest Ray worker's of each (with
    its title: the task or actor it runs), for this run's processes only."""
    out = {"driver_rss": 0, "driver_private": 0, "worker_rss": (0, ""), "worker_private": (0, "")}
    for proc in _tree(pid):
        try:
            rss, private = _memory(proc)
            with open(f"/proc/{proc}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if proc == pid:
            out["driver_rss"], out["driver_private"] = rss, private
        elif b"ray::" in cmd or b"default_worker.py" in cmd:
            title = cmd.split(b"\0")[0].decode(errors="replace")[:30]
            out["worker_rss"] = max(out["worker_rss"], (rss, title))
            out["worker_private"] = max(out["worker_private"], (private, title))
    return out


def run_one(corpus: Path, out: Path, stages: str, shard_rows: int) -> dict:
    cmd = [sys.executable, "-m", "curate.cli", "corpus", "--lang", "ko", "--input", str(corpus)]
    cmd += ["--output", str(out), "--no-progress", "--shard-rows", str(shard_rows)]
    cmd += ["--stages", stages] if stages else []
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled"}
    start = time.perf_counter()
    log = out.with_suffix(".log")
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err)
    peak = {"driver_rss": 0, "driver_private": 0, "worker_rss": (0, ""), "worker_private": (0, "")}

    def sample():
        while proc.poll() is None:
            for key, value in memory_of_run(proc.pid).items():
                peak[key] = max(peak[key], value)
            time.sleep(0.2)

    t = threading.Thread(target=sample)
    t.start()
    stdout = proc.communicate()[0].decode()
    t.join()
    if proc.returncode:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
        raise SystemExit(f"curate corpus failed on {corpus}:\n" + "\n".join(tail))
    return {"seconds": time.perf_counter() - start, **peak, "summary": stdout.strip()}


def main() -> None:
    global SHARED
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=int, default=4000, help="documents in the 1x corpus")
    ap.add_argument("--factors", default="1,4,16,64")
    ap.add_argument("--docs-per-file", type=int, default=4000, help="documents per input file")
    ap.add_argument("--stages", default="dedup", help="stages to run ('' for the recipe's)")
    ap.add_argument("--shard-rows", type=int, default=10_000, help="rows per output shard, at every size")
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
    rows = {}
    print("peak memory in MiB: RSS (with the object store pages a process touched) / private")
    print(
        f"{'size':>4}  {'documents':>9}  {'files':>5}  {'wall s':>7}  {'docs/s':>6}  {'driver':>9}  {'largest worker':>14}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for factor in (int(x) for x in args.factors.split(",")):
            corpus = Path(tmp) / f"x{factor}"
            n = write_corpus(corpus, base, factor, seed=factor, docs_per_file=args.docs_per_file)
            r = run_one(corpus, Path(tmp) / f"out{factor}", args.stages, args.shard_rows)
            rows[factor] = (n, r)
            (w_rss, w_title), (w_private, p_title) = r["worker_rss"], r["worker_private"]
            print(
                f"{factor:>3}x  {n:>9,d}  {len(list(corpus.iterdir())):>5}  {r['seconds']:7.1f}  {n / r['seconds']:6.0f}  "
                f"{r['driver_rss'] / 2**20:4.0f}/{r['driver_private'] / 2**20:4.0f}  "
                f"{w_rss / 2**20:6.0f}/{w_private / 2**20:4.0f}  ({w_title}; {p_title})",
                flush=True,
            )
    report_ratios(rows)


def report_ratios(rows: dict) -> None:
    """The largest size against 4x (or the smallest, when 4x was not run)."""
    sizes = sorted(rows)
    ref = 4 if 4 in rows and sizes[-1] != 4 else sizes[0]
    big = sizes[-1]
    (n0, r0), (n1, r1) = rows[ref], rows[big]
    checks = [
        ("driver peak RSS", r1["driver_rss"] / r0["driver_rss"], "<= 1.15"),
        ("driver peak private", r1["driver_private"] / r0["driver_private"], "<= 1.15"),
        ("largest worker peak RSS", r1["worker_rss"][0] / max(r0["worker_rss"][0], 1), "<= 1.15"),
        ("largest worker private", r1["worker_private"][0] / max(r0["worker_private"][0], 1), "<= 1.15"),
        ("wall time per document", (r1["seconds"] / n1) / (r0["seconds"] / n0), "<= 1.00"),
    ]
    print(f"\n{big}x vs {ref}x ({n1 / n0:.0f}x the documents):")
    for name, ratio, goal in checks:
        print(f"  {name:<24} {ratio:5.2f}  (goal {goal})")


if __name__ == "__main__":
    main()
