"""Short pages inside site chrome: what the boilerplate pass and body links find.

On the page sets of tests/chrome_pages.py (real short sentences from tests/data/dedup,
each once bare and once inside 1-3 lines of chrome; other sentences only inside chrome,
or two different sentences in one frame), per language and seed, prints:
  - found: the share of duplicate families (a sentence bare and in chrome) whose pages
    all end in one cluster;
  - wrong: pages removed as a duplicate of a page with another sentence, as a share of
    all pages.
Common chrome (the same lines on many pages): one pass, two passes (boilerplate lines
stripped and clustered again), both without body links, and the default (both on).
Rare chrome (a byline, tags, a link seen once): without and with body links.

    .venv/bin/python bench/dedup_chrome.py [--seeds 0,1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from chrome_pages import pages_in_chrome, pages_in_rare_chrome  # noqa: E402

from curate.dedup.near import cluster, dedup_texts  # noqa: E402
from curate.dedup.settings import settings  # noqa: E402
from curate.dedup.signatures import keys_for_texts  # noqa: E402


def score(result, family: list[int]) -> tuple[float, float]:
    rows = result.to_pylist()
    cluster_of = {r["row"]: r["dup_cluster"] for r in rows}
    members: dict[int, list[int]] = {}
    for row, f in enumerate(family):
        members.setdefault(f, []).append(row)
    families = [rs for rs in members.values() if len(rs) > 1]
    found = sum(cluster_of.get(rs[0]) is not None and len({cluster_of.get(r) for r in rs}) == 1 for rs in families)
    wrong = sum(r["drop_reason"] is not None and family[r["row"]] != family[int(r["dup_of"])] for r in rows)
    return found / len(families), wrong / len(family)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    no_core = settings({"core_links": False})
    print(f"{'set':<22} {'lang':<4} {'seed':>4} {'pages':>6}  setting                       found   wrong")
    for name, make in (("common chrome", pages_in_chrome), ("rare chrome", pages_in_rare_chrome)):
        for lang in ("ko", "ja"):
            for seed in seeds:
                texts, family = make(lang, seed)
                ids = [str(i) for i in range(len(texts))]
                if make is pages_in_chrome:
                    runs = [
                        (
                            "one pass, no body links",
                            lambda: cluster(keys_for_texts(texts, ids, no_core, lang), no_core),
                        ),
                        ("two passes, no body links", lambda: dedup_texts(texts, ids, no_core, lang)),
                        ("two passes + body links", lambda: dedup_texts(texts, ids, settings(), lang)),
                    ]
                else:
                    runs = [
                        (
                            "one pass, no body links",
                            lambda: cluster(keys_for_texts(texts, ids, no_core, lang), no_core),
                        ),
                        (
                            "one pass + body links",
                            lambda: cluster(keys_for_texts(texts, ids, settings(), lang), settings()),
                        ),
                        ("two passes + body links", lambda: dedup_texts(texts, ids, settings(), lang)),
                    ]
                for setting, run in runs:
                    found, wrong = score(run(), family)
                    print(f"{name:<22} {lang:<4} {seed:>4} {len(texts):>6}  {setting:<28} {found:6.3f} {wrong:6.2%}")


if __name__ == "__main__":
    main()
