"""Recipes: per-language YAML saying which stages run and with which thresholds."""
from __future__ import annotations

from pathlib import Path

import yaml

RECIPE_DIR = Path(__file__).resolve().parents[1] / "pipelines" / "recipes"
STAGE_ORDER = ["extract", "normalize", "urlfilter", "langid", "decontam", "pii", "quality", "dedup"]
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
    try:
        recipe = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise RecipeError(f"{p}: invalid YAML: {exc}") from exc
    for name, section in list(recipe.items()):
        if isinstance(section, dict):
            recipe[name] = resolve_include(section, p.parent)
    recipe.setdefault("lang", lang)
    recipe["_path"] = str(p)
    return recipe


def resolve_include(section: dict, base_dir: Path = RECIPE_DIR) -> dict:
    """`include: FILE` gives the defaults, other keys override them. FILE is looked up
    beside the recipe, then among the built-in recipes (so a copied recipe still works)."""
    if "include" not in section:
        return section
    path = base_dir / section["include"]
    if not path.exists():
        path = RECIPE_DIR / section["include"]
    merged = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
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
