"""The corpus steps decide on Ray over the staged files: the same clusters, keepers and
caps as the one-process reference, the keys never read by the driver, and a decision
handed to pass 2 that stays the same size whatever the corpus."""

import json
import pickle
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import ray

from curate.dedup.decision_parts import DecisionParts
from curate.dedup.domain_cap import CAP_REASON, DomainCap
from curate.dedup.domain_cap_plan import plan_domain_cap
from curate.dedup.duplicates import DUPLICATES, Duplicates, ExactDedup, NearDedup
from curate.dedup.keeper import OUTPUT_SCHEMA
from curate.dedup.near import cluster, cluster_without_boilerplate
from curate.dedup.settings import settings
from curate.dedup.signatures import stripped_keys
from curate.dedup.step import StagedFile, live_keys
from curate.io.readers import read_tables
from curate.recipe import load_recipe
from pipelines.pass1 import StageChain
from pipelines.staging import StagedRun

sys.path.insert(0, str(Path(__file__).parent))
from chrome_pages import pages_in_chrome  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _stage(tmp: Path, step, docs: list[dict], n_files: int, lang: str = "ja") -> tuple[StagedRun, pa.Table]:
    """docs over n_files input files through normalize and the step's keys into a staged
    run; also the whole pass-1 table (global rows) for the one-process reference."""
    paths = []
    for k in range(n_files):
        path = tmp / f"in-{k}.jsonl"
        part = docs[k * len(docs) // n_files : (k + 1) * len(docs) // n_files]
        path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in part), encoding="utf-8")
        paths.append(str(path))
    staged = StagedRun(tmp / "work", paths, list(step.key_columns))
    chain = StageChain(load_recipe(lang, None), lang, ["normalize", "dedup"], [step])
    tables = []
    for path in paths:
        for batch in read_tables(path, batch_size=50):
            tables.append(chain(batch))
            staged.write(tables[-1])
    staged.finish()
    return staged, pa.concat_tables(tables)


def _members(decision: Duplicates, staged: StagedRun) -> pa.Table:
    """Every member of the decision, rows global, as one table (for comparison only)."""
    out = []
    for f in staged.files():
        found = decision.members(f.index)
        if found is not None:
            t = found[1]
            out.append(t.set_column(0, "row", pc.add(t.column("row"), f.first_row)))
    return pa.concat_tables(out).cast(OUTPUT_SCHEMA) if out else OUTPUT_SCHEMA.empty_table()


def _chrome_docs(lang="ja"):
    texts, family = pages_in_chrome(lang)
    docs = [{"id": f"f{f}-{i}", "text": t} for i, (t, f) in enumerate(zip(texts, family))]
    docs += [dict(d, id=d["id"] + "-copy") for d in docs[:40:3]]  # exact copies too
    return docs


SHUFFLED = {"one_task_docs": 0}  # the hash-partitioned shuffles, whatever the corpus size


@pytest.mark.parametrize(
    "cfg",
    [
        SHUFFLED,
        {**SHUFFLED, "partition_docs": 100},
        {**SHUFFLED, "partition_pairs": 40},
        {**SHUFFLED, "near": False},
        {**SHUFFLED, "boilerplate_clusters": 0},
        {},  # one task
        {"resign_rows": 7},  # one task, the re-signing in many slices
        {"near": False},
        {"boilerplate_clusters": 0},
    ],
)
def test_staged_decision_equals_the_one_process_reference(local_ray, tmp_path, cfg, monkeypatch):
    from curate.dedup import duplicates, one_task

    cfg = dict(cfg)
    monkeypatch.setattr(one_task, "RESIGN_ROWS", cfg.pop("resign_rows", one_task.RESIGN_ROWS))
    if cfg.get("one_task_docs") == 0:
        monkeypatch.setattr(duplicates, "decide_in_one_task", lambda *a: pytest.fail("decided in one task"))
    else:
        monkeypatch.setattr(duplicates, "decide_duplicates", lambda *a: pytest.fail("decided by the shuffles"))
    s = settings(cfg)
    step = (NearDedup if s.near else ExactDedup)(s, "ja")
    staged, table = _stage(tmp_path, step, _chrome_docs(), n_files=3)
    assert len(staged.files()) == 3 and all(f.live for f in staged.files())
    keys = live_keys(table, 0, list(step.key_columns))
    texts = table.column("text").to_pylist()

    def resign(rows, boiler):
        return stripped_keys([texts[r] for r in rows], rows, boiler, s, "ja")

    summary: dict = {}
    expected = cluster_without_boilerplate(keys, s, resign, info=summary) if s.near else cluster(keys, s)
    assert expected.num_rows > (50 if s.near else 20) and "exact_dup" in expected.column("drop_reason").to_pylist()
    decision = step.decide(staged, {})
    assert _members(decision, staged).to_pylist() == expected.to_pylist()
    got = step.manifest(decision)["dedup"]
    if s.near and s.boilerplate_clusters:
        assert got["resigned_docs"] == summary["resigned_docs"] > 20
        assert got["boilerplate_lines"] == summary["boilerplate_lines"] >= 6
        assert {"この記事をシェアする", "トップページへ戻る"} <= {x["line"] for x in got["top_boilerplate"]}
    else:
        assert got == {}


def test_driver_reads_no_keys_and_the_decision_does_not_grow(local_ray, tmp_path, monkeypatch):
    """The driver opens no keys file and no staged text (the tasks do), and what pass 2
    is handed pickles to the same few bytes for a corpus four times the size."""
    step = NearDedup(settings(), "ja")
    docs = _chrome_docs()
    (tmp_path / "small").mkdir()
    (tmp_path / "large").mkdir()
    small, _ = _stage(tmp_path / "small", step, docs[:100], n_files=2)
    large, _ = _stage(tmp_path / "large", step, docs * 4, n_files=2)
    read_table, read_file = pq.read_table, pq.ParquetFile.read

    def driver_read(source, *args, **kwargs):
        raise AssertionError(f"the driver read {getattr(source, 'metadata', source)}")

    monkeypatch.setattr(pq, "read_table", driver_read)
    monkeypatch.setattr(pq.ParquetFile, "read", driver_read)  # the file counts (metadata) are the driver's to read
    sizes = []
    for staged in (small, large):
        decided = {DUPLICATES: step.decide(staged, {})}
        decided["domain_cap"] = DomainCap(2).decide(staged, decided)
        sizes.append([len(pickle.dumps(decided[name])) for name in (DUPLICATES, "domain_cap")])
    monkeypatch.setattr(pq, "read_table", read_table)
    monkeypatch.setattr(pq.ParquetFile, "read", read_file)
    assert sizes[0] == sizes[1] and max(sizes[0]) < 1000
    assert _members(decided[DUPLICATES], large).num_rows > 4 * len(docs) * 0.9  # every copy is a member
    assert not hasattr(StagedRun, "all_keys")


def test_a_written_decision_is_reused(local_ray, tmp_path, monkeypatch):
    step = ExactDedup(settings({"near": False}), "ja")
    staged, _ = _stage(tmp_path, step, _chrome_docs()[:60] * 2, n_files=2)
    first = step.decide(staged, {})
    import curate.dedup.duplicates as duplicates

    monkeypatch.setattr(duplicates, "decide_duplicates", lambda *a: pytest.fail("decided again"))
    monkeypatch.setattr(duplicates, "decide_in_one_task", lambda *a: pytest.fail("decided again"))
    again = step.decide(staged, {})
    assert again == first and _members(again, staged).num_rows == 120


# ---------------------------------------------------------------------------- the domain cap


class _Files:
    """Staged files of (id, url, drop_reason) in a work folder: what the cap reads."""

    def __init__(self, tmp: Path, tables: list[pa.Table]):
        self.work = tmp / "work"
        self.work.mkdir()
        self._files, first = [], 0
        for i, t in enumerate(tables):
            path = tmp / f"staged-{i}.parquet"
            pq.write_table(t, path)
            self._files.append(StagedFile(i, str(path), None, first, t.num_rows, 0))
            first += t.num_rows

    def files(self):
        return self._files


def _random_corpus(seed: int, n: int):
    """Rows over a few domains (some without a URL), some dropped by a stage, and
    duplicate clusters (one keeper each) spread over the rows."""
    rng = random.Random(seed)
    domains = [f"https://s{k}.example/" for k in range(6)] + [None]
    rows = []
    for r in range(n):
        base = rng.choice(domains)
        rows.append((f"d{r}", None if base is None else f"{base}{r}", "quality:short" if rng.random() < 0.1 else None))
    live = [r for r in range(n) if rows[r][2] is None]
    rng.shuffle(live)
    decisions = {}
    while len(live) > 3:
        if rng.random() < 0.6:
            live = live[1:]  # a row in no cluster
            continue
        members = sorted(live[: rng.randint(2, 4)])
        live = live[len(members) :]
        keeper = rng.choice(members)
        name = rows[keeper][0]
        for m in members:
            reason = rng.choice(["near_dup", "exact_dup"])
            decisions[m] = (name, None, None) if m == keeper else (name, name, reason)
    return rows, decisions


@pytest.mark.parametrize("seed", [0, 1])
def test_staged_domain_cap_equals_the_one_process_plan(local_ray, tmp_path, seed):
    rows, decisions = _random_corpus(seed, 600)
    ids, urls, reasons = zip(*rows)
    table = pa.table({"id": list(ids), "url": list(urls), "drop_reason": pa.array(reasons, pa.string())})
    bounds = [0, 150, 151, 420, 600]  # four staged files, one of a single row
    corpus = _Files(tmp_path, [table.slice(a, b - a) for a, b in zip(bounds, bounds[1:])])
    members = pa.table(
        {
            "row": pa.array(sorted(decisions), pa.int64()),
            **{
                name: pa.array([decisions[r][i] for r in sorted(decisions)], pa.string())
                for i, name in enumerate(OUTPUT_SCHEMA.names[1:])
            },
        }
    )
    duplicates = Duplicates.written(members, [b - a for a, b in zip(bounds, bounds[1:])], str(tmp_path / "dup"))
    expected_decisions = dict(decisions)
    expected = plan_domain_cap([table], expected_decisions, cap=20)
    promoted = [r for r in decisions if decisions[r] != expected_decisions[r]]
    assert len(expected) > 100 and len(promoted) > 10  # the cap drops keepers and promotes members

    decided = {DUPLICATES: duplicates}
    step = DomainCap(20)
    capped = step.decide(corpus, decided)
    got = set()
    for f in corpus.files():
        part = capped.part(f.index)
        got |= set((part.column("row").to_numpy() + f.first_row).tolist()) if part is not None else set()
    assert got == expected
    got_decisions = {r["row"]: (r["dup_cluster"], r["dup_of"], r["drop_reason"]) for r in _members_of(decided, corpus)}
    assert got_decisions == expected_decisions

    out = step.apply(table.slice(151, 269), 151, capped)  # the third file's rows
    dropped = [151 + i for i, r in enumerate(out.column("drop_reason").to_pylist()) if r == CAP_REASON]
    assert dropped == sorted(r for r in expected if 151 <= r < 420)
    kept = Counter(
        rows[r][1].split("/")[2]
        for r in range(len(rows))
        if rows[r][1]
        and rows[r][2] is None
        and r not in expected
        and expected_decisions.get(r, (0, 0, None))[2] is None
    )
    assert max(kept.values()) <= 20


def _members_of(decided: dict, corpus: _Files) -> list[dict]:
    out = []
    for f in corpus.files():
        found = decided[DUPLICATES].members(f.index)
        if found is not None:
            rows, t = found
            out += [dict(r, row=int(local) + f.first_row) for r, local in zip(t.to_pylist(), rows)]
    return out


def test_decision_parts_locate_files(tmp_path):
    parts = DecisionParts(str(tmp_path / "d"))
    parts.start()
    parts.finish([0, 10, 10, 25], {"x": 1})
    assert [parts.locate(o) for o in (0, 9, 10, 24, 25, 99)] == [(0, 0), (0, 0), (2, 10), (2, 10), (3, 25), (3, 25)]
    assert parts.done() and parts.summary() == {"x": 1} and parts.part(1) is None


def test_one_task_and_the_shuffles_give_the_same_summary(local_ray, tmp_path, monkeypatch):
    """The report's boilerplate lines and examples too: the one-task path finds them
    in slices of the re-signed texts, the shuffles in one sample."""
    from curate.dedup import one_task

    monkeypatch.setattr(one_task, "RESIGN_ROWS", 7)
    summaries = []
    for cfg in ({}, SHUFFLED):
        step = NearDedup(settings(cfg), "ja")
        (tmp_path / str(len(summaries))).mkdir()
        staged, _ = _stage(tmp_path / str(len(summaries)), step, _chrome_docs(), n_files=3)
        summaries.append(step.manifest(step.decide(staged, {}))["dedup"])
    assert summaries[0] == summaries[1] and len(summaries[0]["top_boilerplate"]) >= 6


def test_staged_lines_are_the_lines_of_the_rows_folds(tmp_path):
    """The re-signing reads every line's hash that pass 1 staged for its rows: the same
    as hashing the lines of their folds again."""
    from curate.dedup.exact import fold
    from curate.dedup.line_keys import hashed_lines
    from curate.dedup.one_task import staged_lines, staged_texts

    staged, table = _stage(tmp_path, NearDedup(settings(), "ja"), _chrome_docs(), n_files=3)
    files = staged.files()
    live = np.flatnonzero(pc.is_null(table.column("drop_reason")).to_numpy(zero_copy_only=False))
    rows = np.sort(np.random.default_rng(0).choice(live, 60, replace=False))
    assert len({int(np.searchsorted([f.first_row for f in files], r, side="right")) for r in rows}) == 3
    got = staged_lines(files, rows)
    want = hashed_lines([fold(t) for t in staged_texts(files, rows)])[0]
    assert all(np.array_equal(a, b) for a, b in zip(got, want)) and got.keyed.sum() > 100
    no_lines = NearDedup(settings({"boilerplate_clusters": 0}), "ja")
    (tmp_path / "plain").mkdir()
    staged, _ = _stage(tmp_path / "plain", no_lines, _chrome_docs(), n_files=3)
    assert "all_line_hashes" not in no_lines.key_columns and staged_lines(staged.files(), rows) is None
