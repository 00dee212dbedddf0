"""Per-program partial sums for weight/bias gradients: kernels write a (G, N) fp32
buffer (G a few programs per SM), and one small reduction over G finishes it.
torch's column reduction is used for that second step: it is deterministic and its
launch is cheaper than a Triton launch, which matters for ops this short."""

from functools import cache

import torch


@cache
def _sm_count(index: int) -> int:
    return torch.cuda.get_device_properties(index).multi_processor_count


def num_programs(device: torch.device, work_items: int, per_sm: int = 4) -> int:
    """How many persistent programs accumulate partial sums: `per_sm` per SM on a GPU,
    a handful under the interpreter (each program is simulated serially)."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return max(1, min(work_items, per_sm * _sm_count(index)))
    return max(1, min(work_items, 4))


def column_sum(partials: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Sum (..., G, N) fp32 partials over G, in fp32, returned in `dtype`."""
    return partials.sum(dim=-2).to(dtype)
