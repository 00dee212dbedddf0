"""PII accuracy on test cases copied from other projects' suites, next to the project's own set.

    PYTHONPATH=. .venv/bin/python bench/pii_external.py [--reference]

For each copied set (tests/data/pii_external, see its NOTICE): per kind, the expected
spans found (recall) and the false flags (predicted spans of a kind the case tests that
are no expected span), over the in-scope cases and over all of them (the exclusions and
their reasons are in the set's test file). The project's own labeled set
(tests/data/pii/eval.jsonl) is scored the same way, with its decoys masked.
--reference also scores the bare-regex baseline of bench/pii.py on every set.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from pii_external_cases import load  # noqa: E402

from curate.stages import pii_eval  # noqa: E402
from curate.stages.pii import spans  # noqa: E402

SETS = [  # (copied set, its test file)
    ("presidio", "test_pii_presidio.py"),
    ("hibernate_kor_rrn", "test_pii_hibernate.py"),
    ("python_stdnum", "test_pii_stdnum.py"),
    ("stdnum_js", "test_pii_stdnum_js.py"),
]


def excluded(test_file: str) -> dict[str, str]:
    spec = importlib.util.spec_from_file_location(test_file[:-3], ROOT / "tests" / test_file)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.EXCLUDED


def line(name: str, result: dict) -> str:
    parts = [
        (
            f"{k} {v['found']}/{v['expected']} ({v['recall']:.0%}) ff {v['false_flags']}"
            if v["expected"]
            else f"{k} ff {v['false_flags']}"
        )
        for k, v in result["per_kind"].items()
        if v["expected"] or v["false_flags"]
    ]
    clean = sum(1 for k, v in result["per_kind"].items() if not v["expected"] and not v["false_flags"])
    return f"  {name:28s} " + "; ".join(parts) + (f"  [+{clean} kinds never flagged]" if clean else "")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", action="store_true", help="also score the bare-regex baseline")
    args = ap.parse_args()
    finders = [("curate.stages.pii", spans.find)]
    if args.reference:
        spec = importlib.util.spec_from_file_location("bench_pii", ROOT / "bench" / "pii.py")
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
        finders.append(("naive regex", bench.naive_find))
    for name, test_file in SETS:
        cases = load(name)
        skip = excluded(test_file)
        scope = [c for c in cases if c["text"] not in skip]
        print(
            f"{name}: {len(cases)} cases, {len(scope)} in scope ({len(cases) - len(scope)} excluded with a reason"
            f" in tests/{test_file}); per kind: found/expected (recall), ff = false flags"
        )
        for fname, find in finders:
            print(line(f"{fname}, in scope", pii_eval.score_cases(scope, find)))
            print(line(f"{fname}, all cases", pii_eval.score_cases(cases, find)))
    own = pii_eval.load(ROOT / "tests" / "data" / "pii" / "eval.jsonl")
    print(f"own eval set: {len(own)} examples (tests/data/pii/eval.jsonl)")
    for fname, find in finders:
        r = pii_eval.score(own, find)
        parts = [f"{k} R {v['recall']:.3f} ff {v['fp']}" for k, v in r["per_kind"].items()]
        print(f"  {fname:28s} " + "; ".join(parts) + f"; decoys masked {r['decoy_rate']:.2%}")


if __name__ == "__main__":
    main()
