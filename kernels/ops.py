"""Fused kernels for the GPT-NeoX hot paths: `from polyglot_kernels import ops`.

The folder kernels/ is imported as `polyglot_kernels` (setup.cfg maps it): the name
`kernels` belongs to Hugging Face's package, which transformers imports.

Each op runs a Triton kernel (a torch.autograd.Function with fused forward and
backward) on CUDA, or on CPU under TRITON_INTERPRET=1, and its pure-torch
reference (polyglot_kernels.reference) everywhere else. KERNELS_REFERENCE=1 forces
the reference. Triton is imported only when a kernel is first used, or when
`triton_function` is asked for one (the trainer does, to fail before it starts).
"""

import importlib

import torch

from . import reference
from .dispatch import use_triton, why_not_triton

__all__ = [
    "layer_norm",
    "rotary",
    "bias_gelu",
    "fused_linear_cross_entropy",
    "reference",
    "use_triton",
    "why_not_triton",
    "triton_function",
    "OPS",
]

# op -> (module, autograd Function) of its Triton kernel
TRITON_FUNCTIONS = {
    "layer_norm": ("_layer_norm_triton", "LayerNormFunction"),
    "rotary": ("_rotary_triton", "RotaryFunction"),
    "bias_gelu": ("_bias_gelu_triton", "BiasGeluFunction"),
    "fused_linear_cross_entropy": ("_cross_entropy_triton", "FusedLinearCrossEntropyFunction"),
}
OPS = tuple(TRITON_FUNCTIONS)


def triton_function(name: str):
    """The Triton autograd Function of op `name`, imported now: raises what the import
    raises (triton missing, a kernel module that does not compile its Python)."""
    module, attr = TRITON_FUNCTIONS[name]
    return getattr(importlib.import_module(f"{__package__}.{module}"), attr)


def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """LayerNorm over the last dim with fp32 statistics; x is bf16/fp16/fp32 of any
    leading shape, weight and bias are (hidden,). Output has x's dtype."""
    if not use_triton(x):
        return reference.layer_norm(x, weight, bias, eps)
    from ._layer_norm_triton import LayerNormFunction

    return LayerNormFunction.apply(x, weight, bias, eps)


def rotary(q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, rotary_dim: int):
    """GPT-NeoX partial rotary embedding; returns (q_rot, k_rot).

    Layout: q and k are (batch, seq, heads, head_dim), any strides (views of a fused
    qkv projection are read in place). cos and sin are (>= seq, rotary_dim) as HF
    GPT-NeoX builds them, cos = cat(freqs, freqs).cos(); row p is used for position p.
    The first rotary_dim dims of every head are rotated with the rotate_half
    convention (pairs i and i + rotary_dim/2); the rest pass through. Outputs are new
    contiguous (batch, seq, heads, head_dim) tensors in q's and k's dtypes; the math
    runs in fp32.
    """
    assert q.dim() == 4 and q.shape == k.shape, "q, k must both be (batch, seq, heads, head_dim)"
    assert rotary_dim % 2 == 0 and 0 < rotary_dim <= q.shape[-1]
    cos = cos.reshape(-1, cos.shape[-1])
    sin = sin.reshape(-1, sin.shape[-1])
    assert cos.shape[-1] == rotary_dim and cos.shape[0] >= q.shape[1], "cos/sin must be (>= seq, rotary_dim)"
    if not use_triton(q):
        return reference.rotary(q, k, cos, sin, rotary_dim)
    from ._rotary_triton import RotaryFunction

    return RotaryFunction.apply(q, k, cos.contiguous(), sin.contiguous(), rotary_dim)


def bias_gelu(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """gelu(x + bias), exact erf GELU; x is (..., n), bias is (n,)."""
    if not use_triton(x):
        return reference.bias_gelu(x, bias)
    from ._bias_gelu_triton import BiasGeluFunction

    return BiasGeluFunction.apply(x, bias)


def fused_linear_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    target: torch.Tensor,
    ignore_index: int = -100,
    bias: torch.Tensor | None = None,
    chunk_rows: int | None = None,
) -> torch.Tensor:
    """Mean cross entropy of (hidden @ weight^T + bias) against target over the
    non-ignored targets, without materializing the full logits.

    hidden is (..., hidden_size), weight (vocab, hidden_size), target (...) int64.
    Gradients for hidden, weight and bias are computed chunk by chunk during
    forward (they are the bulk of the work) and scaled in backward, so backward
    runs once per forward. chunk_rows overrides the tokens per chunk (by default
    a chunk's logits are about the size of hidden).
    """
    if not use_triton(hidden):
        return reference.fused_linear_cross_entropy(hidden, weight, target, ignore_index, bias)
    from ._cross_entropy_triton import FusedLinearCrossEntropyFunction

    return FusedLinearCrossEntropyFunction.apply(hidden, weight, target, ignore_index, bias, chunk_rows)
