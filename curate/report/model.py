"""The report's numbers (what report.json holds), from manifest.json and the per-shard
statistics in DIR/stats/ (curate.report.stats): a shard's text is read only when its stats
file is missing or older than curate.report.stats."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path

from curate.io import fs
from curate.io.writer import stats_name
from curate.report.boilerplate_docs import boilerplate_docs
from curate.report.domains import by_domain
from curate.report.dup_pairs import similarity
from curate.report.rule_docs import rule_docs
from curate.report.stats import STATS_VERSION, merge_stats, merge_stats_rules, quality_rules, rule_passes, table_stats
from curate.stages.base import reason_stage

TOP_CLUSTERS = 15
TOP_LINES_SHOWN = 30
PAIRS_SHOWN = 10
DOMAINS_SHOWN = 20


def _read_json(path: str) -> dict:
    return json.loads(fs.read_text(path))


def _stats_path(out: str, entry_path: str) -> str:
    kind, name = entry_path.split("/", 1)
    return fs.join(out, "stats", stats_name(kind, name))


def load_shard_stats(out: str, manifest: dict, kind: str) -> tuple[list[dict], list[str]]:
    """Stats of every shard of a kind; a stats file that is missing, or was written by an
    older version of curate.report.stats (whose numbers may differ), is computed from the shard."""
    stats, recomputed = [], []
    rules = None
    for entry in manifest.get(kind) or []:
        path = _stats_path(out, entry["path"])
        if fs.is_file(path):
            saved = _read_json(path)
            if saved.get("stats_version") == STATS_VERSION:
                stats.append(saved)
                continue
        if rules is None:
            rules = quality_rules(manifest.get("recipe") or {}, manifest.get("lang", "")) or []
        stats.append(table_stats(fs.read_table(fs.join(out, entry["path"])), rules=rules or None))
        recomputed.append(entry["path"])
    return stats, recomputed


def _quarantine_errors(out: str, manifest: dict) -> dict[str, int]:
    """Quarantine files are small (unparseable records): count their errors by kind."""
    errors: Counter = Counter()
    for entry in manifest.get("quarantine") or []:
        col = fs.read_table(fs.join(out, entry["path"]), columns=["error"]).column("error").to_pylist()
        errors.update((e or "unknown").split(":", 1)[0][:80] for e in col)
    return dict(errors.most_common())


def _rules_from_signals(out: str, manifest: dict) -> dict | None:
    """Per-rule pass counts when the stats were written without the run's rules: read
    only the drop_reason and quality_signals columns (never the text)."""
    if "quality" not in (manifest.get("stages") or []):
        return None
    rules = quality_rules(manifest.get("recipe") or {}, manifest.get("lang", ""))
    if not rules:
        return None
    parts = []
    for kind in ("shards", "rejected"):
        for entry in manifest.get(kind) or []:
            t = fs.read_table(fs.join(out, entry["path"]), columns=["drop_reason", "quality_signals"])
            parts.append(rule_passes(t, rules))
    parts = [p for p in parts if p]
    if not parts:
        return None
    return merge_stats_rules(parts)


# ---------------------------------------------------------------------------- numbers
def _funnel(manifest: dict, kept: dict, rejected: dict) -> list[dict]:
    """Documents and characters in, after each stage, and kept."""
    counts = manifest.get("counts") or {}
    stages = manifest.get("stages") or list(counts.get("per_stage") or {})
    total_chars = kept["chars"] + rejected["chars"]
    rows = [
        {"step": "read", "docs": counts.get("read", kept["rows"] + rejected["rows"]), "chars": None},
        {"step": "parsed", "docs": kept["rows"] + rejected["rows"], "chars": total_chars},
    ]
    docs, chars = kept["rows"] + rejected["rows"], total_chars
    for s in stages:
        dropped = sum(n for r, n in rejected["drop_reasons"].items() if reason_stage(r) == s)
        dropped_chars = sum(c for r, c in rejected["chars_by_reason"].items() if reason_stage(r) == s)
        docs, chars = docs - dropped, chars - dropped_chars
        # characters of the final text of the documents still in after this stage
        rows.append({"step": s, "docs": docs, "chars": chars, "dropped": dropped})
    rows.append({"step": "kept", "docs": kept["rows"], "chars": kept["chars"]})
    return rows


def _cluster_summary(all_stats: dict) -> dict:
    clusters = all_stats["dup_clusters"]
    sizes = Counter(clusters.values())
    largest = sorted(clusters.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CLUSTERS]
    examples = all_stats.get("cluster_examples") or {}
    return {
        "clusters": len(clusters),
        "docs_in_clusters": sum(clusters.values()),
        "size_distribution": {str(k): sizes[k] for k in sorted(sizes)},
        "largest": [{"cluster": c, "size": n, "example": examples.get(c)} for c, n in largest],
    }


def _dup_pairs(all_stats: dict) -> list[dict]:
    """The sampled clusters that have a kept and a dropped member, in sample order: both
    texts, the cluster's size and their estimated similarity (curate.report.dup_pairs)."""
    pairs = []
    for c, e in sorted(all_stats["cluster_pairs"].items(), key=lambda kv: (kv[1]["key"], kv[0])):
        if e["kept"] and e["dropped"] and len(pairs) < PAIRS_SHOWN:
            pairs.append(
                {
                    "cluster": c,
                    "size": all_stats["dup_clusters"].get(c, 0),
                    "similarity": round(similarity(e["kept"], e["dropped"]), 4),
                    "kept": {k: v for k, v in e["kept"].items() if k not in ("key", "sig")},
                    "dropped": {k: v for k, v in e["dropped"].items() if k not in ("key", "sig")},
                }
            )
    return pairs


def _hist_pair(kept: dict, rejected: dict, name: str) -> dict:
    return {
        "edges": kept["hist"][name]["edges"],
        "kept": kept["hist"][name]["counts"],
        "rejected": rejected["hist"][name]["counts"],
    }


def _strip_keys(docs: list[dict]) -> list[dict]:
    return [{k: v for k, v in d.items() if k != "key"} for d in docs]


def _sources(kept: dict, rejected: dict) -> dict:
    """source -> kept, rejected and the kept share, largest source first."""
    k, r = kept.get("source") or {}, rejected.get("source") or {}
    names = sorted(set(k) | set(r), key=lambda s: (-(k.get(s, 0) + r.get(s, 0)), s))
    return {
        s: {"kept": k.get(s, 0), "rejected": r.get(s, 0), "kept_share": k.get(s, 0) / (k.get(s, 0) + r.get(s, 0))}
        for s in names
    }


def _rule_row(rules: dict, rule: str, reasons: dict) -> dict:
    """One rule's numbers; its pass rate is over the documents whose signal was computed."""
    missing = (rules.get("not_computed") or {}).get(rule, 0)
    computed = rules["judged"] - missing
    return {
        "rule": rule,
        "computed": computed,
        "not_computed": missing,
        "pass": rules["pass"][rule],
        "pass_rate": rules["pass"][rule] / computed if computed else None,
        "first_failure_drops": reasons.get(f"quality:{rule}", 0),
    }


def _signal_histograms(every: dict, rules: dict | None) -> list[dict]:
    """One histogram per thresholded rule: its signal's values, kept vs dropped by a quality
    rule, with the threshold to draw on it."""
    hists = every.get("signal_hist") or {}
    out = []
    for x in (rules or {}).get("rules") or []:
        h = hists.get(x.get("signal"))
        if "bound" in x and x.get("threshold") is not None and h:
            out.append(
                {"rule": x["rule"], "signal": x["signal"], "bound": x["bound"], "threshold": x["threshold"], **h}
            )
    return out


def compute_report(out_dir: str | os.PathLike) -> dict:
    """All the report's numbers (what report.json holds)."""
    out = os.fspath(out_dir)
    manifest = _read_json(fs.join(out, "manifest.json"))
    kept_parts, re1 = load_shard_stats(out, manifest, "shards")
    rej_parts, re2 = load_shard_stats(out, manifest, "rejected")
    kept, rejected = merge_stats(kept_parts), merge_stats(rej_parts)
    every = merge_stats(kept_parts + rej_parts)
    if every.get("rules") is None:
        every["rules"] = _rules_from_signals(out, manifest)
    counts = manifest.get("counts") or {}
    quarantined = counts.get("quarantined", sum(e["rows"] for e in manifest.get("quarantine") or []))
    rules = every.get("rules")
    applied = quality_rules(manifest.get("recipe") or {}, manifest.get("lang", "")) if rules else None
    docs = rule_docs(applied or [], manifest.get("lang", ""))
    reasons = dict(sorted(rejected["drop_reasons"].items(), key=lambda kv: (-kv[1], kv[0])))
    langs = sorted(  # most documents first; ties by name, so two builds of one folder read alike
        set(kept["lang"]) | set(rejected["lang"]),
        key=lambda l: (-(kept["lang"].get(l, 0) + rejected["lang"].get(l, 0)), l),
    )
    top_lines = sorted(kept["top_lines"]["items"].items(), key=lambda kv: (-kv[1][0], kv[0]))[:TOP_LINES_SHOWN]
    report = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "dir": out if fs.is_uri(out) else str(Path(out).resolve()),
        "lang": manifest.get("lang"),
        "manifest_created": manifest.get("created"),
        "code_version": manifest.get("code_version"),
        "stages": manifest.get("stages"),
        "counts": {
            "read": counts.get("read", kept["rows"] + rejected["rows"] + quarantined),
            "kept": kept["rows"],
            "rejected": rejected["rows"],
            "quarantined": quarantined,
            "kept_chars": kept["chars"],
            "rejected_chars": rejected["chars"],
            "kept_words": kept["words"],
        },
        "funnel": _funnel(manifest, kept, rejected),
        "drop_reasons": reasons,
        "drop_reason_chars": {r: rejected["chars_by_reason"].get(r, 0) for r in reasons},
        "quarantine_errors": _quarantine_errors(out, manifest),
        "languages": {l: {"kept": kept["lang"].get(l, 0), "rejected": rejected["lang"].get(l, 0)} for l in langs},
        "sources": _sources(kept, rejected),
        "domains": by_domain(every["domains"], every["rows"], every["kept"], DOMAINS_SHOWN),
        "lang_score": _hist_pair(kept, rejected, "lang_score"),
        "length_chars": _hist_pair(kept, rejected, "chars"),
        "length_words": _hist_pair(kept, rejected, "words"),
        "quality_score": _hist_pair(kept, rejected, "quality_score"),
        "quality_deciles": {"kept": kept["quality_decile"], "rejected": rejected["quality_decile"]},
        "quality_rules": None
        if not rules
        else {
            "judged": rules["judged"],
            "rules": [dict(_rule_row(rules, r, reasons), **docs.get(r, {})) for r in rules["order"]],
        },
        "quality_first_failures": {r.split(":", 1)[1]: n for r, n in reasons.items() if r.startswith("quality:")},
        "pii": {"replaced": every["pii"], "docs": every["pii_docs"], "kept": kept["pii"]},
        "duplicates": {
            **_cluster_summary(every),
            "pairs": _dup_pairs(every),
            "exact_dup": reasons.get("exact_dup", 0),
            "near_dup": reasons.get("near_dup", 0),
            "boilerplate": dict(manifest.get("dedup") or {}, top_boilerplate=boilerplate_docs(out, manifest)),
        },
        "top_lines": {
            "floor": kept["top_lines"]["floor"],
            "lines": [{"line": l, "count": c, "err": e} for l, (c, e) in top_lines],
        },
        "decontam": {r.split(":", 1)[1]: n for r, n in reasons.items() if r.startswith("decontam:")},
        "samples": {
            "quality_decile": {d: _strip_keys(v) for d, v in sorted(every["samples"]["quality_decile"].items())},
            "drop_reason": {r: _strip_keys(rejected["samples"]["drop_reason"].get(r, [])) for r in reasons},
        },
        "files": [
            dict(e, kind=kind) for kind in ("shards", "rejected", "quarantine") for e in manifest.get(kind) or []
        ],
        "stats_recomputed": re1 + re2,
    }
    report["signal_histograms"] = _signal_histograms(every, report["quality_rules"])
    return report
