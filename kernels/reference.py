"""Pure-torch references of every fused kernel: the ground truth in tests and the
path taken where Triton does not run. Written the way the eager model does it."""

import torch
import torch.nn.functional as F


def layer_norm(x, weight, bias, eps=1e-5):
    return F.layer_norm(x, (x.shape[-1],), weight, bias, eps)


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def rotary(q, k, cos, sin, rotary_dim):
    """q, k: (batch, seq, heads, head_dim); cos, sin: (>= seq, rotary_dim)."""
    seq = q.shape[1]
    cos = cos[:seq, None, :].to(q.dtype)  # broadcast over heads
    sin = sin[:seq, None, :].to(q.dtype)

    def apply(x):
        x_rot, x_pass = x[..., :rotary_dim], x[..., rotary_dim:]
        return torch.cat((x_rot * cos + rotate_half(x_rot) * sin, x_pass), dim=-1)

    return apply(q), apply(k)


def bias_gelu(x, bias):
    return F.gelu(x + bias)  # exact erf GELU, GPT-NeoX's "gelu"


def fused_linear_cross_entropy(hidden, weight, target, ignore_index=-100, bias=None):
    hidden = hidden.reshape(-1, hidden.shape[-1])
    logits = F.linear(hidden, weight, bias)
    return F.cross_entropy(logits.float(), target.reshape(-1), ignore_index=ignore_index)
