"""Every command of the README's Quick start, Make targets and Command line sections
runs as written, in a fresh shell, on the bundled samples.

Commands are the lines of indented code blocks that start with `make ` or `.venv/bin/`
and the `make ...` commands of the Make targets table with their optional `[...]`
parts left out. They run in README order inside a copy of the repository (so `out/`
of the checkout is left alone), with an environment holding only PATH, HOME and
PYTHONPATH (the copy, so its code is the code under test whichever checkout installed
`.venv`). `.venv` in the copy is a view of the virtualenv running this test with its
own install stamp, so make does not reinstall. A command already run is not run again
(the Make targets table repeats the Quick start's `make corpus LANG=ko`), and `make
clean` runs last, since it removes what the others read.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("Quick start", "Make targets", "Command line")

# Commands that are not run, and why. Each must still be in the README.
EXCLUDED = {
    "make test": "the whole test suite, this test included",
    "make lock": "re-resolves requirements.lock against the package index and rewrites it, after which "
    "make would reinstall the shared virtualenv from this copy; tests/test_packaging.py "
    "checks the lock against setup.cfg's ranges",
    "make train SIZE=tiny": "200 training steps on a CPU take minutes; the trainer's own commands "
    "in the Command line section run it for 4 and 6 steps",
    "make score CKPT=out/train/tiny": "needs the model `make train SIZE=tiny` (above) makes; the Command line "
    "section runs `curate score` on the short run its trainer commands make",
    "make corpus LANG=ko && make tokenizer LANG=ko && make tokens LANG=ko && make train SIZE=tiny": "ends in `make train SIZE=tiny` (above); its other steps run on their own",
    "make ablate A=pipelines/recipes/ablations/ko-raw.yaml B=pipelines/recipes/ko.yaml": "two curations and six "
    "tiny training runs take many minutes on a CPU; tests/test_ablate.py runs train.ablate on 300 documents",
    "make e2e": "the whole chain, minutes on a CPU; each of its steps runs on its own above",
    ".venv/bin/curate corpus --lang ko --input 's3://bucket/crawl/*.warc.gz?endpoint_override=http://127.0.0.1:9000' "
    "--output 's3://bucket/curated/ko?endpoint_override=http://127.0.0.1:9000'": "needs an S3 server on 127.0.0.1:9000; tests/test_remote_fs.py runs remote input and output "
    "of every format against a moto server",
}
LAST = ("make clean",)


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## ", text, flags=re.M)
    return {p.split("\n", 1)[0].strip(): p for p in parts[1:]}


def readme_commands(text: str) -> list[str]:
    commands: list[str] = []
    sections = _sections(text)
    for name in SECTIONS:
        for line in sections[name].splitlines():
            cell = re.match(r"\|\s*`(make [^`]*)`\s*\|", line)
            if cell:
                commands.append(re.sub(r"\s*\[[^\]]*\]", "", cell.group(1)).strip())
            elif re.match(r"^ {4,}(make |\.venv/bin/)", line):
                commands.append(re.sub(r"\s+#.*$", "", line.strip()))
    seen: dict[str, None] = {}
    for c in commands:
        seen.setdefault(c, None)
    return [c for c in seen if c not in LAST] + [c for c in seen if c in LAST]


def test_readme_lists_the_commands_this_test_expects():
    commands = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    for excluded in EXCLUDED:
        assert excluded in commands, f"EXCLUDED names a command the README no longer has: {excluded}"
    assert "make corpus LANG=ko" in commands and commands[-1] == "make clean"
    assert any(c.startswith(".venv/bin/curate inspect") for c in commands)
    assert not [c for c in commands if "[" in c and "s3://" not in c], "optional parts left in a command"


def _venv() -> Path:
    for candidate in (ROOT / ".venv", Path(sys.prefix)):
        if (candidate / "bin" / "python").exists() and (candidate / "pyvenv.cfg").exists():
            return candidate.resolve()
    pytest.skip("needs the project's virtualenv (make venv); this Python is not one")


def _copy_repo(dest: Path) -> None:
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"], capture_output=True, check=False
    )
    if listed.returncode == 0:
        files = [f for f in listed.stdout.decode().split("\0") if f]
    else:  # not a git checkout: everything but outputs and the virtualenv
        files = [
            str(p.relative_to(ROOT))
            for p in ROOT.rglob("*")
            if p.is_file() and p.relative_to(ROOT).parts[0] not in (".venv", "out", ".git", ".pytest_cache")
        ]
    for rel in files:
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _venv_view(venv: Path, dest: Path) -> None:
    """dest/.venv: the same interpreter and packages, its own `.installed` stamp."""
    view = dest / ".venv"
    view.mkdir()
    for entry in venv.iterdir():
        if entry.name != ".installed":
            (view / entry.name).symlink_to(entry)
    (view / ".installed").touch()  # newer than the copied setup.cfg: make does not reinstall


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    venv = _venv()
    repo = tmp_path_factory.mktemp("readme") / "repo"
    repo.mkdir()
    _copy_repo(repo)
    _venv_view(venv, repo)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(repo)),
        "PYTHONPATH": str(repo),
    }
    return repo, env


def _run(command: str, repo: Path, env: dict, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout)


def test_every_readme_command_runs(sandbox):
    repo, env = sandbox
    commands = readme_commands((repo / "README.md").read_text(encoding="utf-8"))
    where = _run(".venv/bin/python -c 'import curate; print(curate.__file__)'", repo, env)
    assert where.stdout.strip().startswith(str(repo)), where.stdout + where.stderr
    failures, outputs = [], {}
    for command in commands:
        if command in EXCLUDED:
            continue
        done = _run(command, repo, env)
        outputs[command] = done
        if done.returncode == 0 and "--output out/corpus/ko-decontam" in command:  # the next run replaces it
            manifest = json.loads((repo / "out/corpus/ko-decontam/manifest.json").read_text(encoding="utf-8"))
            reasons = manifest["counts"]["drop_reasons"]  # the sample holds KLUE sentences
            assert sum(n for r, n in reasons.items() if r.startswith("decontam:")) > 0, command
        if done.returncode != 0:
            said = done.stdout + done.stderr
            said = said if len(said) < 4000 else f"{said[:1500]}\n...\n{said[-2500:]}"
            failures.append(f"$ {command}\nexit {done.returncode}\n{said}")
    assert not failures, "\n\n".join(failures)
    assert len(outputs) >= 20

    # what the commands did, beyond exiting 0
    for command, done in outputs.items():
        if command.startswith(".venv/bin/curate inspect"):
            assert "no matching documents" not in done.stdout and done.stdout.count("── ") >= 3, command
        if command.startswith(".venv/bin/curate compare") and "--json" in command:
            rows = json.loads(done.stdout)
            assert rows and all(r["a"] != r["b"] for r in rows), command
    tokenizer = outputs["make tokenizer LANG=ko"]
    assert "warning: the corpus is too small for --vocab 30000" in tokenizer.stderr
    corpus = outputs["make corpus LANG=ko"]
    assert re.search(r"read 4352 +kept \d+", corpus.stdout), corpus.stdout
    assert not (repo / "out").exists()  # make clean, last


def test_usage_errors_and_help(sandbox):
    repo, env = sandbox
    bad = _run(
        ".venv/bin/curate corpus --lang ko --input data/sample/ko.jsonl.gz --output out/x --workers 0",
        repo,
        env,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == ["curate corpus: error: argument --workers: must be 1 or more, got 0"]
    missing = _run(
        ".venv/bin/curate corpus --lang ko --input data/sample/ko.jsonl.gz --output out/x "
        "--decontam-index out/none.npz",
        repo,
        env,
        timeout=120,
    )
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        "curate corpus: error: out/none.npz: benchmark file or decontamination index not found"
    ]
    help_text = _run(".venv/bin/curate corpus --help", repo, env, timeout=120).stdout
    flat = " ".join(help_text.split())
    for word in ("extract", "urlfilter", "WARC", ".bz2", ".xz", "file://"):
        assert word in flat, word
    tokenize = _run(".venv/bin/curate tokenize --help", repo, env, timeout=120)
    assert tokenize.returncode == 0 and tokenize.stdout.startswith("usage: curate tokenize"), tokenize.stdout


def test_every_delegated_subcommand_reaches_its_own_parser(capsys):
    """curate.cli names each helper command twice (its help line, its import): every name
    of the table must reach the parser of its own module."""
    from curate import cli

    for name in cli.DELEGATED:
        with pytest.raises(SystemExit) as done:
            cli.main([name, "--help"])
        assert done.value.code == 0, name
        assert capsys.readouterr().out.startswith(f"usage: curate {name} "), name
