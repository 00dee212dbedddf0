"""The duplicate decision over the staged files, on Ray, for any corpus size.

Every task reads a unit of at most ``partition_docs`` rows of one staged file's keys
(rows made global by the file's first row), and tables pass from task to task as files
in a scratch folder beside the decision (curate/dedup/spill_ray.py);
the clustering is curate/dedup/near_ray.py's hash-partitioned shuffles, with one
partition per ``partition_docs`` live documents, so no process, the driver included,
holds more than a partition's share of the keys, pairs or edges. The boilerplate pass
of curate/dedup/near.py runs the same way:

1. cluster the keys (first pass);
2. (line hash, row) pairs meet the first-pass members by row, then (line, cluster)
   pairs meet by line hash: the lines found in ``boilerplate_clusters`` clusters;
3. each unit's task re-signs its documents that carry such a line (their staged texts
   without it, read from the row groups that hold them) and hands on its keys block
   with those signatures replaced;
4. cluster again, when anything was re-signed.

The result goes back to the staged files (a shuffle by file) and each file's decided
rows are written as its part (curate/dedup/decision_parts.py). The driver holds the
list of staged files, one count per partition and the report's top boilerplate lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import ray

from curate.dedup.boilerplate import SAMPLE_TEXTS, rows_with, top_lines, unique_pairs
from curate.dedup.decision_parts import DecisionParts, write_part
from curate.dedup.keeper import OUTPUT_SCHEMA
from curate.dedup.near import with_resigned
from curate.dedup.near_ray import (
    CORE_COLUMNS,
    KEY_COLUMNS,
    cluster_blocks,
    frequent_lines,
    merged_lines,
    partitions_for,
)
from curate.dedup.one_task import file_texts
from curate.dedup.settings import DedupSettings
from curate.dedup.shuffle_ray import concat_pieces, shuffle
from curate.dedup.signatures import stripped_keys
from curate.dedup.spill_ray import disk_task, scratch
from curate.dedup.step import StagedFile
from curate.io import fs


@dataclass(frozen=True)
class KeyUnit:
    """Whole row groups of one staged file's keys: what one task reads."""

    file: StagedFile
    groups: tuple[int, ...]
    rows: int


def key_units(files: list[StagedFile], limit: int) -> list[KeyUnit]:
    """The staged keys in input order, cut into units of at most ``limit`` rows (a larger
    row group is a unit alone), so that no task reads a whole large file."""
    units = []
    for f in files:
        if not f.live:
            continue
        meta = fs.parquet_file(f.keys).metadata
        groups, rows = [], 0
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            if groups and rows + n > limit:
                units.append(KeyUnit(f, tuple(groups), rows))
                groups, rows = [], 0
            groups.append(g)
            rows += n
        if groups:
            units.append(KeyUnit(f, tuple(groups), rows))
    return units


@disk_task
def _read_keys(unit: KeyUnit, columns: list[str]) -> pa.Table:
    t = fs.parquet_file(unit.file.keys).read_row_groups(list(unit.groups), columns=columns)
    return t.set_column(t.schema.get_field_index("row"), "row", pc.add(t.column("row"), unit.file.first_row))


@disk_task
def _drop_lines(block: pa.Table) -> pa.Table:
    return block.drop_columns(["line_hashes"]) if "line_hashes" in block.column_names else block


def _without_lines(blocks: list) -> list:
    """The blocks as the clustering reads them: line hashes are for the boilerplate pass only."""
    return [_drop_lines.remote(b) for b in blocks]


def key_blocks(units: list[KeyUnit], columns: list[str]) -> list:
    """One ObjectRef per unit: its live rows' key columns, rows global."""
    return [_read_keys.remote(u, ["row", *columns]) for u in units]


# ---------------------------------------------------------------- boilerplate lines


@disk_task
def _row_lines(block: pa.Table) -> pa.Table:
    """(row, line_hash) for every line hash of every document of a block."""
    lists = block.column("line_hashes").combine_chunks()
    counts = lists.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
    rows = np.repeat(block.column("row").to_numpy(), counts)
    return pa.table({"row": pa.array(rows, pa.int64()), "line_hash": lists.flatten().cast(pa.uint64())})


@disk_task
def _member_labels(members: pa.Table) -> pa.Table:
    """(row, label) of the first-pass members: one negative label per cluster, apart from every row."""
    label = -1 - members.column("label").to_numpy()
    return pa.table({"row": members.column("row"), "label": pa.array(label, pa.int64())})


@disk_task
def _line_labels(n_lines: int, *pieces: pa.Table) -> pa.Table:
    """Distinct (line_hash, label) of one row partition: a member's line counts for its
    cluster, any other row's for itself (curate.dedup.boilerplate.cluster_labels)."""
    lines, labels = concat_pieces(pieces[:n_lines]), concat_pieces(pieces[n_lines:])
    rows = lines.column("row").to_numpy()
    label = rows.copy()
    m_rows, m_label = labels.column("row").to_numpy(), labels.column("label").to_numpy()
    if len(m_rows) and len(rows):
        order = np.argsort(m_rows)
        pos = np.clip(np.searchsorted(m_rows[order], rows), 0, len(m_rows) - 1)
        hit = m_rows[order][pos] == rows
        label[hit] = m_label[order][pos[hit]]
    h, lab = unique_pairs(lines.column("line_hash").to_numpy().astype(np.uint64), label)
    return pa.table({"line_hash": pa.array(h, pa.uint64()), "label": pa.array(lab, pa.int64())})


def boilerplate_parts(blocks: list, first: list, k: int, parts: int) -> list:
    """ObjectRefs of (sorted hashes, cluster counts) of the boilerplate lines, one per partition."""
    lines = shuffle([_row_lines.remote(b) for b in blocks], "row", parts)
    labels = shuffle([_member_labels.remote(m) for m in first], "row", parts)
    pairs = [_line_labels.at(p).remote(len(lines[p]), *lines[p], *labels[p]) for p in range(parts)]
    return [frequent_lines.at(i).remote(k, *p) for i, p in enumerate(shuffle(pairs, "line_hash", parts))]


@disk_task(num_returns=4)
def _resign(block: pa.Table, f: StagedFile, s: DedupSettings, lang: str, *boiler_parts):
    """The block with its documents that carry a boilerplate line re-signed without it;
    how many were; how many texts were read and the first SAMPLE_TEXTS of them (row order).
    (Every input is an argument of its own: a task that waits on Ray inside makes Ray
    start another worker.)"""
    boiler = merged_lines(boiler_parts)
    at = rows_with(block.column("line_hashes"), boiler[0])
    if not len(at):
        return block, 0, 0, []
    rows = block.column("row").to_numpy()[at]
    texts = file_texts(f.staged, rows - f.first_row)
    new = stripped_keys(texts, rows, boiler, s, lang)
    return (with_resigned(block, new) if new.num_rows else block), new.num_rows, len(texts), texts[:SAMPLE_TEXTS]


@disk_task
def _summary(n_boiler: int, *pieces) -> dict:
    """The report's top boilerplate lines (examples from the first texts re-signed, in
    input order: the samples after the boilerplate parts) and how many lines were found."""
    boiler = merged_lines(pieces[:n_boiler])
    sample = [text for texts in pieces[n_boiler:] for text in texts][:SAMPLE_TEXTS]
    return {"top_boilerplate": top_lines(sample, boiler), "boilerplate_lines": int(len(boiler[0]))}


def _boilerplate_summary(boiler: list, resigned: list) -> dict:
    """The summary of the boilerplate pass; only the samples needed reach the summary task."""
    read = ray.get([r[2] for r in resigned])
    wanted, total = [], 0
    for r, n in zip(resigned, read):
        if total >= SAMPLE_TEXTS:
            break
        if n:
            wanted.append(r[3])
            total += n
    summary = ray.get(_summary.remote(len(boiler), *boiler, *wanted))
    summary["resigned_docs"] = int(sum(ray.get([r[1] for r in resigned])))
    return summary


# ---------------------------------------------------------------- decision per staged file


@disk_task
def _with_file(table: pa.Table, starts: np.ndarray) -> pa.Table:
    file_of = np.searchsorted(starts, table.column("row").to_numpy(), side="right") - 1
    return table.append_column("file", pa.array(file_of, pa.int64()))


@disk_task
def _write_files(folder: str, starts: np.ndarray, columns: list[str], *pieces: pa.Table) -> int:
    t = concat_pieces(pieces)
    if not t.num_rows:
        return 0
    file_of = t.column("file").to_numpy()
    for i in np.unique(file_of):
        part = t.filter(pa.array(file_of == i)).select(columns)
        write_part(folder, int(i), part.set_column(0, "row", pc.subtract(part.column("row"), int(starts[i]))))
    return t.num_rows


def write_by_file(tables: list, files: list[StagedFile], columns: list[str], out: DecisionParts, parts: int) -> int:
    """Write decision tables (ObjectRefs; global ``row`` first among ``columns``) as one
    part per staged file; returns the number of rows written. Does not finish ``out``."""
    if not tables:
        return 0
    starts = ray.put(np.array([f.first_row for f in files], dtype=np.int64))
    pieces = shuffle([_with_file.remote(t, starts) for t in tables], "file", parts)
    return sum(ray.get([_write_files.at(i).remote(out.folder, starts, columns, *p) for i, p in enumerate(pieces)]))


# ---------------------------------------------------------------- the duplicate decision


def decide_duplicates(files: list[StagedFile], s: DedupSettings, lang: str, out: DecisionParts) -> DecisionParts:
    """Cluster the staged corpus's keys (with the boilerplate pass for near dedup) and
    write the members of every cluster (OUTPUT_SCHEMA) as ``out``'s parts. The tasks'
    tables go through a scratch folder beside ``out`` (curate/dedup/spill_ray.py)."""
    out.start()
    n_live = sum(f.live for f in files)
    parts = partitions_for(n_live, s)
    bodies = bool(s.near and s.core_links)
    columns = [c for c in KEY_COLUMNS[1:] if s.near or c != "minhash"] + (CORE_COLUMNS if bodies else [])
    boiler_pass = bool(s.near and s.boilerplate_clusters and n_live)
    units = key_units(files, s.partition_docs)
    summary: dict = {}
    with scratch(fs.suffixed(out.folder, ".scratch")):
        blocks = key_blocks(units, columns + (["line_hashes"] if boiler_pass else []))
        members = cluster_blocks(_without_lines(blocks), s, parts, bodies) if n_live else []
        if boiler_pass:
            boiler = boilerplate_parts(blocks, members, s.boilerplate_clusters, parts)
            resigned = [_resign.remote(b, u.file, s, lang, *boiler) for b, u in zip(blocks, units)]
            summary = _boilerplate_summary(boiler, resigned)
            if summary["resigned_docs"]:
                members = cluster_blocks(_without_lines([r[0] for r in resigned]), s, parts, bodies)
        write_by_file(members, files, OUTPUT_SCHEMA.names, out, parts)
    out.finish([f.first_row for f in files], summary)
    return out
