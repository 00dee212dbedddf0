"""urlfilter: drop documents whose URL is on a block list (domains and substrings).

Per-domain caps need the whole corpus in order, so the pipeline applies
`max_per_domain` in its global pass; this stage handles the per-document lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pyarrow as pa

from curate.stages.base import RECIPE_DIR, BatchStage, Section, SettingError, live_mask, merge_drop_reasons

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


@dataclass(frozen=True)
class UrlFilterSettings:
    blocked_domains: tuple[str, ...] = tuple(DEFAULT_DOMAINS)  # list files, relative to the recipes folder
    blocked_substrings: tuple[str, ...] = tuple(DEFAULT_SUBSTRINGS)
    max_per_domain: int | None = None  # applied by the corpus pass (curate.dedup.domain_cap)

    @classmethod
    def from_section(cls, section: dict, lang: str) -> UrlFilterSettings:
        s = Section(section, {"blocked_domains", "blocked_substrings", "max_per_domain"})
        lists = {}
        for key, default in (("blocked_domains", DEFAULT_DOMAINS), ("blocked_substrings", DEFAULT_SUBSTRINGS)):
            lists[key] = s.strings(key, default)
            for p in lists[key]:
                if not (RECIPE_DIR / p).is_file():
                    raise SettingError(key, f"{RECIPE_DIR / p}: list file not found")
        return cls(**lists, max_per_domain=s.integer("max_per_domain", None, minimum=1))


class UrlFilterStage(BatchStage):
    name = "urlfilter"
    Settings = UrlFilterSettings

    def __init__(self, settings: UrlFilterSettings):
        super().__init__(settings)
        self.domains = frozenset().union(*(load_list(p) for p in settings.blocked_domains))
        self.substrings = tuple(sorted(frozenset().union(*(load_list(p) for p in settings.blocked_substrings))))

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
