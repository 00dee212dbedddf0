"""Activation checkpointing per block, applied to the model from outside.

Each block is replaced by torch's checkpoint wrapper around it: in forward only the
block's input is kept, and backward runs the block again. Wrapped before FSDP shards
the blocks (torchtitan's order), so FSDP's gather and input casting run once, outside
the recomputed region. The wrapper's state-dict hooks, and torch.distributed's state-dict
helpers, drop its name from parameter names, so checkpoints and HF exports are the same
with or without it.
"""

from __future__ import annotations

import torch
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import CheckpointImpl, checkpoint_wrapper


def checkpoint_blocks(model: torch.nn.Module) -> torch.nn.Module:
    """Wrap every block of model.layers in place; returns the model."""
    for i, block in enumerate(model.layers):
        model.layers[i] = checkpoint_wrapper(block, checkpoint_impl=CheckpointImpl.NO_REENTRANT)
    return model
