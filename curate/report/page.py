"""report.html: one self-contained page from the report's numbers (curate.report.model) and
its charts (curate.report.plots). The page's text is set in a subset of the charts' font
embedded in the page (curate.report.webfont), so it needs no font installed."""

from __future__ import annotations

from curate.report import webfont
from curate.report.fmt import fmt_number, plural
from curate.report.html_table import Raw, esc, html_table
from curate.report.page_origins import domains_section, sources_section

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
.grid{display:flex;flex-wrap:wrap;gap:.5em}.grid figure{margin:0;width:25em}.grid img{margin:0}
details{margin:.3em 0}summary{cursor:pointer;font-weight:bold}
""".replace("FAMILY", webfont.FAMILY)


def _threshold(rule: dict) -> str:
    return f"{'≥' if rule['bound'] == 'min' else '≤'} {rule['threshold']:g}"


def _failed_html(d: dict, rules: dict) -> str:
    """' · min_lm_score = -9.1 (must be ≥ -7)' for a document a quality rule dropped."""
    rule = rules.get((d.get("drop_reason") or "").split(":", 1)[-1])
    if d.get("rule_value") is None or not rule or "bound" not in rule:
        return ""
    return f" · <b>{esc(rule['signal'])} = {d['rule_value']:g}</b> (must be {esc(_threshold(rule))})"


def _docs_html(docs: list[dict], rules: dict | None = None) -> str:
    if not docs:
        return '<p class="meta">no documents</p>'
    rows = []
    for d in docs:
        meta = (
            f"{esc(d['id'])} · {esc(d.get('lang'))} · quality {fmt_number(d.get('quality_score'))} · "
            f"{fmt_number(d.get('chars'))} chars"
            + (f" · {esc(d['drop_reason'])}" if d.get("drop_reason") else "")
            + _failed_html(d, rules or {})
        )
        rows.append([Raw(f'<div class="meta">{meta}</div><div class="doc">{esc(d["text"])}</div>')])
    return html_table(["document (truncated)"], rows)


def _fold(title: str, docs: list[dict], body: str) -> str:
    """A folded group of sample documents: its title and how many it holds, opened on a click."""
    kept = sum(1 for d in docs if not d.get("drop_reason"))
    return (
        f'<details class="samples"><summary>{esc(title)} <span class="meta">({plural(len(docs), "document")}, '
        f"{fmt_number(kept)} kept)</span></summary>{body}</details>"
    )


def _img(plots: dict, name: str, alt: str) -> str:
    if name not in plots:
        return f'<p class="meta">no data for {esc(alt)}</p>'
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{plots[name]}">'


def _head(r: dict, font_face: str) -> list[str]:
    """The document head, the title line, the section links and the headline counts."""
    c = r["counts"]
    parts = [
        f'<!doctype html><html lang="{esc(r["lang"] or "en")}"><head><meta charset="utf-8">'
        f"<title>Shard report: {esc(r['dir'])}</title><style>{font_face}{CSS}</style></head><body>"
    ]
    parts.append(
        f'<h1>Shard quality report</h1><p class="meta"><code>{esc(r["dir"])}</code> · language '
        f"{esc(r['lang'])} · run {esc(r['manifest_created'])} · code {esc(r['code_version'])} · "
        f"stages {esc(', '.join(r['stages'] or []))}</p>"
    )
    sections = [
        "funnel",
        "drops",
        "languages",
        "sources",
        "domains",
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
    if not (r.get("domains") or {}).get("rows"):
        sections.remove("domains")
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
        + "".join(f'<div class="card"><b>{fmt_number(v)}</b>{esc(k)}</div>' for k, v in cards)
        + "</div>"
    )
    return parts


def _funnel_section(r: dict, plots: dict) -> list[str]:
    return [
        '<h2 id="funnel">Funnel</h2>' + _img(plots, "funnel", "funnel"),
        html_table(
            ["step", "documents", "characters", "dropped here"],
            [[f["step"], f["docs"], f["chars"], f.get("dropped")] for f in r["funnel"]],
            {1, 2, 3},
        ),
    ]


def _drops_section(r: dict, plots: dict) -> list[str]:
    parts = ['<h2 id="drops">Drop reasons</h2>' + _img(plots, "drop_reasons", "drop reasons")]
    parts.append(
        html_table(
            ["reason", "documents", "characters"],
            [[k, v, r["drop_reason_chars"].get(k)] for k, v in r["drop_reasons"].items()],
            {1, 2},
        )
    )
    if r["quarantine_errors"]:
        parts.append(
            "<p>Quarantined input records, by error:</p>"
            + html_table(["error", "records"], [[k, v] for k, v in r["quarantine_errors"].items()], {1})
        )
    if r["decontam"]:
        parts.append(
            "<p>Decontamination (documents overlapping a benchmark):</p>"
            + html_table(["benchmark", "documents"], [[k, v] for k, v in r["decontam"].items()], {1})
        )
    return parts


def _languages_section(r: dict, plots: dict) -> list[str]:
    return [
        '<h2 id="languages">Languages</h2>' + _img(plots, "languages", "language mix"),
        html_table(
            ["language", "kept", "rejected"], [[l, v["kept"], v["rejected"]] for l, v in r["languages"].items()], {1, 2}
        ),
    ]


def _lengths_section(r: dict, plots: dict) -> list[str]:
    return ['<h2 id="lengths">Lengths</h2>' + _img(plots, "lengths", "length histograms")]


def _rules_table(rules: dict, plots: dict) -> list[str]:
    """The pass-rate chart and each rule's numbers."""
    return [
        _img(plots, "rules", "rule pass rates"),
        '<p class="meta">A rule\'s pass rate is over the documents its signal was computed for; '
        '"not computed" counts the judged documents it does not apply to (a rule for documents of '
        "several lines on a one-line text) or whose signal this run did not measure.</p>",
        html_table(
            ["rule", "computed", "not computed", "pass", "pass rate", "first failure (drops)"],
            [
                [x["rule"], x["computed"], x["not_computed"], x["pass"], x["pass_rate"], x["first_failure_drops"]]
                for x in rules["rules"]
            ],
            {1, 2, 3, 4, 5},
        ),
    ]


def _rules_explained(rules: dict) -> list[str]:
    """What each thresholded rule measures and why the recipe set its threshold, folded."""
    return [
        '<details id="rules"><summary>What each rule checks</summary><p class="meta">A document passes a '
        'rule when its signal is within the threshold; "why" quotes the comment beside the threshold in '
        "the recipe.</p>",
        html_table(
            ["rule", "what it measures", "passes when", "why this threshold"],
            [
                [
                    x["rule"],
                    x["meaning"],
                    _threshold(x),
                    Raw(
                        f'{esc(x["why"] or "(no comment in the recipe)")} <span class="meta">({esc(x["source"])})</span>'
                    ),
                ]
                for x in rules["rules"]
                if "bound" in x
            ],
        )
        + "</details>",
    ]


def _signal_histograms(r: dict, plots: dict) -> list[str]:
    """Each thresholded rule's signal, kept vs dropped, with its threshold drawn on it."""
    hists = r.get("signal_histograms") or []
    if not hists:
        return []
    figs = "".join(
        f'<figure class="signal-hist" data-rule="{esc(h["rule"])}">{_img(plots, "signal:" + h["rule"], h["rule"])}'
        f'<figcaption class="meta">{esc(h["signal"])}: kept {fmt_number(sum(h["kept"]))}, dropped by a rule '
        f"{fmt_number(sum(h['dropped']))}; passes when {esc(_threshold(h))} (dashed line)</figcaption></figure>"
        for h in hists
    )
    return [
        '<h3 id="signal-histograms">Signals against their thresholds</h3><p class="meta">For each rule with a '
        "threshold, the documents whose signal was computed: kept ones and those a quality rule dropped (not "
        "necessarily this one: a document is dropped by its first failing rule). Values beyond the range drawn "
        "are counted in the end bins.</p>",
        f'<div class="grid">{figs}</div>',
    ]


# What quality_score is (curate/stages/quality/rules.py: headroom), and why a drop may score high.
_SCORE_EXPLAINED = (
    '<p class="meta" id="quality-score">quality_score (0 to 1) is the mean, over the rules this run '
    "thresholds, of how far each signal sits inside its threshold: 0 on the threshold, 1 at twice a minimum "
    "or at zero for a maximum (blended with the quality model's score where the recipe uses one). It ranks "
    "what is kept and picks the document a duplicate cluster keeps. A document is dropped when any one rule "
    "fails, so one far inside every threshold but one can score as high as a kept document: the score "
    "averages, the rules do not.</p>"
)


def _quality_section(r: dict, plots: dict) -> list[str]:
    parts = ['<h2 id="quality">Quality</h2>' + _img(plots, "quality", "quality score")]
    if r["quality_rules"]:
        parts.append(_SCORE_EXPLAINED)
    rules = r["quality_rules"]
    if rules:
        parts += _rules_table(rules, plots)
    if rules and any("bound" in x for x in rules["rules"]):
        parts += _rules_explained(rules)
        parts += _signal_histograms(r, plots)
    elif r["quality_first_failures"]:
        parts.append(
            html_table(["rule (first failure)", "drops"], [[k, v] for k, v in r["quality_first_failures"].items()], {1})
        )
    return parts


def _pii_section(r: dict, plots: dict) -> list[str]:
    pii = r["pii"]
    parts = ['<h2 id="pii">PII</h2>']
    if not pii["replaced"]:
        parts.append("<p>No personal identifiers were found.</p>")
    else:
        parts.append(_img(plots, "pii", "PII per kind"))
        parts.append(
            html_table(
                ["kind", "identifiers replaced", "documents", "in kept shards"],
                [[k, v, pii["docs"].get(k), pii["kept"].get(k, 0)] for k, v in pii["replaced"].items()],
                {1, 2, 3},
            )
        )
    return parts


def _boilerplate(b: dict) -> list[str]:
    """The lines the boilerplate pass set aside as site chrome, when it found any, with the
    documents that carry each (curate.report.boilerplate_docs)."""
    if not b.get("boilerplate_lines"):
        return []
    return [
        f'<h3 id="boilerplate">Boilerplate lines</h3><p>{fmt_number(b["boilerplate_lines"])} lines were found in '
        f"enough first-pass clusters to count as site chrome; {fmt_number(b.get('resigned_docs', 0))} documents "
        "were compared without them. The most widespread, with the documents whose first or last lines carry "
        "them and one of those documents: a line that names the page's subject (a title many pages share) "
        "rather than the site is worth a look.</p>",
        html_table(
            ["line", "clusters", "documents", "of them kept", "example document"],
            [
                [
                    Raw(f'<div class="doc">{esc(x["line"])}</div>'),
                    x["clusters"],
                    x.get("docs"),
                    x.get("kept_docs"),
                    Raw(f"<code>{esc(x.get('example_id'))}</code>"),
                ]
                for x in b.get("top_boilerplate") or []
            ],
            {1, 2, 3},
        ),
    ]


def _pairs(d: dict) -> list[str]:
    """Sampled clusters as pairs: the kept member beside a dropped one, with their similarity."""
    pairs = d.get("pairs") or []
    if not pairs:
        return []

    def side(m: dict) -> Raw:
        meta = f"{esc(m['id'])} · {fmt_number(m['chars'])} chars" + (
            f" · {esc(m['drop_reason'])}" if m["drop_reason"] else ""
        )
        return Raw(f'<div class="meta">{meta}</div><div class="doc">{esc(m["text"])}</div>')

    return [
        '<h3 id="dup-pairs">Duplicate pairs, side by side</h3><p class="meta">A sample of clusters (the smallest '
        "hashes of the cluster id), each as its kept member beside one dropped member, first 300 characters. "
        "Similarity: the Jaccard similarity of the two texts' shingle sets as stored (the language's default "
        "shingles), estimated from 128-permutation MinHash signatures.</p>",
        '<table class="dup-pairs"><tr><th>cluster</th><th>size</th><th>similarity</th><th>kept</th><th>dropped</th></tr>'
        + "".join(
            f'<tr><td><code>{esc(x["cluster"])}</code></td><td class="n">{fmt_number(x["size"])}</td>'
            f'<td class="n">{x["similarity"]:.2f}</td><td>{side(x["kept"])}</td><td>{side(x["dropped"])}</td></tr>'
            for x in pairs
        )
        + "</table>",
    ]


def _duplicates_section(r: dict, plots: dict) -> list[str]:
    d = r["duplicates"]
    parts = [
        f'<h2 id="duplicates">Duplicates</h2><p>{fmt_number(d["clusters"])} clusters holding {fmt_number(d["docs_in_clusters"])} '
        f"documents; dropped {fmt_number(d['exact_dup'])} exact and {fmt_number(d['near_dup'])} near duplicates.</p>"
    ]
    parts += _boilerplate(d.get("boilerplate") or {})
    parts += _pairs(d)
    parts.append(_img(plots, "dup_sizes", "cluster sizes"))
    parts.append(
        html_table(
            ["cluster", "size", "example (truncated)"],
            [
                [
                    x["cluster"],
                    x["size"],
                    Raw(
                        f'<div class="doc">{esc((x["example"] or {}).get("text", "(no example in the summary)"))}</div>'
                    ),
                ]
                for x in d["largest"]
            ],
            {1},
        )
    )
    return parts


def _lines_section(r: dict, plots: dict) -> list[str]:
    tl = r["top_lines"]
    parts = ['<h2 id="lines">Most repeated lines (kept shards)</h2>']
    if not tl["lines"]:
        # one statement, no empty chart beside it
        parts.append(
            "<p>No line of 4 or more characters occurs twice within one kept shard"
            + (f"; a line occurs at most {plural(tl['floor'], 'time')} in all." if tl["floor"] else ".")
            + "</p>"
        )
        return parts
    parts.append(_img(plots, "top_lines", "repeated lines"))
    parts.append(
        f'<p class="meta">Counts are lower bounds from merged per-shard summaries; "± up to" is the most a count '
        f"can be missing; a line not listed occurs at most {plural(tl['floor'], 'time')}.</p>"
    )
    parts.append(
        html_table(
            ["line", "occurrences", "± up to"],
            [[Raw(f'<div class="doc">{esc(x["line"])}</div>'), x["count"], x["err"]] for x in tl["lines"]],
            {1, 2},
        )
    )
    return parts


def _samples_section(r: dict, plots: dict) -> list[str]:
    parts = [
        '<h2 id="samples">Sample documents</h2><p class="meta">Uniform samples of kept and dropped documents '
        "alike (the smallest hashes of the document id per bucket), after PII replacement, truncated. "
        "Click a group to open it.</p>"
    ]
    for dec, docs in r["samples"]["quality_decile"].items():
        lo = int(dec) / 10
        parts.append(_fold(f"quality {lo:.1f}–{lo + 0.1:.1f}", docs, _docs_html(docs)))
    rule_info = {x["rule"]: x for x in (r["quality_rules"] or {}).get("rules") or []}
    for reason, docs in r["samples"]["drop_reason"].items():
        parts.append(_fold(f"dropped: {reason}", docs, _docs_html(docs, rule_info)))
    return parts


def _files_section(r: dict, plots: dict) -> list[str]:
    return [
        '<h2 id="files">Files</h2>',
        html_table(
            ["file", "rows", "bytes", "sha256"],
            [[f["path"], f["rows"], f["bytes"], Raw(f"<code>{esc(f['sha256'])}</code>")] for f in r["files"]],
            {1, 2},
        ),
    ]


def _footer(r: dict) -> str:
    if r.get("font"):
        return f'<p class="meta">Set in {esc(r["font"])}. Generated {esc(r["created"])}.</p></body></html>'
    return (
        f'<p class="meta">No font with Hangul and Kana was found: plot labels show them as "?" '
        f"({esc(r.get('font_error'))}). Generated {esc(r['created'])}.</p></body></html>"
    )


# the page's sections in order, each (report, plots) -> its HTML pieces
SECTIONS = (
    _funnel_section,
    _drops_section,
    _languages_section,
    sources_section,
    domains_section,
    _lengths_section,
    _quality_section,
    _pii_section,
    _duplicates_section,
    _lines_section,
    _samples_section,
    _files_section,
)


def render_html(r: dict, plots: dict, font_face: str = "") -> str:
    """The page; font_face is the @font-face rule of the embedded font (curate.report.webfont)."""
    parts = _head(r, font_face)
    for section in SECTIONS:
        parts += section(r, plots)
    parts.append(_footer(r))
    return "\n".join(parts)
