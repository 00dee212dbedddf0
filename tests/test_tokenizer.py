"""Morpheme-aware BPE and token shards on real Korean and Japanese text
(tests/data/tokenizer, see NOTICE there)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from train import token_shards as K
from train import tokenizer as T

DATA = Path(__file__).parent / "data" / "tokenizer"
VOCAB = 2000

# Whitespace and symbols a byte-level tokenizer must give back unchanged.
ODD_TEXTS = [
    "  두 칸 앞,  두 칸 사이  ",
    "줄\n\n바꿈\r\n윈도우\t탭\u3000전각공백",
    "이모지 😀👍🏽 와 결합 문자 한\u1100\u1161 (NFD)",
    "全角ＡＢＣ１２３と半角abc123、　記号「」『』…",
    "<|endoftext|>앞<|tel|><|rrn|>붙은<|email|>토큰",
    "띄운 구두점 , . ? ! 과 don 't 도 그대로",
    "",
]


def _docs(lang: str) -> list[str]:
    with open(DATA / f"{lang}.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def _curated(root: Path, docs: list[str], n_shards: int = 1, dropped: list[str] = ()) -> Path:
    """A curated folder as `make corpus` writes it: shards/*.parquet and manifest.json."""
    (root / "shards").mkdir(parents=True)
    for s in range(n_shards):
        part = docs[s::n_shards]
        texts = part + list(dropped if s == 0 else [])
        reasons = [None] * len(part) + ["quality:test"] * (len(texts) - len(part))
        table = pa.table(
            {
                "id": [f"{s}-{i}" for i in range(len(texts))],
                "text": texts,
                "drop_reason": pa.array(reasons, pa.string()),
            }
        )
        pq.write_table(table, root / "shards" / f"part-{s:05d}.parquet")
    (root / "manifest.json").write_text(json.dumps({"docs": len(docs)}))
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Korean and Japanese tokenizers trained through the command line on curated shards."""
    out = {}
    for lang in ("ko", "ja"):
        root = tmp_path_factory.mktemp(lang)
        data = _curated(root / "corpus", _docs(lang), dropped=["버려진 문서 dropped"])
        assert (
            T.main(
                [
                    "--lang",
                    lang,
                    "--data",
                    str(data),
                    "--vocab",
                    str(VOCAB),
                    "--out",
                    str(root / "tok"),
                    "--workers",
                    "1",
                ]
            )
            == 0
        )
        out[lang] = (data, root / "tok")
    return out


def _words(pieces_per_doc: list[list[str]]) -> str:
    """Training words as the BPE trainer sees them (regex-split, byte-mapped), joined by a
    character the byte alphabet never produces."""
    from tokenizers.pre_tokenizers import ByteLevel

    pre = ByteLevel(add_prefix_space=False, use_regex=True)
    words = {w for pieces in pieces_per_doc for p in pieces for w, _ in pre.pre_tokenize_str(p)}
    return "\x00".join(words)


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_pieces_cover_text_and_split_at_morphemes(lang):
    docs = _docs(lang)[:60] + ODD_TEXTS
    for doc, pieces in zip(docs, T.morpheme_pieces(docs, lang)):
        assert "".join(pieces) == T._SPECIAL_RE.sub("", doc)
        assert all(pieces)
    # morphemes, not eojeol: a noun and its particle or ending come apart
    if lang == "ko":
        assert T.morpheme_pieces(["학교에서 공부했다"], "ko")[0] == ["학교", "에서", " 공부", "했", "다"]
    else:
        assert T.morpheme_pieces(["東京に行きました"], "ja")[0] == ["東京", "に", "行き", "まし", "た"]


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_round_trip_every_document(trained, lang):
    from tokenizers import Tokenizer

    _, tok_dir = trained[lang]
    tok = Tokenizer.from_file(str(tok_dir / "tokenizer.json"))
    for doc in _docs(lang) + ODD_TEXTS:
        ids = tok.encode(doc, add_special_tokens=False).ids
        assert tok.decode(ids, skip_special_tokens=False) == doc


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_autotokenizer_loads_and_round_trips(trained, lang):
    from transformers import AutoTokenizer

    _, tok_dir = trained[lang]
    hf = AutoTokenizer.from_pretrained(str(tok_dir))
    assert hf.eos_token == T.EOS and hf.eos_token_id == hf.convert_tokens_to_ids(T.EOS)
    assert len(hf) % T.PAD_MULTIPLE == 0
    for doc in _docs(lang)[:100] + ODD_TEXTS:
        assert hf.decode(hf.encode(doc)) == doc


def test_special_tokens_are_single_ids(trained):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(trained["ko"][1] / "tokenizer.json"))
    ids = [tok.token_to_id(t) for t in T.SPECIAL_TOKENS]
    assert None not in ids and len(set(ids)) == len(ids)
    for token, tid in zip(T.SPECIAL_TOKENS, ids):
        assert tok.encode(token).ids == [tid]
        got = tok.encode(f"연락처는{token}입니다").ids
        assert got.count(tid) == 1 and tok.decode(got, skip_special_tokens=False) == f"연락처는{token}입니다"


def test_every_pii_kind_has_a_token(trained):
    """The PII stage writes <|kind|> for each of its kinds; each needs its own id, and the
    ids stay where tokenizers trained before put them (EOS first, then the kinds in order)."""
    from tokenizers import Tokenizer

    from curate.io.schema import PII_KINDS

    tok = Tokenizer.from_file(str(trained["ko"][1] / "tokenizer.json"))
    ids = {kind: tok.token_to_id(f"<|{kind}|>") for kind in PII_KINDS}
    assert tok.token_to_id(T.EOS) == 0
    assert ids == {"acc": 1, "tel": 2, "rrn": 3, "card": 4, "mynumber": 5, "email": 6, "ip": 7, "passport": 8}


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_vocab_padded_to_multiple_of_128(trained, lang):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(trained[lang][1] / "tokenizer.json"))
    n = tok.get_vocab_size(with_added_tokens=True)
    assert n % 128 == 0 and n == T.padded_size(VOCAB)
    assert sorted(tok.get_vocab(with_added_tokens=True).values()) == list(range(n))  # no holes
    meta = json.loads((trained[lang][1] / T.TRAINING_META).read_text())
    assert meta["vocab_size"] == n and meta["data"][0]["manifest_sha256"]
    assert T.padded_size(30000) == 30080


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_merges_never_cross_morpheme_boundaries(trained, lang):
    """Every learned token lies inside one training piece; a plain BPE's tokens do not."""
    from tokenizers import Tokenizer

    docs = _docs(lang)
    ours = Tokenizer.from_file(str(trained[lang][1] / "tokenizer.json"))
    inside = _words(T.morpheme_pieces(docs, lang))
    learned = [t for t in ours.get_vocab(with_added_tokens=False) if len(t) > 1 and t not in T.SPECIAL_TOKENS]
    assert learned and all(t in inside for t in learned)

    plain = T.train_bpe(T.count_pieces(docs, None), VOCAB)
    crossing = [
        t
        for t in plain.get_vocab(with_added_tokens=False)
        if len(t) > 1 and t not in inside and t not in T.SPECIAL_TOKENS
    ]
    assert len(crossing) > 50


def test_sample_fractions_follow_weights():
    f = T.sample_fractions({"ko": 1000, "ja": 300, "en": 10_000}, {"ko": 0.5, "ja": 0.3, "en": 0.2}, None)
    assert f["ja"] == 1.0  # the scarcest language relative to its weight is used whole
    assert f["ko"] == pytest.approx(500 / 1000) and f["en"] == pytest.approx(200 / 10_000)
    capped = T.sample_fractions({"ko": 1000, "ja": 300}, {"ko": 1, "ja": 1}, 200)
    assert capped == {"ko": pytest.approx(0.1), "ja": pytest.approx(1 / 3)}


def test_multilingual_tokenizer(trained, tmp_path):
    from tokenizers import Tokenizer

    dirs = [str(trained["ko"][0]), str(trained["ja"][0])]
    out = tmp_path / "multi"
    T.main(
        [
            "--langs",
            "ko,ja",
            "--data",
            ",".join(dirs),
            "--weights",
            "0.5,0.5",
            "--vocab",
            str(VOCAB),
            "--out",
            str(out),
            "--workers",
            "1",
        ]
    )
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    for doc in _docs("ko")[:50] + _docs("ja")[:50]:
        assert tok.decode(tok.encode(doc).ids) == doc
    meta = json.loads((out / T.TRAINING_META).read_text())
    fr = meta["sample_fractions"]
    chars = {lang: sum(map(len, _docs(lang))) for lang in ("ko", "ja")}
    assert meta["langs"] == ["ko", "ja"] and fr["ja"] == 1.0  # Japanese is the smaller sample
    assert fr["ko"] * chars["ko"] == pytest.approx(chars["ja"])  # equal weights: equal characters
    # both scripts got merges of their own
    vocab = [tok.decode([i]) for i in range(tok.get_vocab_size())]
    assert any("\uac00" <= c <= "\ud7a3" for t in vocab if len(t) > 1 for c in t)
    assert any("\u3040" <= c <= "\u30ff" for t in vocab if len(t) > 1 for c in t)


def _read_docs(out: Path, manifest: dict) -> list[list[int]]:
    docs = []
    for part in manifest["parts"]:
        toks, offsets = K.open_part(str(out), part, manifest["dtype"])
        assert len(offsets) == part["n_docs"] + 1 and offsets[0] == 0 and offsets[-1] == len(toks) == part["n_tokens"]
        docs += [toks[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]
    return docs


def test_token_shards_separate_documents_with_eos(trained, tmp_path):
    from tokenizers import Tokenizer

    _, tok_dir = trained["ko"]
    docs = _docs("ko")[:120] + ["앞 문서<|endoftext|>가 끼어든 문서", "전화는 <|tel|>로"]
    data = _curated(tmp_path / "corpus", docs, n_shards=2, dropped=["버려진 문서"])
    out = tmp_path / "tokens"
    assert K.main(["--data", str(data), "--tokenizer", str(tok_dir), "--out", str(out), "--workers", "1"]) == 0

    m = json.loads((out / "manifest.json").read_text())
    tok = Tokenizer.from_file(str(tok_dir / "tokenizer.json"))
    assert m["dtype"] == "uint16" and m["vocab_size"] == tok.get_vocab_size(with_added_tokens=True)
    assert m["eos_id"] == tok.token_to_id(T.EOS)
    assert m["curated_manifest_sha256"] == hashlib.sha256((data / "manifest.json").read_bytes()).hexdigest()
    assert m["tokenizer_hash"] == hashlib.sha256((tok_dir / "tokenizer.json").read_bytes()).hexdigest()
    assert len(m["parts"]) == 2 and m["n_docs"] == len(docs)
    assert (out / "tokenizer" / "tokenizer.json").read_bytes() == (tok_dir / "tokenizer.json").read_bytes()
    leftovers = [p.name for p in [*out.parent.iterdir(), *out.iterdir()] if ".tmp-" in p.name or ".old-" in p.name]
    assert not leftovers

    got = _read_docs(out, m)
    expected = docs[0::2] + docs[1::2]  # shard order, rows in order
    for ids, text in zip(got, expected):
        assert ids[-1] == m["eos_id"] and m["eos_id"] not in ids[:-1]
        assert tok.decode(ids[:-1], skip_special_tokens=False) == text.replace(T.EOS, "")
    assert sum(p["eos_literals_removed"] for p in m["parts"]) == 1
    assert tok.token_to_id("<|tel|>") in got[expected.index("전화는 <|tel|>로")]

    K.verify_tokenizer(str(tok_dir), m)
    K.verify_tokenizer(str(out / "tokenizer"), str(out))
    with pytest.raises(K.TokenizerMismatch):
        K.verify_tokenizer(str(trained["ja"][1]), m)


def test_ray_paths_match_in_process(trained, tmp_path):
    """Training counts and token shards come out byte-identical with and without Ray."""
    import ray

    _, tok_dir = trained["ja"]
    data = _curated(tmp_path / "corpus", _docs("ja")[:150], n_shards=3)
    local_tok = T.train_from_shards(["ja"], [str(data)], 800, str(tmp_path / "tok-local"), workers=1)
    local = K.write_token_shards(str(data), str(tok_dir), str(tmp_path / "local"), workers=1)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        ray_tok = T.train_from_shards(["ja"], [str(data)], 800, str(tmp_path / "tok-ray"), workers=2)
        on_ray = K.write_token_shards(str(data), str(tok_dir), str(tmp_path / "ray"), workers=2)
    finally:
        ray.shutdown()
    assert (Path(local_tok) / "tokenizer.json").read_bytes() == (Path(ray_tok) / "tokenizer.json").read_bytes()
    assert len(local["parts"]) == 3
    assert [p["n_tokens"] for p in local["parts"]] == [p["n_tokens"] for p in on_ray["parts"]]
    for part in local["parts"]:
        for key in ("bin", "idx"):
            assert (tmp_path / "local" / part[key]).read_bytes() == (tmp_path / "ray" / part[key]).read_bytes()


def test_ray_runs_the_work_of_a_module_run_as_main(trained, tmp_path):
    """`python -m train.token_shards --workers 2`: the work function's module is then
    __main__, which Ray's workers cannot import; they get it from train.token_shards."""
    _, tok_dir = trained["ja"]
    data = _curated(tmp_path / "corpus", _docs("ja")[:60], n_shards=2)
    local = K.write_token_shards(str(data), str(tok_dir), str(tmp_path / "local"), workers=1)
    args = ["--data", str(data), "--tokenizer", str(tok_dir), "--out", str(tmp_path / "ray"), "--workers", "2"]
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    r = subprocess.run(
        [sys.executable, "-m", "train.token_shards", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert len(local["parts"]) == 2
    for part in local["parts"]:
        for key in ("bin", "idx"):
            assert (tmp_path / "local" / part[key]).read_bytes() == (tmp_path / "ray" / part[key]).read_bytes()


def test_token_shards_need_the_curated_manifest(trained, tmp_path):
    data = _curated(tmp_path / "corpus", _docs("ko")[:5])
    (data / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError):
        K.write_token_shards(str(data), str(trained["ko"][1]), str(tmp_path / "tokens"))
    assert not (tmp_path / "tokens").exists()
