"""`curate report DIR`: report.json and one self-contained report.html for a curated folder.

Built from manifest.json and the per-shard statistics in DIR/stats/ (curate.report.stats), so
the cost does not grow with the text: a shard's text is read only when its stats file
is missing or older than curate.report.stats. Plots are matplotlib (Agg) PNGs embedded as base64, set in a CJK font
(curate.report.fonts) so Korean and Japanese labels render; the page's text is set in a subset
of the same font embedded in the page (curate.report.webfont), so it needs no font installed.
Without any CJK font the report is still written, its CJK plot labels shown as '?'.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import os
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from curate.report import webfont
from curate.report.rule_docs import rule_docs
from curate.report.stats import STATS_VERSION, merge_stats, merge_stats_rules, quality_rules, rule_passes, table_stats
from curate.stages.base import reason_stage

LANG_NAMES = {"ko": "한국어", "ja": "日本語", "en": "English", "fr": "Français", "zh": "中文", "und": "?"}
# Chart titles in the run's language (English elsewhere): a Japanese report has no Korean title.
LOCAL_TITLES = {
    "ko": {"language mix": "언어 구성", "most repeated lines (kept)": "가장 많이 반복된 줄 (남은 문서)"},
    "ja": {"language mix": "言語構成", "most repeated lines (kept)": "最も多く繰り返された行 (残った文書)"},
}
TOP_CLUSTERS = 15
TOP_LINES_SHOWN = 30
KEPT, REJECTED = "#2a7ab0", "#d1603d"


# ---------------------------------------------------------------------------- loading
def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _stats_path(out: Path, entry_path: str) -> Path:
    kind, name = entry_path.split("/", 1)
    return out / "stats" / f"{kind}-{Path(name).stem}.json"


def load_shard_stats(out: Path, manifest: dict, kind: str) -> tuple[list[dict], list[str]]:
    """Stats of every shard of a kind; a stats file that is missing, or was written by an
    older version of curate.report.stats (whose numbers may differ), is computed from the shard."""
    stats, recomputed = [], []
    rules = None
    for entry in manifest.get(kind) or []:
        path = _stats_path(out, entry["path"])
        if path.exists():
            saved = _read_json(path)
            if saved.get("stats_version") == STATS_VERSION:
                stats.append(saved)
                continue
        if rules is None:
            rules = quality_rules(manifest.get("recipe") or {}, manifest.get("lang", "")) or []
        stats.append(table_stats(pq.read_table(out / entry["path"]), rules=rules or None))
        recomputed.append(entry["path"])
    return stats, recomputed


def _quarantine_errors(out: Path, manifest: dict) -> dict[str, int]:
    """Quarantine files are small (unparseable records): count their errors by kind."""
    errors: Counter = Counter()
    for entry in manifest.get("quarantine") or []:
        col = pq.read_table(out / entry["path"], columns=["error"]).column("error").to_pylist()
        errors.update((e or "unknown").split(":", 1)[0][:80] for e in col)
    return dict(errors.most_common())


def _rules_from_signals(out: Path, manifest: dict) -> dict | None:
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
            t = pq.read_table(out / entry["path"], columns=["drop_reason", "quality_signals"])
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


def compute_report(out_dir: str | os.PathLike) -> dict:
    """All the report's numbers (what report.json holds)."""
    out = Path(out_dir)
    manifest = _read_json(out / "manifest.json")
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
    langs = sorted(
        set(kept["lang"]) | set(rejected["lang"]), key=lambda l: -(kept["lang"].get(l, 0) + rejected["lang"].get(l, 0))
    )
    top_lines = sorted(kept["top_lines"]["items"].items(), key=lambda kv: (-kv[1][0], kv[0]))[:TOP_LINES_SHOWN]
    report = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "dir": str(out.resolve()),
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
            "exact_dup": reasons.get("exact_dup", 0),
            "near_dup": reasons.get("near_dup", 0),
            "boilerplate": manifest.get("dedup") or {},
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
    return report


# ---------------------------------------------------------------------------- plots
class _Plots:
    """Renders figures to base64 PNG and records any glyph matplotlib could not find."""

    def __init__(self):
        from curate.report.fonts import FontNotFound, find_cjk_font, use_cjk_font

        try:
            self.font, self.font_file = use_cjk_font(), find_cjk_font()
            self.font_error = None
        except FontNotFound as exc:  # plots in matplotlib's default font, CJK shown as '?'
            self.font, self.font_file, self.font_error = None, None, str(exc)
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import font_manager
        from matplotlib.ft2font import FT2Font

        self.charmap = set(FT2Font(self.font_file).get_charmap()) if self.font_file else set()
        self.charmap |= set(FT2Font(font_manager.findfont("DejaVu Sans")).get_charmap())
        self.missing_glyphs: list[str] = []

    def label(self, text: str, width: int = 40) -> str:
        """A plot label: truncated, and characters no font has (emoji...) shown as '?'."""
        text = " ".join(str(text).split())
        text = text if len(text) <= width else text[: width - 1] + "…"
        return "".join(ch if ord(ch) in self.charmap else "?" for ch in text)

    def png(self, fig) -> str:
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        self.missing_glyphs += [str(w.message) for w in caught if "missing from font" in str(w.message)]
        return base64.b64encode(buf.getvalue()).decode("ascii")

    def figure(self, w: float = 7.5, h: float = 3.6, ncols: int = 1):
        import matplotlib.pyplot as plt

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig, axes = plt.subplots(1, ncols, figsize=(w, h))
        self.missing_glyphs += [str(w.message) for w in caught if "missing from font" in str(w.message)]
        return fig, axes


def local_title(title: str, lang: str | None) -> str:
    """ "<title in the run's language> / <English title>", or the English title alone."""
    local = LOCAL_TITLES.get(lang or "", {}).get(title)
    return f"{local} / {title}" if local else title


def plural(n: int, word: str, words: str | None = None) -> str:
    """'1 time', '2 times', '1,000 documents'."""
    return f"{fmt_number(n)} {word if n == 1 else (words or word + 's')}"


def _edge_labels(edges: list) -> list[str]:
    def fmt(x):
        if x is None:
            return "∞"
        if x >= 1000:
            return f"{x / 1000:g}k"
        return f"{x:g}"

    return [f"{fmt(a)}–{fmt(b)}" if b is not None else f"≥{fmt(a)}" for a, b in zip(edges[:-1], edges[1:])]


def _hist_plot(p: _Plots, ax, hist: dict, title: str, xlabel: str, log_bins: bool) -> None:
    import numpy as np

    labels = _edge_labels(hist["edges"]) if log_bins else [f"{e:.2f}" for e in hist["edges"][:-1]]
    x = np.arange(len(labels))
    w = 0.42
    ax.bar(x - w / 2, hist["kept"], w, label="kept", color=KEPT)
    ax.bar(x + w / 2, hist["rejected"], w, label="rejected", color=REJECTED)
    step = 1 if log_bins else 2
    ax.set_xticks(x[::step], labels[::step], rotation=60, ha="right", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("documents")
    ax.legend(fontsize=8)


def _hbar(p: _Plots, ax, items: list[tuple[str, float]], title: str, xlabel: str, color=REJECTED, fmt="{:,}") -> None:
    labels = [p.label(k) for k, _ in items][::-1]
    vals = [v for _, v in items][::-1]
    bars = ax.barh(range(len(vals)), vals, color=color)
    ax.set_yticks(range(len(vals)), labels, fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    top = max(vals) if vals else 1
    for b, v in zip(bars, vals):
        ax.text(b.get_width() + top * 0.01, b.get_y() + b.get_height() / 2, fmt.format(v), va="center", fontsize=7)
    ax.set_xlim(0, top * 1.15 if top else 1)


def render_plots(r: dict) -> tuple[dict[str, str], _Plots]:
    """name -> base64 PNG, and the renderer (its font, font file, font error and the
    glyph warnings matplotlib raised)."""
    import numpy as np

    p = _Plots()
    plots = {}

    fig, (a1, a2) = p.figure(11, 3.8, 2)
    steps = [f for f in r["funnel"] if f["step"] != "read" or f["docs"] is not None]
    names = [f["step"] for f in steps]
    a1.bar(names, [f["docs"] for f in steps], color=KEPT)
    a1.set_title("documents after each stage")
    a1.set_ylabel("documents")
    cs = [f for f in steps if f["chars"] is not None]
    a2.bar([f["step"] for f in cs], [f["chars"] for f in cs], color="#4c956c")
    a2.set_title("characters after each stage")
    a2.set_ylabel("characters")
    for ax in (a1, a2):
        ax.tick_params(axis="x", rotation=30)
    plots["funnel"] = p.png(fig)

    if r["drop_reasons"]:
        items = list(r["drop_reasons"].items())[:25]
        fig, ax = p.figure(8, 0.8 + 0.3 * len(items))
        _hbar(p, ax, items, "documents dropped, by reason", "documents")
        plots["drop_reasons"] = p.png(fig)

    fig, (a1, a2) = p.figure(11, 3.8, 2)
    langs = list(r["languages"].items())[:15]
    x = np.arange(len(langs))
    a1.bar(x - 0.2, [v["kept"] for _, v in langs], 0.4, color=KEPT, label="kept")
    a1.bar(x + 0.2, [v["rejected"] for _, v in langs], 0.4, color=REJECTED, label="rejected")
    a1.set_xticks(
        x, [p.label(f"{l} ({LANG_NAMES[l]})" if l in LANG_NAMES else l) for l, _ in langs], rotation=30, ha="right"
    )
    a1.set_title(p.label(local_title("language mix", r.get("lang")), 80))
    a1.set_ylabel("documents")
    a1.legend(fontsize=8)
    _hist_plot(p, a2, r["lang_score"], "language-ID score", "score", log_bins=False)
    plots["languages"] = p.png(fig)

    fig, (a1, a2) = p.figure(11, 3.8, 2)
    _hist_plot(p, a1, r["length_chars"], "length in characters", "characters", log_bins=True)
    _hist_plot(p, a2, r["length_words"], "length in words", "words (morphemes where measured)", log_bins=True)
    plots["lengths"] = p.png(fig)

    fig, ax = p.figure(7.5, 3.6)
    _hist_plot(p, ax, r["quality_score"], "quality score", "score", log_bins=False)
    plots["quality"] = p.png(fig)
    rules = r["quality_rules"]
    if rules:
        # rules never computed have no rate: left out of the chart, listed in the table
        items = [
            (x["rule"] + ("" if not x["not_computed"] else f" ({x['computed']:,} computed)"), 100.0 * x["pass_rate"])
            for x in rules["rules"]
            if x["pass_rate"] is not None
        ]
        fig, ax = p.figure(8, 0.8 + 0.25 * len(items))
        _hbar(
            p,
            ax,
            items,
            f"pass rate per rule, of documents where computed ({rules['judged']:,} judged)",
            "% passing",
            color=KEPT,
            fmt="{:.1f}%",
        )
        plots["rules"] = p.png(fig)

    pii = r["pii"]["replaced"]
    if pii:
        fig, ax = p.figure(7, 0.8 + 0.35 * len(pii))
        _hbar(
            p, ax, sorted(pii.items(), key=lambda kv: -kv[1]), "PII replaced, by kind", "identifiers", color="#7b5ea7"
        )
        plots["pii"] = p.png(fig)

    sizes = r["duplicates"]["size_distribution"]
    if sizes:
        fig, ax = p.figure(7, 3.4)
        ks = [int(k) for k in sizes]
        ax.bar([str(k) for k in ks], list(sizes.values()), color="#7b5ea7")
        if max(sizes.values()) > 100:
            ax.set_yscale("log")
        ax.set_title("duplicate clusters by size")
        ax.set_xlabel("documents in the cluster")
        ax.set_ylabel("clusters")
        if len(ks) > 20:
            ax.set_xticks(range(0, len(ks), max(1, len(ks) // 20)))
        ax.tick_params(axis="x", rotation=60, labelsize=7)
        plots["dup_sizes"] = p.png(fig)

    lines = r["top_lines"]["lines"][:20]
    if lines:
        fig, ax = p.figure(9, 0.8 + 0.3 * len(lines))
        _hbar(
            p,
            ax,
            [(l["line"], l["count"]) for l in lines],
            p.label(local_title("most repeated lines (kept)", r.get("lang")), 80),
            "occurrences",
            color="#4c956c",
        )
        plots["top_lines"] = p.png(fig)

    return plots, p


# ---------------------------------------------------------------------------- HTML
# The embedded subset first: the page is set in the plots' font wherever it is opened;
# characters it lacks (emoji) fall through to the fonts of the system.
CSS = """
body{font-family:"FAMILY","Noto Sans CJK KR","Noto Sans CJK JP","Apple SD Gothic Neo","Malgun Gothic",sans-serif;
 margin:0 auto;max-width:1200px;padding:1em 2em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:2px solid #2a7ab0;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .6em;vertical-align:top}
th{background:#eef3f7;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;display:block;margin:.5em 0}.doc{white-space:pre-wrap;word-break:break-all;max-width:60em}
.meta{color:#666;font-size:.85em}code{font-family:monospace,"FAMILY";font-size:.85em;word-break:break-all}nav a{margin-right:1em}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ccc;border-radius:6px;padding:.6em 1em}
.card b{font-size:1.4em;display:block}
details{margin:.3em 0}summary{cursor:pointer;font-weight:bold}
""".replace("FAMILY", webfont.FAMILY)


def _e(x) -> str:
    return html.escape("" if x is None else str(x))


def fmt_number(x) -> str:
    """A count with thousands separators, a float to 3 places, None as a dash."""
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.3f}"
    return f"{x:,}"


def _table(header: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{fmt_number(c)}</td>' if i in numeric else f"<td>{c if isinstance(c, _Raw) else _e(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


class _Raw(str):
    """Already-escaped HTML."""


def _threshold(rule: dict) -> str:
    return f"{'≥' if rule['bound'] == 'min' else '≤'} {rule['threshold']:g}"


def _failed_html(d: dict, rules: dict) -> str:
    """' · min_lm_score = -9.1 (must be ≥ -7)' for a document a quality rule dropped."""
    rule = rules.get((d.get("drop_reason") or "").split(":", 1)[-1])
    if d.get("rule_value") is None or not rule or "bound" not in rule:
        return ""
    return f" · <b>{_e(rule['signal'])} = {d['rule_value']:g}</b> (must be {_e(_threshold(rule))})"


def _docs_html(docs: list[dict], rules: dict | None = None) -> str:
    if not docs:
        return '<p class="meta">no documents</p>'
    rows = []
    for d in docs:
        meta = (
            f"{_e(d['id'])} · {_e(d.get('lang'))} · quality {fmt_number(d.get('quality_score'))} · "
            f"{fmt_number(d.get('chars'))} chars"
            + (f" · {_e(d['drop_reason'])}" if d.get("drop_reason") else "")
            + _failed_html(d, rules or {})
        )
        rows.append([_Raw(f'<div class="meta">{meta}</div><div class="doc">{_e(d["text"])}</div>')])
    return _table(["document (truncated)"], rows)


def _fold(title: str, docs: list[dict], body: str) -> str:
    """A folded group of sample documents: its title and how many it holds, opened on a click."""
    kept = sum(1 for d in docs if not d.get("drop_reason"))
    return (
        f'<details class="samples"><summary>{_e(title)} <span class="meta">({plural(len(docs), "document")}, '
        f"{fmt_number(kept)} kept)</span></summary>{body}</details>"
    )


def _img(plots: dict, name: str, alt: str) -> str:
    if name not in plots:
        return f'<p class="meta">no data for {_e(alt)}</p>'
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{plots[name]}">'


def render_html(r: dict, plots: dict, font_face: str = "") -> str:
    """The page; font_face is the @font-face rule of the embedded font (curate.report.webfont)."""
    c = r["counts"]
    parts = [
        f'<!doctype html><html lang="{_e(r["lang"] or "en")}"><head><meta charset="utf-8">'
        f"<title>Shard report: {_e(r['dir'])}</title><style>{font_face}{CSS}</style></head><body>"
    ]
    parts.append(
        f'<h1>Shard quality report</h1><p class="meta"><code>{_e(r["dir"])}</code> · language '
        f"{_e(r['lang'])} · run {_e(r['manifest_created'])} · code {_e(r['code_version'])} · "
        f"stages {_e(', '.join(r['stages'] or []))}</p>"
    )
    sections = [
        "funnel",
        "drops",
        "languages",
        "sources",
        "lengths",
        "quality",
        "pii",
        "duplicates",
        "lines",
        "samples",
        "files",
    ]
    if not r.get("sources"):
        sections.remove("sources")
    parts.append("<nav>" + "".join(f'<a href="#{s}">{s}</a>' for s in sections) + "</nav>")
    cards = [
        ("read", c["read"]),
        ("kept", c["kept"]),
        ("rejected", c["rejected"]),
        ("quarantined", c["quarantined"]),
        ("kept characters", c["kept_chars"]),
    ]
    parts.append(
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{fmt_number(v)}</b>{_e(k)}</div>' for k, v in cards)
        + "</div>"
    )

    parts.append('<h2 id="funnel">Funnel</h2>' + _img(plots, "funnel", "funnel"))
    parts.append(
        _table(
            ["step", "documents", "characters", "dropped here"],
            [[f["step"], f["docs"], f["chars"], f.get("dropped")] for f in r["funnel"]],
            {1, 2, 3},
        )
    )

    parts.append('<h2 id="drops">Drop reasons</h2>' + _img(plots, "drop_reasons", "drop reasons"))
    parts.append(
        _table(
            ["reason", "documents", "characters"],
            [[k, v, r["drop_reason_chars"].get(k)] for k, v in r["drop_reasons"].items()],
            {1, 2},
        )
    )
    if r["quarantine_errors"]:
        parts.append(
            "<p>Quarantined input records, by error:</p>"
            + _table(["error", "records"], [[k, v] for k, v in r["quarantine_errors"].items()], {1})
        )
    if r["decontam"]:
        parts.append(
            "<p>Decontamination (documents overlapping a benchmark):</p>"
            + _table(["benchmark", "documents"], [[k, v] for k, v in r["decontam"].items()], {1})
        )

    parts.append('<h2 id="languages">Languages</h2>' + _img(plots, "languages", "language mix"))
    parts.append(
        _table(
            ["language", "kept", "rejected"], [[l, v["kept"], v["rejected"]] for l, v in r["languages"].items()], {1, 2}
        )
    )

    if r.get("sources"):
        parts.append(
            '<h2 id="sources">Sources</h2><p class="meta">Documents per value of the input\'s '
            "<code>source</code> field.</p>"
        )
        parts.append(
            _table(
                ["source", "kept", "rejected", "kept share"],
                [[s, v["kept"], v["rejected"], f"{100 * v['kept_share']:.1f}%"] for s, v in r["sources"].items()],
                {1, 2},
            )
        )

    parts.append('<h2 id="lengths">Lengths</h2>' + _img(plots, "lengths", "length histograms"))

    parts.append('<h2 id="quality">Quality</h2>' + _img(plots, "quality", "quality score"))
    if r["quality_rules"]:
        parts.append(_img(plots, "rules", "rule pass rates"))
    if r["quality_rules"]:
        parts.append(
            '<p class="meta">A rule\'s pass rate is over the documents its signal was computed for; '
            '"not computed" counts the judged documents it does not apply to (a rule for documents of '
            "several lines on a one-line text) or whose signal this run did not measure.</p>"
        )
        parts.append(
            _table(
                ["rule", "computed", "not computed", "pass", "pass rate", "first failure (drops)"],
                [
                    [x["rule"], x["computed"], x["not_computed"], x["pass"], x["pass_rate"], x["first_failure_drops"]]
                    for x in r["quality_rules"]["rules"]
                ],
                {1, 2, 3, 4, 5},
            )
        )
    if r["quality_rules"] and any("bound" in x for x in r["quality_rules"]["rules"]):
        parts.append(
            '<details id="rules"><summary>What each rule checks</summary><p class="meta">A document passes a '
            'rule when its signal is within the threshold; "why" quotes the comment beside the threshold in '
            "the recipe.</p>"
        )
        parts.append(
            _table(
                ["rule", "what it measures", "passes when", "why this threshold"],
                [
                    [
                        x["rule"],
                        x["meaning"],
                        _threshold(x),
                        _Raw(
                            f"{_e(x['why'] or '(no comment in the recipe)')} "
                            f'<span class="meta">({_e(x["source"])})</span>'
                        ),
                    ]
                    for x in r["quality_rules"]["rules"]
                    if "bound" in x
                ],
            )
            + "</details>"
        )
    elif r["quality_first_failures"]:
        parts.append(
            _table(["rule (first failure)", "drops"], [[k, v] for k, v in r["quality_first_failures"].items()], {1})
        )

    pii = r["pii"]
    parts.append('<h2 id="pii">PII</h2>')
    if not pii["replaced"]:
        parts.append("<p>No personal identifiers were found.</p>")
    else:
        parts.append(_img(plots, "pii", "PII per kind"))
        parts.append(
            _table(
                ["kind", "identifiers replaced", "documents", "in kept shards"],
                [[k, v, pii["docs"].get(k), pii["kept"].get(k, 0)] for k, v in pii["replaced"].items()],
                {1, 2, 3},
            )
        )

    d = r["duplicates"]
    parts.append(
        f'<h2 id="duplicates">Duplicates</h2><p>{fmt_number(d["clusters"])} clusters holding {fmt_number(d["docs_in_clusters"])} '
        f"documents; dropped {fmt_number(d['exact_dup'])} exact and {fmt_number(d['near_dup'])} near duplicates.</p>"
    )
    b = d.get("boilerplate") or {}
    if b.get("boilerplate_lines"):
        parts.append(
            f"<p>Boilerplate pass: {fmt_number(b['boilerplate_lines'])} lines were found in enough first-pass clusters "
            f"to count as site chrome; {fmt_number(b.get('resigned_docs', 0))} documents were compared without them. "
            "The most widespread:</p>"
        )
        parts.append(
            _table(
                ["line", "clusters"],
                [
                    [_Raw(f'<div class="doc">{_e(x["line"])}</div>'), x["clusters"]]
                    for x in b.get("top_boilerplate") or []
                ],
                {1},
            )
        )
    parts.append(_img(plots, "dup_sizes", "cluster sizes"))
    parts.append(
        _table(
            ["cluster", "size", "example (truncated)"],
            [
                [
                    x["cluster"],
                    x["size"],
                    _Raw(
                        f'<div class="doc">{_e((x["example"] or {}).get("text", "(no example in the summary)"))}</div>'
                    ),
                ]
                for x in d["largest"]
            ],
            {1},
        )
    )

    tl = r["top_lines"]
    parts.append('<h2 id="lines">Most repeated lines (kept shards)</h2>')
    if not tl["lines"]:
        # one statement, no empty chart beside it
        parts.append(
            "<p>No line of 4 or more characters occurs twice within one kept shard"
            + (f"; a line occurs at most {plural(tl['floor'], 'time')} in all." if tl["floor"] else ".")
            + "</p>"
        )
    else:
        parts.append(_img(plots, "top_lines", "repeated lines"))
        parts.append(
            f'<p class="meta">Counts are lower bounds from merged per-shard summaries; "± up to" is the most a count '
            f"can be missing; a line not listed occurs at most {plural(tl['floor'], 'time')}.</p>"
        )
        parts.append(
            _table(
                ["line", "occurrences", "± up to"],
                [[_Raw(f'<div class="doc">{_e(x["line"])}</div>'), x["count"], x["err"]] for x in tl["lines"]],
                {1, 2},
            )
        )

    parts.append(
        '<h2 id="samples">Sample documents</h2><p class="meta">Uniform samples of kept and dropped documents '
        "alike (the smallest hashes of the document id per bucket), after PII replacement, truncated. "
        "Click a group to open it.</p>"
    )
    for dec, docs in r["samples"]["quality_decile"].items():
        lo = int(dec) / 10
        parts.append(_fold(f"quality {lo:.1f}–{lo + 0.1:.1f}", docs, _docs_html(docs)))
    rule_info = {x["rule"]: x for x in (r["quality_rules"] or {}).get("rules") or []}
    for reason, docs in r["samples"]["drop_reason"].items():
        parts.append(_fold(f"dropped: {reason}", docs, _docs_html(docs, rule_info)))

    parts.append('<h2 id="files">Files</h2>')
    parts.append(
        _table(
            ["file", "rows", "bytes", "sha256"],
            [[f["path"], f["rows"], f["bytes"], _Raw(f"<code>{_e(f['sha256'])}</code>")] for f in r["files"]],
            {1, 2},
        )
    )
    if r.get("font"):
        parts.append(f'<p class="meta">Set in {_e(r["font"])}. Generated {_e(r["created"])}.</p></body></html>')
    else:
        parts.append(
            f'<p class="meta">No font with Hangul and Kana was found: plot labels show them as "?" '
            f"({_e(r.get('font_error'))}). Generated {_e(r['created'])}.</p></body></html>"
        )
    return "\n".join(parts)


def build_report(out_dir: str | os.PathLike) -> dict:
    """Write DIR/report.json and DIR/report.html; returns the report's numbers. Without a
    CJK font both are still written; report["font_error"] says why the font is missing."""
    out = Path(out_dir)
    report = compute_report(out)
    plots, p = render_plots(report)
    report["font"] = p.font
    report["font_file"] = p.font_file
    report["font_error"] = p.font_error
    report["missing_glyphs"] = p.missing_glyphs
    _atomic_write(out / "report.json", json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    page = render_html(report, plots)
    # the subset holds the characters of the page as rendered without it (the rule adds only ASCII)
    face = webfont.font_face_css(p.font_file, page) if p.font_file else ""
    _atomic_write(out / "report.html", render_html(report, plots, face) if face else page)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="curate report", description="build report.html and report.json for a curated folder"
    )
    ap.add_argument("dir", help="output folder of `curate corpus` (holds manifest.json)")
    args = ap.parse_args(argv)
    if not (Path(args.dir) / "manifest.json").exists():
        print(f"curate report: {args.dir}/manifest.json not found (not a curated folder?)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        r = build_report(args.dir)
    except (json.JSONDecodeError, FileNotFoundError, OSError) as exc:  # a cut manifest, a deleted shard
        print(f"curate report: {args.dir}: cannot read the curated folder: {exc}", file=sys.stderr)
        return 2
    c = r["counts"]
    print(
        f"kept {c['kept']:,}  rejected {c['rejected']:,}  quarantined {c['quarantined']:,}  "
        f"-> {Path(args.dir) / 'report.html'} ({time.perf_counter() - t0:.1f}s)"
    )
    if r["font_error"]:
        print(f"warning: {r['font_error']}: plot labels show Hangul and Kana as '?'", file=sys.stderr)
    if r["missing_glyphs"]:
        print(f"warning: {len(r['missing_glyphs'])} glyphs missing from the plot font", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
