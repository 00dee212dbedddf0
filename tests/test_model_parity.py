"""Our GPT-NeoX against transformers' GPTNeoXForCausalLM, both directions, fp32."""

from __future__ import annotations

import pytest
import torch

from train.config import ModelConfig
from train.model import GPTNeoX, load_hf, save_hf, to_hf_name

transformers = pytest.importorskip("transformers")


def _tiny(rotary_pct: float) -> ModelConfig:
    # heads 32 wide: rotary_pct 0.25 rotates 8 dims, 0.5 rotates 16
    return ModelConfig(
        n_layer=2, d_model=128, d_ff=512, n_head=4, vocab_size=384, max_seq_len=64, rotary_pct=rotary_pct
    )


def _batch(vocab: int) -> torch.Tensor:
    return torch.randint(0, vocab, (2, 37), generator=torch.Generator().manual_seed(1))


def _perturb_(model: torch.nn.Module) -> None:
    """Random biases and LayerNorm affines, so a misplaced bias or norm cannot hide."""
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for p in model.parameters():
            if p.ndim == 1:
                p.add_(torch.randn(p.shape, generator=g) * 0.1)


@pytest.mark.parametrize("rotary_pct", [0.5, 0.25])
def test_ours_load_in_transformers(tmp_path, rotary_pct):
    torch.manual_seed(0)
    ours = GPTNeoX(_tiny(rotary_pct)).eval()
    _perturb_(ours)
    save_hf(ours, tmp_path)
    theirs = transformers.GPTNeoXForCausalLM.from_pretrained(tmp_path, attn_implementation="eager").eval()
    assert theirs.config.rope_parameters["partial_rotary_factor"] == rotary_pct
    assert theirs.config.use_parallel_residual
    idx = _batch(ours.cfg.vocab_size)
    with torch.no_grad():
        a, b = ours(idx), theirs(idx).logits
    assert a.shape == b.shape
    torch.testing.assert_close(a, b, atol=1e-4, rtol=0)
    # and the loss path (a single function the fused kernel replaces) agrees with HF's loss
    with torch.no_grad():
        ours_loss = ours(idx[:, :-1], targets=idx[:, 1:])
        hf_loss = theirs(idx, labels=idx).loss
    torch.testing.assert_close(ours_loss, hf_loss, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("rotary_pct", [0.5, 0.25])
def test_transformers_load_in_ours(tmp_path, rotary_pct):
    cfg = _tiny(rotary_pct)
    hf_cfg = transformers.GPTNeoXConfig(
        vocab_size=cfg.vocab_size,
        hidden_size=cfg.d_model,
        num_hidden_layers=cfg.n_layer,
        num_attention_heads=cfg.n_head,
        intermediate_size=cfg.d_ff,
        rotary_pct=rotary_pct,
        rotary_emb_base=10000,
        max_position_embeddings=cfg.max_seq_len,
        layer_norm_eps=1e-5,
        use_parallel_residual=True,
        tie_word_embeddings=False,
        hidden_act="gelu",
    )
    torch.manual_seed(3)
    theirs = transformers.GPTNeoXForCausalLM(hf_cfg).eval()
    _perturb_(theirs)
    theirs.save_pretrained(tmp_path)
    ours = load_hf(str(tmp_path)).eval()
    assert ours.cfg.rotary_dim == int(cfg.head_dim * rotary_pct)
    idx = _batch(cfg.vocab_size)
    with torch.no_grad():
        torch.testing.assert_close(ours(idx), theirs(idx).logits, atol=1e-4, rtol=0)


def test_round_trip_is_exact(tmp_path):
    ours = GPTNeoX(_tiny(0.5))
    save_hf(ours, tmp_path)
    again = load_hf(str(tmp_path))
    for (k, a), (k2, b) in zip(ours.state_dict().items(), again.state_dict().items()):
        assert k == k2 and torch.equal(a, b), k


@pytest.mark.parametrize("chunk_rows", [None, 7])
def test_training_gradients_match_transformers(tmp_path, monkeypatch, chunk_rows):
    """The training path (on CPU the loss and its gradients come chunk by chunk, computed
    in forward) against autograd through HF's logits and F.cross_entropy, ignored targets
    included; 7 rows a chunk leaves a short last chunk."""
    from train.ops import CPULinearCrossEntropy

    if chunk_rows:
        monkeypatch.setattr(CPULinearCrossEntropy, "CHUNK_BYTES", 4 * 384 * chunk_rows)
    torch.manual_seed(0)
    ours = GPTNeoX(_tiny(0.25))
    _perturb_(ours)
    save_hf(ours, tmp_path)
    theirs = transformers.GPTNeoXForCausalLM.from_pretrained(tmp_path, attn_implementation="eager")
    idx = _batch(ours.cfg.vocab_size)
    x, y = idx[:, :-1], idx[:, 1:].clone()
    y[0, :5] = -100
    y[1, -1] = -100
    ours_loss = ours(x, targets=y)
    logits = theirs(x).logits
    hf_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100)
    torch.testing.assert_close(ours_loss, hf_loss, atol=1e-5, rtol=1e-5)
    (3.0 * ours_loss).backward()
    (3.0 * hf_loss).backward()
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        hf_name = to_hf_name(name)
        q = theirs_params[hf_name if hf_name in theirs_params else "lm_head.weight"]  # transformers >= 5
        torch.testing.assert_close(p.grad, q.grad, atol=1e-5, rtol=1e-4, msg=lambda m: f"{name}: {m}")
