"""The report's breakdown by web domain: its rows against the shards, and the bounds of
its per-shard summaries when a crawl has more domains than a summary keeps."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
from test_report import SAMPLE, _read, build_curated_dir

from curate.io.schema import SHARD_SCHEMA
from curate.report import build as report
from curate.report import domains
from curate.report.stats import merge_stats, table_stats
from curate.stages.urlfilter import domain_of

# Where the sample's texts were published, by source; the news and en-fr sentences come
# from a parallel corpus without URLs, so they are the "no domain" documents.
HOME = {"nsmc": "https://movie.naver.com/movie/point/af/list.naver", "ja-wiki": "https://ja.wikipedia.org/wiki/"}


def _with_urls(dst: Path) -> Path:
    lines = []
    for i, line in enumerate(SAMPLE.read_text(encoding="utf-8").splitlines()):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:  # the cut line stays cut: the reader quarantines it
            lines.append(line)
            continue
        if rec.get("source") in HOME:
            # upper-case hosts and a trailing dot name the same domain
            host = HOME[rec["source"]]
            rec["url"] = (host.replace("movie.naver.com", "MOVIE.naver.com.") if i % 5 == 0 else host) + str(i)
        lines.append(json.dumps(rec, ensure_ascii=False))
    dst.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dst


def curated_with_urls(tmp: Path) -> Path:
    """The sample, with its URLs, curated into tmp/out."""
    out = tmp / "out"
    build_curated_dir(out, ["normalize", "langid", "pii", "quality", "dedup"], sample=_with_urls(tmp / "urls.jsonl"))
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = curated_with_urls(tmp_path_factory.mktemp("domains"))
    return out, report.build_report(out)


def test_domains_match_shards(built):
    out, r = built
    docs, kept, reasons = Counter(), Counter(), {}
    for kind in ("shards", "rejected"):
        t = _read(out, kind)
        for url, reason in zip(t.column("url").to_pylist(), t.column("drop_reason").to_pylist()):
            d = (domain_of(url) if url else None) or "no domain"
            docs[d] += 1
            kept[d] += reason is None
            if reason:
                reasons.setdefault(d, Counter())[reason] += 1
    assert set(docs) == {"movie.naver.com", "ja.wikipedia.org", "no domain"}
    rows = r["domains"]["rows"]
    assert [x["domain"] for x in rows] == sorted(docs, key=lambda d: (-docs[d], d))
    for x in rows:
        d = x["domain"]
        assert (x["docs"], x["kept"], x["dropped"], x["err"]) == (docs[d], kept[d], docs[d] - kept[d], 0), d
        top = min(reasons[d].items(), key=lambda kv: (-kv[1], kv[0]))
        assert (x["top_reason"], x["top_reason_docs"]) == top, d
    assert r["domains"]["exact"] and r["domains"]["other"] == {"domains": 0, "docs": 0, "kept": 0}
    assert sum(x["docs"] for x in rows) == r["counts"]["kept"] + r["counts"]["rejected"]
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["domains"] == r["domains"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="domains">' in page and '<a href="#domains">' in page
    for x in rows:
        assert f"<td>{x['domain']}</td>" in page and f"<td>{x['top_reason']} (" in page


def _url_table(urls: list[str | None], reasons: list[str | None]) -> pa.Table:
    n = len(urls)
    cols = {name: pa.nulls(n, SHARD_SCHEMA.field(name).type) for name in SHARD_SCHEMA.names}
    cols.update(id=pa.array([str(i) for i in range(n)]), text=pa.array(["x"] * n))
    cols.update(url=pa.array(urls, pa.string()), drop_reason=pa.array(reasons, pa.string()))
    return pa.table(cols, schema=SHARD_SCHEMA)


def test_domain_summary_bounds(monkeypatch):
    # a long tail of domains, more than a shard's summary keeps
    rng = random.Random(5)
    names = [f"site{i}.example" for i in range(120)]
    weights = [1 / (i + 1) for i in range(len(names))]
    urls = [None if rng.random() < 0.005 else f"https://{d}/p" for d in rng.choices(names, weights, k=3000)]
    reasons = [rng.choice([None, None, "near_dup", "quality:min_n_chars"]) for _ in urls]
    table = _url_table(urls, reasons)
    truth = Counter((domain_of(u) if u else "no domain") for u in urls)
    monkeypatch.setattr(domains, "TOP_DOMAINS", 15)
    parts = [table_stats(table.slice(i, 200)) for i in range(0, len(urls), 200)]
    merged = merge_stats(json.loads(json.dumps(parts)))["domains"]
    # the largest 15, and "no domain" (about 15 documents, fewer than the 15th domain has)
    assert len(merged["items"]) == 16 and merged["floor"] > 0
    for d, item in merged["items"].items():
        assert item["docs"] <= truth[d] <= item["docs"] + item["err"], d
    assert merged["items"]["no domain"]["docs"] == truth["no domain"]
    assert merged["items"]["no domain"]["err"] == 0
    for d, n in truth.items():
        if d not in merged["items"]:
            assert n <= merged["floor"]
    assert all(d in merged["items"] for d, _ in truth.most_common(5))
    shown = domains.by_domain(merged, len(urls), reasons.count(None), shown=10)
    assert len(shown["rows"]) == 10 and not shown["exact"] and shown["other"]["domains"] is None
    assert shown["other"]["docs"] == len(urls) - sum(x["docs"] for x in shown["rows"])
    # a merged summary merged again is unchanged
    assert merge_stats([merge_stats(json.loads(json.dumps(parts)))])["domains"] == merged
