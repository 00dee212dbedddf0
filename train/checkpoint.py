"""DCP checkpoints: save, keep the last K, resume (checking the run is the same one), and
initial weights from a Hugging Face folder read once and broadcast.

    OUT/checkpoints/step-0000100/   DCP model + optimizer shards, rng-rank{r}.pt,
                                    trainer.pt (scheduler, data position, meta), trainer.json
    OUT/checkpoints/latest          the name of the newest complete checkpoint
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil

import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
)

from train.model import read_hf_state
from train.run_spec import check_resume

STEP_DIR = re.compile(r"step-(\d{7})")


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def save_checkpoint(root: str, step: int, run: tuple, meta: dict, rank: int, keep: int = 0) -> str:
    """Save (model, optimizer, scheduler, loader) at `step`; then, on rank 0, move the
    `latest` pointer to it and delete all but the newest `keep` checkpoints up to it
    (0: keep all). Checkpoints past `step` (a run resumed from an earlier one) stay."""
    model, optimizer, scheduler, loader = run
    path = os.path.join(root, f"step-{step:07d}")
    dcp.save(
        {"model": get_model_state_dict(model), "optim": get_optimizer_state_dict(model, optimizer)}, checkpoint_id=path
    )
    torch.save(rng_state(), os.path.join(path, f"rng-rank{rank}.pt"))
    if rank == 0:
        torch.save(
            {"step": step, "scheduler": scheduler.state_dict(), "data": loader.state_dict(), **meta},
            os.path.join(path, "trainer.pt"),
        )
        with open(os.path.join(path, "trainer.json"), "w", encoding="utf-8") as f:
            json.dump({"step": step, "data": loader.state_dict(), **meta}, f, indent=2)
    dist.barrier()
    if rank == 0:  # the pointer moves last: a crash mid-save leaves the previous checkpoint current
        with open(os.path.join(root, "latest.tmp"), "w") as f:
            f.write(os.path.basename(path))
        os.replace(os.path.join(root, "latest.tmp"), os.path.join(root, "latest"))
        if keep:
            prune_checkpoints(root, step, keep)
    dist.barrier()
    return path


def prune_checkpoints(root: str, step: int, keep: int) -> list[str]:
    """Delete the checkpoints up to `step` but the newest `keep`; returns the deleted names."""
    steps = sorted(int(m.group(1)) for m in map(STEP_DIR.fullmatch, os.listdir(root)) if m)
    older = [s for s in steps if s <= step][:-keep]
    for s in older:
        shutil.rmtree(os.path.join(root, f"step-{s:07d}"))
    return [f"step-{s:07d}" for s in older]


def load_checkpoint(path: str, run: tuple, meta: dict, rank: int, allowed: set[str]) -> tuple[int, list[str]]:
    """Restore `run` from the checkpoint at `path`; (its step, the run fields that changed).
    A changed field --allow-change does not name stops here, before any state is read."""
    model, optimizer, scheduler, loader = run
    trainer = torch.load(os.path.join(path, "trainer.pt"), weights_only=False)
    changed = check_resume(trainer.get("run"), meta["run"], allowed, path)
    state = {"model": get_model_state_dict(model), "optim": get_optimizer_state_dict(model, optimizer)}
    dcp.load(state, checkpoint_id=path)
    set_model_state_dict(model, state["model"])
    set_optimizer_state_dict(model, optimizer, state["optim"])
    scheduler.load_state_dict(trainer["scheduler"])
    loader.load_state_dict(trainer["data"])
    rng = os.path.join(path, f"rng-rank{rank}.pt")
    if os.path.exists(rng):  # absent when resuming on more ranks than saved
        set_rng_state(torch.load(rng, weights_only=False))
    return trainer["step"], changed


def resume_from(resume: str | None, ckpt_root: str) -> str | None:
    """--resume: `latest` (the pointer in ckpt_root, if any) or a checkpoint folder."""
    if resume != "latest":
        return resume
    latest = os.path.join(ckpt_root, "latest")
    return os.path.join(ckpt_root, open(latest).read().strip()) if os.path.exists(latest) else None


def load_init_hf(model, path: str, rank: int) -> None:
    """Weights from a Hugging Face GPT-NeoX folder: rank 0 reads them, every rank gets its
    shard by broadcast (the other ranks never read the files)."""
    full = {}
    if rank == 0:
        want = {k: v.dtype for k, v in model.state_dict().items()}
        full = {k: v.to(want.get(k, v.dtype)) for k, v in read_hf_state(path).items()}
    set_model_state_dict(model, full, options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True))
