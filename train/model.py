"""GPT-NeoX as Polyglot-Ko uses it, in plain torch.

Parallel residual (x + attn(ln1(x)) + mlp(ln2(x))), partial rotary embeddings,
fused qkv laid out per head as [q, k, v], exact GELU, untied output embedding.
The hot ops (layer norm, rotary, bias + GELU, the fused linear cross entropy) come
from the op table the model is built with (train.ops: torch's by default, or the
Triton kernels); the model calls them and chooses nothing.

`load_hf` / `save_hf` read and write the Hugging Face GPT-NeoX format
(config.json + model.safetensors), so Polyglot-Ko checkpoints continue here and
ours load in `transformers.GPTNeoXForCausalLM`.

    python -m train.model --size 1.3b      # parameter count, model built on the meta device
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from train.config import SIZES, ModelConfig, get_config
from train.ops import TORCH_OPS

# ----------------------------------------------------------------------------- model


# Every module calls the op table it was built with (train.ops: the torch ops or the
# Triton kernels); which table, and whether blocks are checkpointed, the trainer decides.


class LayerNorm(nn.LayerNorm):
    def __init__(self, d, eps, ops):
        super().__init__(d, eps=eps)
        self.layer_norm = ops["layer_norm"]

    def forward(self, x):
        return self.layer_norm(x, self.weight, self.bias, self.eps)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig, ops):
        super().__init__()
        self.n_head, self.head_dim, self.rotary_dim = cfg.n_head, cfg.head_dim, cfg.rotary_dim
        self.query_key_value = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.dense = nn.Linear(cfg.d_model, cfg.d_model)
        self.rotary = ops["rotary"]

    def forward(self, x, cos, sin):
        B, T, C = x.shape
        # HF GPT-NeoX layout: the 3*C outputs are per head [q | k | v], head after head;
        # rotary reads the (B, T, H, hd) views of the fused projection in place
        q, k, v = self.query_key_value(x).view(B, T, self.n_head, 3 * self.head_dim).split(self.head_dim, dim=-1)
        q, k = self.rotary(q, k, cos, sin, self.rotary_dim)
        y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True)
        return self.dense(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig, ops):
        super().__init__()
        self.dense_h_to_4h = nn.Linear(cfg.d_model, cfg.d_ff)
        self.dense_4h_to_h = nn.Linear(cfg.d_ff, cfg.d_model)
        self.bias_gelu = ops["bias_gelu"]

    def forward(self, x):
        h = self.bias_gelu(F.linear(x, self.dense_h_to_4h.weight), self.dense_h_to_4h.bias)
        return self.dense_4h_to_h(h)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig, ops):
        super().__init__()
        self.input_layernorm = LayerNorm(cfg.d_model, cfg.layer_norm_eps, ops)
        self.post_attention_layernorm = LayerNorm(cfg.d_model, cfg.layer_norm_eps, ops)
        self.attention = Attention(cfg, ops)
        self.mlp = MLP(cfg, ops)

    def forward(self, x, cos, sin):
        return x + self.attention(self.input_layernorm(x), cos, sin) + self.mlp(self.post_attention_layernorm(x))


class GPTNeoX(nn.Module):
    def __init__(self, cfg: ModelConfig, ops: dict = TORCH_OPS):
        super().__init__()
        self.cfg = cfg
        self.embed_in = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.layers = nn.ModuleList(Block(cfg, ops) for _ in range(cfg.n_layer))
        self.final_layer_norm = LayerNorm(cfg.d_model, cfg.layer_norm_eps, ops)
        self.embed_out = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        cos, sin = self._rotary_tables(torch.get_default_device() if not self.embed_in.weight.is_meta else "meta")
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.linear_cross_entropy = ops["fused_linear_cross_entropy"]
        if not self.embed_in.weight.is_meta:
            self.init_weights()

    def _rotary_tables(self, device):
        cfg = self.cfg
        inv_freq = 1.0 / (
            cfg.rotary_base
            ** (torch.arange(0, cfg.rotary_dim, 2, device=device, dtype=torch.int64).float() / cfg.rotary_dim)
        )
        freqs = torch.outer(torch.arange(cfg.max_seq_len, device=device, dtype=torch.float32), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos(), emb.sin()

    @torch.no_grad()
    def init_weights(self, seed: int | None = None):
        """Normal(0, 0.02) weights, output projections scaled by 1/sqrt(2 n_layer) (GPT-2),
        zero biases, unit LayerNorms. Also (re)builds the rotary tables after to_empty()."""
        gen = torch.Generator(device="cpu").manual_seed(seed) if seed is not None else None
        std = self.cfg.init_std
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif "layernorm" in name or "layer_norm" in name:
                p.fill_(1.0)
            else:
                s = (
                    std / math.sqrt(2 * self.cfg.n_layer)
                    if name.endswith(("dense.weight", "dense_4h_to_h.weight"))
                    else std
                )
                p.copy_(torch.randn(p.shape, generator=gen) * s if gen is not None else torch.randn_like(p) * s)
        cos, sin = self._rotary_tables(self.rope_cos.device)
        self.rope_cos.copy_(cos)
        self.rope_sin.copy_(sin)

    def forward(self, idx, targets=None):
        x = self.embed_in(idx)
        cos, sin = self.rope_cos, self.rope_sin
        for block in self.layers:
            x = block(x, cos, sin)
        x = self.final_layer_norm(x)
        if targets is not None:
            return self.loss(x, targets)
        return self.embed_out(x)

    def loss(self, hidden, targets):
        """Mean next-token cross entropy; the fused kernel never materialises the logits."""
        return self.linear_cross_entropy(hidden, self.embed_out.weight, targets, ignore_index=-100)


def n_params(model: nn.Module, embedding: bool = True) -> int:
    n = sum(p.numel() for p in model.parameters())
    return n if embedding else n - model.embed_in.weight.numel()


def count_params(cfg: ModelConfig) -> int:
    """Exact parameter count, from the model itself built on the meta device."""
    with torch.device("meta"):
        return n_params(GPTNeoX(cfg))


# ----------------------------------------------------------------------------- Hugging Face format

# our name -> HF name (a prefix replacement; block contents share HF's names)
_HF_PREFIXES = (
    ("embed_in.", "gpt_neox.embed_in."),
    ("layers.", "gpt_neox.layers."),
    ("final_layer_norm.", "gpt_neox.final_layer_norm."),
    ("embed_out.", "embed_out."),
)


def to_hf_name(name: str) -> str:
    for ours, theirs in _HF_PREFIXES:
        if name.startswith(ours):
            return theirs + name[len(ours) :]
    raise KeyError(name)


def from_hf_name(name: str) -> str | None:
    if name == "lm_head.weight":  # transformers >= 5 calls embed_out lm_head in memory
        return "embed_out.weight"
    for ours, theirs in _HF_PREFIXES:
        if name.startswith(theirs):
            return ours + name[len(theirs) :]
    return None


def hf_config(cfg: ModelConfig, eos_id: int = 0) -> dict:
    return {
        "architectures": ["GPTNeoXForCausalLM"],
        "model_type": "gpt_neox",
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.d_model,
        "num_hidden_layers": cfg.n_layer,
        "num_attention_heads": cfg.n_head,
        "intermediate_size": cfg.d_ff,
        "hidden_act": "gelu",
        "rotary_pct": cfg.rotary_pct,
        "rotary_emb_base": cfg.rotary_base,
        "max_position_embeddings": cfg.max_seq_len,
        "layer_norm_eps": cfg.layer_norm_eps,
        "initializer_range": cfg.init_std,
        "use_parallel_residual": True,
        "attention_bias": True,
        "tie_word_embeddings": False,
        "use_cache": True,
        "bos_token_id": eos_id,
        "eos_token_id": eos_id,
        "attention_dropout": 0.0,
        "hidden_dropout": 0.0,
        "torch_dtype": "float32",
        # newer transformers read rotary settings from here
        "rope_parameters": {
            "rope_type": "default",
            "rope_theta": cfg.rotary_base,
            "partial_rotary_factor": cfg.rotary_pct,
        },
    }


def config_from_hf(d: dict) -> ModelConfig:
    if not d.get("use_parallel_residual", True):
        raise ValueError("only parallel-residual GPT-NeoX (Polyglot-Ko) is supported")
    if d.get("tie_word_embeddings", False):
        raise ValueError("tied embeddings are not supported (Polyglot-Ko unties them)")
    if d.get("hidden_act", "gelu") != "gelu":
        raise ValueError(f"hidden_act {d['hidden_act']!r}: only exact 'gelu' is supported")
    rope = d.get("rope_parameters") or d.get("rope_scaling") or {}
    return ModelConfig(
        n_layer=d["num_hidden_layers"],
        d_model=d["hidden_size"],
        d_ff=d["intermediate_size"],
        n_head=d["num_attention_heads"],
        vocab_size=d["vocab_size"],
        max_seq_len=d.get("max_position_embeddings", 2048),
        rotary_pct=d.get("rotary_pct", rope.get("partial_rotary_factor", 0.25)),
        rotary_base=d.get("rotary_emb_base", rope.get("rope_theta", 10000.0)),
        layer_norm_eps=d.get("layer_norm_eps", 1e-5),
        init_std=d.get("initializer_range", 0.02),
    )


def save_hf(
    model: GPTNeoX, path: str, state_dict: dict | None = None, eos_id: int = 0, dtype: torch.dtype = torch.float32
) -> None:
    """Write config.json + model.safetensors. `state_dict` (ours, full tensors) overrides
    model.state_dict(), for FSDP models gathered elsewhere."""
    from safetensors.torch import save_file

    os.makedirs(path, exist_ok=True)
    sd = model.state_dict() if state_dict is None else state_dict
    tensors = {
        to_hf_name(k): v.detach().to("cpu", dtype).contiguous() for k, v in sd.items() if not k.startswith("rope_")
    }
    cfg = hf_config(model.cfg, eos_id)
    cfg["torch_dtype"] = str(dtype).removeprefix("torch.")
    with open(os.path.join(path, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
    save_file(tensors, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})


def read_hf_state(path: str) -> dict:
    """Our-named tensors from a HF folder (one or sharded safetensors, or pytorch_model*.bin)."""
    from safetensors.torch import load_file

    files = sorted(f for f in os.listdir(path) if f.endswith(".safetensors"))
    if files:
        raw = {}
        for f in files:
            raw.update(load_file(os.path.join(path, f)))
    else:
        raw = {}
        for f in sorted(f for f in os.listdir(path) if f.startswith("pytorch_model") and f.endswith(".bin")):
            raw.update(torch.load(os.path.join(path, f), map_location="cpu", weights_only=True))
    out = {}
    for k, v in raw.items():
        ours = from_hf_name(k)
        # old checkpoints carry buffers (causal mask, masked_bias, inv_freq): we rebuild those
        if ours is None or ours.endswith((".attention.bias", ".attention.masked_bias", "inv_freq")):
            continue
        out[ours] = v
    return out


def load_hf(path: str, device="cpu", dtype: torch.dtype = torch.float32, **model_kw) -> GPTNeoX:
    with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
        cfg = config_from_hf(json.load(f))
    with torch.device("meta"):
        model = GPTNeoX(cfg, **model_kw)
    model.to_empty(device=device)
    model.init_weights()  # rotary tables
    sd = read_hf_state(path)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise ValueError(f"{path}: missing {missing}, unexpected {unexpected}")
    return model.to(dtype)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="parameter count of a GPT-NeoX size")
    ap.add_argument("--size", default="1.3b", choices=list(SIZES))
    args = ap.parse_args(argv)
    cfg = get_config(args.size)
    n = count_params(cfg)
    print(
        f"{args.size}: {n:,} parameters ({cfg.n_layer} layers, d_model {cfg.d_model}, d_ff {cfg.d_ff}, "
        f"{cfg.n_head} heads of {cfg.head_dim}, rotary {cfg.rotary_dim} dims, vocab {cfg.vocab_size})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
