"""Pass 2: the staged rows once more, each corpus step's decision applied, written to
shards, rejected and quarantine files and counted, by Ray tasks.

The staged rows (input order) are cut into units of consecutive rows, ``UNIT_ROWS``
each (fewer with a smaller ``shard_rows``); a unit may hold the end of one staged file
and the start of the next, but a batch never spans two files. Each unit is one task,
which writes its own files, ``part-UUUUUU-PPPPP.parquet`` (unit, then part within the
unit), and returns a summary of its counts. Names and contents depend only on the
staged rows, never on the number of workers; the driver merges the summaries in unit
order, so counters list ties in the order their values first appear in the corpus.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.io import fs
from curate.io.readers import QUARANTINE, is_quarantined
from curate.io.schema import SHARD_SCHEMA
from curate.io.writer import QUARANTINE_SCHEMA, ShardWriter, to_quarantine
from curate.report.boilerplate_docs import Known, LineDocs
from curate.stages.base import reason_stage

UNIT_ROWS = 25_000  # rows per pass-2 task at most: a few seconds of work, a bounded buffer
# A smaller corpus is still cut in up to MIN_UNITS equal units of at least MIN_UNIT_ROWS
# rows: two units of 25,000 and 10,000 rows keep one worker of two idle half the time.
MIN_UNITS = 8
MIN_UNIT_ROWS = 2_000


class InvariantError(RuntimeError):
    pass


@dataclass(frozen=True)
class Piece:
    """Rows start .. stop of one staged file; `offset`: the global row of its first row."""

    path: str
    start: int
    stop: int
    offset: int


def unit_rows(total: int, most: int) -> int:
    """Rows per unit for ``total`` staged rows, at most ``most``: equal units, as many as
    ``most`` asks and, for a small corpus, up to MIN_UNITS (the rows alone decide)."""
    n = max(-(-total // most), min(MIN_UNITS, -(-total // MIN_UNIT_ROWS)), 1)
    return max(1, -(-total // n))


def plan_units(paths: list[str], row_counts: list[int], unit_rows: int) -> list[list[Piece]]:
    """The staged rows cut into consecutive units of unit_rows rows (the last one shorter)."""
    units: list[list[Piece]] = [[]]
    room, offset = unit_rows, 0
    for path, n in zip(paths, row_counts):
        start = 0
        while start < n:
            if room == 0:
                units.append([])
                room = unit_rows
            stop = min(n, start + room)
            units[-1].append(Piece(path, start, stop, offset + start))
            room -= stop - start
            start = stop
        offset += n
    return [u for u in units if u]


def read_piece(piece: Piece, batch_size: int):
    """The piece's rows in batches of at most batch_size, reading only its row groups."""
    pf = fs.parquet_file(piece.path)
    groups, first, pos = [], None, 0
    for i in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(i).num_rows
        if pos < piece.stop and pos + n > piece.start:
            groups.append(i)
            first = pos if first is None else first
        pos += n
    pos = first or 0
    for batch in pf.iter_batches(batch_size=batch_size, row_groups=groups):
        lo, hi = max(piece.start - pos, 0), min(piece.stop - pos, batch.num_rows)
        pos += batch.num_rows
        if hi > lo:
            yield pa.Table.from_batches([batch.slice(lo, hi - lo)], schema=SHARD_SCHEMA)


@dataclass
class Tally:
    """Counts of pass 2, per unit or merged. Counters fill in the order reasons and
    languages first appear, as the manifest lists ties."""

    stages: list[str]
    read: int = 0
    reasons: Counter = field(default_factory=Counter)
    stage_chars: Counter = field(default_factory=Counter)  # characters that survive each stage, on the final text
    lang_mix: Counter = field(default_factory=Counter)
    lines: LineDocs | None = None  # the documents behind the dedup pass's top boilerplate lines

    def add(self, table: pa.Table, quarantined: pa.Array, kept: pa.Array, known: Known | None = None) -> None:
        reason = table.column("drop_reason")
        self.read += table.num_rows
        for value, n in _counts(reason):
            if value is not None:
                self.reasons["quarantine" if is_quarantined(value) else value] += n
        held = quarantined.to_numpy(zero_copy_only=False)
        self._add_chars(table, held)
        for lang, n in _counts(table.filter(kept).column("lang")):
            self.lang_mix[lang or "und"] += n
        if self.lines is not None:  # shards and rejected files, as the report reads them
            self.lines.add(table, kept.to_numpy(zero_copy_only=False), known, written=~held)

    def _add_chars(self, table: pa.Table, quarantined: np.ndarray) -> None:
        """Each row's characters count for every stage before the one that dropped it."""
        lengths = pc.fill_null(pc.utf8_length(table.column("text")), 0).to_numpy(zero_copy_only=False)
        encoded = table.column("drop_reason").combine_chunks().dictionary_encode()
        last_of = [self._last(r) for r in encoded.dictionary.to_pylist()] + [len(self.stages)]
        codes = pc.fill_null(encoded.indices, len(last_of) - 1).to_numpy(zero_copy_only=False)
        last = np.asarray(last_of, dtype=np.int64)[codes][~quarantined]
        lengths = lengths[~quarantined].astype(np.int64)
        self.stage_chars["_in"] += int(lengths.sum())
        for k, stage in enumerate(self.stages):
            self.stage_chars[stage] += int(lengths[last > k].sum())

    def _last(self, reason: str) -> int:
        stage = reason_stage(reason)
        return self.stages.index(stage) if stage in self.stages else len(self.stages)

    def merge(self, other: Tally) -> None:
        self.read += other.read
        for mine, theirs in ((self.reasons, other.reasons), (self.stage_chars, other.stage_chars)):
            mine.update(theirs)
        self.lang_mix.update(other.lang_mix)
        if other.lines is not None:
            if self.lines is None:  # the first unit's counts, merged into from here (a summary merges once):
                self.lines = other.lines  # a LineDocs of its own would hash its lines again
            else:
                self.lines.merge(other.lines)

    def counts(self, entries: dict, n_read: int) -> dict:
        """The manifest's counts; fails unless every row read was written once."""
        kept = sum(e["rows"] for e in entries["shards"])
        rejected = sum(e["rows"] for e in entries["rejected"])
        quarantined = sum(e["rows"] for e in entries["quarantine"])
        if not n_read == self.read == kept + rejected + quarantined:
            raise InvariantError(
                f"documents read ({n_read}, pass 2: {self.read}) != kept ({kept}) + rejected ({rejected})"
                f" + quarantined ({quarantined})"
            )
        per_stage = {}
        docs_in, chars_in = n_read - quarantined, self.stage_chars["_in"]
        for s in self.stages:
            dropped = sum(n for r, n in self.reasons.items() if r != "quarantine" and reason_stage(r) == s)
            per_stage[s] = {
                "in": docs_in,
                "dropped": dropped,
                "out": docs_in - dropped,
                "chars_in": chars_in,
                "chars_out": self.stage_chars[s],
            }
            docs_in, chars_in = docs_in - dropped, self.stage_chars[s]
        return {
            "read": n_read,
            "kept": kept,
            "rejected": rejected,
            "quarantined": quarantined,
            "per_stage": per_stage,
            "drop_reasons": dict(self.reasons.most_common()),
        }


@dataclass(frozen=True)
class UnitSpec:
    """What every pass-2 task shares: where to write, how, and what to apply."""

    out: str
    shard_rows: int
    batch_size: int
    recipe: dict
    lang: str
    stages: list[str]
    steps: list
    boilerplate: tuple = ()  # the dedup decision's top boilerplate lines, whose documents pass 2 counts
    key_files: tuple = ()  # (staged file, its keys file) pairs: the line hashes pass 1 staged


_DECIDED: dict = {}  # in a worker process: the run's decisions, deserialized once for all its tasks


def _decided(ref) -> dict:
    """The decisions behind `ref`, fetched once per worker process (a step may build an
    index over its decision on first use; the next task of the process reuses it)."""
    import ray

    if ref.hex() not in _DECIDED:
        _DECIDED.clear()
        _DECIDED[ref.hex()] = ray.get(ref)
    return _DECIDED[ref.hex()]


def write_unit(index: int, pieces: list[Piece], spec: UnitSpec, decided_ref: list) -> dict:
    """Apply the decisions (`decided_ref`: [the ObjectRef of decide_all's result]) to one
    unit's rows and write its files; its summary."""
    from curate.report.stats import stats_fn_for

    decided = _decided(decided_ref[0])
    prefix = f"part-{index:06d}"
    stats = dict(stats_fn=stats_fn_for(spec.recipe, spec.lang), stats_dir=fs.join(spec.out, "stats"))
    writers = {
        kind: ShardWriter(spec.out, kind, max_rows=spec.shard_rows, prefix=prefix, **stats)
        for kind in ("shards", "rejected")
    }
    writers["quarantine"] = ShardWriter(
        spec.out, "quarantine", schema=QUARANTINE_SCHEMA, max_rows=spec.shard_rows, prefix=prefix
    )
    tally = Tally(spec.stages, lines=LineDocs(list(spec.boilerplate)) if spec.boilerplate else None)
    key_files = dict(spec.key_files)
    for piece in pieces:
        offset = piece.offset
        staged = _staged_lines(key_files.get(piece.path), piece) if tally.lines is not None else None
        for table in read_piece(piece, spec.batch_size):
            for step in spec.steps:
                table = step.apply(table, offset, decided[step.name])
            known = None if staged is None else _known(tally.lines, staged, offset - piece.offset + piece.start, table)
            offset += table.num_rows
            reason = table.column("drop_reason")
            quarantined = pc.fill_null(pc.starts_with(reason, pattern=QUARANTINE), False)
            kept = pc.is_null(reason)
            writers["quarantine"].write(to_quarantine(table.filter(quarantined)))
            writers["rejected"].write(table.filter(pc.and_not(pc.invert(kept), quarantined)))
            writers["shards"].write(table.filter(kept))
            tally.add(table, quarantined, kept, known)
    return {"entries": {kind: w.close() for kind, w in writers.items()}, "tally": tally, "node": _node_id()}


def _staged_lines(keys: str | None, piece: Piece) -> pa.Table | None:
    """``row`` (local, ascending) and ``line_hashes`` of the piece's live rows, as pass 1
    staged them for the boilerplate pass; None without them."""
    if keys is None or not fs.exists(keys):
        return None
    t = fs.parquet_file(keys)
    if "line_hashes" not in t.schema_arrow.names:
        return None
    t = t.read(columns=["row", "line_hashes"])
    rows = t.column("row").to_numpy()
    return t.slice(
        int(np.searchsorted(rows, piece.start)),
        int(np.searchsorted(rows, piece.stop) - np.searchsorted(rows, piece.start)),
    )


def _known(lines: LineDocs, staged: pa.Table, first: int, table: pa.Table) -> Known:
    """The staged line hashes of the batch's rows (local rows first .. first + its rows)."""
    rows = staged.column("row").to_numpy()
    lo, hi = np.searchsorted(rows, first), np.searchsorted(rows, first + table.num_rows)
    hashes = staged.column("line_hashes").slice(lo, hi - lo).combine_chunks()
    return lines.known(hashes, rows[lo:hi] - first)


def _node_id() -> str | None:
    import ray

    return ray.get_runtime_context().get_node_id() if ray.is_initialized() else None


def run_pass2(staged, spec: UnitSpec, decided: dict, workers: int | None) -> dict:
    """Every unit written by a Ray task, at most `workers` at a time (default: the
    cluster's CPUs); the merged entries, counts, lang_mix and the nodes the tasks ran on."""
    import ray

    row_counts = staged.row_counts()
    paths = [str(staged.staged(p)) for p in staged.paths]
    units = plan_units(paths, row_counts, unit_rows(sum(row_counts), min(spec.shard_rows, UNIT_ROWS)))
    if spec.boilerplate and staged.with_keys:
        spec = replace(spec, key_files=tuple((str(staged.staged(p)), str(staged.keys(p))) for p in staged.paths))
    limit = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    task = ray.remote(num_cpus=1, max_retries=2, scheduling_strategy="SPREAD")(
        write_unit
    )  # every node writes, as in pass 1
    spec_ref, decided_ref = ray.put(spec), ray.put(decided)
    summaries, running = [None] * len(units), {}
    for index, pieces in enumerate(units):
        if len(running) >= limit:
            _collect(running, summaries)
        running[task.remote(index, pieces, spec_ref, [decided_ref])] = index  # in a list: not fetched per task
    while running:
        _collect(running, summaries)
    return _merged(summaries, spec.stages, sum(row_counts))


def _collect(running: dict, summaries: list) -> None:
    import ray

    done, _ = ray.wait(list(running), num_returns=1)
    for ref in done:
        summaries[running.pop(ref)] = ray.get(ref)


def _merged(summaries: list[dict], stages: list[str], n_read: int) -> dict:
    """The tasks' summaries merged in unit order (which keeps first-appearance order)."""
    entries: dict = {"shards": [], "rejected": [], "quarantine": []}
    tally = Tally(stages)
    for s in summaries:
        for kind, found in s["entries"].items():
            entries[kind].extend(found)
        tally.merge(s["tally"])
    return {
        "entries": entries,
        "counts": tally.counts(entries, n_read),
        "lang_mix": dict(tally.lang_mix.most_common()),
        "top_boilerplate": tally.lines.rows() if tally.lines is not None else None,
        "tasks": len(summaries),
        "nodes": sorted({s["node"] for s in summaries if s["node"]}),
    }


def _counts(column) -> list[tuple]:
    """(value, count) in the order values first appear (null included)."""
    counts = pc.value_counts(column)
    return list(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()))
