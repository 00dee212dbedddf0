"""Score a PII detector on a labeled set: precision / recall per kind, decoys masked.

An example is {"text", "lang", "spans": [[start, end, kind]], "decoys": [[start, end, type]]}.
A predicted span counts as correct only with the exact gold offsets and kind. A decoy
counts as masked when any predicted span overlaps it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

Finder = Callable[[str, str], Iterable]  # (text, lang) -> spans with .start .end .kind


def load(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def score(examples: list[dict], find: Finder) -> dict:
    tp, fp, fn = Counter(), Counter(), Counter()
    decoys, decoys_hit = Counter(), Counter()
    errors = []
    for ex in examples:
        pred = {(s.start, s.end, s.kind) for s in find(ex["text"], ex["lang"])}
        gold = {tuple(g) for g in ex["spans"]}
        for p in pred:
            (tp if p in gold else fp)[p[2]] += 1
        for g in gold - pred:
            fn[g[2]] += 1
        for ds, de, dtype in ex["decoys"]:
            decoys[dtype] += 1
            if any(s < de and ds < e for s, e, _ in pred):
                decoys_hit[dtype] += 1
        if pred != gold:
            errors.append({"text": ex["text"], "gold": sorted(gold), "pred": sorted(pred)})
    kinds = sorted(set(tp) | set(fp) | set(fn))
    per_kind = {}
    for k in kinds:
        p = tp[k] / (tp[k] + fp[k]) if tp[k] + fp[k] else 1.0
        r = tp[k] / (tp[k] + fn[k]) if tp[k] + fn[k] else 1.0
        per_kind[k] = {"precision": p, "recall": r, "tp": tp[k], "fp": fp[k], "fn": fn[k]}
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    return {
        "per_kind": per_kind,
        "precision": all_tp / (all_tp + all_fp) if all_tp + all_fp else 1.0,
        "recall": all_tp / (all_tp + all_fn) if all_tp + all_fn else 1.0,
        "decoy_rate": sum(decoys_hit.values()) / max(1, sum(decoys.values())),
        "decoys": {t: (decoys_hit[t], decoys[t]) for t in sorted(decoys)},
        "errors": errors,
    }


def format_report(name: str, result: dict) -> str:
    lines = [
        f"{name}: precision {result['precision']:.4f}  recall {result['recall']:.4f}  "
        f"decoys masked {result['decoy_rate']:.2%}"
    ]
    for k, v in result["per_kind"].items():
        lines.append(
            f"  {k:9s} P {v['precision']:.4f}  R {v['recall']:.4f}  (tp {v['tp']}, fp {v['fp']}, fn {v['fn']})"
        )
    hit = {t: f"{h}/{n}" for t, (h, n) in result["decoys"].items() if h}
    lines.append(f"  decoys masked by type: {hit or 'none'}")
    return "\n".join(lines)


def score_cases(cases: list[dict], find: Finder) -> dict:
    """Score cases copied from other projects' test suites.

    A case is {"text", "kinds": kinds its source tests, "spans": [[start, end, kind]]}.
    Only predictions of the kinds under test count (an IBAN test that also holds a US
    phone number says nothing about phones). Per kind: recall over the expected spans
    and false flags, predicted spans that are no expected span.
    """
    found, expected, false_flags, cases_per_kind = Counter(), Counter(), Counter(), Counter()
    failures = []
    for case in cases:
        kinds = set(case["kinds"])
        pred = {(s.start, s.end, s.kind) for s in find(case["text"], case.get("lang", "")) if s.kind in kinds}
        gold = {tuple(g) for g in case["spans"]}
        for k in kinds:
            cases_per_kind[k] += 1
        for g in gold:
            expected[g[2]] += 1
            found[g[2]] += g in pred
        for p in pred - gold:
            false_flags[p[2]] += 1
        if pred != gold:
            failures.append(
                {"text": case["text"], "source": case.get("source"), "gold": sorted(gold), "pred": sorted(pred)}
            )
    per_kind = {
        k: {
            "cases": cases_per_kind[k],
            "expected": expected[k],
            "found": found[k],
            "recall": found[k] / expected[k] if expected[k] else 1.0,
            "false_flags": false_flags[k],
        }
        for k in sorted(cases_per_kind)
    }
    return {"per_kind": per_kind, "failures": failures}
