"""Benchmark decontamination: find evaluation text inside corpus documents.

Benchmark files (JSONL or Parquet) are cut into n-grams of *units*: normalized
characters for Korean/Japanese/Chinese (no reliable word boundaries, and Korean
spacing varies freely), words elsewhere. Each n-gram is a 64-bit hash kept in a
sorted numpy array per benchmark (or a Bloom filter for very large sets). A corpus
document is flagged for a benchmark when its matching n-grams cover a run of at
least ``min_match`` units (gaps of up to ``max_gap`` units bridged); it is then
dropped, or the run is cut out with a margin. Defaults and their reasons live in
pipelines/recipes/decontam/defaults.yaml.

Normalization makes spacing, punctuation and width variants match: invisible
format characters (zero-width space, soft hyphen, ...) removed and HTML character
references (&quot; &#39; &amp;quot;) decoded, NFC, then per code point NFKC +
casefold, keeping only letters, marks and digits (spaces, punctuation, symbols and
controls vanish), with half-width kana voicing marks re-composed. Every normalized
unit remembers its span in the original text, so a cut removes the right characters.

Hashing is vectorized over a whole batch: the batch's texts are joined into one
code point array, and all n-gram windows are hashed at once with a polynomial
hash built by doubling (h[2k] = h[k] * B^k + h[k] shifted by k), mod 2^64.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from curate.stages.decontam.build import benchmark_name, build_index, unit_for, with_defaults

# ------------------------------------------- `curate decontam-index`: an index built once for every worker


def main_index(argv: list[str] | None = None) -> int:
    """`curate decontam-index BENCH... --out INDEX`."""
    p = argparse.ArgumentParser(prog="curate decontam-index", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "benchmarks",
        nargs="+",
        metavar="BENCH",
        help="benchmark files (.jsonl[.gz|.zst], .parquet); NAME=PATH names one explicitly",
    )
    p.add_argument("--out", required=True, metavar="INDEX", help="index file to write (.npz)")
    p.add_argument("--lang", default="ko", help="corpus language: picks char (ko, ja, zh, ...) or word units")
    p.add_argument("--unit", choices=["auto", "char", "word"], default="auto")
    p.add_argument("--n", type=int, help="units per n-gram (default from the recipe)")
    p.add_argument("--min-match", type=int, help="units a matched run must cover to flag a document")
    p.add_argument("--fields", nargs="+", metavar="FIELD", help="index only these fields (default: all strings)")
    p.add_argument(
        "--recipe", metavar="FILE", help="decontam recipe (default pipelines/recipes/decontam/defaults.yaml)"
    )
    args = p.parse_args(argv)
    cfg = load_defaults(args.recipe)
    unit = unit_for(args.lang, {"unit": args.unit})
    if args.n:
        cfg[unit]["n"] = args.n
    if args.min_match:
        cfg[unit]["min_match"] = args.min_match
    if args.fields:
        cfg["fields"] = args.fields
    paths: dict[str, list[str]] = {}
    for b in args.benchmarks:
        name, _, path = b.rpartition("=") if "=" in b else (benchmark_name(b), "", b)
        paths.setdefault(name, []).append(path)
    try:
        index = build_index(paths, cfg, unit)
    except (OSError, ValueError) as exc:
        print(f"curate decontam-index: error: {exc}", file=sys.stderr)
        return 2
    index.save(args.out)
    for name in index.names:
        print(f"{name}: {index.meta[name]['items']} texts, {index.meta[name]['ngrams']} {index.n}-{index.unit} n-grams")
    print(f"-> {args.out} ({Path(args.out).stat().st_size} bytes)")
    return 0


def load_defaults(path: str | None = None) -> dict:
    """Defaults, overridden by the `decontam` section of a recipe file when one is given."""
    if not path:
        return with_defaults({})
    import yaml

    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if "decontam" in doc:  # a language recipe: resolve its `include:`
        from curate.recipe import load_recipe

        doc = load_recipe(doc.get("lang", "ko"), path).get("decontam") or {}
    return with_defaults(doc)


if __name__ == "__main__":
    sys.exit(main_index())
