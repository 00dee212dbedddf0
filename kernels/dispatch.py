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


def why_not_triton(device: torch.device | str) -> str | None:
    """Why the Triton kernels cannot run on `device`, or None when they can."""
    if not isinstance(device, torch.device):
        device = torch.device(device)
    if force_reference():
        return "KERNELS_REFERENCE=1 forces the torch reference"
    if not triton_installed():
        return "triton is not installed"
    if device.type == "cuda" or (device.type == "cpu" and interpreting()):
        return None
    if device.type == "cpu":
        return "Triton runs on CPU tensors only under TRITON_INTERPRET=1"
    return f"no Triton backend for {device.type} tensors"


def use_triton(x: torch.Tensor) -> bool:
    """True when the Triton kernel should handle tensors living where `x` lives."""
    return why_not_triton(x.device) is None
