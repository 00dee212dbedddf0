"""An ablation end to end on a few hundred real documents (the bundled Korean sample) with a
tiny model and a few steps: raw against the Korean recipe, two seeds. The evaluation text
never reaches training, both arms share tokenizer and budget, the report names the arms
the right way round, seeds matter and repeat exactly, and a rerun trains nothing again."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curate.recipe import load_recipe
from train import ablate as AB
from train import ablate_split as S
from train.token_shards import tokenizer_hash

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "ko.jsonl.gz"
REFERENCE = ROOT / "tests" / "data" / "quality" / "ko-klue-wiki-sentences.jsonl"
RAW = ROOT / "pipelines" / "recipes" / "ablations" / "ko-raw.yaml"
KO = ROOT / "pipelines" / "recipes" / "ko.yaml"
STEPS, BATCH_TOKENS = 4, 256


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """The first 300 documents of the bundled sample (NSMC reviews, news, KLUE sentences)."""
    path = tmp_path_factory.mktemp("input") / "ko-300.jsonl"
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        lines = [line for _, line in zip(range(300), f)]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def argv(sample: Path, out: Path, cache: Path, a: Path = RAW, b: Path = KO) -> list[str]:
    args = ["--a", str(a), "--b", str(b), "--lang", "ko", "--input", str(sample), "--reference", str(REFERENCE)]
    args += ["--out", str(out), "--cache", str(cache), "--seeds", "2", "--steps", str(STEPS), "--seq-len", "64"]
    args += ["--global-batch-tokens", str(BATCH_TOKENS), "--heldout", "0.1", "--reference-max-chars", "3000"]
    # one torch thread: two shared cores, and a sum over other threads would round otherwise
    return args + ["--workers", "1", "--cpu", "--threads", "1"]


@pytest.fixture(scope="module")
def ablation(sample, tmp_path_factory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("ablate")
    assert AB.main(argv(sample, root / "out", root / "cache")) == 0
    report = json.loads((root / "out" / "ablate.json").read_text(encoding="utf-8"))
    return root / "out", root / "cache", report


def only(cache: Path, prefix: str) -> Path:
    (found,) = [p for p in cache.iterdir() if p.name.startswith(prefix) and ".tmp-" not in p.name]
    return found


def token_ids(tokens: str) -> set[str]:
    """The ids of the documents in a token-shard folder (what the trainer reads)."""
    with open(os.path.join(tokens, "manifest.json"), encoding="utf-8") as f:
        parts = json.load(f)["parts"]
    ids = set()
    for part in parts:
        ids.update(pq.read_table(os.path.join(tokens, part["docs"]), columns=["id"]).column("id").to_pylist())
    return ids


def test_held_out_documents_never_reach_either_arms_training_tokens(ablation):
    out, cache, report = ablation
    split = only(cache, "split-")
    held = [json.loads(line) for line in (split / "heldout.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(held) == report["split"]["held_out_evaluated"] > 0
    train_ids = {json.loads(line)["id"] for line in (split / "train.jsonl").read_text(encoding="utf-8").splitlines()}
    held_ids, held_texts = {r["id"] for r in held}, {S.fold(r["text"]) for r in held}
    assert not held_ids & train_ids
    for key in ("A", "B"):
        ids = token_ids(report["arms"][key]["tokens"])
        assert ids and ids <= train_ids and not ids & held_ids
        shards = Path(report["arms"][key]["corpus"]) / "shards"
        texts = [t for p in sorted(shards.glob("*.parquet")) for t in pq.read_table(p).column("text").to_pylist()]
        assert not {S.fold(t) for t in texts} & held_texts


def test_both_arms_share_the_tokenizer_and_the_token_budget(ablation):
    _, cache, report = ablation
    shared = tokenizer_hash(str(only(cache, "split-") / "tokenizer"))
    runs = report["arms"]["A"]["runs"] + report["arms"]["B"]["runs"]
    assert report["tokenizer_hash"] == shared
    assert {report["arms"][k]["tokenizer_hash"] for k in "AB"} == {r["run"]["tokenizer_hash"] for r in runs} == {shared}
    assert {r["train_tokens"] for r in runs} == {STEPS * BATCH_TOKENS} == {report["train_tokens_per_run"]}
    assert len({json.dumps(r["run"]["model_config"], sort_keys=True) for r in runs}) == 1
    # the raw arm keeps every training document, the recipe fewer
    assert report["arms"]["A"]["docs"] == report["split"]["train"] > report["arms"]["B"]["docs"]


def test_report_has_its_fields_per_arm_and_slice(ablation):
    out, _, report = ablation
    assert (out / "ablate.png").stat().st_size > 0 and (out / "ablate.md").exists()
    assert report["seeds"] == [1, 2] and report["quoted_slice"] == "reference"
    assert set(report["bits_per_char"]) == {"held-out", "reference"}
    for name, c in report["bits_per_char"].items():
        for key in ("A", "B", "B_minus_A"):
            assert set(c[key]) == {"mean", "std", "min", "max", "values"} and len(c[key]["values"]) == 2
        a = [r["eval"][name]["bits_per_char"] for r in report["arms"]["A"]["runs"]]
        b = [r["eval"][name]["bits_per_char"] for r in report["arms"]["B"]["runs"]]
        assert c["A"]["values"] == a and c["B"]["values"] == b
        assert c["B_minus_A"]["values"] == pytest.approx([y - x for x, y in zip(a, b)])
        assert c["A"]["min"] <= c["A"]["mean"] <= c["A"]["max"] and c["verdict"]
    assert report["arms"]["A"]["name"] == "ko-raw" and report["arms"]["B"]["name"] == "ko"


def test_seeds_differ_and_a_seed_repeats_exactly(ablation, sample, tmp_path):
    _, _, report = ablation
    first, second = report["arms"]["B"]["runs"]
    assert first["seed"] == 1 and second["seed"] == 2
    assert first["losses"] != second["losses"]
    assert first["eval"]["reference"]["bits_per_char"] != second["eval"]["reference"]["bits_per_char"]
    # the same seed again, in a fresh cache: the same losses and scores to the last bit
    again = AB.main(argv(sample, tmp_path / "out", tmp_path / "cache", a=KO, b=KO) + ["--seeds", "1"])
    assert again == 0
    rerun = json.loads((tmp_path / "out" / "ablate.json").read_text(encoding="utf-8"))["arms"]["A"]["runs"][0]
    assert rerun["losses"] == first["losses"] and rerun["eval"] == first["eval"]


def test_swapped_arms_swap_the_report_and_reuse_every_finished_run(ablation, sample, tmp_path):
    _, cache, report = ablation
    before = {p.name: (p / "run.json").stat().st_mtime_ns for p in cache.glob("run-*")}
    assert len(before) == 4
    assert AB.main(argv(sample, tmp_path, cache, a=KO, b=RAW)) == 0
    assert {p.name: (p / "run.json").stat().st_mtime_ns for p in cache.glob("run-*")} == before
    swapped = json.loads((tmp_path / "ablate.json").read_text(encoding="utf-8"))
    assert swapped["arms"]["A"]["name"] == "ko" and swapped["arms"]["B"]["name"] == "ko-raw"
    for name, c in report["bits_per_char"].items():
        s = swapped["bits_per_char"][name]
        assert s["A"]["values"] == c["B"]["values"] and s["B"]["values"] == c["A"]["values"]
        assert s["B_minus_A"]["values"] == pytest.approx([-d for d in c["B_minus_A"]["values"]])


def test_split_names_the_line_of_a_bad_or_repeated_record(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a", "text": "가"}\n{"id": "a", "text": "나"}\n', encoding="utf-8")
    with pytest.raises(S.AblationInputError, match=r"in.jsonl:2: id 'a' already read at .*in.jsonl:1"):
        S.split_input([str(path)], [], str(tmp_path / "split"), {"heldout": 0.5})
    path.write_text('{"id": "a", "text": "가"}\n{"text": "나"}\n', encoding="utf-8")
    with pytest.raises(S.AblationInputError, match=r"in.jsonl:2: a record needs a string 'id' and 'text'"):
        S.split_input([str(path)], [], str(tmp_path / "split"), {"heldout": 0.5})
    assert not (tmp_path / "split").exists()


def test_split_drops_training_copies_of_evaluation_text(tmp_path):
    rows = [{"id": f"d{i}", "text": "같은 리뷰" if i % 2 else f"리뷰 {i}"} for i in range(200)]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    ref = tmp_path / "ref.jsonl"
    ref.write_text(json.dumps({"id": "r", "text": "리뷰  7"}, ensure_ascii=False) + "\n", encoding="utf-8")
    m = S.split_input([str(path)], [str(ref)], str(tmp_path / "split"), {"heldout": 0.2})
    train = [json.loads(line)["text"] for line in (tmp_path / "split" / "train.jsonl").read_text().splitlines()]
    assert "같은 리뷰" not in train and "리뷰 7" not in train  # a copy of a held-out and of a reference text
    assert m["train"] + m["held_out"] + m["train_copies_of_held_out_dropped"] + m[
        "train_copies_of_reference_dropped"
    ] == len(rows)


def test_min50_recipe_is_the_korean_recipe_but_its_length_floor():
    base = load_recipe("ko", str(KO))
    min50 = load_recipe("ko", str(ROOT / "pipelines" / "recipes" / "ablations" / "ko-min50.yaml"))
    assert (base["quality"].pop("min_n_chars"), min50["quality"].pop("min_n_chars")) == (10, 50)
    base.pop("_path"), min50.pop("_path")
    assert min50 == base
