"""Recipes: per-language YAML saying which stages run and with which thresholds."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from curate.stages.base import RECIPE_DIR
from curate.stages.registry import BATCH_STAGES

# The batch stages in pipeline order, then dedup (a pass over the whole corpus).
STAGE_ORDER = [stage.name for stage in BATCH_STAGES] + ["dedup"]
# Always run: extract touches only HTML rows, normalize makes every later stage see one form.
ALWAYS = {"extract", "normalize"}


class RecipeError(ValueError):
    pass


def recipe_path(lang: str) -> Path:
    return RECIPE_DIR / f"{lang}.yaml"


def load_recipe(lang: str, path: str | None = None) -> dict:
    """Parse a recipe; a section may say `include: FILE` (relative to the recipe)."""
    p = Path(path) if path else recipe_path(lang)
    if not p.exists():
        known = sorted(x.stem for x in RECIPE_DIR.glob("*.yaml"))  # languages; snippets live in subfolders
        raise RecipeError(f"{p}: no recipe for language '{lang}' (known: {', '.join(known)}); pass --recipe FILE")
    if not p.is_file():
        raise RecipeError(f"{p}: not a file")
    try:
        recipe = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise RecipeError(f"{p}: invalid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise RecipeError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if not isinstance(recipe, dict):
        raise RecipeError(f"{p}: a recipe is a mapping of sections, got {type(recipe).__name__}")
    for name, section in list(recipe.items()):
        if isinstance(section, dict):
            recipe[name] = resolve_include(section, p.parent)
        elif name in STAGE_ORDER and section is not None:
            raise RecipeError(f"{p}: section '{name}' must be a mapping of settings, got {type(section).__name__}")
    recipe.setdefault("lang", lang)
    recipe["_path"] = str(p)
    check_recipe(recipe, lang)
    return recipe


def check_recipe(recipe: dict, lang: str) -> None:
    """Settings whose wrong name, type or range would not fail loudly later: a stage list
    written as one string, and every stage's section (see check_settings)."""
    where = recipe.get("_path", "recipe")
    stages = recipe.get("stages")
    if stages is not None and (not isinstance(stages, list) or not all(isinstance(x, str) for x in stages)):
        raise RecipeError(f"{where}: 'stages' must be a list of stage names, got {stages!r}")
    check_settings(recipe, lang)


def check_settings(recipe: dict, lang: str) -> None:
    """Build the settings of every batch stage the recipe has a section for, and of dedup,
    so that a wrong setting fails here, naming the recipe, the stage and the key, and not
    later inside a worker."""
    where = recipe.get("_path", "recipe")
    for stage in BATCH_STAGES:
        if recipe.get(stage.name) is not None:
            try:
                stage.Settings.from_section(dict(recipe[stage.name]), lang)
            except (ValueError, TypeError) as exc:
                raise RecipeError(f"{where}: {stage.name}: {exc}") from exc
    if recipe.get("dedup") is not None:
        from curate.dedup.settings import settings

        try:
            settings(recipe["dedup"])
        except (ValueError, TypeError) as exc:
            raise RecipeError(f"{where}: dedup: {exc}") from exc


def resolve_include(section: dict, base_dir: Path = RECIPE_DIR) -> dict:
    """`include: FILE` gives the defaults, other keys override them. FILE is looked up
    beside the recipe, then among the built-in recipes (so a copied recipe still works)."""
    if "include" not in section:
        return section
    path = base_dir / section["include"]
    if not path.exists():
        path = RECIPE_DIR / section["include"]
    if not path.is_file():
        raise RecipeError(
            f"include: {section['include']}: not found beside the recipe ({base_dir}) "
            f"nor among the built-in recipes ({RECIPE_DIR})"
        )
    try:
        merged = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{path}: unreadable include: {exc}") from exc
    if not isinstance(merged, dict):
        raise RecipeError(f"{path}: an included section is a mapping of settings")
    merged.update({k: v for k, v in section.items() if k != "include"})
    return merged


def select_stages(recipe: dict, requested: list[str] | None) -> list[str]:
    """Stages to run, in pipeline order; extract (HTML only) and normalize always run first."""
    names = requested if requested else list(recipe.get("stages") or STAGE_ORDER)
    unknown = [n for n in names if n not in STAGE_ORDER]
    if unknown:
        raise RecipeError(f"unknown stage(s): {', '.join(unknown)} (known: {', '.join(STAGE_ORDER)})")
    chosen = set(names) | ALWAYS
    return [n for n in STAGE_ORDER if n in chosen]


def apply_cli_options(
    recipe: dict,
    stages: list[str] | None,
    langid_model: str | None = None,
    benchmarks: list[str] | None = None,
    decontam_index: str | None = None,
) -> list[str] | None:
    """The command line's files into the recipe, checked before any work starts: the
    language-ID model (langid.model), the benchmarks and decontamination index
    (decontam, over its defaults). Returns the stages to run: the decontam stage is
    added when a benchmark or index is given."""
    if langid_model:
        from curate.io.readers import InputError
        from curate.stages.langid import load_model

        if not os.path.exists(langid_model):
            raise FileNotFoundError(f"{langid_model}: language-ID model not found")
        try:
            load_model(os.path.abspath(langid_model))
        except ValueError as exc:  # fails here, not in every worker
            raise InputError(f"{langid_model}: not a fastText model ({exc})") from exc
        recipe.setdefault("langid", {})["model"] = os.path.abspath(langid_model)
    for path in list(benchmarks or []) + ([decontam_index] if decontam_index else []):
        if not os.path.exists(path):  # here, not as a traceback from every stage worker
            raise FileNotFoundError(f"{path}: benchmark file or decontamination index not found")
    if benchmarks or decontam_index:
        section = recipe.setdefault("decontam", {"include": "decontam/defaults.yaml"})
        if benchmarks:
            section["benchmarks"] = [os.path.abspath(b) for b in benchmarks]
        if decontam_index:
            section["index"] = os.path.abspath(decontam_index)
        recipe["decontam"] = resolve_include(section)
        stages = list(stages or recipe.get("stages") or []) + ["decontam"]
    return stages
