"""Shared loader for PII cases copied from other projects' test suites (tests/data/pii_external)."""

from __future__ import annotations

import json
from pathlib import Path

from curate.stages.pii.spans import find

DATA = Path(__file__).parent / "data" / "pii_external"


def load(name: str) -> list[dict]:
    with open(DATA / f"{name}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def split(cases: list[dict], excluded: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """(in-scope cases, excluded cases); every excluded text must be in the set."""
    texts = {c["text"] for c in cases}
    stale = sorted(set(excluded) - texts)
    assert not stale, f"excluded texts not in the copied set: {stale}"
    return [c for c in cases if c["text"] not in excluded], [c for c in cases if c["text"] in excluded]


def predicted(case: dict) -> list[list]:
    kinds = set(case["kinds"])
    return sorted([s.start, s.end, s.kind] for s in find(case["text"], case.get("lang", "")) if s.kind in kinds)


def case_id(case: dict) -> str:
    return f"{case['source'].rsplit('::', 1)[-1]}:{case['text'][:40]}"
