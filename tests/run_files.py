"""The files a `curate corpus` run wrote, by path under its output folder, with their sha256."""

import hashlib
from pathlib import Path

FILE_KINDS = ("shards", "rejected", "quarantine", "stats")


def output_files(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for kind in FILE_KINDS
        for p in sorted((out / kind).glob("*"))
    }
