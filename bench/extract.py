"""Web input throughput: pages/s per core for charset decoding and main-content extraction.

    python bench/extract.py [--pages 600]

Pages are real paragraphs (tests/data/web) wrapped in news-site markup and encoded in
UTF-8, CP949, EUC-KR, Shift_JIS and EUC-JP with correct, missing and wrong charset
declarations. Runs in one process (one core). For reference it also times
trafilatura's own baseline extractor (`baseline`), the fast path the library offers,
on the same pages, and prints the ratio.
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

from web_pages import build_pages, write_warc  # noqa: E402

from curate.io.readers import read_records  # noqa: E402
from curate.stages.extract import extract_text  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=600)
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)
    pages = []
    seed = 0
    while len(pages) < args.pages:
        pages += build_pages(seed=seed)
        seed += 1
    pages = pages[: args.pages]
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


if __name__ == "__main__":
    main()
