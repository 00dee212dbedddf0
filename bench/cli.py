"""`curate corpus` as a user runs it vs datatrove's 4-stage MinHash dedup, whole processes.

A corpus of real Korean and Japanese documents from the shared corpora (NSMC movie
reviews, Korean news and KLUE sentences, JGLUE JSQuAD Wikipedia paragraphs and JGLUE
sentences), written as two JSONL files. Each round runs, one after the other and in
alternating order:
- `python -m curate.cli corpus --lang ko --stages dedup --no-progress` on those files
  (Ray workers: all CPUs), and
- datatrove's signatures, buckets, cluster and filter stages (bench/_datatrove.py,
  LocalPipelineExecutor, 2 tasks) on the same files.
Wall time of each process, interpreter start included; medians over the rounds.
One extra curate run under cProfile then splits the driver process's time into phases
(the Ray workers' own time is not in it: the driver waits for them in pass 1).

    .venv/bin/python bench/cli.py [--docs 5000] [--rounds 3] [--input FILE ...] [--corpora DIR]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
CORPORA = ROOT / ".." / "shared" / "corpora"
PYTHON = sys.executable

# (file, share of the documents); NSMC fills whatever the smaller files cannot
SOURCES = [
    ("ko-news-sentences.jsonl.gz", 0.10),
    ("ko-klue-sentences.jsonl.gz", 0.10),
    ("ja-wiki-jsquad.jsonl.gz", 0.15),
    ("ja-jglue-sentences.jsonl.gz", 0.15),
]
FILLER = "ko-nsmc-reviews.jsonl.gz"

# driver functions whose cumulative time makes each phase: (file suffix, function name)
PHASE_FUNCS = {
    "ray start": ("ray/_private/worker.py", "init"),
    "pass 1": ("pipelines/pass1.py", "stage_files"),
    "decide": ("curate/dedup/steps.py", "decide_all"),
    "report": ("pipelines/corpus.py", "_write_report"),
    "ray stop": ("ray/_private/worker.py", "shutdown"),
    "run_corpus": ("pipelines/corpus.py", "run_corpus"),
}


def read_lines(corpora: Path, name: str, limit: int) -> list[dict]:
    with gzip.open(corpora / name, "rt", encoding="utf-8") as f:
        rows = (json.loads(line) for line in f)
        return [r for r in itertools.islice(rows, limit)]


def build_corpus(corpora: Path, n_docs: int) -> list[dict]:
    docs = []
    for name, share in SOURCES:
        stem = name.split(".")[0]
        for i, r in enumerate(read_lines(corpora, name, int(n_docs * share))):
            docs.append({"id": f"{stem}-{i}", "text": r["text"]})
    for i, r in enumerate(read_lines(corpora, FILLER, n_docs - len(docs))):
        docs.append({"id": f"nsmc-{r['id']}-{i}", "text": r["text"]})
    return docs


def write_jsonl(docs: list[dict], folder: Path, files: int = 2) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in range(files):
        path = folder / f"part-{f}.jsonl"
        with open(path, "w", encoding="utf-8") as out:
            for d in docs[f::files]:
                out.write(json.dumps(d, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths


def curate_cmd(inputs: list[Path], out: Path) -> list[str]:
    files = [str(p) for p in inputs]
    return ["-m", "curate.cli", "corpus", "--lang", "ko", "--stages", "dedup", "--no-progress"] + [
        "--input",
        *files,
        "--output",
        str(out),
    ]


def timed(args: list[str], log: Path) -> float:
    """Wall seconds of one whole process; its output goes to `log`."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.run([PYTHON, *args], cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"{args[:3]} exited {proc.returncode}; see {log}:\n{log.read_text()[-2000:]}")
    return seconds


def run_round(i: int, inputs: list[Path], in_dir: Path, tmp: Path) -> dict:
    runs = {
        "curate": lambda: timed(curate_cmd(inputs, tmp / f"curate-{i}"), tmp / f"curate-{i}.log"),
        "datatrove": lambda: timed(
            [str(ROOT / "bench" / "_datatrove.py"), str(in_dir), str(tmp / f"dt-{i}")], tmp / f"dt-{i}.log"
        ),
    }
    order = ["curate", "datatrove"] if i % 2 == 0 else ["datatrove", "curate"]
    result = {name: runs[name]() for name in order}
    shutil.rmtree(tmp / f"curate-{i}", ignore_errors=True)
    shutil.rmtree(tmp / f"dt-{i}", ignore_errors=True)
    return result


def _cum(stats: pstats.Stats, suffix: str, name: str) -> float:
    return sum(
        v[3] for (file, _, func), v in stats.stats.items() if func == name and file.replace("\\", "/").endswith(suffix)
    )


def profile_phases(inputs: list[Path], tmp: Path) -> tuple[dict, pstats.Stats]:
    """One curate run under cProfile; the driver process's seconds per phase."""
    prof = tmp / "curate.prof"
    timed(["-m", "cProfile", "-o", str(prof), *curate_cmd(inputs, tmp / "curate-prof")], tmp / "curate-prof.log")
    stats = pstats.Stats(str(prof))
    cum = {phase: _cum(stats, *where) for phase, where in PHASE_FUNCS.items()}
    total = stats.total_tt
    # what run_corpus spends outside the named phases: the pass-2 loop (read staged rows,
    # apply decisions, write shards and stats), manifest and publish
    pass2 = cum["run_corpus"] - sum(cum[p] for p in ("ray start", "pass 1", "decide", "report", "ray stop"))
    phases = {
        "start-up to first read (imports, ray start)": total - cum["run_corpus"] + cum["ray start"],
        "  of which ray start (ray.init)": cum["ray start"],
        "pass 1 (stage_files)": cum["pass 1"],
        "corpus steps' decide (decide_all)": cum["decide"],
        "pass 2 (+ manifest, publish)": pass2,
        "ray stop": cum["ray stop"],
        "report (_write_report)": cum["report"],
        "total profiled": total,
    }
    return phases, stats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=5000, help="documents to build the corpus from")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--input", nargs="+", type=Path, help="JSONL files to use instead of building a corpus")
    ap.add_argument("--corpora", type=Path, default=CORPORA, help="the shared corpora (default ../shared/corpora)")
    ap.add_argument("--no-profile", action="store_true", help="skip the extra profiled curate run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        in_dir = tmp / "input"
        if args.input:
            in_dir.mkdir()
            inputs = [Path(shutil.copy(p, in_dir / p.name)) for p in args.input]
        else:
            inputs = write_jsonl(build_corpus(args.corpora, args.docs), in_dir)
        n = sum(1 for p in inputs for _ in open(p, encoding="utf-8"))
        mb = sum(p.stat().st_size for p in inputs) / 1e6
        print(f"corpus: {n} documents, {mb:.1f} MB in {len(inputs)} JSONL files; {os.cpu_count()} CPUs")
        rounds = [run_round(i, inputs, in_dir, tmp) for i in range(args.rounds)]
        med = {name: statistics.median(r[name] for r in rounds) for name in ("curate", "datatrove")}
        print("\n| tool | median wall s | docs/s | all rounds (s) |\n|---|---|---|---|")
        for name, seconds in med.items():
            all_s = ", ".join(f"{r[name]:.1f}" for r in rounds)
            print(f"| {name} | {seconds:.1f} | {n / seconds:,.0f} | {all_s} |")
        print(f"\ndatatrove time / curate time: {med['datatrove'] / med['curate']:.2f}x (medians)")
        if args.no_profile:
            return
        phases, stats = profile_phases(inputs, tmp)
        print("\ncurate under cProfile, driver process only (Ray workers not included):\n")
        print("| phase | s |\n|---|---|")
        for phase, seconds in phases.items():
            print(f"| {phase} | {seconds:.2f} |")
        print("\ntop 15 functions by cumulative time (driver process only):")
        stats.sort_stats("cumulative").print_stats(15)


if __name__ == "__main__":
    main()
