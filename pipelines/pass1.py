"""Pass 1: input files through the batch stages and the corpus steps' keys, on Ray workers.

Reading runs as its own light tasks; the stages and keys run in a pool of actors
(``StageChain``, built once per worker so models load once); the driver writes each
input file's rows to the staged run as they arrive, in input order.
"""

from __future__ import annotations

import logging
import sys
import warnings

import pyarrow as pa

from curate.dedup.step import CorpusStep
from curate.io import warc
from curate.io.readers import read_tables
from curate.stages.registry import build_stages
from pipelines.staging import StagedRun


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


def _read_files(batch, batch_size: int, max_doc_chars: int):
    for path in batch["path"].to_pylist():
        with warc.counting(path) as tally:
            yield from read_tables(path, batch_size=batch_size, max_doc_chars=max_doc_chars)
        if tally:  # after the archive's last row: what became of each of its records
            yield warc.tally_table(path, tally)


def stage_files(
    staged: StagedRun,
    chain: dict,
    workers: int | None,
    batch_size: int,
    max_doc_chars: int,
    progress: bool,
) -> None:
    """Run pass 1 over the staged run's pending files; ``chain``: StageChain's arguments."""
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

    paths = staged.pending()
    files = ray.data.from_items([{"path": p} for p in paths], override_num_blocks=max(1, len(paths)))
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
        fn_constructor_kwargs=chain,
        compute=ray.data.ActorPoolStrategy(size=n_workers),
    )
    bar = tqdm(desc=f"curate {chain['lang']}", unit="doc", disable=not progress, file=sys.stderr)
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
