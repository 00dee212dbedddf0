"""Pass 1: input files through the batch stages and the corpus steps' keys, on Ray workers.

One plain Ray task per input file reads it and runs the stages and keys on each batch
(``StageChain``, built once per worker process so models load once), streaming the
staged batches back; at most one task per worker runs at a time. The driver writes
each input file's rows to the staged run in input order, file by file, and marks a
file done when its task's last batch is written.
"""

from __future__ import annotations

import sys
from collections import deque

import pyarrow as pa

from curate.dedup.step import CorpusStep
from curate.io import warc
from curate.io.readers import read_tables
from curate.stages.registry import build_stages
from pipelines.staging import StagedRun

QUEUED_BATCHES = 8  # staged batches a file's task may run ahead of the driver's writes


class StageChain:
    """Runs the batch stages in order, then each corpus step's ``keys`` (curate/dedup/step.py)."""

    def __init__(self, recipe: dict, lang: str, stages: list[str], steps: list[CorpusStep] = ()):
        self.stages = build_stages(recipe, lang, stages)
        self.steps = list(steps)

    def __call__(self, table: pa.Table) -> pa.Table:
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        for stage in self.stages:
            table = stage(table)
        for step in self.steps:
            table = step.keys(table)
        return table


_CHAINS: dict[str, StageChain] = {}  # in a worker process: this run's chain, built once for all its tasks


def _chain(run: str, chain: dict) -> StageChain:
    if run not in _CHAINS:
        _CHAINS.clear()
        _CHAINS[run] = StageChain(**chain)
    return _CHAINS[run]


def stage_file(path: str, run: str, chain: dict, batch_size: int, max_doc_chars: int):
    """One input file's staged batches, in order; last, what the driver needs besides the
    rows: the node the task ran on and the archive's record counts (None: not an archive)."""
    import ray

    stages = _chain(run, chain)
    with warc.counting(path) as tally:
        for table in read_tables(path, batch_size=batch_size, max_doc_chars=max_doc_chars):
            yield stages(table)
    node = ray.get_runtime_context().get_node_id()
    yield {"node": node, "warc": tally.to_dict() if tally else None}


def stage_files(
    staged: StagedRun,
    chain: dict,
    workers: int | None,
    batch_size: int,
    max_doc_chars: int,
    progress: bool,
) -> dict:
    """Run pass 1 over the staged run's pending files; ``chain``: StageChain's arguments.
    Returns how many tasks ran and the nodes they ran on."""
    import uuid

    import ray
    from tqdm import tqdm

    limit = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    task = ray.remote(num_cpus=1, scheduling_strategy="SPREAD", _generator_backpressure_num_objects=QUEUED_BATCHES)(
        stage_file
    ).options(num_returns="streaming")
    args = (uuid.uuid4().hex, ray.put(chain), batch_size, max_doc_chars)
    paths = deque(staged.pending())
    running: deque = deque()  # (path, generator), in input order
    nodes: set = set()
    bar = tqdm(desc=f"curate {chain['lang']}", unit="doc", disable=not progress, file=sys.stderr)
    n_tasks = len(paths)
    while paths or running:
        while paths and len(running) < limit:
            path = paths.popleft()
            running.append((path, task.remote(path, *args)))
        path, batches = running.popleft()
        nodes.add(_write_file(staged, path, batches, bar))
    bar.close()
    missing = staged.pending()
    if missing:
        raise RuntimeError(f"pass 1 produced no rows for: {', '.join(missing)}")
    return {"tasks": n_tasks, "nodes": nodes}


def _write_file(staged: StagedRun, path: str, batches, bar) -> str:
    """Write one file's staged batches as they arrive and mark the file done; its task's node."""
    import ray

    for ref in batches:
        item = ray.get(ref)
        if isinstance(item, dict):  # the task's last item
            if item["warc"]:
                staged.write_warc_tally(path, item["warc"])
            staged.finish()
            return item["node"]
        if item.num_rows:
            staged.write(item)
            bar.update(item.num_rows)
    raise RuntimeError(f"pass 1: the task for {path} ended without its summary")
