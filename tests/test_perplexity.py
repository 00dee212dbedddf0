"""Perplexity scoring (train/score.py), `curate score` and the perplexity stage, with a tiny
model trained here on the bundled Korean sample by the trainer `make train` runs.

The ranking test compares Korean Wikipedia sentences (KLUE, tests/data/quality) with junk
that perplexity is meant to catch: the spam, jamo mash and scrap rows labelled junk in
tests/data/quality_labels_ko.jsonl, and mojibake, menu boilerplate and SEO spam made from
the Wikipedia sentences by tests/data/quality/make_bad.py. Copy-pasted repeats are left
out: repeated lines are the quality stage's dup_* signals' job, not a language model's.
"""

from __future__ import annotations

import gzip
import json
import math
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from curate.io.schema import SHARD_SCHEMA
from curate.stages.base import SettingError
from curate.stages.perplexity import PerplexityStage, load_model
from train import train as T
from train.inference import ModelLoadError, load_lm, pick_device
from train.score import score_texts, windows

ROOT = Path(__file__).resolve().parents[1]
QUALITY = ROOT / "tests" / "data" / "quality"
sys.path.insert(0, str(QUALITY))
from make_bad import make_bad  # noqa: E402

STEPS = 60


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Two shared cores: OpenMP threads spinning against each other cost 10x here."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _write_shards(folder: Path, ids: list[str], texts: list[str]) -> Path:
    (folder / "shards").mkdir(parents=True)
    table = pa.table({"id": ids, "text": texts, "drop_reason": pa.nulls(len(ids), pa.string())})
    pq.write_table(table, folder / "shards" / "part-00000.parquet")
    (folder / "manifest.json").write_text(json.dumps({"kept": len(ids), "lang": "ko"}))
    return folder


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, one_thread) -> Path:
    """A tiny GPT-NeoX trained STEPS steps on data/sample/ko.jsonl.gz (its tokenizer trained
    on the fly, as `make train` does on a curated folder)."""
    root = tmp_path_factory.mktemp("ppl")
    rows = [json.loads(line) for line in gzip.open(ROOT / "data" / "sample" / "ko.jsonl.gz", "rt", encoding="utf-8")]
    corpus = _write_shards(root / "corpus", [r["id"] for r in rows], [r["text"] for r in rows])
    out = root / "run"
    args = ["--size", "tiny", "--data", str(corpus), "--out", str(out), "--steps", str(STEPS), "--cpu"]
    args += ["--seq-len", "64", "--micro-batch", "8", "--global-batch-tokens", "512", "--lr", "5e-3", "--seed", "1"]
    result = T.run(args + ["--ckpt-every", str(STEPS)])
    assert result["losses"][-1] < result["losses"][0] - 0.5  # it learned something
    return out


@pytest.fixture(scope="module")
def lm(run_dir):
    return load_lm(str(run_dir), pick_device("cpu"))


def _clean_and_junk() -> tuple[list[str], list[str]]:
    klue = [json.loads(line) for line in (QUALITY / "ko-klue-wiki-sentences.jsonl").open(encoding="utf-8")]
    clean = [r["text"] for r in klue if r["source"] == "wikipedia"]
    labelled = [json.loads(line) for line in (ROOT / "tests" / "data" / "quality_labels_ko.jsonl").open()]
    junk = [r["text"] for r in labelled if r["label"] == "junk" and r["kind"] != "copy_paste"]
    made = make_bad(clean[:60], "ko", n_per_kind=5, seed=0)
    junk += [text for kind, text in made if kind in ("mojibake", "menu", "seo_spam")]
    return clean, junk


def _auc(high: np.ndarray, low: np.ndarray) -> float:
    """P(a junk score > a clean score), ties half."""
    return float((high[:, None] > low[None, :]).mean() + 0.5 * (high[:, None] == low[None, :]).mean())


def test_trained_model_ranks_junk_above_wikipedia(lm):
    """Perplexity (per token) ranks junk above clean text once trained, and not before:
    a random model's per-token loss is about ln(vocab) for any text. (Bits per character
    is not the statistic here: junk cuts into more tokens per character, so even a random
    model gives it more bits per character.)"""
    clean, junk = _clean_and_junk()
    assert len(clean) == 150 and len(junk) == 32

    def ppl_auc() -> float:
        scores = score_texts(lm, clean + junk)
        ppl = np.array([s.perplexity for s in scores])
        return _auc(ppl[len(clean) :], ppl[: len(clean)])

    trained = ppl_auc()
    state = {k: v.clone() for k, v in lm.model.state_dict().items()}
    lm.model.init_weights(seed=3)
    try:
        untrained = ppl_auc()
    finally:
        lm.model.load_state_dict(state)
    assert trained >= 0.8, trained
    assert untrained < 0.8, untrained


def test_windows_predict_every_token_once():
    for n, seq_len in ((2, 4), (5, 4), (9, 4), (10, 4), (300, 64)):
        spans = windows(n, seq_len)
        targets = [t for a, b in spans for t in range(a + 1, b)]
        assert targets == list(range(1, n))  # every token after the first, once, in order
        assert all(b - a - 1 <= seq_len for a, b in spans)  # inputs fit the context


def test_scores_match_the_trainers_loss_and_ignore_batching(lm):
    """A short document's NLL is the trainer's own loss (model(x, targets=y)) times its
    tokens; long documents cut into windows score the same alone as beside others, in
    any batch size (no window crosses documents, padding changes nothing)."""
    short = "대한민국의 수도는 서울이다."
    ids = lm.tokenizer.encode(short, add_special_tokens=False).ids
    seq = torch.tensor([[lm.eos_id, *ids, lm.eos_id]])
    with torch.inference_mode():
        nats = float(lm.model(seq[:, :-1], targets=seq[:, 1:])) * (len(ids) + 1)
    (got,) = score_texts(lm, [short])
    assert got.tokens == len(ids) + 1
    assert got.bits_per_char == pytest.approx(nats / math.log(2) / len(short), rel=1e-4)
    assert got.perplexity == pytest.approx(math.exp(nats / (len(ids) + 1)), rel=1e-4)

    clean, junk = _clean_and_junk()
    long_doc = " ".join(clean[:12])  # several windows of 64 tokens
    assert score_texts(lm, [long_doc])[0].tokens > 3 * lm.seq_len
    texts = [long_doc, junk[0], "", clean[20]]
    alone = [score_texts(lm, [t])[0] for t in texts]
    for batch in (1, 3, None):
        together = score_texts(lm, texts, batch_windows=batch)
        for a, b in zip(alone, together):
            assert a.tokens == b.tokens
            assert (a.bits_per_char is None) == (b.bits_per_char is None) == (a.perplexity is None)
            if a.bits_per_char is not None:
                assert b.bits_per_char == pytest.approx(a.bits_per_char, rel=1e-4)
    assert alone[2].tokens == 1 and alone[2].bits_per_char is None  # empty text: only its EOS


def test_curate_score_end_to_end(run_dir, lm, tmp_path, capsys):
    from curate.cli import main

    clean, junk = _clean_and_junk()
    texts = clean[:20] + junk[:10]
    corpus = _write_shards(tmp_path / "corpus", [f"d{i}" for i in range(len(texts))], texts)
    out = tmp_path / "scores"
    assert main(["score", "--model", str(run_dir), "--input", str(corpus), "--output", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["part-00000.parquet"]  # no temporary file left
    table = pq.read_table(out / "part-00000.parquet")
    assert table.column_names == ["id", "perplexity", "bits_per_char", "tokens"]
    assert table.column("id").to_pylist() == [f"d{i}" for i in range(len(texts))]
    expected = score_texts(lm, texts)
    assert table.column("tokens").to_pylist() == [s.tokens for s in expected]
    assert table.column("bits_per_char").to_pylist() == pytest.approx([s.bits_per_char for s in expected], rel=1e-4)
    printed = capsys.readouterr().out
    assert f"{len(texts)} documents" in printed and "bits_per_char: p10" in printed and "p50" in printed


def test_curate_score_bad_input_names_the_path(run_dir, tmp_path, capsys):
    from curate.cli import main

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["score", "--model", str(run_dir), "--input", str(empty), "--output", str(tmp_path / "o")]) == 2
    assert f"{empty}: no Parquet shards" in capsys.readouterr().err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "trainer.json").write_text("{}")  # a checkpoint folder whose run is unreadable
    assert main(["score", "--model", str(broken), "--input", str(empty), "--output", str(tmp_path / "o")]) == 2
    assert f"{empty}: no Parquet shards" in capsys.readouterr().err  # the input is checked first
    corpus = _write_shards(tmp_path / "corpus", ["a"], ["글"])
    assert main(["score", "--model", str(broken), "--input", str(corpus), "--output", str(tmp_path / "o")]) == 2
    assert f"{broken}: the model does not load" in capsys.readouterr().err
    with pytest.raises(ModelLoadError, match=f"{corpus}: not a model"):
        load_lm(str(corpus), pick_device("cpu"))


def _shard_table(texts: list[str], dropped: dict[int, str]) -> pa.Table:
    cols = {name: pa.nulls(len(texts), SHARD_SCHEMA.field(name).type) for name in SHARD_SCHEMA.names}
    cols["id"] = pa.array([f"t{i}" for i in range(len(texts))])
    cols["text"] = pa.array(texts)
    cols["drop_reason"] = pa.array([dropped.get(i) for i in range(len(texts))], pa.string())
    return pa.table(cols, schema=SHARD_SCHEMA)


def test_stage_scores_live_rows_and_drops_above_the_threshold(run_dir, lm):
    clean, junk = _clean_and_junk()
    texts = clean[:6] + junk[:6]
    bpc = [s.bits_per_char for s in score_texts(lm, texts)]
    limit = float(np.median(bpc))
    stage = PerplexityStage.from_section({"model": str(run_dir), "max_bits_per_char": limit, "device": "cpu"}, "ko")
    out = stage(_shard_table(texts, {0: "langid:other_lang"}))
    assert out.schema == SHARD_SCHEMA
    signals = out.column("quality_signals").to_pylist()
    reasons = out.column("drop_reason").to_pylist()
    assert signals[0] is None and reasons[0] == "langid:other_lang"  # a dropped row passes untouched
    for i in range(1, len(texts)):
        assert signals[i]["bits_per_char"] == pytest.approx(bpc[i], rel=1e-4)
        assert signals[i]["perplexity_tokens"] > 0 and signals[i]["n_chars"] is None
        assert reasons[i] == ("perplexity:max_bits_per_char" if bpc[i] > limit else None)
    assert load_model.cache_info().currsize == 1  # one model per process, whatever the batches
    stage(_shard_table(texts[:3], {}))
    assert load_model.cache_info().currsize == 1 and load_model.cache_info().hits >= 1


def test_stage_settings_fail_naming_the_key(run_dir, tmp_path):
    from curate.recipe import RecipeError, load_recipe

    for section, message in (
        ({}, "model: required"),
        ({"model": str(tmp_path)}, f"model: {tmp_path}: not a model"),
        ({"model": str(run_dir), "max_bits_per_char": "high"}, "max_bits_per_char: must be a number"),
        ({"model": str(run_dir), "max_perplexity": 100}, "max_perplexity: unknown setting"),
        ({"model": str(run_dir), "device": "tpu"}, "device: must be one of auto, cpu, cuda"),
    ):
        with pytest.raises(SettingError, match=message):
            PerplexityStage.Settings.from_section(section, "ko")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"stages: [normalize, perplexity]\nperplexity:\n  model: {tmp_path / 'nowhere'}\n")
    with pytest.raises(RecipeError, match="perplexity: model: .*nowhere: no such model folder"):
        load_recipe("ko", str(recipe))


def _read(folder: Path) -> pa.Table:
    return pa.concat_tables(pq.read_table(p) for p in sorted(folder.glob("*.parquet")))


def test_corpus_run_counts_perplexity_drops_in_the_manifest(run_dir, lm, tmp_path):
    import ray

    from pipelines.corpus import run_corpus

    clean, junk = _clean_and_junk()
    docs = [{"id": f"c{i}", "text": t} for i, t in enumerate(clean[:30])]
    docs += [{"id": f"j{i}", "text": t} for i, t in enumerate(junk[:15])]
    data = tmp_path / "docs.jsonl"
    data.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    limit = float(np.quantile([s.bits_per_char for s in score_texts(lm, [d["text"] for d in docs])], 0.7))
    recipe = tmp_path / "ko.yaml"
    recipe.write_text(
        f"lang: ko\nstages: [normalize, perplexity]\nperplexity:\n  model: {run_dir}\n  max_bits_per_char: {limit}\n"
    )
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        manifest = run_corpus([str(data)], str(tmp_path / "out"), "ko", recipe_file=str(recipe), progress=False)
    finally:
        ray.shutdown()
    kept, rejected = (_read(tmp_path / "out" / kind) for kind in ("shards", "rejected"))
    kept_bpc = [s["bits_per_char"] for s in kept.column("quality_signals").to_pylist()]
    dropped_bpc = [s["bits_per_char"] for s in rejected.column("quality_signals").to_pylist()]
    assert set(rejected.column("drop_reason").to_pylist()) == {"perplexity:max_bits_per_char"}
    assert manifest["counts"]["drop_reasons"] == {"perplexity:max_bits_per_char": rejected.num_rows}
    assert 5 <= rejected.num_rows <= 25 and kept.num_rows + rejected.num_rows == len(docs)
    assert max(kept_bpc) <= np.float32(limit) <= min(dropped_bpc)  # stored as float32
    assert sum(i.startswith("j") for i in rejected.column("id").to_pylist()) >= 8  # mostly the junk


def test_checkpoint_tokenizer_is_the_runs_by_hash(run_dir, tmp_path):
    """A run trained on token shards or a mixture finds its tokenizer in their folder (as
    their manifest names it); one whose tokenizer.json has changed is refused."""
    import shutil

    from train.inference import checkpoint_tokenizer
    from train.token_shards import tokenizer_hash

    tokens = tmp_path / "tokens"
    shutil.copytree(run_dir / "tokenizer", tokens / "tok")
    (tokens / "manifest.json").write_text(json.dumps({"tokenizer_dir": "tok"}))
    ckpt = tmp_path / "elsewhere" / "checkpoints" / "step-0000001"
    ckpt.mkdir(parents=True)
    trainer = {"run": {"tokenizer_hash": tokenizer_hash(str(tokens / "tok"))}, "tokens": str(tokens)}
    assert checkpoint_tokenizer(str(ckpt), trainer) == str(tokens / "tok")
    trainer["run"]["tokenizer_hash"] = "0" * 64
    with pytest.raises(ModelLoadError, match="no tokenizer.json with the run's hash"):
        checkpoint_tokenizer(str(ckpt), trainer)


def test_hugging_face_export_scores_as_its_checkpoint(run_dir, lm):
    """The export the trainer writes (OUT/hf) loads with its tokenizer and gives the same
    scores as the checkpoint on texts within one window of either."""
    exported = load_lm(str(run_dir / "hf"), pick_device("cpu"))
    assert exported.seq_len == 2048 and lm.seq_len == 64  # an export records no training length
    clean, junk = _clean_and_junk()
    texts = [t for t in clean[:20] + junk[:10] if len(lm.tokenizer.encode(t).ids) < lm.seq_len - 1]
    assert len(texts) >= 10
    for a, b in zip(score_texts(lm, texts), score_texts(exported, texts)):
        assert a.tokens == b.tokens and b.bits_per_char == pytest.approx(a.bits_per_char, rel=1e-4)
