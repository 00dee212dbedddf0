"""Pure-torch references of every fused kernel: the ground truth in tests, the path
taken where Triton does not run, and the torch ops the model trains with."""

import torch
import torch.nn.functional as F


def layer_norm(x, weight, bias, eps=1e-5):
    return F.layer_norm(x, (x.shape[-1],), weight, bias, eps)


def rotary(q, k, cos, sin, rotary_dim):
    """q, k: (batch, seq, heads, head_dim), any strides; cos, sin: (>= seq, rotary_dim),
    both halves equal (cat(freqs, freqs)), so one half is read. Rotary on the first
    rotary_dim of each head, HF's rotate_half convention: x1 * cos - x2 * sin is what HF
    computes as x1 * cos + (-x2) * sin, bit for bit, without rotate_half's negated copy.

    The math runs on (batch, heads, seq, head_dim) views, so the results are contiguous
    heads-first tensors returned as (batch, seq, heads, head_dim) views: transposed back
    they are the contiguous layout scaled_dot_product_attention takes, with no copy."""
    half = rotary_dim // 2
    cos = cos[: q.shape[1], :half].to(q.dtype)
    sin = sin[: q.shape[1], :half].to(q.dtype)

    def apply(x):
        x = x.transpose(1, 2)
        x1, x2, x_pass = x[..., :half], x[..., half:rotary_dim], x[..., rotary_dim:]
        return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin, x_pass), dim=-1).transpose(1, 2)

    return apply(q), apply(k)


def bias_gelu(x, bias):
    return F.gelu(x + bias)  # exact erf GELU, GPT-NeoX's "gelu"


def fused_linear_cross_entropy(hidden, weight, target, ignore_index=-100, bias=None):
    hidden = hidden.reshape(-1, hidden.shape[-1])
    logits = F.linear(hidden, weight, bias)
    return F.cross_entropy(logits.float(), target.reshape(-1), ignore_index=ignore_index)
