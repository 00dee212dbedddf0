"""The report's charts: matplotlib (Agg) PNGs, base64 for embedding in the page, set in a
CJK font (curate.report.fonts) so Korean and Japanese labels render. Without any CJK font
the charts are still drawn, their CJK labels shown as '?'."""

from __future__ import annotations

import base64
import io
import warnings

LANG_NAMES = {"ko": "한국어", "ja": "日本語", "en": "English", "fr": "Français", "zh": "中文", "und": "?"}
# Chart titles in the run's language (English elsewhere): a Japanese report has no Korean title.
LOCAL_TITLES = {
    "ko": {"language mix": "언어 구성", "most repeated lines (kept)": "가장 많이 반복된 줄 (남은 문서)"},
    "ja": {"language mix": "言語構成", "most repeated lines (kept)": "最も多く繰り返された行 (残った文書)"},
}
KEPT, REJECTED = "#2a7ab0", "#d1603d"


class Plots:
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

    def png(self, fig, tight: bool = True, close: bool = True) -> str:
        """The figure as base64 PNG; tight: cropped to what is drawn (a second layout pass);
        close: the figure is done (one drawn again and again stays open)."""
        buf = io.BytesIO()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.savefig(buf, format="png", dpi=100, bbox_inches="tight" if tight else None)
        if close:
            self.close(fig)
        self.missing_glyphs += [str(w.message) for w in caught if "missing from font" in str(w.message)]
        return base64.b64encode(buf.getvalue()).decode("ascii")

    @staticmethod
    def close(fig) -> None:
        import matplotlib.pyplot as plt

        plt.close(fig)

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


def _edge_labels(edges: list) -> list[str]:
    def fmt(x):
        if x is None:
            return "∞"
        if x >= 1000:
            return f"{x / 1000:g}k"
        return f"{x:g}"

    return [f"{fmt(a)}–{fmt(b)}" if b is not None else f"≥{fmt(a)}" for a, b in zip(edges[:-1], edges[1:])]


def _hist_plot(p: Plots, ax, hist: dict, title: str, xlabel: str, log_bins: bool) -> None:
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


def _hbar(p: Plots, ax, items: list[tuple[str, float]], title: str, xlabel: str, color=REJECTED, fmt="{:,}") -> None:
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


def _funnel_plot(p: Plots, r: dict, plots: dict) -> None:
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


def _drops_plot(p: Plots, r: dict, plots: dict) -> None:
    if r["drop_reasons"]:
        items = list(r["drop_reasons"].items())[:25]
        fig, ax = p.figure(8, 0.8 + 0.3 * len(items))
        _hbar(p, ax, items, "documents dropped, by reason", "documents")
        plots["drop_reasons"] = p.png(fig)


def _languages_plot(p: Plots, r: dict, plots: dict) -> None:
    import numpy as np

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


def _lengths_plot(p: Plots, r: dict, plots: dict) -> None:
    fig, (a1, a2) = p.figure(11, 3.8, 2)
    _hist_plot(p, a1, r["length_chars"], "length in characters", "characters", log_bins=True)
    _hist_plot(p, a2, r["length_words"], "length in words", "words (morphemes where measured)", log_bins=True)
    plots["lengths"] = p.png(fig)


def _quality_plots(p: Plots, r: dict, plots: dict) -> None:
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


def signal_hist(ax, h: dict) -> None:
    """One thresholded rule's signal on ax: kept vs dropped by a quality rule, and the
    threshold as a vertical line (as data-juicer's analyser draws them)."""
    ax.stairs(h["kept"], h["edges"], fill=True, alpha=0.55, color=KEPT, label="kept")
    ax.stairs(h["dropped"], h["edges"], fill=True, alpha=0.55, color=REJECTED, label="dropped by a rule")
    ax.axvline(h["threshold"], color="black", linestyle="--", linewidth=1.2, label=f"{h['bound']} {h['threshold']:g}")
    if h["edges"][-1] > 1000:  # counts: bins grow tenfold
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xlim(left=0)
    if max(h["kept"] + h["dropped"]) > 50:  # a few outliers stay visible beside the bulk
        ax.set_yscale("symlog", linthresh=1)
    ax.set_title(h["rule"], fontsize=9)
    ax.set_xlabel(h["signal"], fontsize=8)
    ax.set_ylabel("documents", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6)


def _signal_plots(p: Plots, r: dict, plots: dict) -> None:
    """One small histogram per thresholded rule. They are most of the report's charts:
    one figure is drawn over and over, with fixed margins instead of a tight bounding
    box (which lays the figure out twice); bench/report_plots.py measures the gain."""
    hists = r.get("signal_histograms") or []
    if not hists:
        return
    fig, ax = p.figure(4.2, 2.4)
    fig.subplots_adjust(left=0.17, right=0.97, bottom=0.2, top=0.89)
    for h in hists:
        ax.clear()
        signal_hist(ax, h)
        plots[f"signal:{h['rule']}"] = p.png(fig, tight=False, close=False)
    p.close(fig)


def _pii_plot(p: Plots, r: dict, plots: dict) -> None:
    pii = r["pii"]["replaced"]
    if pii:
        fig, ax = p.figure(7, 0.8 + 0.35 * len(pii))
        _hbar(
            p, ax, sorted(pii.items(), key=lambda kv: -kv[1]), "PII replaced, by kind", "identifiers", color="#7b5ea7"
        )
        plots["pii"] = p.png(fig)


def _dup_sizes_plot(p: Plots, r: dict, plots: dict) -> None:
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


def _top_lines_plot(p: Plots, r: dict, plots: dict) -> None:
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


# in the page's order; each adds its PNG (if it has data) under its name
CHARTS = (
    _funnel_plot,
    _drops_plot,
    _languages_plot,
    _lengths_plot,
    _quality_plots,
    _signal_plots,
    _pii_plot,
    _dup_sizes_plot,
    _top_lines_plot,
)


def import_matplotlib() -> None:
    """Import what the charts draw with (about a second), ahead of time for a caller with
    a second to spare while it waits on something else."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401


def render_plots(r: dict, p: Plots | None = None) -> tuple[dict[str, str], Plots]:
    """name -> base64 PNG, and the renderer (its font, font file, font error and the
    glyph warnings matplotlib raised); p: a renderer made beforehand."""
    p = p or Plots()
    plots: dict[str, str] = {}
    for chart in CHARTS:
        chart(p, r, plots)
    return plots, p
