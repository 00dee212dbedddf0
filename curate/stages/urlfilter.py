"""urlfilter: drop documents whose URL is on a block list (domains and substrings).

Per-domain caps need the whole corpus in order, so the pipeline applies
`max_per_domain` in its global pass; this stage handles the per-document lists.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pyarrow as pa

from curate.recipe import RECIPE_DIR
from curate.stages.base import live_mask, merge_drop_reasons

DEFAULT_DOMAINS = ["urlfilter/blocked_domains.txt"]
DEFAULT_SUBSTRINGS = ["urlfilter/blocked_substrings.txt"]


@lru_cache(maxsize=32)
def load_list(path: str) -> frozenset[str]:
    p = Path(path) if Path(path).is_absolute() else RECIPE_DIR / path
    lines = p.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.lstrip().startswith("#"))


def domain_of(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower().rstrip(".") if host else None


def blocked_domain(host: str, domains: frozenset[str]) -> bool:
    parts = host.split(".")
    return any(".".join(parts[i:]) in domains for i in range(len(parts)))


class UrlFilterStage:
    name = "urlfilter"

    def __init__(self, cfg: dict, lang: str):
        self.domains = frozenset().union(*(load_list(p) for p in cfg.get("blocked_domains", DEFAULT_DOMAINS)))
        self.substrings = tuple(
            sorted(frozenset().union(*(load_list(p) for p in cfg.get("blocked_substrings", DEFAULT_SUBSTRINGS))))
        )

    def reason(self, url: str | None) -> str | None:
        if not url:
            return None
        host = domain_of(url)
        if host and blocked_domain(host, self.domains):
            return "urlfilter:blocked_domain"
        lowered = unquote(url).lower()
        if any(s in lowered for s in self.substrings):
            return "urlfilter:blocked_substring"
        return None

    def __call__(self, table: pa.Table) -> pa.Table:
        live = live_mask(table)
        urls = table.column("url").to_pylist()
        return merge_drop_reasons(table, [self.reason(u) if k else None for k, u in zip(live, urls)])


def make_stage(cfg: dict, lang: str) -> UrlFilterStage:
    return UrlFilterStage(cfg or {}, lang)
