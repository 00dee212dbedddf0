"""GPT-NeoX as Polyglot-Ko uses it, in plain torch.

Parallel residual (x + attn(ln1(x)) + mlp(ln2(x))), partial rotary embeddings,
fused qkv laid out per head as [q, k, v], exact GELU, untied output embedding.
On the CPU the training loss runs chunk by chunk (CPULinearCrossEntropy).
On CUDA the hot ops can run as the Triton kernels of the project's kernels/ folder
(imported as `polyglot_kernels`; `use_kernels`); elsewhere the torch ops run. A model
asked for kernels never falls back quietly: `resolve_ops(use_kernels, device)` names the
implementation of every op, or raises KernelUnavailable naming the op and why.

`load_hf` / `save_hf` read and write the Hugging Face GPT-NeoX format
(config.json + model.safetensors), so Polyglot-Ko checkpoints continue here and
ours load in `transformers.GPTNeoXForCausalLM`.
"""

from __future__ import annotations

import functools
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from train.config import ModelConfig

# ----------------------------------------------------------------------------- ops


def torch_rotary(q, k, cos, sin, rotary_dim):
    """q, k: (batch, heads, seq, head_dim), the layout SDPA takes; rotary on the first
    rotary_dim of each head (HF's rotate_half convention). cos, sin: (>= seq, rotary_dim),
    both halves equal (cat(freqs, freqs)), so one half is read. Written out per half,
    x1 * cos - x2 * sin is what HF computes as x1 * cos + (-x2) * sin, bit for bit,
    without rotate_half's negated copy and concatenation."""
    half = rotary_dim // 2
    cos = cos[: q.shape[2], :half].to(q.dtype)
    sin = sin[: q.shape[2], :half].to(q.dtype)

    def apply(x):
        x1, x2, x_pass = x[..., :half], x[..., half:rotary_dim], x[..., rotary_dim:]
        return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin, x_pass), dim=-1)

    return apply(q), apply(k)


def torch_layer_norm(x, weight, bias, eps):
    return F.layer_norm(x, (x.shape[-1],), weight, bias, eps)


def torch_bias_gelu(x, bias):
    return F.gelu(x + bias)


class CPULinearCrossEntropy(torch.autograd.Function):
    """Mean cross entropy of hidden @ weight^T on the CPU, a chunk of rows at a time,
    with the gradients computed in forward (softmax - one-hot, then two matmuls) and
    scaled in backward. No (tokens, vocab) tensor is ever whole. Whole ones (logits,
    log-softmax, the zero-filled one-hot gradient, the logits' gradient: 32 MiB each
    for the tiny model's 8 x 256 batch) are above glibc's mmap threshold, so each is
    mapped, page-faulted in and unmapped again at every step; a chunk's are reused."""

    CHUNK_BYTES = 16 << 20  # fp32 logits per chunk; glibc maps 32 MiB and more afresh

    @staticmethod
    def forward(ctx, hidden, weight, target, ignore_index):
        # few ops per chunk: with several threads each op is a barrier they all must reach
        rows = max(1, CPULinearCrossEntropy.CHUNK_BYTES // (4 * weight.shape[0]))
        valid = target != ignore_index
        all_valid = bool(valid.all())
        target = target.masked_fill(~valid, 0)[:, None]
        target_logp = torch.empty(target.shape, dtype=torch.float32)
        minus_one = torch.full((min(rows, len(target)), 1), -1.0)
        grad_hidden = torch.empty_like(hidden)
        grad_weight = torch.zeros(weight.shape, dtype=torch.float32)
        for start in range(0, len(hidden), rows):
            h, t = hidden[start : start + rows], target[start : start + rows]
            logp = F.log_softmax(F.linear(h, weight).float(), dim=-1)
            torch.gather(logp, 1, t, out=target_logp[start : start + rows])
            grad = logp.exp_()  # softmax
            grad.scatter_add_(1, t, minus_one[: len(t)])  # minus the one-hot target
            if not all_valid:
                grad.mul_(valid[start : start + rows, None])  # ignored rows have no gradient
            grad = grad.to(weight.dtype)
            torch.mm(grad, weight, out=grad_hidden[start : start + rows])
            grad_weight.addmm_(grad.t().float(), h.float())
        n_valid = valid.sum()
        ctx.save_for_backward(grad_hidden, grad_weight, n_valid)
        ctx.weight_dtype = weight.dtype
        if not all_valid:
            target_logp.masked_fill_(~valid[:, None], 0)
        return -target_logp.sum() / n_valid

    @staticmethod
    def backward(ctx, grad_loss):
        grad_hidden, grad_weight, n_valid = ctx.saved_tensors
        scale = grad_loss / n_valid
        return (grad_hidden * scale.to(grad_hidden.dtype), (grad_weight * scale).to(ctx.weight_dtype), None, None)


def torch_linear_cross_entropy(hidden, weight, target, ignore_index=-100):
    # chunked only when training on the CPU; elsewhere (and for evaluation) plain autograd
    hidden, target = hidden.reshape(-1, hidden.shape[-1]), target.reshape(-1)
    if hidden.device.type == "cpu" and torch.is_grad_enabled() and (hidden.requires_grad or weight.requires_grad):
        return CPULinearCrossEntropy.apply(hidden, weight, target, ignore_index)
    return F.cross_entropy(F.linear(hidden, weight).float(), target, ignore_index=ignore_index)


TORCH_OPS = {
    "layer_norm": torch_layer_norm,
    "rotary": torch_rotary,
    "bias_gelu": torch_bias_gelu,
    "fused_linear_cross_entropy": torch_linear_cross_entropy,
}


class KernelUnavailable(RuntimeError):
    """A Triton kernel was asked for and cannot run; the message names the op and why."""


@functools.lru_cache(maxsize=1)
def kernel_ops() -> dict:
    """The Triton-backed op of every hot op, each imported now (so a broken kernel fails
    here, not mid-step); KernelUnavailable names the first op that cannot be loaded."""
    try:
        from polyglot_kernels import ops
    except Exception as e:
        raise KernelUnavailable(f"kernel ops: polyglot_kernels cannot be imported ({type(e).__name__}: {e})") from e
    for name in TORCH_OPS:
        try:
            ops.triton_function(name)
        except Exception as e:
            raise KernelUnavailable(f"kernel {name}: {type(e).__name__}: {e}") from e
    return {name: getattr(ops, name) for name in TORCH_OPS}


def resolve_ops(use_kernels: bool, device) -> dict:
    """{op: "triton" | "torch"}: what each op runs on `device`. With use_kernels, every op
    must be a Triton kernel that can run there, or KernelUnavailable says which and why."""
    if not use_kernels:
        return {name: "torch" for name in TORCH_OPS}
    kernel_ops()
    from polyglot_kernels.dispatch import why_not_triton

    why = why_not_triton(device)
    if why:
        raise KernelUnavailable(f"kernels {', '.join(TORCH_OPS)} cannot run on {device}: {why}")
    return {name: "triton" for name in TORCH_OPS}


# ----------------------------------------------------------------------------- model


# Every module holds `ops`, the model's bound method that returns the op table, and calls
# it at run time: flipping model.use_kernels switches the whole model at once.


class LayerNorm(nn.LayerNorm):
    def __init__(self, d, eps, ops):
        super().__init__(d, eps=eps)
        self._ops = ops

    def forward(self, x):
        return self._ops()["layer_norm"](x, self.weight, self.bias, self.eps)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig, ops):
        super().__init__()
        self.n_head, self.head_dim, self.rotary_dim = cfg.n_head, cfg.head_dim, cfg.rotary_dim
        self.query_key_value = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.dense = nn.Linear(cfg.d_model, cfg.d_model)
        self._ops = ops

    def forward(self, x, cos, sin):
        B, T, C = x.shape
        # HF GPT-NeoX layout: the 3*C outputs are per head [q | k | v], head after head
        qkv = self.query_key_value(x).view(B, T, self.n_head, 3 * self.head_dim)
        rotary = self._ops()["rotary"]
        if rotary is torch_rotary:  # heads-first throughout, as SDPA wants it
            q, k, v = qkv.transpose(1, 2).split(self.head_dim, dim=-1)  # each (B, H, T, hd)
            q, k = torch_rotary(q, k, cos, sin, self.rotary_dim)
        else:  # the kernel reads the (B, T, H, hd) views of the fused projection in place
            q, k, v = qkv.split(self.head_dim, dim=-1)
            q, k = rotary(q, k, cos, sin, self.rotary_dim)
            q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.dense(y.transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig, ops):
        super().__init__()
        self.dense_h_to_4h = nn.Linear(cfg.d_model, cfg.d_ff)
        self.dense_4h_to_h = nn.Linear(cfg.d_ff, cfg.d_model)
        self._ops = ops

    def forward(self, x):
        ops = self._ops()
        if ops["bias_gelu"] is torch_bias_gelu:  # torch: the bias rides in the matmul (addmm)
            h = F.gelu(self.dense_h_to_4h(x))
        else:  # kernel: the bias is added inside the fused bias+GELU
            h = ops["bias_gelu"](F.linear(x, self.dense_h_to_4h.weight), self.dense_h_to_4h.bias)
        return self.dense_4h_to_h(h)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig, ops):
        super().__init__()
        self.input_layernorm = LayerNorm(cfg.d_model, cfg.layer_norm_eps, ops)
        self.post_attention_layernorm = LayerNorm(cfg.d_model, cfg.layer_norm_eps, ops)
        self.attention = Attention(cfg, ops)
        self.mlp = MLP(cfg, ops)
        self.checkpoint = False  # activation checkpointing: keep only the input, recompute in backward

    def forward(self, x, cos, sin):
        # checkpoint inside forward, so that wrappers around the block (FSDP's gather and
        # input casting) run once, outside the recomputed region (as torchtitan does)
        if self.checkpoint and self.training and torch.is_grad_enabled():
            return checkpoint(self._forward, x, cos, sin, use_reentrant=False)
        return self._forward(x, cos, sin)

    def _forward(self, x, cos, sin):
        return x + self.attention(self.input_layernorm(x), cos, sin) + self.mlp(self.post_attention_layernorm(x))


class GPTNeoX(nn.Module):
    def __init__(self, cfg: ModelConfig, use_kernels: bool = False, checkpoint_blocks: bool = False):
        super().__init__()
        self.cfg = cfg
        self.use_kernels = use_kernels
        ops = self.ops
        self.embed_in = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.layers = nn.ModuleList(Block(cfg, ops) for _ in range(cfg.n_layer))
        for block in self.layers:
            block.checkpoint = checkpoint_blocks
        self.final_layer_norm = LayerNorm(cfg.d_model, cfg.layer_norm_eps, ops)
        self.embed_out = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        cos, sin = self._rotary_tables(torch.get_default_device() if not self.embed_in.weight.is_meta else "meta")
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        if not self.embed_in.weight.is_meta:
            self.init_weights()

    def ops(self) -> dict:
        return kernel_ops() if self.use_kernels else TORCH_OPS

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
        return self.ops()["fused_linear_cross_entropy"](hidden, self.embed_out.weight, targets, ignore_index=-100)


def n_params(model: nn.Module, embedding: bool = True) -> int:
    n = sum(p.numel() for p in model.parameters())
    return n if embedding else n - model.embed_in.weight.numel()


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
