"""What defines a training run: recorded in every checkpoint and checked on resume.

A run is its model, its optimisation (lr, warmup, steps, global batch, ...), its data
and tokenizer, its seed and the code that trains it. Resuming with any of them changed
is refused, naming the field, unless --allow-change names it: a different --steps, say,
reshapes the learning-rate schedule from the step resumed at. The world size and the
micro-batch are not part of it: the global batch fixes the optimisation whatever they are.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE_FOLDERS = ("train", "kernels")  # the code a training step runs

RUN_FIELDS = (
    "size",
    "model_config",
    "seq_len",
    "global_batch_tokens",
    "lr",
    "warmup",
    "steps",
    "weight_decay",
    "clip",
    "seed",
    "data_sha256",
    "tokenizer_hash",
    "init_hf",
    "code_sha256",
)


def code_sha256(root: Path = ROOT) -> str:
    """sha256 over the trainer's and the kernels' Python sources (path and bytes, in path
    order): the same whatever else the checkout's commits change."""
    h = hashlib.sha256()
    for folder in CODE_FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def git_commit(root: Path = ROOT) -> str | None:
    """The checkout's commit, `+dirty` with uncommitted changes (for the record; not checked)."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if head.returncode:
            return None
        clean = subprocess.run(["git", "-C", str(root), "diff", "--quiet", "HEAD"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("" if clean.returncode == 0 else "+dirty")


def parse_allowed(text: str | None) -> set[str]:
    """--allow-change FIELD[,FIELD]: the fields a resume may change."""
    names = {n.strip() for n in (text or "").split(",") if n.strip()}
    unknown = sorted(names - set(RUN_FIELDS))
    if unknown:
        raise SystemExit(
            f"--allow-change: unknown field(s) {', '.join(unknown)}; the run's fields: {', '.join(RUN_FIELDS)}"
        )
    return names


def check_resume(saved: dict | None, now: dict, allowed: set[str], where: str) -> list[str]:
    """The fields that differ between the checkpoint's run and this one; SystemExit naming
    each one --allow-change does not name."""
    saved = saved or {}
    changed = [f for f in RUN_FIELDS if saved.get(f) != now.get(f)]
    refused = [f for f in changed if f not in allowed]
    if refused:
        lines = [f"  {f}: checkpoint {saved.get(f)!r}, this run {now.get(f)!r}" for f in refused]
        raise SystemExit(
            f"{where}: refusing to resume a different run:\n"
            + "\n".join(lines)
            + f"\nresume with the checkpoint's values, or pass --allow-change {','.join(refused)}"
        )
    return changed
