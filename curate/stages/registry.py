"""The batch stages, in pipeline order.

A new stage is one import and one entry in BATCH_STAGES (see README, "Adding a stage").
"""

from __future__ import annotations

from curate.stages.base import BatchStage
from curate.stages.decontam.stage import DecontamStage
from curate.stages.extract import ExtractStage
from curate.stages.langid import LangIdStage
from curate.stages.normalize import NormalizeStage
from curate.stages.perplexity import PerplexityStage
from curate.stages.pii.stage import PIIStage
from curate.stages.quality.stage import QualityStage
from curate.stages.urlfilter import UrlFilterStage

BATCH_STAGES: tuple[type[BatchStage], ...] = (
    ExtractStage,
    NormalizeStage,
    UrlFilterStage,
    LangIdStage,
    DecontamStage,
    PIIStage,
    QualityStage,
    PerplexityStage,  # after quality: it adds its fields to the signals quality wrote
)
BY_NAME = {stage.name: stage for stage in BATCH_STAGES}


def build_stage(name: str, recipe: dict, lang: str) -> BatchStage:
    """The batch stage ``name`` built from its section of the recipe."""
    return BY_NAME[name].from_section(recipe.get(name), lang)


def build_stages(recipe: dict, lang: str, names: list[str]) -> list[BatchStage]:
    """The batch stages among ``names`` (corpus steps such as dedup are not), in pipeline order."""
    return [build_stage(stage.name, recipe, lang) for stage in BATCH_STAGES if stage.name in names]
