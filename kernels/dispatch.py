"""Choose between the Triton kernels and the pure-torch references.

Triton runs on CUDA tensors, and on CPU tensors when TRITON_INTERPRET=1 (numpy
simulation, used by the tests). Everything else takes the torch reference.
KERNELS_REFERENCE=1 forces the reference everywhere (A/B checks, debugging).
"""

import importlib.util
import os
from functools import lru_cache

import torch


@lru_cache(maxsize=1)
def triton_installed() -> bool:
    return importlib.util.find_spec("triton") is not None


def force_reference() -> bool:
    return os.environ.get("KERNELS_REFERENCE", "0") not in ("", "0")


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def use_triton(x: torch.Tensor) -> bool:
    """True when the Triton kernel should handle tensors living where `x` lives."""
    if force_reference() or not triton_installed():
        return False
    if x.is_cuda:
        return True
    return x.device.type == "cpu" and interpreting()
