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
split by <br> become paragraphs first (see br_runs_to_paragraphs).
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


def br_runs_to_paragraphs(html: str) -> str:
    """Korean portals and Japanese blogs write an article as text runs split by <br>
    inside one <div>; in precision mode trafilatura drops the first run of such a body
    when the page has a <p> anywhere else. Each run of a block with 2+ <br> children and
    100+ characters of its own text becomes a <p>."""
    if not _BR.search(html):
        return html
    import lxml.html

    try:
        root = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return html
    changed = False
    for el in list(root.iter("div", "td", "article", "section", "main", "span")):
        kids = list(el)
        if sum(c.tag == "br" for c in kids) < 2:
            continue
        if len((el.text or "").strip()) + sum(len((c.tail or "").strip()) for c in kids) < 100:
            continue
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
        changed = True
    return lxml.html.tostring(root, encoding="unicode") if changed else html


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

    html = br_runs_to_paragraphs(strip_ruby_annotations(html)).replace("&", "&amp;")
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
