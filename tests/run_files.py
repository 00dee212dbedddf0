"""The files of a `curate corpus` run: inputs cut from a bundled sample, and what it
wrote, by path under its output folder, with their sha256."""

import gzip
import hashlib
import os
import signal
import time
from pathlib import Path

FILE_KINDS = ("shards", "rejected", "quarantine", "stats")


def output_files(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for kind in FILE_KINDS
        for p in sorted((out / kind).glob("*"))
    }


def split_sample(sample: Path, dst: Path, parts: int) -> None:
    """The sample's lines cut into `parts` JSON Lines files in dst, in order."""
    with gzip.open(sample, "rt", encoding="utf-8") as f:
        lines = f.readlines()
    dst.mkdir()
    step = len(lines) // parts + 1
    for i in range(parts):
        (dst / f"part{i:02d}.jsonl").write_text("".join(lines[i * step : (i + 1) * step]), encoding="utf-8")


def kill_when(proc, found, timeout: float = 240) -> list:
    """kill -9 the run (started with start_new_session=True) as soon as found() lists
    something; returns that list. Fails if the run ends first."""
    deadline, seen = time.time() + timeout, []
    while time.time() < deadline and proc.poll() is None:
        seen = found()
        if seen:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return seen
