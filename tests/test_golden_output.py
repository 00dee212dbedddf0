"""`curate corpus` on the bundled samples with the default recipes writes, byte for byte,
the files and manifest stored in tests/data/golden/ (see make_golden.py there for what is
stored and when to regenerate it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import ray

GOLDEN = Path(__file__).parent / "data" / "golden"
REGENERATE = (
    "if the change is meant to change what a run writes (or a new locked pyarrow version changed the "
    "Parquet bytes), regenerate with `.venv/bin/python tests/data/golden/make_golden.py`"
)


def _load_make_golden():
    spec = importlib.util.spec_from_file_location("make_golden", GOLDEN / "make_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_golden = _load_make_golden()


@pytest.fixture(scope="module")
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def differences(expected, found, where: str) -> list[str]:
    """Each place where `found` differs from `expected`, as 'where: expected X, found Y'."""
    if isinstance(expected, dict) and isinstance(found, dict):
        out = []
        for key in sorted(set(expected) | set(found), key=str):
            if key not in found:
                out.append(f"{where}.{key}: missing (expected {expected[key]!r})")
            elif key not in expected:
                out.append(f"{where}.{key}: not expected (found {found[key]!r})")
            else:
                out += differences(expected[key], found[key], f"{where}.{key}")
        return out
    if isinstance(expected, list) and isinstance(found, list) and len(expected) == len(found):
        return [d for i, (e, f) in enumerate(zip(expected, found)) for d in differences(e, f, f"{where}[{i}]")]
    return [] if expected == found else [f"{where}: expected {expected!r}, found {found!r}"]


def report(lang: str, expected: dict, found: dict) -> str:
    """The differing files first (by name), then the manifest's differing fields."""
    lines = []
    for name in sorted(set(expected["files"]) | set(found["files"])):
        want, got = expected["files"].get(name), found["files"].get(name)
        if want != got:
            what = "missing" if got is None else "not expected" if want is None else "differs (sha256)"
            lines.append(f"{lang}/{name} {what}")
    lines += differences(expected["manifest"], found["manifest"], f"{lang}/manifest.json")
    if not lines:
        return ""
    shown = "\n  ".join(x[:300] for x in lines[:20]) + (f"\n  ... {len(lines) - 20} more" if len(lines) > 20 else "")
    return f"`curate corpus` output differs from tests/data/golden/{lang}.json:\n  {shown}\n{REGENERATE}"


@pytest.mark.parametrize("lang", make_golden.SAMPLES)
def test_bundled_sample_output_is_unchanged(lang, tmp_path, local_ray):
    found = make_golden.curate_sample(lang, tmp_path / lang)
    message = report(lang, make_golden.expected(lang), found)
    assert not message, message


def test_a_difference_names_the_file_and_how_to_regenerate():
    expected = make_golden.expected("ko")
    name = sorted(expected["files"])[0]
    changed = {
        "files": dict(expected["files"], **{name: "0" * 64}),
        "manifest": dict(expected["manifest"], counts=dict(expected["manifest"]["counts"], kept=-1)),
    }
    message = report("ko", expected, changed)
    assert f"ko/{name} differs (sha256)" in message
    assert "ko/manifest.json.counts.kept: expected" in message and "found -1" in message
    assert "make_golden.py" in message
    assert report("ko", expected, expected) == ""
