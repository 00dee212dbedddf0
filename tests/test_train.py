"""A few steps of tiny training on real Korean news sentences (tests/data/train, see
NOTICE): the loss falls, a checkpoint resumes to the identical next-step loss, and the
exported model generates text with transformers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from curate.io.fs import sha256
from train import data as D
from train import train as T

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "train" / "ko-news-sentences.jsonl"
COMMON = ["--size", "tiny", "--seq-len", "64", "--micro-batch", "4", "--global-batch-tokens", "256"]
COMMON += ["--lr", "3e-3", "--warmup", "2", "--seed", "7"]


@pytest.fixture(autouse=True)
def one_thread():
    """Two shared cores: OpenMP threads spinning against each other cost 10x here."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A curated folder as `make corpus` writes it: shards/*.parquet + manifest.json."""
    root = tmp_path_factory.mktemp("corpus")
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    (root / "shards").mkdir()
    pq.write_table(
        pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows], "drop_reason": [None] * len(rows)}),
        root / "shards" / "part-00000.parquet",
    )
    (root / "manifest.json").write_text(json.dumps({"shards": ["part-00000.parquet"], "kept": len(rows), "lang": "ko"}))
    return root


def test_packing_resumes_without_repeat_or_skip():
    stream = D.TokenStream([np.arange(0, 700), np.arange(700, 1001)])  # two parts read as one
    seen = []
    loaders = [D.PackedLoader(stream, 10, 3, rank=r, world=2, seed=5) for r in range(2)]
    for _ in range(40):  # 2.4 epochs of 100 sequences
        for ld in loaders:
            x, y = ld.next_batch()
            assert torch.equal(x[:, 1:], y[:, :-1])  # targets are inputs shifted by one
            seen.append(x[:, 0].tolist())
    state = loaders[0].state_dict()
    # resuming on a fresh loader continues exactly where the old one stands
    fresh = D.PackedLoader(stream, 10, 3, rank=1, world=2, seed=5)
    fresh.load_state_dict(state)
    assert torch.equal(fresh.next_batch()[0], loaders[1].next_batch()[0])
    # within an epoch each sequence appears once; 16 global batches of 6 per epoch of 100
    epoch0 = sorted(v // 10 for b in seen[:32] for v in b)
    assert len(epoch0) == len(set(epoch0)) == 96


def test_token_shards_refuse_a_different_tokenizer(tmp_path, corpus):
    tok = D.train_small_tokenizer(D.read_shard_texts(str(corpus)), str(tmp_path / "tok"), vocab_size=300)
    ids, eos, vocab = D.encode_texts(tok, D.read_shard_texts(str(corpus)))
    shards = tmp_path / "tokens"
    (shards / "tokenizer").mkdir(parents=True)
    for f in Path(tok).iterdir():
        (shards / "tokenizer" / f.name).write_bytes(f.read_bytes())
    ids.astype("<u2").tofile(shards / "part-00000.bin")
    manifest = {
        "dtype": "uint16",
        "vocab_size": vocab,
        "eos_id": eos,
        "tokenizer_hash": D.tokenizer_hash(tok),
        "curated_manifest_sha256": sha256(str(corpus / "manifest.json")),
        "parts": [{"bin": "part-00000.bin", "idx": "part-00000.idx.npy", "n_tokens": len(ids), "n_docs": 200}],
    }
    (shards / "manifest.json").write_text(json.dumps(manifest))
    c = D.open_token_shards(str(shards))
    assert np.array_equal(c.stream.window(0, len(ids)), ids) and c.eos_id == eos
    other = D.train_small_tokenizer(D.read_shard_texts(str(corpus))[:50], str(tmp_path / "other"), vocab_size=280)
    with pytest.raises(D.TokenizerMismatch):
        D.open_token_shards(str(shards), other)


def test_train_resume_export(tmp_path, corpus):
    out = tmp_path / "run"
    args = COMMON + ["--data", str(corpus), "--out", str(out), "--steps", "12", "--ckpt-every", "6"]
    first = T.run(args)["losses"]
    assert len(first) == 12
    assert np.mean(first[-3:]) < np.mean(first[:3]) - 0.5, first

    # the step-6 checkpoint resumes to the identical step-7 loss (and the rest)
    ckpt = out / "checkpoints" / "step-0000006"
    saved = json.loads((ckpt / "trainer.json").read_text())
    assert saved["curated_manifest_sha256"] == sha256(str(corpus / "manifest.json"))
    assert set(saved["ops"].values()) == {"torch"}  # CPU, --kernels auto
    again = T.run(args + ["--resume", str(ckpt), "--no-export"])["losses"]
    assert again == first[6:]

    from transformers import AutoTokenizer, GPTNeoXForCausalLM

    model = GPTNeoXForCausalLM.from_pretrained(out / "hf").eval()
    tok = AutoTokenizer.from_pretrained(out / "hf")
    prompt = tok("정부의 연구학자들이", return_tensors="pt")
    with torch.no_grad():
        gen = model.generate(**prompt, max_new_tokens=12, do_sample=False, pad_token_id=tok.eos_token_id)
    assert gen.shape[1] > prompt["input_ids"].shape[1]
    text = tok.decode(gen[0], skip_special_tokens=True)
    assert text.startswith("정부의 연구학자들이") and len(text) > len("정부의 연구학자들이")

    # the export continues as a Hugging Face checkpoint would: from where training left off
    cont = T.run(
        COMMON
        + [
            "--data",
            str(corpus),
            "--out",
            str(tmp_path / "cont"),
            "--steps",
            "1",
            "--init-hf",
            str(out / "hf"),
            "--ckpt-every",
            "0",
            "--no-export",
        ]
    )["losses"]
    assert cont[0] < first[0] - 0.5, (cont, first)


def test_train_on_token_shards(tmp_path, corpus):
    """The token shards train.token_shards writes feed the trainer; the checkpoint names the
    curated manifest they came from; a different tokenizer is refused."""
    tokens = pytest.importorskip("train.token_shards")
    tok = D.train_small_tokenizer(D.read_shard_texts(str(corpus)), str(tmp_path / "tok"), vocab_size=512)
    m = tokens.write_token_shards(str(corpus), tok, str(tmp_path / "tokens"), workers=1)
    c = D.open_token_shards(str(tmp_path / "tokens"))
    ids, _, _ = D.encode_texts(tok, D.read_shard_texts(str(corpus)))
    assert np.array_equal(c.stream.window(0, len(c.stream)), ids)  # same ids as tokenizing here
    out = tmp_path / "run"
    losses = T.run(
        COMMON
        + ["--tokens", str(tmp_path / "tokens"), "--out", str(out), "--steps", "2", "--ckpt-every", "2", "--no-export"]
    )["losses"]
    assert len(losses) == 2
    saved = json.loads((out / "checkpoints" / "step-0000002" / "trainer.json").read_text())
    assert saved["curated_manifest_sha256"] == m["curated_manifest_sha256"] == sha256(str(corpus / "manifest.json"))
    other = D.train_small_tokenizer(D.read_shard_texts(str(corpus))[:50], str(tmp_path / "other"), vocab_size=300)
    with pytest.raises(SystemExit, match="refusing"):
        T.run(COMMON + ["--tokens", str(tmp_path / "tokens"), "--tokenizer", other, "--out", str(out), "--steps", "1"])


def _train_cli(args: list[str], env_extra: dict, prelude: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("TRITON_INTERPRET", "KERNELS_REFERENCE")}
    env.update(env_extra, PYTHONPATH=str(ROOT))
    code = prelude + "import sys\nfrom train.train import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_trainer_refuses_kernels_that_cannot_run(tmp_path, corpus):
    """Asked for the Triton kernels where they cannot run, the trainer stops before it
    starts, with one line naming the op and why; it never falls back quietly."""
    args = COMMON + [
        "--cpu",
        "--kernels",
        "triton",
        "--data",
        str(corpus),
        "--out",
        str(tmp_path / "a"),
        "--steps",
        "1",
        "--ckpt-every",
        "0",
        "--no-export",
    ]
    # on CPU without the interpreter
    r = _train_cli(args, {})
    assert r.returncode == 2, r.stderr[-2000:]
    lines = [line for line in r.stderr.splitlines() if line.startswith("refusing to train")]
    assert len(lines) == 1 and "layer_norm" in lines[0] and "TRITON_INTERPRET=1" in lines[0], r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "a" / "checkpoints").exists()
    # one kernel whose module cannot be imported
    broken = "import sys\nsys.modules['polyglot_kernels._rotary_triton'] = None\n"
    r = _train_cli(args, {"TRITON_INTERPRET": "1"}, prelude=broken)
    assert r.returncode == 2, r.stderr[-2000:]
    lines = [line for line in r.stderr.splitlines() if line.startswith("refusing to train")]
    assert len(lines) == 1 and "kernel rotary: ModuleNotFoundError" in lines[0], r.stderr[-2000:]


def test_trainer_records_the_ops_it_ran(tmp_path, corpus):
    """The log line and the checkpoint name the implementation every op resolved to."""
    out = tmp_path / "run"
    r = _train_cli(
        COMMON
        + [
            "--cpu",
            "--kernels",
            "triton",
            "--data",
            str(corpus),
            "--out",
            str(out),
            "--steps",
            "1",
            "--ckpt-every",
            "1",
            "--no-export",
        ],
        {"TRITON_INTERPRET": "1"},
    )
    assert r.returncode == 0, r.stderr[-3000:]
    ops = {"layer_norm", "rotary", "bias_gelu", "fused_linear_cross_entropy"}
    assert all(f"{op}=triton" in r.stdout for op in ops), r.stdout
    saved = json.loads((out / "checkpoints" / "step-0000001" / "trainer.json").read_text())
    assert saved["ops"] == {op: "triton" for op in ops}


def test_activation_checkpointing_keeps_losses_and_names(tmp_path, corpus):
    """--ac on one CPU process (the trainer wraps each block from outside the model) trains
    to the same losses, and the checkpoint and the export keep the model's own names."""
    from safetensors import safe_open

    losses, names = {}, {}
    for ac in (False, True):
        out = tmp_path / f"ac{int(ac)}"
        args = ["--cpu", "--data", str(corpus), "--out", str(out), "--steps", "3", "--ckpt-every", "3"]
        losses[ac] = T.run(COMMON + args + (["--ac"] if ac else []))["losses"]
        with safe_open(str(out / "hf" / "model.safetensors"), "pt") as f:
            names[ac] = set(f.keys())
        saved = json.loads((out / "checkpoints" / "step-0000003" / "trainer.json").read_text())
        assert saved["step"] == 3
    assert losses[True] == losses[False] and len(losses[True]) == 3
    assert names[True] == names[False]


# ----------------------------------------------------------------------------- the run's definition


@pytest.fixture(scope="module")
def tokens(tmp_path_factory, corpus) -> Path:
    """Token shards of the sample, with a tokenizer trained on the fly (a scratch one)."""
    from train.token_shards import write_token_shards

    root = tmp_path_factory.mktemp("tokens")
    tok = D.train_small_tokenizer(D.read_shard_texts(str(corpus)), str(root / "tok"), vocab_size=512)
    write_token_shards(str(corpus), tok, str(root / "tokens"), workers=1)
    return root / "tokens"


def _step_sets(world: int, micro_batch: int, steps: int) -> list[list[int]]:
    """The sequences each optimizer step reads, over every rank and micro-step."""
    stream = D.TokenStream([np.arange(0, 10 * 37 + 1)])  # 37 sequences: epochs end mid-batch
    loaders = [D.PackedLoader(stream, 10, micro_batch, r, world, seed=3, global_seqs=8) for r in range(world)]
    out = []
    for _ in range(steps):
        seqs = [int(v) // 10 for ld in loaders for _ in range(ld.accum) for v in ld.next_batch()[0][:, 0]]
        out.append(sorted(seqs))
    return out


def test_a_step_reads_the_same_sequences_whatever_the_ranks_and_micro_batch():
    one = _step_sets(world=1, micro_batch=4, steps=14)  # three epochs of 4 steps, and more
    assert one == _step_sets(world=2, micro_batch=1, steps=14) == _step_sets(world=4, micro_batch=2, steps=14)
    assert all(len(s) == len(set(s)) == 8 for s in one)
    assert sorted(v for s in one[:4] for v in s) != sorted(v for s in one[4:8] for v in s)  # a new epoch's order
    with pytest.raises(ValueError, match="does not split"):
        D.PackedLoader(D.TokenStream([np.arange(500)]), 10, 3, 0, 2, global_seqs=8)


def _lockstep_worker(rank: int, port: int, args: list[str], out: str) -> None:
    """One of two gloo ranks running the trainer; records its losses, lrs and HF reads."""
    from train import checkpoint as C

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2")
    os.environ.update(LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE="2")
    torch.set_num_threads(1)
    reads, read = [], C.read_hf_state
    C.read_hf_state = lambda path: reads.append(path) or read(path)
    result = T.run(args)
    Path(out, f"rank{rank}.json").write_text(json.dumps({**result, "reads": len(reads)}))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_same_global_batch_same_losses_on_one_and_two_processes(tmp_path, tokens):
    """1 process x micro-batch 4 x accumulation 2 and 2 gloo processes (FSDP2) x
    micro-batch 1 x accumulation 4 read the same 8 sequences a step: the same losses,
    and the same held-out bits per character at the end. Both start from the same
    Hugging Face weights, which only rank 0 reads."""
    import torch.multiprocessing as mp

    from train.config import get_config
    from train.mix import build_mixture
    from train.model import GPTNeoX, save_hf

    model = GPTNeoX(get_config("tiny", vocab_size=512))
    model.init_weights(seed=99)
    save_hf(model, str(tmp_path / "init"), eos_id=0)
    build_mixture([str(tokens)], str(tmp_path / "mix"), heldout=0.05)
    common = ["--size", "tiny", "--seq-len", "64", "--global-batch-tokens", "512", "--lr", "3e-3", "--warmup", "2"]
    common += ["--tokens", str(tmp_path / "mix"), "--init-hf", str(tmp_path / "init"), "--steps", "5", "--cpu"]
    common += ["--ckpt-every", "0", "--no-export", "--eval-every", "5"]
    one = T.run(common + ["--micro-batch", "4", "--out", str(tmp_path / "one")])
    mp.spawn(
        _lockstep_worker,
        args=(_free_port(), common + ["--micro-batch", "1", "--out", str(tmp_path / "two")], str(tmp_path)),
        nprocs=2,
        join=True,
    )
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [r["reads"] for r in ranks] == [1, 0]
    assert ranks[0]["lrs"] == one["lrs"]
    np.testing.assert_allclose(ranks[0]["losses"], one["losses"], rtol=2e-5)
    assert one["losses"][-1] < one["losses"][0] - 0.5  # it learns: the curves are not flat
    evals = [
        [
            json.loads(line)["eval"]["ko/tokens"]
            for line in (tmp_path / run / "metrics.jsonl").read_text().splitlines()
            if "eval" in line
        ]
        for run in ("one", "two")
    ]
    assert len(evals[0]) == len(evals[1]) == 1 and evals[0][0]["tokens"] == evals[1][0]["tokens"] > 0
    assert evals[1][0]["bits_per_char"] == pytest.approx(evals[0][0]["bits_per_char"], rel=2e-5)


def test_resume_refuses_a_changed_run_unless_allowed(tmp_path, tokens):
    """Resuming with another --steps would reshape the lr schedule: refused, naming the
    field; --allow-change steps lets it through, and the change is logged."""
    out = tmp_path / "run"
    args = COMMON + ["--tokens", str(tokens), "--out", str(out), "--ckpt-every", "2", "--no-export"]
    T.run(args + ["--steps", "2"])
    saved = json.loads((out / "checkpoints" / "step-0000002" / "trainer.json").read_text())["run"]
    assert saved["steps"] == 2 and saved["global_batch_tokens"] == 256 and saved["lr"] == 3e-3
    assert saved["data_sha256"] == sha256(str(tokens / "manifest.json")) and len(saved["code_sha256"]) == 64
    with pytest.raises(SystemExit, match=r"(?s)refusing to resume.*steps: checkpoint 2, this run 4") as e:
        T.run(args + ["--steps", "4", "--resume"])
    assert "lr:" not in str(e.value) and "--allow-change steps" in str(e.value)
    with pytest.raises(SystemExit, match=r"(?s)lr: checkpoint 0.003, this run 0.001.*seed: checkpoint 7"):
        T.run(args + ["--steps", "2", "--resume", "--lr", "1e-3", "--seed", "8"])
    with pytest.raises(SystemExit, match="unknown field"):
        T.run(args + ["--steps", "4", "--resume", "--allow-change", "stepz"])
    resumed = T.run(args + ["--steps", "4", "--resume", "--allow-change", "steps"])
    assert resumed["step"] == 4 and len(resumed["losses"]) == 2


def test_keeps_the_last_k_checkpoints_and_logs_the_lr_each_step_used(tmp_path, tokens, capsys):
    out = tmp_path / "run"
    args = ["--tokens", str(tokens), "--out", str(out), "--steps", "5", "--ckpt-every", "1", "--keep-checkpoints", "2"]
    result = T.run(COMMON + args + ["--no-export"])
    ckpts = out / "checkpoints"
    assert sorted(p.name for p in ckpts.iterdir()) == ["latest", "step-0000004", "step-0000005"]
    assert (ckpts / "latest").read_text() == "step-0000005"
    # warmup 2: step 1 runs at half the peak lr, step 2 at the peak
    assert result["lrs"][:2] == [T.lr_at(0, 3e-3, 2, 5), T.lr_at(1, 3e-3, 2, 5)] == [1.5e-3, 3e-3]
    logged = [line for line in capsys.readouterr().out.splitlines() if line.startswith("step 1/5 ")]
    assert len(logged) == 1 and "| lr 1.50e-03 |" in logged[0], logged
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["lr"] for r in records] == result["lrs"] and [r["step"] for r in records] == [1, 2, 3, 4, 5]


def test_a_named_size_refuses_a_tokenizer_trained_on_the_fly(tmp_path, corpus, tokens):
    """1.3b on --data alone would train a throwaway tokenizer first; on token shards made
    with one, it would learn that; both stop before anything is built."""
    args = ["--size", "1.3b", "--out", str(tmp_path / "big"), "--steps", "1", "--cpu"]
    with pytest.raises(SystemExit, match="refusing to train 1.3b on a throwaway tokenizer"):
        T.run(args + ["--data", str(corpus)])
    with pytest.raises(SystemExit, match=r"throwaway tokenizer \(.*tokenizer was trained on the fly"):
        T.run(args + ["--tokens", str(tokens)])
    assert not (tmp_path / "big" / "tokenizer").exists()
