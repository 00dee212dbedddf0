"""Process group, FSDP2 sharding and the memory a size needs.

Every run, torchrun or a plain single process, gets a process group and a 1-D device
mesh, so the training loop is the same everywhere: each block is its own FSDP unit
(gathered just before it runs, resharded after), the root holds the embeddings, the
final norm and the output layer. Activation checkpointing wraps the blocks first
(train.activation_checkpointing). The model knows nothing of either.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

from train.activation_checkpointing import checkpoint_blocks
from train.config import ModelConfig


@dataclass
class Dist:
    rank: int
    world: int
    local_rank: int
    local_world: int
    device: torch.device
    mesh: object

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(cpu: bool = False) -> Dist:
    """torchrun's environment when present, else a one-process group in memory."""
    use_cuda = torch.cuda.is_available() and not cpu
    backend = "nccl" if use_cuda else "gloo"
    if "RANK" in os.environ:
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local_rank, local_world = int(os.environ["LOCAL_RANK"]), int(os.environ["LOCAL_WORLD_SIZE"])
        device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
        if use_cuda:
            torch.cuda.set_device(device)
        dist.init_process_group(backend, device_id=device if use_cuda else None)
    else:
        rank, world, local_rank, local_world = 0, 1, 0, 1
        device = torch.device("cuda", 0) if use_cuda else torch.device("cpu")
        if use_cuda:
            torch.cuda.set_device(device)
        dist.init_process_group(
            backend, store=dist.HashStore(), rank=0, world_size=1, device_id=device if use_cuda else None
        )
    mesh = init_device_mesh(device.type, (world,))
    return Dist(rank, world, local_rank, local_world, device, mesh)


def close_distributed(finished: bool) -> None:
    """Tear the process group down. After a finished run every rank first waits for the
    others: a rank that destroys its gloo group while a peer still talks to it can abort
    both processes at exit."""
    if finished and dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()
    dist.destroy_process_group()


def parallelize(
    model: torch.nn.Module, mesh, bf16: bool, compile_blocks: bool = False, ac: bool = False, shard: bool = True
) -> torch.nn.Module:
    """In torchtitan's order: activation checkpointing of each block (ac), torch.compile of
    each block, then (shard) fully_shard each block and the root. bf16 compute with fp32
    master weights and fp32 gradient reduction when bf16; plain fp32 otherwise (CPU).
    shard=False (one fp32 process: nothing to shard or cast) applies the first two only."""
    if ac:
        checkpoint_blocks(model)
    if compile_blocks:
        for block in model.layers:
            block.compile()
    if not shard:
        return model
    mp = (
        MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) if bf16 else MixedPrecisionPolicy()
    )
    for i, block in enumerate(model.layers):
        # the last block's parameters are needed again first in backward: keep them gathered
        fully_shard(block, mesh=mesh, mp_policy=mp, reshard_after_forward=i < len(model.layers) - 1)
    fully_shard(model, mesh=mesh, mp_policy=mp, reshard_after_forward=False)
    return model


# ----------------------------------------------------------------------------- memory plan


def gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


@dataclass
class MemoryPlan:
    params: int
    states_bytes: float  # per rank: fp32 weights + fp32 grads + Adam m and v, sharded
    activation_bytes: float  # per rank, one micro-batch
    available_bytes: float  # per rank

    @property
    def needed_bytes(self) -> float:
        return self.states_bytes + self.activation_bytes

    @property
    def fits(self) -> bool:
        return self.needed_bytes <= 0.9 * self.available_bytes

    def describe(self, world: int) -> str:
        return (
            f"{self.params:,} parameters: weights+grads+Adam states {gib(self.params * 16)} in all "
            f"({gib(self.states_bytes)} per rank over {world}), activations ~{gib(self.activation_bytes)} "
            f"per rank; needed ~{gib(self.needed_bytes)} per rank, available {gib(self.available_bytes)}"
        )


def available_memory(device: torch.device, local_world: int) -> float:
    if device.type == "cuda":
        return float(torch.cuda.get_device_properties(device).total_memory)
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return ram / local_world  # the ranks of one machine share its RAM


def plan_memory(
    cfg: ModelConfig,
    params: int,
    micro_batch: int,
    seq_len: int,
    world: int,
    bf16: bool,
    activation_checkpointing: bool,
    available: float,
) -> MemoryPlan:
    """A conservative estimate: 16 bytes a parameter of optimizer-side state, and per layer
    about 34 bytes (bf16; 68 fp32) per token-channel of saved activations (Korthikanti et
    al. 2022, flash attention), 2 bytes with activation checkpointing plus one live layer."""
    tokens = micro_batch * seq_len
    act = 34 if bf16 else 68
    per_layer = act * tokens * cfg.d_model
    layers = (
        (2 * tokens * cfg.d_model * cfg.n_layer + per_layer) if activation_checkpointing else per_layer * cfg.n_layer
    )
    logits = tokens * cfg.vocab_size * (2 + 4 + 4 if bf16 else 4 + 4 + 4)
    gathered = 2 * (params / max(cfg.n_layer, 1)) * (2 if bf16 else 4)  # two blocks unsharded (prefetch)
    return MemoryPlan(params, params * 16 / world, layers + logits + gathered, available)
