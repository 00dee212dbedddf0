"""`curate corpus` as a user runs it vs datatrove's 4-stage MinHash dedup, whole processes.

A corpus of real Korean and Japanese documents from the shared corpora (NSMC movie
reviews, Korean news and KLUE sentences, JGLUE JSQuAD Wikipedia paragraphs and JGLUE
sentences), written as two JSONL files: ``--docs N`` documents a line each, or with
``--whole K`` every Korean and Japanese document there (NSMC's reviews as one page per
movie; about 35 K documents, 69 MB), K times over, each further copy the same text cut
into other documents. Each round runs, one after the other and in
alternating order:
- `python -m curate.cli corpus --lang ko --stages dedup --no-progress` on those files
  (Ray workers: all CPUs), and
- datatrove's signatures, buckets, cluster and filter stages (bench/_datatrove.py,
  LocalPipelineExecutor, 2 tasks) on the same files.
Wall time of each process, interpreter start included; medians over the rounds, with
the median of each phase of the curate runs (the `timings` of their manifests; what is
left of the wall time is the interpreter's start, the imports and the exit). One extra
curate run under cProfile then lists the driver's costliest functions (its main thread
only: Ray starts and stops in a thread of its own, the workers in their own processes).

With `--baseline DIR` (another checkout, e.g. the main branch's), that checkout's
curate runs in each round too, in the alternated order, for a before/after ratio.
With `--recipe`, curate runs every stage of the default Korean recipe (no datatrove),
and the CPU seconds of each stage in pass 1 are printed with their shares.

    .venv/bin/python bench/cli.py [--docs 5000 | --whole K] [--rounds 3] [--input FILE ...] [--corpora DIR]
                                  [--baseline DIR] [--recipe] [--no-profile]
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

# what each phase of the manifest's `timings` (pipelines/corpus.py) covers
PHASES = {
    "startup": "Ray start (the driver's set-up meanwhile)",
    "pass1": "pass 1: read, stages, keys, staged files",
    "decide": "corpus steps' decide",
    "pass2": "pass 2: shards written",
    "shutdown": "Ray stop (what the report did not cover)",
    "publish": "manifest, publish",
    "report": "report",
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


WHOLE_SOURCES = [  # every Korean and Japanese file of the shared corpora but NSMC, a document a line
    "ko-news-sentences.jsonl.gz",
    "ko-klue-sentences.jsonl.gz",
    "ko-wiki-korquad.jsonl.gz",
    "ja-wiki-jsquad.jsonl.gz",
    "ja-jglue-sentences.jsonl.gz",
]


def build_whole(corpora: Path, copy: int = 0) -> list[dict]:
    """Every Korean and Japanese document of the shared corpora (about 35 K documents,
    66 MB of JSONL): NSMC's reviews as review pages, one page per movie (its reviews a
    line each, in file order), the other files a document a line.

    Copy k > 0 (for a corpus k+1 times the size) is the same text cut into other
    documents, so that it is not a copy of copy 0: reviews dealt at random (seed k)
    into pages of 48, and every k+1 consecutive lines of the other files joined."""
    import random

    docs = []
    reviews = read_lines(corpora, FILLER, 10**9)
    if copy == 0:
        pages: dict[str, list[str]] = {}
        for r in reviews:
            pages.setdefault(r["movie_id"], []).append(r["text"])
        groups = list(pages.items())
    else:
        texts = [r["text"] for r in reviews]
        random.Random(copy).shuffle(texts)
        groups = [(f"{copy}-{i}", texts[i : i + 48]) for i in range(0, len(texts), 48)]
    docs += [{"id": f"nsmc-page-{key}", "text": "\n".join(lines)} for key, lines in groups]
    for name in WHOLE_SOURCES:
        stem = name.split(".")[0]
        lines = [r["text"] for r in read_lines(corpora, name, 10**9)]
        step = copy + 1
        for i in range(0, len(lines), step):
            docs.append({"id": f"{stem}-{copy}-{i}", "text": "\n".join(lines[i : i + step])})
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


STAGES = ["--stages", "dedup"]  # --recipe: [] (every stage of the default Korean recipe)


def curate_cmd(inputs: list[Path], out: Path) -> list[str]:
    files = [str(p) for p in inputs]
    return ["-m", "curate.cli", "corpus", "--lang", "ko", *STAGES, "--no-progress"] + [
        "--input",
        *files,
        "--output",
        str(out),
    ]


def timed(args: list[str], log: Path, root: Path = ROOT) -> float:
    """Wall seconds of one whole process run from `root` (its code); its output goes to `log`."""
    env = dict(os.environ, PYTHONPATH=str(root))
    t0 = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.run([PYTHON, *args], cwd=root, env=env, stdout=f, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f"{args[:3]} exited {proc.returncode}; see {log}:\n{log.read_text()[-2000:]}")
    return seconds


def run_round(i: int, inputs: list[Path], in_dir: Path, tmp: Path, baseline: Path | None, peer: bool = True) -> dict:
    runs = {"curate": lambda: timed(curate_cmd(inputs, tmp / f"curate-{i}"), tmp / f"curate-{i}.log")}
    if peer:
        runs["datatrove"] = lambda: timed(
            [str(ROOT / "bench" / "_datatrove.py"), str(in_dir), str(tmp / f"dt-{i}")], tmp / f"dt-{i}.log"
        )
    if baseline:
        runs["baseline"] = lambda: timed(curate_cmd(inputs, tmp / f"base-{i}"), tmp / f"base-{i}.log", baseline)
    order = list(runs) if i % 2 == 0 else list(runs)[::-1]
    result = {name: runs[name]() for name in order}
    shutil.rmtree(tmp / f"base-{i}", ignore_errors=True)
    manifest = json.loads((tmp / f"curate-{i}" / "manifest.json").read_text())
    result["phases"], result["stages"] = manifest["timings"], manifest.get("stage_seconds", {})
    shutil.rmtree(tmp / f"curate-{i}", ignore_errors=True)
    shutil.rmtree(tmp / f"dt-{i}", ignore_errors=True)
    return result


def phase_table(rounds: list[dict]) -> dict:
    """Median seconds of each phase of the curate runs, and the rest of their wall time."""
    phases = {PHASES.get(k, k): statistics.median(r["phases"][k] for r in rounds) for k in rounds[0]["phases"]}
    wall = statistics.median(r["curate"] for r in rounds)
    phases["process start, imports, exit (the rest)"] = wall - sum(phases.values())
    phases["wall"] = wall
    return phases


def stage_table(rounds: list[dict]) -> None:
    """Median CPU seconds of each stage in pass 1 (the manifests' stage_seconds, summed
    over the workers) and its share of their sum."""
    if not rounds[0]["stages"]:
        return
    seconds = {k: statistics.median(r["stages"].get(k, 0.0) for r in rounds) for k in rounds[0]["stages"]}
    total = sum(seconds.values()) or 1.0
    print("\npass 1 by stage, medians over the rounds (CPU seconds over all workers):\n")
    print("| stage | CPU s | share |\n|---|---|---|")
    for stage, cpu in seconds.items():
        print(f"| {stage} | {cpu:.1f} | {100 * cpu / total:.0f}% |")


def profile_driver(inputs: list[Path], tmp: Path) -> pstats.Stats:
    """One curate run under cProfile: the driver's main thread."""
    prof = tmp / "curate.prof"
    timed(["-m", "cProfile", "-o", str(prof), *curate_cmd(inputs, tmp / "curate-prof")], tmp / "curate-prof.log")
    return pstats.Stats(str(prof))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=5000, help="documents to build the corpus from")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--whole",
        type=int,
        metavar="K",
        help="instead of --docs: every ko/ja document of the corpora, K times over (K-1 re-cut copies)",
    )
    ap.add_argument("--input", nargs="+", type=Path, help="JSONL files to use instead of building a corpus")
    ap.add_argument("--corpora", type=Path, default=CORPORA, help="the shared corpora (default ../shared/corpora)")
    ap.add_argument("--no-profile", action="store_true", help="skip the extra profiled curate run")
    ap.add_argument("--baseline", type=Path, help="another checkout of the project whose curate also runs each round")
    ap.add_argument(
        "--recipe",
        action="store_true",
        help="every stage of the default Korean recipe instead of --stages dedup (datatrove does not run)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        in_dir = tmp / "input"
        if args.input:
            in_dir.mkdir()
            inputs = [Path(shutil.copy(p, in_dir / p.name)) for p in args.input]
        elif args.whole:
            inputs = write_jsonl([d for k in range(args.whole) for d in build_whole(args.corpora, k)], in_dir)
        else:
            inputs = write_jsonl(build_corpus(args.corpora, args.docs), in_dir)
        n = sum(1 for p in inputs for _ in open(p, encoding="utf-8"))
        mb = sum(p.stat().st_size for p in inputs) / 1e6
        print(f"corpus: {n} documents, {mb:.1f} MB in {len(inputs)} JSONL files; {os.cpu_count()} CPUs")
        if args.recipe:
            STAGES.clear()
        rounds = [run_round(i, inputs, in_dir, tmp, args.baseline, not args.recipe) for i in range(args.rounds)]
        tools = ["curate"] + ([] if args.recipe else ["datatrove"]) + (["baseline"] if args.baseline else [])
        med = {name: statistics.median(r[name] for r in rounds) for name in tools}
        print("\n| tool | median wall s | docs/s | all rounds (s) |\n|---|---|---|---|")
        for name, seconds in med.items():
            all_s = ", ".join(f"{r[name]:.1f}" for r in rounds)
            print(f"| {name} | {seconds:.1f} | {n / seconds:,.0f} | {all_s} |")
        if not args.recipe:
            print(f"\ndatatrove time / curate time: {med['datatrove'] / med['curate']:.2f}x (medians)")
        if args.baseline and not args.recipe:
            print(f"datatrove time / baseline curate time: {med['datatrove'] / med['baseline']:.2f}x (medians)")
        if args.baseline:
            ratios = ", ".join(f"{r['baseline'] / r['curate']:.2f}x" for r in rounds)
            print(f"baseline time / curate time per round: {ratios}")
        print("\ncurate's phases, medians over the rounds (manifest timings):\n")
        print("| phase | s |\n|---|---|")
        for phase, seconds in phase_table(rounds).items():
            print(f"| {phase} | {seconds:.2f} |")
        stage_table(rounds)
        if args.no_profile:
            return
        stats = profile_driver(inputs, tmp)
        print("\ntop 15 functions by cumulative time (driver's main thread under cProfile):")
        stats.sort_stats("cumulative").print_stats(15)


if __name__ == "__main__":
    main()
