"""Pass 1: input files through the batch stages and the corpus steps' keys, on Ray workers.

With at least as many input files as workers, one plain Ray task per input file reads
it, runs the stages and keys on each batch and writes the file's staged rows itself
(pipelines/staging.py: renamed into place when complete), at most one such task per
worker at a time. With fewer files (one big file), a light task reads each file (no
CPU reserved: it never waits for a stage worker), every batch is staged by a task of
its own, so that every worker has work, and the driver writes the staged batches in
input order. Either way the stages and keys run in ``StageChain``, built once per
worker process (models load once), and a file is marked done when its last row is written.
"""

from __future__ import annotations

import sys
import time
from collections import Counter, deque

import pyarrow as pa

from curate.dedup.step import CorpusStep
from curate.io import warc
from curate.io.readers import read_tables
from curate.stages.registry import build_stages
from pipelines.staging import StagedRun

QUEUED_BATCHES = 8  # batches a file's reader may run ahead of the tasks that stage them


class StageChain:
    """Runs the batch stages in order, then each corpus step's ``keys`` (curate/dedup/step.py),
    adding the CPU seconds of each to ``seconds`` (a stage's name, or a step's name + " keys")."""

    def __init__(self, recipe: dict, lang: str, stages: list[str], steps: list[CorpusStep] = ()):
        self.stages = build_stages(recipe, lang, stages)
        self.steps = list(steps)
        self.runs = [(s.name, s) for s in self.stages] + [(f"{s.name} keys", s.keys) for s in self.steps]
        self.seconds: Counter = Counter()

    def __call__(self, table: pa.Table) -> pa.Table:
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        for name, run in self.runs:
            start = time.process_time()
            table = run(table)
            self.seconds[name] += time.process_time() - start
        return table

    def take_seconds(self) -> dict[str, float]:
        """The seconds counted since the last call, and a fresh count."""
        seconds, self.seconds = dict(self.seconds), Counter()
        return seconds


_CHAINS: dict[str, StageChain] = {}  # in a worker process: this run's chain, built once for all its tasks


def _chain(run: str, chain: dict) -> StageChain:
    if run not in _CHAINS:
        _CHAINS.clear()
        _CHAINS[run] = StageChain(**chain)
    return _CHAINS[run]


def read_file(path: str, batch_size: int, max_doc_chars: int):
    """One input file's batches, in order; last, the archive's record counts (None: not an archive)."""
    with warc.counting(path) as tally:
        yield from read_tables(path, batch_size=batch_size, max_doc_chars=max_doc_chars)
    yield {"warc": tally.to_dict() if tally else None}


def _finish(staged: StagedRun, path: str, last: dict) -> None:
    """Mark a file done, after its archive's record counts (read_file's last item)."""
    if last["warc"]:
        staged.write_warc_tally(path, last["warc"])
    staged.finish()


def stage_batch(run: str, chain: dict, item):
    """A batch through the chain, with the node it ran on; read_file's last item as it is."""
    import ray

    if isinstance(item, dict):
        return item
    stages = _chain(run, chain)
    return stages(item), ray.get_runtime_context().get_node_id(), stages.take_seconds()


def stage_file(staged: StagedRun, path: str, run: str, chain: dict, read_args: tuple) -> dict:
    """Stage one input file into the staged run; how many rows and batches, and the node."""
    import ray

    rows = batches = 0
    stages = _chain(run, chain)
    stages.take_seconds()  # what a task of this worker that failed part-way left counted
    for item in read_file(path, *read_args):
        if isinstance(item, dict):  # the file's last item
            _finish(staged, path, item)
            break
        table = stages(item)
        batches += 1
        if table.num_rows:
            staged.write(table)
            rows += table.num_rows
    node = ray.get_runtime_context().get_node_id()
    return {"rows": rows, "batches": batches, "node": node, "seconds": stages.take_seconds()}


def stage_files(
    staged: StagedRun,
    chain: dict,
    workers: int | None,
    batch_size: int,
    max_doc_chars: int,
    progress: bool,
) -> dict:
    """Run pass 1 over the staged run's pending files; ``chain``: StageChain's arguments.
    Returns how many batches were staged, the nodes they were staged on and the CPU
    seconds of each stage and corpus step's keys, summed over the workers."""
    import uuid

    import ray
    from tqdm import tqdm

    limit = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    chain_args = (uuid.uuid4().hex, ray.put(chain))
    paths = staged.pending()
    bar = tqdm(desc=f"curate {chain['lang']}", unit="doc", disable=not progress, file=sys.stderr)
    done = {"batches": 0, "nodes": set(), "seconds": Counter()}
    if len(paths) >= limit:
        _whole_files(staged, paths, chain_args, limit, (batch_size, max_doc_chars), bar, done)
    else:
        for path, batches in _split_files(paths, chain_args, limit, (batch_size, max_doc_chars)):
            _write_file(staged, path, batches, bar, done)
    bar.close()
    missing = staged.pending()
    if missing:
        raise RuntimeError(f"pass 1 produced no rows for: {', '.join(missing)}")
    return done


def _whole_files(staged: StagedRun, paths: list[str], chain_args: tuple, limit: int, read_args, bar, done) -> None:
    """A task per file, `limit` at a time, each writing its file's staged rows."""
    import ray

    task = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(stage_file)
    waiting, running = deque(paths), []
    while waiting or running:
        while waiting and len(running) < limit:
            running.append(task.remote(staged, waiting.popleft(), *chain_args, read_args))
        finished, running = ray.wait(running, num_returns=1)
        for summary in ray.get(finished):
            done["batches"] += summary["batches"]
            done["nodes"].add(summary["node"])
            done["seconds"].update(summary["seconds"])
            bar.update(summary["rows"])


def _split_files(paths: list[str], chain_args: tuple, limit: int, read_args: tuple):
    """(path, refs of its staged batches) per file, in order; every file read by a light
    task, each batch staged by a task of its own, at most 2 x `limit` batches ahead."""
    import ray

    read = ray.remote(num_cpus=0, _generator_backpressure_num_objects=QUEUED_BATCHES)(read_file)
    stage = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(stage_batch)
    readers = [(path, read.options(num_returns="streaming").remote(path, *read_args)) for path in paths]
    for path, batches in readers:
        yield path, _ahead((stage.remote(*chain_args, ref) for ref in batches), 2 * limit)


def _ahead(refs, n: int):
    """The refs in order, each yielded once `n` more have been asked for (their tasks submitted)."""
    window: deque = deque()
    for ref in refs:
        window.append(ref)
        if len(window) > n:
            yield window.popleft()
    yield from window


def _write_file(staged: StagedRun, path: str, batches, bar, done: dict) -> None:
    """Write one file's staged batches as they arrive and mark the file done."""
    import ray

    for ref in batches:
        item = ray.get(ref)
        if isinstance(item, dict):  # the file's last item
            _finish(staged, path, item)
            return
        table, node, seconds = item
        done["batches"] += 1
        done["nodes"].add(node)
        done["seconds"].update(seconds)
        if table.num_rows:
            staged.write(table)
            bar.update(table.num_rows)
    raise RuntimeError(f"pass 1: the read of {path} ended without its last item")
