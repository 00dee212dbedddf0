"""The op tables the model runs: the torch ops, or the Triton kernels of the project's
kernels/ folder (imported as `polyglot_kernels`). The trainer picks one and hands it to
the model; the model calls what it is given.

The torch ops are the kernels' own references (polyglot_kernels.reference), except the
training loss on the CPU, which runs chunk by chunk (CPULinearCrossEntropy). A run asked
for kernels never falls back quietly: `resolve_ops(use_kernels, device)` names the
implementation of every op, or raises KernelUnavailable naming the op and why.
"""

from __future__ import annotations

import functools

import torch

from polyglot_kernels import reference


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
        rows = min(len(hidden), max(1, CPULinearCrossEntropy.CHUNK_BYTES // (4 * weight.shape[0])))
        valid = target != ignore_index
        all_valid = bool(valid.all())
        target = target.masked_fill(~valid, 0)[:, None]
        target_logp = torch.empty(target.shape, dtype=torch.float32)
        minus_one = torch.full((rows, 1), -1.0)
        grad_hidden = torch.empty_like(hidden)
        grad_weight = torch.empty(weight.shape, dtype=torch.float32)
        # one logits and one log-softmax buffer for every chunk: each fresh one would be
        # page-faulted in again
        logits = torch.empty((rows, weight.shape[0]), dtype=hidden.dtype)
        logp_buf = torch.empty((rows, weight.shape[0]), dtype=torch.float32)
        for start in range(0, len(hidden), rows):
            h, t = hidden[start : start + rows], target[start : start + rows]
            n = len(h)
            torch.mm(h, weight.t(), out=logits[:n])
            logp = torch.log_softmax(logits[:n].float(), dim=-1, out=logp_buf[:n])
            torch.gather(logp, 1, t, out=target_logp[start : start + rows])
            grad = logp.exp_()  # softmax
            grad.scatter_add_(1, t, minus_one[:n])  # minus the one-hot target
            if not all_valid:
                grad.mul_(valid[start : start + rows, None])  # ignored rows have no gradient
            grad = grad.to(weight.dtype)
            torch.mm(grad, weight, out=grad_hidden[start : start + rows])
            if start == 0:
                torch.mm(grad.t().float(), h.float(), out=grad_weight)
            else:
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


def linear_cross_entropy(hidden, weight, target, ignore_index=-100):
    """Chunked when training on the CPU; elsewhere (and for evaluation) the reference."""
    if hidden.device.type == "cpu" and torch.is_grad_enabled() and (hidden.requires_grad or weight.requires_grad):
        hidden, target = hidden.reshape(-1, hidden.shape[-1]), target.reshape(-1)
        return CPULinearCrossEntropy.apply(hidden, weight, target, ignore_index)
    return reference.fused_linear_cross_entropy(hidden, weight, target, ignore_index)


TORCH_OPS = {
    "layer_norm": reference.layer_norm,
    "rotary": reference.rotary,
    "bias_gelu": reference.bias_gelu,
    "fused_linear_cross_entropy": linear_cross_entropy,
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


def op_table(use_kernels: bool) -> dict:
    """The ops the model is built with: the kernels' (after resolve_ops said they run) or torch's."""
    return kernel_ops() if use_kernels else TORCH_OPS
