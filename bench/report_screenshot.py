"""Screenshots of a curated folder's report.html for the README, taken by headless
Chromium (curate.report.chromium, as the browser test opens the page).

    .venv/bin/curate corpus --lang ko --input data/sample/ko.jsonl.gz --output out/corpus/ko
    .venv/bin/python bench/report_screenshot.py out/corpus/ko docs/report-ko.png

Builds the report first when the folder has none. The PNG shows the page from its top
and, below that, each section named with --section (ids on the page: funnel, drops,
quality, signal-histograms, duplicates, dup-pairs, boilerplate...), each cut to
--height pixels; it is quantised to 256 colours to stay small.
"""

from __future__ import annotations

import argparse
import base64
import io
import sys
from pathlib import Path

from PIL import Image

from curate.report.build import build_report
from curate.report.chromium import chromium

SECTIONS = ("signal-histograms", "boilerplate")  # the duplicate pairs follow the boilerplate table


def _shot(cdp, session, y: float, width: int, height: int) -> Image.Image:
    clip = {"x": 0, "y": y, "width": width, "height": height, "scale": 1}
    data = cdp.call("Page.captureScreenshot", session, format="png", clip=clip, captureBeyondViewport=True)["data"]
    return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")


def screenshot(html: Path, png: Path, sections: list[str], width: int, height: int) -> None:
    with chromium() as cdp:
        session = cdp.open(html, width=width)
        cdp.evaluate(session, "document.fonts.ready.then(() => true)")  # the embedded font, not a fallback
        shots = [_shot(cdp, session, 0, width, height)]
        for section in sections:
            top = cdp.evaluate(
                session, f"(e => e && e.getBoundingClientRect().top + scrollY)(document.getElementById({section!r}))"
            )
            if top is None:
                raise SystemExit(f"report_screenshot: the page has no section {section!r}")
            shots.append(_shot(cdp, session, max(0, top - 10), width, height))
    sheet = Image.new("RGB", (width, sum(s.height for s in shots) + 8 * (len(shots) - 1)), "#888888")
    y = 0
    for s in shots:
        sheet.paste(s, (0, y))
        y += s.height + 8
    sheet.quantize(256).save(png, optimize=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="a folder written by `curate corpus`")
    ap.add_argument("png", type=Path, help="where to write the screenshot")
    ap.add_argument(
        "--section", action="append", help=f"a section to show below the top (default: {', '.join(SECTIONS)})"
    )
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=800, help="pixels of the page shown from the top and per section")
    args = ap.parse_args(argv)
    if not (args.out / "report.html").exists():
        build_report(args.out)
    args.png.parent.mkdir(parents=True, exist_ok=True)
    screenshot(args.out / "report.html", args.png, args.section or list(SECTIONS), args.width, args.height)
    print(f"{args.png}: {args.png.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
