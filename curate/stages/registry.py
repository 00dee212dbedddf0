"""Stage registry: name -> module with make_stage(cfg, lang)."""

from __future__ import annotations

import importlib

from curate.stages.base import Stage, StageNotBuilt

BATCH_STAGES = {
    "extract": "curate.stages.extract",
    "normalize": "curate.stages.normalize",
    "urlfilter": "curate.stages.urlfilter",
    "langid": "curate.stages.langid",
    "decontam": "curate.stages.decontam",
    "pii": "curate.stages.pii",
    "quality": "curate.stages.quality",
}


def stage_module(name: str):
    """The module implementing a batch stage, or StageNotBuilt naming what is missing."""
    module_name = BATCH_STAGES[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise StageNotBuilt(f"stage '{name}' is not built yet ({module_name} does not exist)") from exc
    if not hasattr(module, "make_stage"):
        raise StageNotBuilt(f"stage '{name}' is not built yet ({module_name} has no make_stage)")
    return module


def build_stage(name: str, recipe: dict, lang: str) -> Stage:
    return stage_module(name).make_stage(dict(recipe.get(name) or {}), lang)


def check_stages(names: list[str]) -> None:
    """Fail before any work starts if a requested stage cannot be built (dedup is global, not a batch stage)."""
    for name in names:
        if name != "dedup":
            stage_module(name)


def check_settings(recipe: dict, names: list[str], lang: str) -> None:
    """Build each batch stage once, so that a setting of the wrong type fails here,
    naming its stage and recipe, not later inside a worker."""
    from curate.recipe import RecipeError

    for name in names:
        if name in BATCH_STAGES:
            try:
                build_stage(name, recipe, lang)
            except (ValueError, TypeError, KeyError) as exc:
                raise RecipeError(f"{recipe.get('_path', 'recipe')}: {name}: {exc}") from exc
