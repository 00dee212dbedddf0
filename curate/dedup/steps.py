"""The corpus steps a run may take, in the order they decide and apply.

Duplicates come before the domain cap: the cap counts only what dedup keeps, and may
promote a duplicate whose keeper it drops. Exactly one of the two duplicate steps runs
(the recipe's ``dedup.near`` picks it).
"""

from __future__ import annotations

from typing import Any

from curate.dedup.domain_cap import DomainCap
from curate.dedup.duplicates import ExactDedup, NearDedup
from curate.dedup.step import CorpusStep

CORPUS_STEPS = (ExactDedup, NearDedup, DomainCap)
# Manifest fields of a run without a duplicate step (the steps' manifest() fill them otherwise).
MANIFEST_DEFAULTS = {"near_dedup": False, "dedup": {}}


def build_steps(recipe: dict, stages: list[str], lang: str) -> list[CorpusStep]:
    """The steps this run takes, their settings checked and frozen once."""
    return [step for kind in CORPUS_STEPS if (step := kind.build(recipe, stages, lang)) is not None]


def key_columns(steps: list[CorpusStep]) -> list[str]:
    """The key columns pass 1 keeps per live row for these steps, each once."""
    return list(dict.fromkeys(name for step in steps for name in step.key_columns))


def decide_all(steps: list[CorpusStep], corpus) -> dict[str, Any]:
    """Each step's decision over the whole corpus, by step name, in order."""
    decided: dict[str, Any] = {}
    for step in steps:
        decided[step.name] = step.decide(corpus, decided)
    return decided


def manifest_fields(steps: list[CorpusStep], decided: dict[str, Any]) -> dict:
    fields = dict(MANIFEST_DEFAULTS)
    for step in steps:
        fields.update(step.manifest(decided[step.name]))
    return fields
