"""Shared by the GPU benches."""

import time

import torch


def warm_up_gpu(seconds: float = 3.0) -> None:
    """Keep the GPU busy before the first measurement: an idle GPU runs at low clocks
    for a while, and whichever op is timed first would pay for the ramp-up."""
    a = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for _ in range(20):
            a @ a
        torch.cuda.synchronize()
