"""extract: main-content text from HTML with trafilatura, keeping paragraph breaks.

Runs before normalize on rows whose content_type is "text/html" (web input) and
leaves every other row alone.

Precision mode is the default: on Korean and Japanese news, blog and forum pages
the recall mode lets bylines, share buttons, category menus and tag clouds into
short articles. Trafilatura's minimum main-content size (250 characters) is
meant for alphabetic text; a CJK paragraph says as much in far fewer characters,
and below that size trafilatura swaps in its whole-page fallbacks, which bring
the navigation back. Ruby readings (<rt>, <rp>) are annotations, not text: kept,
they would interleave kana with the kanji they gloss. Trafilatura unescapes its
plain-text output once more after the HTML parser already has, which turns text
that shows an entity ("AT&amp;amp;T" on the page reads "AT&amp;T") into something
else; escaping every "&" first makes that second pass give the page's text back.
A heading line that repeats the page's <title> is metadata, not body text, and on
a one-paragraph page it is a large share of the output: it is dropped. Text runs
split by <br> become paragraphs first (see br_runs_to_paragraphs), and pages laid out
in nested tables get their layout tables as blocks and their article cell marked as
one (see _layout_tables_to_divs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from curate.stages.base import BatchStage, Section, live_mask, merge_drop_reasons, set_column

MIN_EXTRACTED_CHARS = 50
# <rt>/<rp> end tags are optional in HTML: an annotation ends at the next one or at </ruby>.
_RUBY_ANNOTATION = re.compile(r"<(?:rt|rp)\b[^>]*>.*?(?=</?(?:rt|rp|rtc)\b|</ruby\s*>)|</(?:rt|rp)\s*>", re.I | re.S)
_RUBY = re.compile(r"<r[tp]\b", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.I | re.S)
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·»]+\s+|\s*[｜|]\s*")
_config = None


def _trafilatura_config():
    global _config
    if _config is None:
        from trafilatura.settings import use_config

        _config = use_config()
        _config.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(MIN_EXTRACTED_CHARS))
    return _config


def strip_ruby_annotations(html: str) -> str:
    return _RUBY_ANNOTATION.sub("", html) if _RUBY.search(html) else html


_BR = re.compile(r"<br\b", re.I)
_BLOCKS = {
    "div",
    "p",
    "ul",
    "ol",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "blockquote",
    "pre",
    "form",
    "header",
    "footer",
    "aside",
    "nav",
    "figure",
    "dl",
    "hr",
}


def _edit_tree(html: str, *edits) -> str:
    """html after the tree edits (each returns whether it changed anything), parsed and
    written back once; unchanged if none did or the markup does not parse."""
    import lxml.html

    try:
        root = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return html
    changed = [edit(root) for edit in edits]
    return lxml.html.tostring(root, encoding="unicode") if any(changed) else html


def br_runs_to_paragraphs(html: str) -> str:
    """Korean portals and Japanese blogs write an article as text runs split by <br>
    inside one <div>; in precision mode trafilatura drops the first run of such a body
    when the page has a <p> anywhere else. Each run of a block with 2+ <br> children and
    100+ characters of its own text becomes a <p>."""
    return _edit_tree(html, _split_br_runs) if _BR.search(html) else html


def _split_br_runs(root) -> bool:
    changed = False
    for el in list(root.iter("div", "td", "article", "section", "main", "span", "font")):
        kids = list(el)
        if sum(c.tag == "br" for c in kids) < 2:
            continue
        if len((el.text or "").strip()) + sum(len((c.tail or "").strip()) for c in kids) < 100:
            continue
        _runs_to_paragraphs(el)
        changed = True
    return changed


def _runs_to_paragraphs(el) -> None:
    """The element's children regrouped: each text run between <br>s and blocks a <p>."""
    import lxml.html

    kids = list(el)
    runs, run = [], lxml.html.Element("p")
    run.text, el.text = el.text, None
    for child in kids:
        el.remove(child)
        if child.tag == "br" or (isinstance(child.tag, str) and child.tag in _BLOCKS):
            if len(run) or (run.text or "").strip():
                runs.append(run)
            tail, child.tail = child.tail, None
            if child.tag != "br":
                runs.append(child)
            run = lxml.html.Element("p")
            run.text = tail
        else:
            run.append(child)  # inline: stays in the run
    if len(run) or (run.text or "").strip():
        runs.append(run)
    el.extend(runs)


_TABLE = re.compile(r"<table\b", re.I)
_CELLS = "./tr/td|./tr/th|./*/tr/td|./*/tr/th"  # a table's own cells, not a nested table's
_TABLE_PARTS = "./tbody|./thead|./tfoot|./tr|./*/tr|" + _CELLS
_CELL_BLOCKS = ".//p|.//div|.//ul|.//ol|.//h1|.//h2|.//h3|.//h4|.//blockquote"
LAYOUT_CELL_CHARS = 100


def _is_layout(table) -> bool:
    """A table that lays out the page rather than holding data: it nests another table,
    or one of its cells holds blocks or a paragraph's worth of text."""
    if table.find(".//table") is not None:
        return True
    for cell in table.xpath(_CELLS):
        if cell.xpath(_CELL_BLOCKS) or len("".join(cell.itertext()).strip()) >= LAYOUT_CELL_CHARS:
            return True
    return False


# A run of text that ends like a sentence: Korean 다/요, CJK and Western stops, then
# maybe a closing quote or bracket.
_SENTENCE_END = re.compile(r"[.!?。！？다요][\"'”’)）」』]*$")
_RUN_BREAKS = {"br", "p", "div", "li", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}


def _own_runs(el, runs: list[str]) -> None:
    """The element's text split into runs at <br> and blocks, leaving out nested
    tables (other cells) and link text (menus, related articles)."""
    runs[-1] += el.text or ""
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in _RUN_BREAKS:
            runs.append("")
            _own_runs(child, runs)
            runs.append("")
        elif tag not in ("table", "a", "script", "style", ""):
            _own_runs(child, runs)
        runs[-1] += child.tail or ""


def _prose_chars(cell) -> int:
    runs = [""]
    _own_runs(cell, runs)
    return sum(len(r) for r in map(str.strip, runs) if _SENTENCE_END.search(r))


def _article_cell(root):
    """The table cell with the most text in runs that end like sentences; a footer
    cell of address and copyright lines, a byline or a link list has next to none."""
    cells = list(root.iter("td", "th"))
    scored = [(_prose_chars(c), -i, c) for i, c in enumerate(cells)]
    best = max(scored, key=lambda x: x[:2], default=None)
    return best[2] if best is not None and best[0] >= MIN_EXTRACTED_CHARS else None


def _layout_tables_to_divs(root) -> bool:
    """Old pages lay out the whole page in nested tables, the article in one cell.
    Trafilatura runs with tables left out (data tables are no running text), which
    drops such an article and keeps only what lies outside the tables (a cookie
    banner). Layout tables become <div>s, rows and cells too, and link lists and
    other small tables stay tables. Without the table structure trafilatura cannot
    tell the article cell from a footer cell of as many characters: on a page with
    no <article> of its own, the cell that reads most like prose becomes one."""
    layout = [t for t in root.iter("table") if _is_layout(t)]
    article = _article_cell(root) if layout and next(root.iter("article"), None) is None else None
    if article is not None:  # a short article's own table holds too little text to count as layout
        layout += [t for t in article.iterancestors("table") if t not in layout]
    for table in layout:
        for part in table.xpath(_TABLE_PARTS):
            part.tag = "div"
        table.tag = "div"
    if article is not None:
        article.tag = "article"
        # Its runs are paragraphs however short (a footer's <p>s would outweigh them),
        # and the <font> around them goes: a <p> inside one inside a <p> is no HTML.
        for el in list(article.iter("font", "span", "b")):
            if any(c.tag == "br" for c in el):
                el.drop_tag()
        _runs_to_paragraphs(article)
    return bool(layout)


def restructure(html: str) -> str:
    """Layout tables as <div>s, <br>-separated runs as <p>s, in one parse."""
    edits = [e for e, pattern in ((_layout_tables_to_divs, _TABLE), (_split_br_runs, _BR)) if pattern.search(html)]
    return _edit_tree(html, *edits) if edits else html


def _title_lines(html: str) -> set[str]:
    """The page title and its parts ("Headline | Site name")."""
    import html as htmllib

    m = _TITLE.search(html, 0, 200_000)
    if not m:
        return set()
    title = " ".join(htmllib.unescape(m.group(1)).split())
    return {t for t in [title, *_TITLE_SEPARATORS.split(title)] if len(t) >= 2}


def drop_title_lines(text: str, html: str) -> str:
    titles = _title_lines(html)
    if not titles:
        return text
    lines = text.split("\n")
    kept = [line for line in lines if " ".join(line.split()) not in titles]
    return "\n".join(kept) if kept and len(kept) < len(lines) else text


def extract_text(html: str, url: str | None = None, favor_precision: bool = True) -> str | None:
    import trafilatura

    html = restructure(strip_ruby_annotations(html)).replace("&", "&amp;")
    options = dict(
        url=url, include_comments=False, include_tables=False, deduplicate=False, config=_trafilatura_config()
    )
    text = trafilatura.extract(html, favor_precision=favor_precision, **options)
    if not text and favor_precision:  # precision can prune a sparse page to nothing
        text = trafilatura.extract(html, **options)
    return drop_title_lines(text, html).strip() if text else None


@dataclass(frozen=True)
class ExtractSettings:
    favor_precision: bool = True

    @classmethod
    def from_section(cls, section: dict, lang: str) -> ExtractSettings:
        return cls(Section(section, {"favor_precision"}).boolean("favor_precision", True))


class ExtractStage(BatchStage):
    name = "extract"
    Settings = ExtractSettings

    def __call__(self, table: pa.Table) -> pa.Table:
        if "content_type" not in table.column_names:
            return table
        live = live_mask(table)
        kinds = table.column("content_type").to_pylist()
        if not any(k == "text/html" for k in kinds):
            return table
        texts = table.column("text").to_pylist()
        urls = table.column("url").to_pylist()
        reasons: list[str | None] = [None] * len(texts)
        for i, (keep, kind) in enumerate(zip(live, kinds)):
            if not keep or kind != "text/html":
                continue
            text = extract_text(texts[i], urls[i], self.settings.favor_precision)
            if text:
                texts[i], kinds[i] = text, "text/plain"
            else:
                reasons[i] = "extract:no_content"
        table = set_column(table, "text", texts)
        table = set_column(table, "content_type", kinds)
        return merge_drop_reasons(table, reasons)
