"""What `curate corpus` writes for the bundled samples with the default recipes, stored
beside this script as LANG.json and checked by tests/test_golden_output.py: the sha256 of
every shard, rejected and quarantine file, and the manifest without the fields that name
the moment or the machine (created, code_version, versions, timings; the repository's path as <repo>).

Regenerate, from the repository root:

    .venv/bin/python tests/data/golden/make_golden.py

only when a change is meant to change what a run writes (say so in its commit), or when
a new locked pyarrow version changes the bytes of the Parquet files. Any other
difference the test reports is a regression to fix, not to regenerate.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent
ROOT = GOLDEN.parents[2]
SAMPLES = ("ko", "ja")  # data/sample/LANG.jsonl.gz
# Every row's origin holds its input's absolute path: the samples are read from one fixed
# folder, so the files' bytes do not depend on where the repository is checked out.
INPUTS = Path("/tmp/polyglot-curate-golden")
FILE_KINDS = ("shards", "rejected", "quarantine")
VOLATILE = (
    "created",
    "code_version",
    "versions",
    "timings",
    "stage_seconds",
)  # the moment, the commit, the installed versions, the speed


def fingerprint(out: Path) -> dict:
    """sha256 of each output file by its path under `out`, and the manifest less VOLATILE."""
    files = {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for kind in FILE_KINDS
        for p in sorted((out / kind).glob("*.parquet"))
    }
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for key in VOLATILE:
        manifest.pop(key, None)
    text = json.dumps(manifest, ensure_ascii=False).replace(str(ROOT), "<repo>")
    return {"files": files, "manifest": json.loads(text)}


def _fixed_input(lang: str) -> Path:
    """data/sample/LANG.jsonl.gz copied into INPUTS (replaced whole: runs side by side agree)."""
    src, dst = ROOT / "data" / "sample" / f"{lang}.jsonl.gz", INPUTS / f"{lang}.jsonl.gz"
    if not dst.exists() or dst.read_bytes() != src.read_bytes():
        INPUTS.mkdir(parents=True, exist_ok=True)
        part = dst.with_name(f"{dst.name}.{os.getpid()}")
        shutil.copyfile(src, part)
        os.replace(part, dst)
    return dst


def curate_sample(lang: str, out: Path) -> dict:
    """Curate the bundled sample of `lang` with its default recipe into `out`."""
    from pipelines.corpus import run_corpus

    run_corpus([str(_fixed_input(lang))], str(out), lang, progress=False)
    return fingerprint(out)


def expected(lang: str) -> dict:
    return json.loads((GOLDEN / f"{lang}.json").read_text(encoding="utf-8"))


def main() -> int:
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        for lang in SAMPLES:
            found = curate_sample(lang, Path(tmp) / lang)
            text = json.dumps(found, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
            (GOLDEN / f"{lang}.json").write_text(text, encoding="utf-8")
            print(f"{lang}: {len(found['files'])} files -> {GOLDEN / f'{lang}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
