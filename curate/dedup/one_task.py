"""The duplicate decision of a corpus small enough for one worker's memory.

Below ``one_task_docs`` live documents, the shuffles of curate/dedup/corpus_ray.py
cost more than they save: dozens of tasks pass tables through scratch files, each a
round trip. Here the single-process algorithm (curate/dedup/near.py, which the
shuffles reproduce) runs in three steps of Ray tasks:

1. one task reads every staged keys file and clusters them: the first pass, its near
   graph, the boilerplate lines and the rows that carry one;
2. those rows are re-signed without their boilerplate lines by tasks over consecutive
   slices of them, on every worker (the texts read from the staged files);
3. one task clusters again, reusing the first pass's pairs, and writes the parts.

The decision, its parts and the manifest's summary are the same as the shuffles give
(tests/test_dedup_staged.py); the keys stay in the object store, bounded by
``one_task_docs``, and the driver reads none of them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup.boilerplate import SAMPLE_TEXTS, first_lines, named_lines, top_hashes
from curate.dedup.decision_parts import DecisionParts, write_global
from curate.dedup.keeper import OUTPUT_SCHEMA
from curate.dedup.line_keys import ALL_LINE_COLUMNS, LineHashes
from curate.dedup.near import cluster, first_pass, second_pass
from curate.dedup.settings import DedupSettings
from curate.dedup.signatures import folds_and_lines, stripped_keys
from curate.dedup.step import StagedFile
from curate.io import fs

RESIGN_ROWS = 500  # rows a re-signing task takes at least (fewer tasks when there are few rows)
# The clustering tasks run alone (nothing else is scheduled meanwhile): each takes the
# CPUs of a node, up to this many, for its numpy work's threads.
MAX_CLUSTER_THREADS = 8


def corpus_keys(files: list[StagedFile]) -> pa.Table:
    """Every live row's keys, rows global, in input order (every line's hash stays in
    the files: only the re-signing reads it, for its rows)."""
    tables = []
    for f in files:
        if f.live:
            staged = fs.parquet_file(f.keys)
            t = staged.read(columns=[c for c in staged.schema_arrow.names if c not in ALL_LINE_COLUMNS])
            tables.append(t.set_column(t.schema.get_field_index("row"), "row", pc.add(t.column("row"), f.first_row)))
    return pa.concat_tables(tables)


def file_texts(path: str, local: np.ndarray) -> list[str]:
    """The texts of a staged file's rows ``local`` (ascending), reading only their row groups."""
    return file_rows(path, local, ["text"]).column("text").to_pylist()


def file_rows(path: str, positions: np.ndarray, columns: list[str]) -> pa.Table:
    """The ``columns`` of a Parquet file's rows at ``positions`` (ascending), reading
    only their row groups, a row group at a time (a take over a column of several row
    groups would first join them)."""
    staged = fs.parquet_file(path)
    meta = staged.metadata
    sizes = np.array([meta.row_group(g).num_rows for g in range(meta.num_row_groups)], dtype=np.int64)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    group = np.searchsorted(starts, positions, side="right") - 1
    parts = [staged.schema_arrow.empty_table().select(columns)]
    for part in np.split(np.arange(len(positions)), np.flatnonzero(np.diff(group)) + 1) if len(positions) else ():
        g = int(group[part[0]])
        parts.append(staged.read_row_group(g, columns=columns).take(pa.array(positions[part] - starts[g])))
    return pa.concat_tables(parts)


def _per_file(files: list[StagedFile], rows: np.ndarray):
    """(file, its local rows) for the files that hold some of the global ``rows``
    (ascending), in order."""
    starts = np.array([f.first_row for f in files], dtype=np.int64)
    file_of = np.searchsorted(starts, rows, side="right") - 1
    for i in np.unique(file_of):
        yield files[i], rows[file_of == i] - starts[i]


def staged_lines(files: list[StagedFile], rows: np.ndarray) -> LineHashes | None:
    """Every line's hash of the live global ``rows`` (ascending), as pass 1 staged them
    (what ``hashed_lines`` gives for their folds); None where the keys hold none."""
    parts = []
    for f, local in _per_file(files, rows):
        keys = fs.parquet_file(f.keys)
        if not set(ALL_LINE_COLUMNS) <= set(keys.schema_arrow.names):
            return None
        live = keys.read(columns=["row"]).column("row").to_numpy()  # the live rows, ascending
        parts.append(file_rows(f.keys, np.searchsorted(live, local), [*ALL_LINE_COLUMNS]))
    t = pa.concat_tables(parts)
    return LineHashes.from_columns(*(t.column(c).combine_chunks() for c in ALL_LINE_COLUMNS))


def staged_texts(files: list[StagedFile], rows: np.ndarray) -> list[str]:
    """The staged texts of the global ``rows`` (ascending)."""
    return [text for f, local in _per_file(files, rows) for text in file_texts(f.staged, local)]


def decide_in_one_task(files: list[StagedFile], s: DedupSettings, lang: str, out: DecisionParts) -> DecisionParts:
    """``corpus_ray.decide_duplicates`` for a corpus of at most ``one_task_docs`` live
    documents: the same parts and summary, without the shuffles."""
    import ray

    counts = [f.rows for f in files]
    if not s.near or not sum(f.live for f in files):
        ray.get(ray.remote(num_cpus=1, max_retries=2)(_exact).remote(files, s, counts, out))
        return out
    threads = min(MAX_CLUSTER_THREADS, _node_cpus())
    keys, graph, members, boiler, carriers = ray.remote(num_cpus=threads, max_retries=2, num_returns=5)(_first).remote(
        files, s, threads
    )
    carriers = ray.get(carriers)  # row numbers only: at most one_task_docs of them
    if carriers is None:
        ray.get(ray.remote(num_cpus=1)(write_global).remote(out, members, counts, {}))
        return out
    resign = ray.remote(num_cpus=1, max_retries=2, num_returns=2)(_resign)
    slices = np.array_split(np.arange(len(carriers)), max(1, min(len(carriers) // RESIGN_ROWS, 4 * _cpus())))
    resigned = [
        resign.remote(files, carriers[i], boiler, s, lang, max(0, SAMPLE_TEXTS - int(i[0]))) for i in slices if len(i)
    ]
    tables, lines = [r[0] for r in resigned], [r[1] for r in resigned]
    second = ray.remote(num_cpus=threads, max_retries=2)(_second)
    ray.get(second.remote(out, counts, s, threads, keys, graph, members, boiler, len(tables), *tables, *lines))
    return out


def _cpus() -> int:
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _node_cpus() -> int:
    """The CPUs of the largest live node: no task may ask for more than one node has."""
    import ray

    return max([int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n.get("Alive")] + [1])


def _exact(files: list[StagedFile], s: DedupSettings, counts: list[int], out: DecisionParts) -> None:
    """Exact dedup alone, or a corpus without a live row: one clustering, no second pass."""
    members = cluster(corpus_keys(files), s) if sum(f.live for f in files) else OUTPUT_SCHEMA.empty_table()
    write_global(out, members, counts, {})


def _first(files: list[StagedFile], s: DedupSettings, threads: int):
    keys = corpus_keys(files)
    members, graph, boiler, carriers = first_pass(keys, s, threads=threads)
    return keys, graph, members, boiler, carriers


def _resign(files: list[StagedFile], rows: np.ndarray, boiler, s: DedupSettings, lang: str, keep: int):
    """The rows re-signed without their boilerplate lines, and the report's top lines
    as the first ``keep`` texts read show them (curate.dedup.boilerplate.first_lines)."""
    texts = staged_texts(files, rows)
    folded = folds_and_lines(texts, staged_lines(files, rows))  # for both
    return stripped_keys(texts, rows, boiler, s, lang, folded), first_lines(texts[:keep], top_hashes(boiler), folded[1])


def _second(
    out: DecisionParts, counts: list[int], s: DedupSettings, threads: int, keys, graph, members, boiler, n: int, *parts
):
    new = pa.concat_tables(parts[:n]) if n else None
    if new is not None and new.num_rows:
        members = second_pass(keys, s, graph, new, threads)
    summary = {
        "top_boilerplate": named_lines(top_hashes(boiler), list(parts[n:])),
        "boilerplate_lines": int(len(boiler[0])),
        "resigned_docs": int(new.num_rows) if new is not None else 0,
    }
    write_global(out, members, counts, summary)
