"""Linear + cross entropy without the full logits (the Liger-Kernel scheme).

Tokens are processed in chunks: logits = h @ W^T for one chunk (torch matmul),
then a Triton kernel computes each row's loss with an online softmax and
overwrites the logits with d(loss_row)/d(logits) in place. The chunk's gradient
flows straight into grad_hidden and an fp32 grad_weight accumulator, and the
logits buffer is reused by the next chunk. Gradients are therefore computed in
forward; backward only scales them by grad_output / n_valid.
"""

import torch
import triton
import triton.language as tl

from ._grid import cdiv, next_power_of_2


@triton.jit
def _ce_kernel(Logits, stride_l, Target, Loss, V, ignore_index, BLOCK_V: tl.constexpr, WRITE_GRAD: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    ptr = Logits + row * stride_l
    target = tl.load(Target + row)
    valid = target != ignore_index
    # Pass 1: running max and sum of exponentials.
    m = float("-inf")
    d = 0.0
    for start in range(0, V, BLOCK_V):
        offs = start + tl.arange(0, BLOCK_V)
        x = tl.load(ptr + offs, mask=offs < V, other=float("-inf")).to(tl.float32)
        m_new = tl.maximum(m, tl.max(x, axis=0))
        d = d * tl.exp(m - m_new) + tl.sum(tl.exp(x - m_new), axis=0)
        m = m_new
    lse = m + tl.log(d)
    safe_target = tl.where(valid, target, 0)
    x_t = tl.load(ptr + safe_target).to(tl.float32)
    tl.store(Loss + row, tl.where(valid, lse - x_t, 0.0))
    if WRITE_GRAD:
        # Pass 2: softmax - onehot (unscaled; the 1/n_valid mean is applied once in backward).
        for start in range(0, V, BLOCK_V):
            offs = start + tl.arange(0, BLOCK_V)
            mask = offs < V
            x = tl.load(ptr + offs, mask=mask, other=0.0).to(tl.float32)
            g = tl.exp(x - lse) - tl.where(offs == target, 1.0, 0.0)
            g = tl.where(valid, g, 0.0)
            tl.store(ptr + offs, g.to(Logits.dtype.element_ty), mask=mask)


def _chunk_rows(n_tokens: int, hidden: int, vocab: int) -> int:
    # A chunk's logits about twice the size of the hidden states (Liger uses 1x): fewer
    # grad_weight accumulations, still a small fraction of the full logits' memory.
    per = cdiv(vocab, 2 * hidden)
    return max(1, next_power_of_2(cdiv(n_tokens, per)))


_ADDMM_FP32_OUT = None  # does torch.addmm(acc_fp32, a_bf16, b_bf16, out_dtype=fp32, out=acc) work here?


def _addmm_fp32_out_works(device) -> bool:
    """Check once, on small matrices, that cuBLAS can accumulate low-precision products
    straight into an fp32 tensor in place (torch >= 2.9 on CUDA)."""
    global _ADDMM_FP32_OUT
    if _ADDMM_FP32_OUT is None:
        try:
            g = torch.Generator(device=device).manual_seed(0)
            a = torch.randn(64, 48, device=device, generator=g).to(torch.bfloat16)
            b = torch.randn(48, 32, device=device, generator=g).to(torch.bfloat16)
            acc = torch.randn(64, 32, device=device, generator=g)
            want = acc + a.float() @ b.float()
            torch.addmm(acc, a, b, out_dtype=torch.float32, out=acc)
            _ADDMM_FP32_OUT = bool(torch.allclose(acc, want, rtol=1e-3, atol=1e-3))
        except Exception:  # older torch, or no such kernel on this device
            _ADDMM_FP32_OUT = False
    return _ADDMM_FP32_OUT


class _Fp32Accumulator:
    """grad_weight += a @ b in fp32 for low-precision a, b, without an fp32 copy of them."""

    def __init__(self, shape, device, low_dtype):
        self.acc = torch.zeros(shape, dtype=torch.float32, device=device)
        self.direct = low_dtype == torch.float32 or (device.type == "cuda" and _addmm_fp32_out_works(device))
        self.tmp = None

    def add(self, a, b):
        if a.dtype == torch.float32:
            self.acc.addmm_(a, b)
        elif self.direct:
            torch.addmm(self.acc, a, b, out_dtype=torch.float32, out=self.acc)
        else:
            # One low-precision product per chunk (fp32 accumulation inside), summed in fp32.
            if self.tmp is None:
                self.tmp = torch.empty(self.acc.shape, dtype=a.dtype, device=a.device)
            torch.mm(a, b, out=self.tmp)
            self.acc += self.tmp


def _ce_rows(logits, target, loss_rows, ignore_index, write_grad):
    rows, V = logits.shape
    BLOCK_V = min(32768, next_power_of_2(V))
    num_warps = 32 if BLOCK_V >= 16384 else (16 if BLOCK_V >= 4096 else 8)
    _ce_kernel[(rows,)](
        logits,
        logits.stride(0),
        target,
        loss_rows,
        V,
        ignore_index,
        BLOCK_V=BLOCK_V,
        WRITE_GRAD=write_grad,
        num_warps=num_warps,
    )


def linear_cross_entropy_chunked(hidden, weight, target, ignore_index, bias, need_grad, chunk_rows=None):
    """Returns (loss_sum, n_valid, grad_hidden, grad_weight_fp32, grad_bias_fp32);
    gradients are of loss_sum (None when need_grad is False)."""
    n_tokens, H = hidden.shape
    V = weight.shape[0]
    device = hidden.device
    chunk = chunk_rows or _chunk_rows(n_tokens, H, V)
    loss_rows = torch.empty(n_tokens, dtype=torch.float32, device=device)
    grad_hidden = grad_weight = grad_bias = None
    if need_grad:
        grad_hidden = torch.empty_like(hidden)
        grad_weight = _Fp32Accumulator(weight.shape, device, hidden.dtype)
        if bias is not None:
            grad_bias = torch.zeros(V, dtype=torch.float32, device=device)
    for start in range(0, n_tokens, chunk):
        end = min(start + chunk, n_tokens)
        h = hidden[start:end]
        logits = h @ weight.t() if bias is None else torch.addmm(bias, h, weight.t())
        _ce_rows(logits, target[start:end], loss_rows[start:end], ignore_index, need_grad)
        if not need_grad:
            continue
        torch.mm(logits, weight, out=grad_hidden[start:end])
        grad_weight.add(logits.t(), h)
        if grad_bias is not None:
            grad_bias += logits.sum(0, dtype=torch.float32)
    n_valid = (target != ignore_index).sum()
    if grad_weight is not None:
        grad_weight = grad_weight.acc
    return loss_rows.sum(), n_valid, grad_hidden, grad_weight, grad_bias


class FusedLinearCrossEntropyFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, target, ignore_index, bias, chunk_rows):
        shape = hidden.shape
        h2 = hidden.reshape(-1, shape[-1])
        if not h2.is_contiguous():
            h2 = h2.contiguous()
        t = target.reshape(-1)
        if not t.is_contiguous():
            t = t.contiguous()
        need_grad = any(ctx.needs_input_grad[i] for i in (0, 1, 4))
        loss_sum, n_valid, gh, gw, gb = linear_cross_entropy_chunked(
            h2, weight, t, ignore_index, bias, need_grad, chunk_rows
        )
        ctx.save_for_backward(gh, gw, gb, n_valid)
        ctx.shape = shape
        ctx.weight_dtype = weight.dtype
        ctx.bias_dtype = bias.dtype if bias is not None else None
        ctx.scaled = False
        return loss_sum / n_valid  # nan when every target is ignored, as torch

    @staticmethod
    def backward(ctx, grad_out):
        if ctx.scaled:
            raise RuntimeError("fused_linear_cross_entropy: backward runs once (gradients are scaled in place)")
        ctx.scaled = True
        gh, gw, gb, n_valid = ctx.saved_tensors
        scale = grad_out.float() / n_valid
        grad_hidden = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_hidden = (gh.float() * scale).to(gh.dtype).view(ctx.shape)
        if ctx.needs_input_grad[1]:
            grad_weight = gw.mul_(scale).to(ctx.weight_dtype)  # fp32 accumulator scaled in place
        if gb is not None and ctx.needs_input_grad[4]:
            grad_bias = gb.mul_(scale).to(ctx.bias_dtype)
        return grad_hidden, grad_weight, None, None, grad_bias, None
