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


def _memory(pid: int) -> dict[str, int]:
    """Bytes of a process: ``rss`` (VmRSS), ``private`` (RssAnon, what the process holds
    itself) and ``shared`` (RssShmem: the pages of Ray's shared object store it has
    touched, objects it read or wrote, which the store holds, spills and frees)."""
    names = {"VmRSS": "rss", "RssAnon": "private", "RssShmem": "shared"}
    out = dict.fromkeys(names.values(), 0)
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name = line.split(":")[0]
            if name in names:
                out[names[name]] = int(line.split()[1]) * 1024
    return out


def _title(cmd: bytes) -> str:
    """The task or actor a Ray worker runs now (Ray sets its process title), e.g. ray::_join_a."""
    return cmd.split(b"\0")[0].decode(errors="replace").split(" ")[0][:40]


TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def memory_of_run(pid: int) -> dict:
    """The driver's memory, and each Ray worker's by the task it runs now (``workers``:
    title -> the largest of each measure over the workers running it), for this run's
    processes only; ``cpu``: each process's CPU seconds so far and what it runs now."""
    out = {"driver": dict.fromkeys(("rss", "private", "shared"), 0), "workers": {}, "cpu": {}}
    for proc in _tree(pid):
        try:
            mem = _memory(proc)
            cpu = _cpu_seconds(proc)
            with open(f"/proc/{proc}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if proc == pid:
            out["driver"] = mem
            out["cpu"][proc] = (cpu, "driver")
        elif b"ray::" in cmd or b"default_worker.py" in cmd:
            peak = out["workers"].setdefault(_title(cmd), dict.fromkeys(mem, 0))
            for k, v in mem.items():
                peak[k] = max(peak[k], v)
            out["cpu"][proc] = (cpu, _title(cmd))
        else:
            out["cpu"][proc] = (cpu, "ray itself")  # raylet, GCS, agents
    return out


def _folder_bytes(folder: Path) -> dict[str, int]:
    """Bytes under folder by kind: staged rows, keys, decisions and anything else."""
    out = {"staged": 0, "keys": 0, "other": 0}
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                size = os.path.getsize(os.path.join(root, name))
            except OSError:
                continue
            kind = "keys" if name.endswith(".keys.parquet") else "staged" if root.endswith("files") else "other"
            out[kind] += size
    return out


class Peaks:
    """The largest value of every measure seen while a run goes on."""

    def __init__(self):
        self.driver = dict.fromkeys(("rss", "private", "shared"), 0)
        self.workers: dict[str, dict[str, int]] = {}
        self.work = {"staged": 0, "keys": 0, "other": 0}
        self.cpu: dict[str, float] = {}  # CPU seconds by what the process ran when it used them
        self._last: dict[int, float] = {}

    def add(self, mem: dict, work: dict | None) -> None:
        for k, v in mem["driver"].items():
            self.driver[k] = max(self.driver[k], v)
        for title, found in mem["workers"].items():
            peak = self.workers.setdefault(title, dict.fromkeys(found, 0))
            for k, v in found.items():
                peak[k] = max(peak[k], v)
        for k, v in (work or {}).items():
            self.work[k] = max(self.work[k], v)
        for pid, (seconds, title) in mem["cpu"].items():
            task = "pass-1 stages" if any(t in title for t in _PASS1_TASKS) else title
            self.cpu[task] = self.cpu.get(task, 0.0) + seconds - self._last.get(pid, 0.0)
            self._last[pid] = seconds

    def largest(self, measure: str) -> tuple[int, str]:
        """The largest worker value of a measure and the task that had it."""
        return max(((w[measure], t) for t, w in self.workers.items()), default=(0, ""))


_PASS1_TASKS = ("ray::stage_file", "ray::stage_batch", "ray::read_file")  # pipelines/pass1.py's tasks


def run_one(corpus: Path, out: Path, stages: str, shard_rows: int) -> dict:
    cmd = [sys.executable, "-m", "curate.cli", "corpus", "--lang", "ko", "--input", str(corpus)]
    cmd += ["--output", str(out), "--no-progress", "--shard-rows", str(shard_rows)]
    cmd += ["--stages", stages] if stages else []
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled"}
    start = time.perf_counter()
    log = out.with_suffix(".log")
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err)
    peaks = Peaks()

    def sample():
        tick = 0
        while proc.poll() is None:
            # the work folder every 2 s: its staged files grow in pass 1 and are deleted at the end
            peaks.add(memory_of_run(proc.pid), _folder_bytes(out / "_work") if tick % 10 == 0 else None)
            tick += 1
            time.sleep(0.2)

    t = threading.Thread(target=sample)
    t.start()
    proc.communicate()
    t.join()
    if proc.returncode:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
        raise SystemExit(f"curate corpus failed on {corpus}:\n" + "\n".join(tail))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {"seconds": time.perf_counter() - start, "peaks": peaks, "timings": manifest.get("timings", {})}


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f}"


def main() -> None:
    global SHARED
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=int, default=4000, help="documents in the 1x corpus")
    ap.add_argument("--factors", default="1,4,16,64")
    ap.add_argument("--docs-per-file", type=int, default=4000, help="documents per input file")
    ap.add_argument("--stages", default="dedup", help="stages to run ('' for the recipe's)")
    ap.add_argument("--shard-rows", type=int, default=10_000, help="rows per output shard, at every size")
    ap.add_argument("--by-task", action="store_true", help="also each Ray task's peak memory, per size")
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
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    print("peak memory in MiB: RSS / private (RSS also counts the object store pages a process touched)")
    print(f"{'size':>4}  {'documents':>9}  {'files':>5}  {'wall s':>7}  {'docs/s':>6}  {'driver':>11}  largest worker")
    with tempfile.TemporaryDirectory() as tmp:
        for factor in (int(x) for x in args.factors.split(",")):
            corpus = Path(tmp) / f"x{factor}"
            n = write_corpus(corpus, base, factor, seed=factor, docs_per_file=args.docs_per_file)
            input_bytes = sum(p.stat().st_size for p in corpus.iterdir())
            r = run_one(corpus, Path(tmp) / f"out{factor}", args.stages, args.shard_rows)
            rows[factor] = (n, r)
            peaks = r["peaks"]
            (w_rss, w_title), (w_private, p_title) = peaks.largest("rss"), peaks.largest("private")
            print(
                f"{factor:>3}x  {n:>9,d}  {len(list(corpus.iterdir())):>5}  {r['seconds']:7.1f}  {n / r['seconds']:6.0f}  "
                f"{_mib(peaks.driver['rss']):>5}/{_mib(peaks.driver['private']):>5}  "
                f"{_mib(w_rss):>5}/{_mib(w_private):>4}  ({w_title}; {p_title})  load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            r["input_bytes"] = input_bytes
            report_cpu(n, peaks.cpu)
            if args.by_task:
                report_tasks(peaks)
    report_ratios(rows)
    report_rates(rows)
    text_bytes = sum(len(t.encode("utf-8")) for t in base) / len(base)
    print(f"text: {text_bytes:,.0f} UTF-8 bytes per document at 1x (the copies add a few)")


def report_tasks(peaks: Peaks) -> None:
    """Each task's (or actor's) peak RSS / private / shared, the largest private first."""
    for title, w in sorted(peaks.workers.items(), key=lambda kv: -kv[1]["private"]):
        print(f"      {title:<40} {_mib(w['rss']):>6} / {_mib(w['private']):>5} / {_mib(w['shared']):>6}")


def report_cpu(n: int, cpu: dict[str, float]) -> None:
    """CPU seconds per 1,000 documents by what ran them (sampled every 0.2 s, so a short
    task's time may go to the title before or after it): the rates that load does not skew."""
    stages = cpu.get("pass-1 stages", 0.0)
    decide = sum(v for k, v in cpu.items() if k.startswith(("ray::_", "ray::frequent")) and "Actor" not in k)
    print(
        f"      CPU s per 1,000 documents: total {1000 * sum(cpu.values()) / n:.2f}"
        f"  pass-1 reading and stages {1000 * stages / n:.2f}  corpus-step tasks {1000 * decide / n:.2f}"
        f"  pass-2 tasks {1000 * cpu.get('ray::write_unit', 0.0) / n:.2f}  driver {1000 * cpu.get('driver', 0.0) / n:.2f}",
        flush=True,
    )


def report_ratios(rows: dict) -> None:
    """The largest size against 4x (or the smallest, when 4x was not run)."""
    sizes = sorted(rows)
    ref = 4 if 4 in rows and sizes[-1] != 4 else sizes[0]
    big = sizes[-1]
    (n0, r0), (n1, r1) = rows[ref], rows[big]
    p0, p1 = r0["peaks"], r1["peaks"]
    checks = [
        ("driver peak RSS", p1.driver["rss"] / p0.driver["rss"], "<= 1.15"),
        ("driver peak private", p1.driver["private"] / p0.driver["private"], "<= 1.15"),
        ("largest worker peak RSS", p1.largest("rss")[0] / max(p0.largest("rss")[0], 1), "<= 1.15"),
        ("largest worker private", p1.largest("private")[0] / max(p0.largest("private")[0], 1), "<= 1.15"),
        ("wall time per document", (r1["seconds"] / n1) / (r0["seconds"] / n0), "<= 1.00"),
    ]
    print(f"\n{big}x vs {ref}x ({n1 / n0:.0f}x the documents):")
    for name, ratio, goal in checks:
        print(f"  {name:<24} {ratio:5.2f}  (goal {goal})")


def report_rates(rows: dict) -> None:
    """What a capacity plan is derived from, per size: seconds per 1,000 documents of each
    phase of the run (the manifest's timings), and bytes per document of the input and
    of the work folder's staged rows and keys (their peak while the run went on)."""
    print("\nper 1,000 documents: seconds of each phase; bytes per document")
    for factor, (n, r) in sorted(rows.items()):
        phases = "  ".join(f"{k} {1000 * v / n:.2f}" for k, v in r["timings"].items())
        work = r["peaks"].work
        print(
            f"{factor:>3}x  {phases}  |  input {r['input_bytes'] / n:,.0f}  staged {work['staged'] / n:,.0f}"
            f"  keys {work['keys'] / n:,.0f}  other work {work['other'] / n:,.0f}"
        )


if __name__ == "__main__":
    main()
