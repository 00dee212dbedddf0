"""extract: main-content text from HTML with trafilatura, keeping paragraph breaks.

Runs before normalize on rows whose content_type is "text/html" (web input) and
leaves every other row alone.
"""
from __future__ import annotations

import pyarrow as pa

from .stage import live_mask, merge_drop_reasons, set_column


def extract_text(html: str, url: str | None = None, favor_precision: bool = False) -> str | None:
    import trafilatura

    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False,
                               favor_precision=favor_precision, deduplicate=False)
    return text.strip() if text else None


class ExtractStage:
    name = "extract"

    def __init__(self, cfg: dict, lang: str):
        self.favor_precision = bool(cfg.get("favor_precision", False))

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
            text = extract_text(texts[i], urls[i], self.favor_precision)
            if text:
                texts[i], kinds[i] = text, "text/plain"
            else:
                reasons[i] = "extract:no_content"
        table = set_column(table, "text", texts)
        table = set_column(table, "content_type", kinds)
        return merge_drop_reasons(table, reasons)


def make_stage(cfg: dict, lang: str) -> ExtractStage:
    return ExtractStage(cfg or {}, lang)
