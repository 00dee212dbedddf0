"""Web input: pages/s per core for charset decoding and main-content extraction, and
recall and precision of the extracted text per page type.

    python bench/extract.py [--pages 600]

Pages are real paragraphs (tests/data/web) wrapped in news-site markup and encoded in
UTF-8, CP949, EUC-KR, Shift_JIS and EUC-JP with correct, missing and wrong charset
declarations. Runs in one process (one core). For reference it also times
trafilatura's own baseline extractor (`baseline`), the fast path the library offers,
on the same pages, and prints the ratio. Quality is measured on pages with site
chrome (navigation, bylines, share buttons, comments, cookie banners, tag clouds,
footers), among them Korean pages laid out in nested tables, for our extraction and
for plain trafilatura (`trafilatura.extract` with its defaults) in the same run:
character-level recall and precision against the article's paragraphs.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from table_pages import build_table_pages, recall_precision  # noqa: E402
from web_pages import build_pages, build_trap_pages, write_warc  # noqa: E402

from curate.io.readers import read_records  # noqa: E402
from curate.stages.extract import extract_text  # noqa: E402


def pages_by_type() -> dict[str, list[dict]]:
    """Page type -> pages (html, paragraphs) of that type."""
    types = {"portal (header, aside, footer)": build_pages()}
    for p in build_trap_pages():
        kind = p["url"].split("/")[-2]
        types.setdefault(
            {"news": "news (byline, comments, cookie)", "blog": "blog (<br> runs, tags)"}.get(kind, "div/span only"), []
        ).append(p)
    types["table layout (ko)"] = build_table_pages(n=25)
    return types


def quality() -> None:
    import trafilatura

    extractors = {"ours": extract_text, "plain trafilatura": lambda html, url: trafilatura.extract(html, url=url)}
    print(f"\n{'page type':32} {'pages':>5}  " + "  ".join(f"{name:>19}" for name in extractors))
    print(f"{'':32} {'':>5}  " + "  ".join(f"{'recall  precision':>19}" for _ in extractors))
    for kind, pages in pages_by_type().items():
        cells = []
        for extract in extractors.values():
            scores = [recall_precision(extract(p["html"], p["url"]), "\n".join(p["paragraphs"])) for p in pages]
            recall = sum(r for r, _ in scores) / len(scores)
            precision = sum(q for _, q in scores) / len(scores)
            cells.append(f"{recall:8.3f} {precision:10.3f}")
        print(f"{kind:32} {len(pages):>5}  " + "  ".join(cells))


def throughput(n_pages: int) -> None:
    pages = []
    seed = 0
    while len(pages) < n_pages:
        pages += build_pages(seed=seed)
        seed += 1
    pages = pages[:n_pages]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.warc.gz"
        write_warc(path, pages)
        mb = path.stat().st_size / 1e6
        t0 = time.perf_counter()
        records = list(read_records(str(path)))
        t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    texts = [extract_text(r.text, r.url) for r in records]
    t_extract = time.perf_counter() - t0

    import trafilatura

    t0 = time.perf_counter()
    for r in records:
        trafilatura.baseline(r.text)
    t_baseline = time.perf_counter() - t0
    ok = sum(1 for t in texts if t)
    print(f"{len(records)} pages ({mb:.1f} MB of .warc.gz), {ok} with main content")
    print(f"read + charset decode : {len(records) / t_read:8.0f} pages/s per core")
    print(f"extract (trafilatura) : {len(records) / t_extract:8.0f} pages/s per core")
    print(f"whole web input       : {len(records) / (t_read + t_extract):8.0f} pages/s per core")
    print(
        f"trafilatura.baseline  : {len(records) / t_baseline:8.0f} pages/s per core "
        f"(ours/baseline time ratio {t_extract / t_baseline:.2f})"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=600)
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)
    throughput(args.pages)
    quality()


if __name__ == "__main__":
    main()
