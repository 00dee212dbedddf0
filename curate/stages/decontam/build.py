"""Building an index from benchmark files (JSONL or Parquet), with the recipe's defaults."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import numpy as np

from curate.io import fs
from curate.stages.base import RECIPE_DIR
from curate.stages.decontam.index import Index, _bloom_build
from curate.stages.decontam.units import _clean_text, _sorted_unique, normalize_units, unit_ngrams

CHAR_LANGS = {"ko", "ja", "zh", "yue", "th", "lo", "km", "my"}  # scripts written without reliable word spaces

RECIPE_DEFAULTS = RECIPE_DIR / "decontam" / "defaults.yaml"
_defaults_cache: dict | None = None


def defaults() -> dict:
    """The recipe snippet pipelines/recipes/decontam/defaults.yaml: every default with its reason."""
    global _defaults_cache
    if _defaults_cache is None:
        import yaml

        _defaults_cache = yaml.safe_load(RECIPE_DEFAULTS.read_text(encoding="utf-8"))
    return _defaults_cache


# ---------------------------------------------------------------- benchmark files


def benchmark_name(path: str | Path) -> str:
    name = Path(path).name
    for suffix in (".gz", ".zst", ".jsonl", ".json", ".parquet"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def _strings(value, key: str | None, fields, exclude) -> list[str]:
    if isinstance(value, str):
        ok = (key in fields) if fields else (key not in exclude)
        return [value] if ok else []
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, k, fields, exclude)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v, key, fields, exclude)]
    return []


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    if path.suffix == ".zst":
        import zstandard

        return io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(open(path, "rb")), encoding="utf-8")
    return open(path, encoding="utf-8")


def read_benchmark_texts(path: str | Path, fields=None, exclude=()) -> list[str]:
    """Every string field of every record (or only ``fields``), one text per field value."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        records = pq.read_table(path).to_pylist()
    else:
        with _open_text(path) as f:
            records = [json.loads(line) for line in f if line.strip()]
    return [s for r in records for s in _strings(r, None, set(fields or ()), set(exclude))]


def unit_for(lang: str, cfg: dict | None = None) -> str:
    unit = (cfg or {}).get("unit", "auto")
    if unit == "auto":
        return "char" if lang.split("-")[0].split("_")[0] in CHAR_LANGS else "word"
    return unit


def with_defaults(cfg: dict | None, base: dict | None = None) -> dict:
    base = base or defaults()
    out = {**base, **(cfg or {})}
    for unit in ("char", "word"):
        out[unit] = {**base[unit], **((cfg or {}).get(unit) or {})}
    return out


def build_index(paths, cfg: dict | None = None, unit: str | None = None) -> Index:
    """Index benchmark files. ``paths``: list of paths (named by file stem) or {name: path | [paths]}.

    ``unit``: 'char' or 'word'; by default from cfg (``unit``, or ``lang``), else chars.
    """
    cfg = with_defaults(cfg)
    unit = unit or unit_for(cfg.get("lang") or "ko", cfg)
    n, min_match = int(cfg[unit]["n"]), int(cfg[unit]["min_match"])
    if min_match < n:
        raise ValueError(f"min_match ({min_match}) must be >= n ({n})")
    groups: dict[str, list[Path]] = {}
    items = paths.items() if isinstance(paths, dict) else ((benchmark_name(p), p) for p in paths)
    for name, p in items:
        groups.setdefault(name, []).extend(Path(x) for x in ([p] if isinstance(p, (str, Path)) else p))
    sets, kinds, meta = {}, {}, {}
    for name, files in groups.items():
        texts = [t for f in files for t in read_benchmark_texts(f, cfg.get("fields"), cfg.get("exclude_fields") or ())]
        # The benchmark is read as one stream, fields in record order and records in
        # file order: n-grams across a field boundary catch a copied item (question +
        # answer, sentence pair) or a copied run of items even when each part is short.
        hashes, step = [], 4096
        for i in range(0, len(texts), step):  # chunks share a text, so no window is lost
            chunk = _clean_text("\n".join(texts[max(0, i - 1) : i + step]))  # no offsets needed here
            h, _ = unit_ngrams(normalize_units([chunk], unit), n)
            hashes.append(h)
        h = np.sort(np.concatenate(hashes)) if hashes else np.zeros(0, np.uint64)
        h = _sorted_unique(h)
        meta[name] = {
            "items": len(texts),
            "ngrams": int(len(h)),
            "files": [{"path": str(f), "sha256": fs.sha256(str(f))} for f in files],
        }
        if len(h) > int(cfg["bloom_above_ngrams"]):
            sets[name], meta[name]["bloom_k"] = _bloom_build(h, int(cfg["bloom_bits_per_ngram"]))
            kinds[name] = "bloom"
        else:
            sets[name], kinds[name] = h, "sorted"
    return Index(unit, n, min_match, int(cfg[unit].get("max_gap", 0)), sets, kinds, meta)
