"""Training mixtures: the language shares asked for (temperature or weights) are what a
mixture takes, within caps and the epoch limit; held-out documents never reach the
training stream; the trainer reads a mixture as one corpus and evaluates each held-out
slice in bits per character, as `python -m train.evaluate` (make eval) does.

Real text: Korean news sentences (tests/data/train) and Japanese Wikipedia paragraphs
(tests/data/tokenizer/ja.jsonl), see the NOTICE files there."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from test_train import one_thread  # noqa: F401  (autouse: one OpenMP thread per test on shared cores)

from curate.io.fs import sha256
from train import data as D
from train import mix as X
from train import mix_stream as S
from train import mixture as M
from train import train as T
from train.token_shards import write_token_shards

DATA = Path(__file__).resolve().parent / "data"
TEXTS = {"ko": DATA / "train" / "ko-news-sentences.jsonl", "ja": DATA / "tokenizer" / "ja.jsonl"}


# ----------------------------------------------------------------------------- shares, on counts alone


def _synthetic(seed: int, n_tokens: int) -> np.ndarray:
    """Document lengths of about n_tokens in all, 20 to 2,000 tokens each."""
    lengths = np.random.default_rng(seed).integers(20, 2000, size=n_tokens // 1000)
    return lengths.astype(np.int64)


TABLE = {"ko-web": ("ko", 6_000_000), "ko-wiki": ("ko", 1_000_000), "ja": ("ja", 2_000_000), "en": ("en", 30_000_000)}


def _realise(caps: dict, **plan) -> tuple[dict, dict, dict]:
    """(shares asked, tokens taken per language, epochs per source) for TABLE."""
    lengths = {name: _synthetic(i, n) for i, (name, (_, n)) in enumerate(TABLE.items())}
    keys = {name: np.random.default_rng(100 + i).random(len(v)) for i, (name, v) in enumerate(lengths.items())}
    counts = [M.SourceCount(name, lang, int(lengths[name].sum()), caps.get(name)) for name, (lang, _) in TABLE.items()]
    by_lang = {}
    for c in counts:
        by_lang[c.lang] = by_lang.get(c.lang, 0) + c.tokens
    shares = M.language_shares(by_lang, plan.get("alpha"), plan.get("weights"))
    targets = M.plan_mixture(counts, shares, plan["max_epochs"], plan.get("budget"))
    taken, epochs = {}, {}
    for c in counts:
        docs = M.take_documents(lengths[c.name], keys[c.name], c.cap, targets[c.name], seed=1)
        got = int(lengths[c.name][docs].sum())
        taken[c.lang] = taken.get(c.lang, 0) + got
        distinct = int(lengths[c.name][np.unique(docs)].sum())
        assert c.cap is None or distinct <= c.cap
        epochs[c.name] = got / distinct
    return shares, taken, epochs


@pytest.mark.parametrize(
    "plan",
    [
        {"alpha": 0.3, "max_epochs": 4.0},
        {"alpha": 0.7, "max_epochs": 2.0, "caps": {"en": 5_000_000}},
        {"weights": {"ko": 0.5, "ja": 0.3, "en": 0.2}, "max_epochs": 3.0, "budget": 12_000_000},
    ],
)
def test_shares_taken_are_the_shares_asked(plan):
    shares, taken, epochs = _realise(plan.pop("caps", {}), **plan)
    n = {"ko": 7_000_000, "ja": 2_000_000, "en": 30_000_000}
    if "alpha" in plan:  # p_i proportional to n_i^alpha (n: the table's tokens, about)
        want = {k: v ** plan["alpha"] for k, v in n.items()}
        for lang, p in shares.items():
            assert p == pytest.approx(want[lang] / sum(want.values()), rel=0.01)
    else:
        assert shares == pytest.approx(plan["weights"])
    total = sum(taken.values())
    for lang, p in shares.items():
        assert abs(taken[lang] / total - p) <= 0.01 * p, (lang, taken[lang] / total, p)
    assert max(epochs.values()) <= plan["max_epochs"] * 1.001
    assert max(epochs.values()) >= plan["max_epochs"] * 0.99 or total == pytest.approx(plan.get("budget"), rel=0.01)


def test_alpha_flattens_the_shares():
    tokens = {"ko": 900, "ja": 100}
    assert M.language_shares(tokens, alpha=1.0) == pytest.approx({"ko": 0.9, "ja": 0.1})
    assert M.language_shares(tokens, alpha=0.0) == pytest.approx({"ko": 0.5, "ja": 0.5})
    flat = M.language_shares(tokens, alpha=0.3)
    assert 0.5 < flat["ko"] < 0.9 and flat["ko"] == pytest.approx(9**0.3 / (9**0.3 + 1))


# ----------------------------------------------------------------------------- a mixture of real text


def _tokenized(root: Path, lang: str, tok: str) -> Path:
    rows = [json.loads(line) for line in TEXTS[lang].read_text(encoding="utf-8").splitlines()]
    curated = root / f"corpus-{lang}"
    (curated / "shards").mkdir(parents=True)
    table = pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]})
    pq.write_table(table, curated / "shards" / "part-00000.parquet")
    (curated / "manifest.json").write_text(json.dumps({"lang": lang, "kept": len(rows)}))
    write_token_shards(str(curated), tok, str(root / lang), workers=1)
    return root / lang


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("mix")
    texts = [json.loads(line)["text"] for p in TEXTS.values() for line in p.read_text(encoding="utf-8").splitlines()]
    tok = D.train_small_tokenizer(texts, str(root / "tok"), vocab_size=1024)
    return [_tokenized(root, "ko", tok), _tokenized(root, "ja", tok)]


def _docs(stream: D.TokenStream, eos: int) -> list[tuple[int, ...]]:
    ids = stream.window(0, len(stream)).tolist()
    out, start = [], 0
    for i, t in enumerate(ids):
        if t == eos:
            if i > start:
                out.append(tuple(ids[start:i]))
            start = i + 1
    return out


def test_heldout_documents_never_reach_the_training_stream(tmp_path, sources):
    m = X.build_mixture([str(s) for s in sources], str(tmp_path / "mix"), alpha=0.3, heldout=0.2, max_epochs=3.0)
    corpus = S.open_mixture(str(tmp_path / "mix"))
    train_docs = set(_docs(corpus.stream, corpus.eos_id))
    slices = S.heldout_slices(str(tmp_path / "mix"))
    assert sorted(slices) == ["ja/ja", "ko/ko"]
    for name, held in slices.items():
        docs = _docs(held.stream, corpus.eos_id)
        assert len(docs) == held.docs >= 20  # about a fifth of 200 and 300
        assert held.chars > 0 and not train_docs & set(docs), name
    # the training stream is the documents the manifest counts, repeated as planned
    assert len(corpus.stream) == m["n_tokens"] == sum(s["taken_tokens"] for s in m["sources"])
    assert max(s["epochs"] for s in m["sources"]) == pytest.approx(3.0, rel=0.05)
    # held out by id alone: other weights and another seed hold out the same documents
    X.build_mixture([str(s) for s in sources], str(tmp_path / "other"), weights={"ko": 1, "ja": 3}, heldout=0.2, seed=9)
    for s in m["sources"]:
        assert np.array_equal(np.load(tmp_path / "mix" / s["heldout"]), np.load(tmp_path / "other" / s["heldout"]))
    ko = [json.loads(line) for line in TEXTS["ko"].read_text(encoding="utf-8").splitlines()]
    held_ko = [r["text"] for r in ko if M.id_key(r["id"]) < 0.2]
    assert m["sources"][0]["heldout_docs"] == slices["ko/ko"].docs == len(held_ko)
    assert m["sources"][0]["heldout_chars"] == slices["ko/ko"].chars == sum(map(len, held_ko))


def test_the_manifest_records_inputs_weights_and_counts(tmp_path, sources):
    m = X.build_mixture([str(s) for s in sources], str(tmp_path / "mix"), weights={"ko": 0.25, "ja": 0.75})
    assert [s["manifest_sha256"] for s in m["sources"]] == [sha256(str(s / "manifest.json")) for s in sources]
    assert m["weights"] == {"ko": 0.25, "ja": 0.75} and m["languages"]["ja"]["share_asked"] == 0.75
    assert m["languages"]["ja"]["share_taken"] == pytest.approx(0.75, abs=0.02)  # whole documents of a small sample
    for s in m["sources"]:
        assert s["train_tokens"] + s["heldout_tokens"] == s["n_tokens"] and s["taken_tokens"] > 0
    with pytest.raises(ValueError, match="caps name unknown sources"):
        X.build_mixture([str(s) for s in sources], str(tmp_path / "bad"), caps={"kor": 100})


def test_the_trainer_trains_from_a_mixture(tmp_path, sources):
    X.build_mixture([str(s) for s in sources], str(tmp_path / "mix"), alpha=0.3)
    out = tmp_path / "run"
    args = ["--size", "tiny", "--seq-len", "64", "--micro-batch", "4", "--global-batch-tokens", "256", "--steps", "2"]
    result = T.run(args + ["--tokens", str(tmp_path / "mix"), "--out", str(out), "--ckpt-every", "2", "--no-export"])
    assert len(result["losses"]) == 2 and all(np.isfinite(result["losses"]))
    saved = json.loads((out / "checkpoints" / "step-0000002" / "trainer.json").read_text())
    assert saved["run"]["data_sha256"] == sha256(str(tmp_path / "mix" / "manifest.json"))


# ----------------------------------------------------------------------------- held-out evaluation


class _Env:
    def __init__(self, rank: int = 0, world: int = 1):
        self.rank, self.world, self.device = rank, world, torch.device("cpu")


def test_bits_per_char_counts_every_token_once(tmp_path, sources):
    """A model whose output layer is zero predicts every token with probability 1/V: each
    slice's loss is then ln V, and its bits per character tokens x log2 V / characters,
    whatever the windows and the batch (padding and empty batches count nothing)."""
    import torch.distributed as dist

    from train.config import get_config
    from train.evaluate import evaluate_slice
    from train.model import GPTNeoX

    X.build_mixture([str(s) for s in sources], str(tmp_path / "mix"), heldout=0.05)
    slices = S.heldout_slices(str(tmp_path / "mix"))
    assert all(held.docs for held in slices.values())
    eos = S.load_mix_manifest(str(tmp_path / "mix"))["eos_id"]
    model = GPTNeoX(get_config("tiny", vocab_size=1024))
    model.init_weights(seed=1)
    with torch.no_grad():
        model.embed_out.weight.zero_()
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        for held in slices.values():
            for seq_len, batch in ((64, 3), (50, 8)):
                r = evaluate_slice(model, held, seq_len, batch, eos, _Env())
                assert r["tokens"] == len(held.stream) - 1  # every document token and EOS, not the first EOS
                assert r["loss"] == pytest.approx(np.log(1024), rel=1e-5)
                assert r["bits_per_char"] == pytest.approx(r["tokens"] * np.log2(1024) / held.chars, rel=1e-5)
    finally:
        dist.destroy_process_group()


def test_the_trainer_evaluates_and_make_eval_agrees(tmp_path, sources):
    from train import evaluate as E

    X.build_mixture([str(s) for s in sources], str(tmp_path / "mix"), alpha=0.3, heldout=0.05)
    out = tmp_path / "run"
    args = ["--size", "tiny", "--seq-len", "64", "--micro-batch", "4", "--global-batch-tokens", "256", "--steps", "6"]
    args += ["--lr", "3e-3", "--warmup", "2", "--eval-every", "3", "--ckpt-every", "6", "--no-export"]
    T.run(args + ["--tokens", str(tmp_path / "mix"), "--out", str(out)])
    evals = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if "eval" in line]
    assert [e["step"] for e in evals] == [3, 6] and sorted(evals[0]["eval"]) == ["ja/ja", "ko/ko"]
    assert sum(r["bits_per_char"] for r in evals[1]["eval"].values()) < sum(
        r["bits_per_char"] for r in evals[0]["eval"].values()
    )
    ckpt = out / "checkpoints" / "step-0000006"
    assert E.main(["--ckpt", str(ckpt), "--batch", "5"]) == 0
    report = json.loads((ckpt / "eval.json").read_text())
    assert report["step"] == 6
    for name, r in evals[1]["eval"].items():
        assert report["slices"][name]["bits_per_char"] == pytest.approx(r["bits_per_char"], rel=1e-5)
        assert report["slices"][name]["chars"] == r["chars"] > 0
    assert (ckpt / "eval.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SystemExit, match="held-out slices come from a mixture"):
        T.run(args + ["--tokens", str(sources[0]), "--out", str(tmp_path / "plain")])
