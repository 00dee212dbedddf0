"""Pass 1 on Ray tasks: a task per input file, or, with fewer files than workers, a
reader per file and a task per batch; both stage the same rows, keys and archive counts."""

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import ray
from web_pages import build_pages, write_warc

from curate.dedup.steps import build_steps, key_columns
from curate.io.readers import DEFAULT_MAX_DOC_CHARS
from curate.recipe import load_recipe, select_stages
from pipelines.pass1 import stage_files
from pipelines.staging import StagedRun

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "ko.jsonl.gz"


@pytest.fixture(scope="module")
def ray_two_cpus():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _stage(paths: list[Path], work: Path, workers: int) -> tuple[dict, dict]:
    """The staged files (rows, keys, archive counts) by name, and stage_files' summary."""
    recipe = load_recipe("ko", None)
    names = select_stages(recipe, ["normalize", "dedup"])
    steps = build_steps(recipe, names, "ko")
    staged = StagedRun(work, [str(p) for p in paths], key_columns(steps))
    chain = {"recipe": recipe, "lang": "ko", "stages": names, "steps": steps}
    done = stage_files(staged, chain, workers, 16, DEFAULT_MAX_DOC_CHARS, progress=False)
    files = {}
    for f in sorted(Path(staged.dir).iterdir()):
        files[f.name] = pq.read_table(f) if f.suffix == ".parquet" else json.loads(f.read_text())
    return files, done


def test_one_file_split_over_workers_stages_what_a_task_per_file_does(tmp_path, ray_two_cpus):
    crawl = tmp_path / "crawl.warc.gz"
    write_warc(crawl, build_pages())
    text = tmp_path / "ko.jsonl"
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        lines = f.readlines()[:1500]
    text.write_text("".join(lines[:700]) + "{not json\n[1, 2]\n" + "".join(lines[700:]), encoding="utf-8")
    for path in (crawl, text):
        whole, by_file = _stage([path], tmp_path / f"whole-{path.name}", workers=1)  # 1 file, 1 worker
        split, by_batch = _stage([path], tmp_path / f"split-{path.name}", workers=2)  # 1 file, 2 workers
        assert split.keys() == whole.keys() and len(whole) >= 2  # rows and keys (and the archive's counts)
        for name, content in whole.items():
            assert split[name] == content, name
        assert by_batch["batches"] == by_file["batches"] > 1
    assert whole[next(n for n in whole if n.endswith(".parquet") and "keys" not in n)].num_rows == 1502
