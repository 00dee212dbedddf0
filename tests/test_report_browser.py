"""Open report.html in real headless Chromium (started by the test, driven over the
DevTools protocol) and check that every plot loads and no text lacks a glyph, also in a
Chromium that sees no font at all (the page brings its own).

Chromium comes from the system packages (Debian: `apt-get install chromium`); the test
is skipped, saying so, only where no Chromium is found.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess

import pytest

from curate.report import build as report
from curate.report import webfont
from curate.report.chromium import CHROMIUM, chromium

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium found: install it (Debian/Ubuntu: apt-get install chromium) to run the browser test",
)
CJK = re.compile(r"[\uac00-\ud7a3\u3040-\u30ff\u4e00-\u9fff]")
HANGUL, KANA = re.compile(r"[\uac00-\ud7a3]"), re.compile(r"[\u3040-\u30ff]")


@pytest.fixture(scope="module")
def browser():
    with chromium() as cdp:
        yield cdp


@pytest.fixture(scope="module")
def cjkless_browser(tmp_path_factory):
    """Chromium on a machine without CJK fonts: its fontconfig configuration names only
    matplotlib's own font folder (DejaVu, STIX: Latin, Greek, symbols), so the system's
    fonts are out of its reach. (With no font at all Chromium can hang laying out a page.)"""
    import matplotlib

    folder = tmp_path_factory.mktemp("fontconfig")
    conf = folder / "fonts.conf"
    latin_only = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><dir>{latin_only}</dir><cachedir>{folder / 'cache'}</cachedir>\n"
        # Last Resort draws a placeholder for every character: not a font for any text
        "<selectfont><rejectfont><glob>*/LastResort*</glob></rejectfont></selectfont></fontconfig>\n",
        encoding="utf-8",
    )
    env = dict(os.environ, FONTCONFIG_FILE=str(conf))
    env.pop("FONTCONFIG_PATH", None)
    if shutil.which("fc-list"):
        listed = subprocess.run(["fc-list", ":charset=ac00 3042"], capture_output=True, text=True, env=env).stdout
        assert listed.strip() == "", f"fonts with Hangul and Kana still listed: {listed[:200]}"
    with chromium(env) as cdp:
        yield cdp


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    from test_report import curated_dir

    out = tmp_path_factory.mktemp("browser") / "out"
    shutil.copytree(curated_dir(), out)
    return _opened(browser, out)


def _opened(browser, out):
    """(browser, session, folder, report) of the report built in `out`, open in the browser."""
    r = report.build_report(out)
    return browser, browser.open(out / "report.html"), out, r


def _table_rows(cdp, session, heading: str) -> list[list[str]]:
    """The cell texts of the table under a section's heading and note."""
    return cdp.evaluate(
        session,
        f"Array.from(document.querySelectorAll('#{heading} + p + table tr')).map("
        "tr => Array.from(tr.cells).map(c => c.innerText))",
    )


def test_every_plot_loads(page):
    cdp, session, out, r = page
    images = cdp.evaluate(
        session,
        "Promise.all(Array.from(document.images).map(i => i.decode().then("
        "() => [i.alt, i.naturalWidth, i.naturalHeight], () => [i.alt, 0, 0])))",
    )
    assert len(images) >= 6
    for alt, w, h in images:
        assert w > 100 and h > 100, f"plot '{alt}' did not load ({w}x{h})"
    assert r["missing_glyphs"] == []  # matplotlib found a glyph for every label


def test_sources_table_and_folded_samples_render(page):
    cdp, session, out, r = page
    cdp.evaluate(session, "document.querySelectorAll('details').forEach(d => d.open = false)")
    rows = _table_rows(cdp, session, "sources")
    assert rows[0] == ["source", "kept", "rejected", "kept share"]
    assert {row[0]: (int(row[1].replace(",", "")), int(row[2].replace(",", ""))) for row in rows[1:]} == {
        s: (v["kept"], v["rejected"]) for s, v in r["sources"].items()
    }
    assert cdp.evaluate(session, "document.querySelector('#sources').getBoundingClientRect().height") > 0
    groups = len(r["samples"]["quality_decile"]) + len(r["samples"]["drop_reason"])
    folds = "Array.from(document.querySelectorAll('details.samples'))"
    assert cdp.evaluate(session, f"{folds}.length") == groups
    # folded: the samples take a line each; a click on a group's title shows its documents
    heights = cdp.evaluate(session, f"{folds}.map(d => d.getBoundingClientRect().height)")
    assert max(heights) < 60
    assert cdp.evaluate(session, f"{folds}[0].querySelector('.doc').checkVisibility()") is False
    cdp.evaluate(session, f"{folds}[0].querySelector('summary').click()")
    assert cdp.evaluate(session, f"{folds}[0].open") is True
    assert cdp.evaluate(session, f"{folds}[0].querySelector('.doc').checkVisibility()") is True
    assert cdp.evaluate(session, f"{folds}[0].getBoundingClientRect().height") > max(heights)
    cdp.evaluate(session, "document.querySelector('#rules summary').click()")
    why = cdp.evaluate(session, "document.querySelector('#rules table').innerText")
    assert "Polyglot-Ko" in why and "≥ 10" in why


def _font_files() -> dict[str, str]:
    """Family name -> font file, as fontconfig (which Chromium uses on Linux) knows them."""
    listing = subprocess.run(["fc-list", "--format", "%{family}\t%{file}\n"], capture_output=True, text=True).stdout
    files = {}
    for line in listing.splitlines():
        families, _, path = line.partition("\t")
        for fam in families.split(","):
            files.setdefault(fam.strip(), path)
    return files


def _embedded_charmap(html_path) -> set[int]:
    """Code points of the font embedded in the page (its @font-face data URL)."""
    from fontTools.ttLib import TTFont

    m = re.search(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", html_path.read_text(encoding="utf-8"))
    return set(TTFont(io.BytesIO(base64.b64decode(m.group(1)))).getBestCmap()) if m else set()


def test_page_text_renders_with_fonts_that_have_its_glyphs(page):
    """Chromium says which fonts drew each sample document; those fonts must map every character."""
    from matplotlib.ft2font import FT2Font

    cdp, session, out, r = page
    cdp.evaluate(session, "document.querySelectorAll('details').forEach(d => d.open = true)")  # folded samples too
    cdp.call("DOM.enable", session)
    cdp.call("CSS.enable", session)
    root = cdp.call("DOM.getDocument", session, depth=-1)["root"]["nodeId"]
    nodes = cdp.call("DOM.querySelectorAll", session, nodeId=root, selector=".doc, h2, .card, td")["nodeIds"]
    files, charmaps = _font_files(), {}
    embedded = _embedded_charmap(out / "report.html")
    checked_cjk = 0
    for node in nodes:
        text = cdp.node_text(session, node)
        fonts = cdp.call("CSS.getPlatformFontsForNode", session, nodeId=node)["fonts"]
        if not text.strip() or not fonts:
            continue
        covered: set[int] = set()
        for f in fonts:
            if f.get("isCustomFont"):  # the font embedded in the page
                covered |= embedded
                continue
            path = files.get(f["familyName"])
            assert path, f"Chromium used font {f['familyName']!r} that fontconfig does not list"
            if path not in charmaps:
                charmaps[path] = set(FT2Font(path).get_charmap())
            covered |= charmaps[path]
        missing = {ch for ch in text if not ch.isspace() and ord(ch) not in covered and ord(ch) >= 0x20}
        # emoji are drawn by a color emoji font where one is installed; everything else must be covered
        missing = {ch for ch in missing if ord(ch) < 0x1F000}
        assert not missing, f"no glyph for {sorted(missing)} in fonts {[f['familyName'] for f in fonts]}"
        if CJK.search(text):
            checked_cjk += 1
    assert checked_cjk >= 5  # Korean and Japanese text was actually on the page and checked


def _glyph_crops(cdp, session, chars: str, family: str = "") -> list[bytes]:
    """Screenshots of each character drawn alone, in the page's own font stack (or in
    the CSS font-family given)."""
    style = f"font-family:{family};" if family else ""
    rects = cdp.evaluate(
        session,
        f"""(async () => {{
        const box = document.createElement('div');
        box.style = 'position:fixed;left:0;top:0;background:#fff;z-index:9;font-size:40px;padding:10px;white-space:nowrap;{style}';
        // fixed whole-pixel cells: the same glyph drawn twice gives the same pixels
        box.innerHTML = {json.dumps(chars)}.split('').map(c => '<span style="display:inline-block;width:60px;' +
            'height:60px;line-height:60px;text-align:center">' + c + '</span>').join('');
        document.body.appendChild(box);
        await document.fonts.ready;  // the embedded font swaps in when decoded: shoot it, not the fallback
        return Array.from(box.children).map(s => {{ const r = s.getBoundingClientRect();
            return [r.x, r.y, r.width, r.height]; }});
    }})()""",
    )
    crops = []
    for x, y, w, h in rects:
        data = cdp.call(
            "Page.captureScreenshot", session, format="png", clip={"x": x, "y": y, "width": w, "height": h, "scale": 1}
        )["data"]
        crops.append(base64.b64decode(data))
    cdp.evaluate(session, "document.body.lastChild.remove()")
    return crops


def test_screenshot_draws_distinct_hangul_and_kana(page):
    """A font that lacks a glyph draws the same box for every character; real Hangul and
    Kana glyphs differ. Private-use characters (no font has them) show the check can fail."""
    from PIL import Image

    cdp, session, out, r = page
    sample = next(d["text"] for docs in r["samples"]["quality_decile"].values() for d in docs if CJK.search(d["text"]))
    hangul = "".join(dict.fromkeys(ch for ch in sample if "\uac00" <= ch <= "\ud7a3"))[:6]
    assert len(hangul) >= 4
    chars = hangul + "あカ"
    crops = [Image.open(io.BytesIO(c)).convert("L") for c in _glyph_crops(cdp, session, chars)]
    pixels = [c.tobytes() for c in crops]
    assert all(len(set(p)) > 2 for p in pixels), "a character drew nothing"
    assert len(set(pixels)) == len(chars), "some characters drew the same shape (missing-glyph boxes)"
    tofu_png = _glyph_crops(cdp, session, "\ue000\ue001\ue002")
    tofu = [Image.open(io.BytesIO(c)).convert("L").tobytes() for c in tofu_png]
    assert len(set(tofu)) == 1, "control: characters without a glyph should all draw the same box"
    shot = cdp.call("Page.captureScreenshot", session, format="png")["data"]
    assert len(set(Image.open(io.BytesIO(base64.b64decode(shot))).convert("L").tobytes())) > 50  # not a blank page


# ---------------------------------------------------------------------------- a machine without CJK fonts
@pytest.fixture(scope="module")
def cjkless_page(cjkless_browser, page):
    _, _, out, r = page
    return cjkless_browser, cjkless_browser.open(out / "report.html"), out, r


def _unique(pattern: re.Pattern, text: str, n: int) -> str:
    return "".join(dict.fromkeys(pattern.findall(text)))[:n]


def _pixels(pngs: list[bytes]) -> list[bytes]:
    from PIL import Image

    return [Image.open(io.BytesIO(p)).convert("L").tobytes() for p in pngs]


def test_page_renders_hangul_and_kana_without_system_cjk_fonts(cjkless_page):
    """With no CJK font on the machine, the Hangul and Kana of the page draw as distinct
    glyphs from the embedded font; the same characters in the browser's own sans-serif
    (the control) all draw one and the same missing-glyph box."""
    cdp, session, out, r = cjkless_page
    cdp.evaluate(session, "document.querySelectorAll('details').forEach(d => d.open = true)")  # folded samples too
    text = cdp.evaluate(session, "document.body.innerText")
    hangul, kana = _unique(HANGUL, text, 6), _unique(KANA, text, 3)
    assert len(hangul) >= 4 and len(kana) >= 2, "the page should hold Korean and Japanese text"
    faces = cdp.evaluate(
        session, "document.fonts.ready.then(() => Array.from(document.fonts).map(f => [f.family, f.status]))"
    )
    assert [webfont.FAMILY, "loaded"] in [list(f) for f in faces]

    chars = hangul + kana
    drawn = _pixels(_glyph_crops(cdp, session, chars))
    assert all(len(set(p)) > 2 for p in drawn), "a character drew nothing"
    assert len(set(drawn)) == len(chars), "some characters drew the same shape (missing-glyph boxes)"
    control = _pixels(_glyph_crops(cdp, session, chars, family="sans-serif"))
    assert len(set(control)) == 1, "control: this browser should have no font for Hangul or Kana"

    # and Chromium says that the page's Korean text was drawn with the embedded font alone
    cdp.call("DOM.enable", session)
    cdp.call("CSS.enable", session)
    root = cdp.call("DOM.getDocument", session, depth=-1)["root"]["nodeId"]
    nodes = cdp.call("DOM.querySelectorAll", session, nodeId=root, selector=".doc")["nodeIds"]
    checked = 0
    for node in nodes[:20]:
        fonts = cdp.call("CSS.getPlatformFontsForNode", session, nodeId=node)["fonts"]
        node_text = cdp.node_text(session, node)
        if HANGUL.search(node_text) and fonts:
            assert all(f.get("isCustomFont") for f in fonts if f["glyphCount"]), fonts
            checked += 1
    assert checked >= 3
    shot = cdp.call("Page.captureScreenshot", session, format="png")["data"]
    (out / "cjkless.png").write_bytes(base64.b64decode(shot))


# ---------------------------------------------------------------------------- histograms, pairs, boilerplate
@pytest.fixture(scope="module")
def sections_page(browser, tmp_path_factory):
    """The bundled Korean sample's report, its manifest listing boilerplate lines."""
    from test_report import bundled_dir, with_boilerplate_summary

    out = tmp_path_factory.mktemp("sections") / "out"
    shutil.copytree(bundled_dir("ko"), out)
    with_boilerplate_summary(out)
    r = report.build_report(out)
    session = browser.open(out / "report.html")
    browser.evaluate(session, "document.fonts.ready.then(() => true)")
    return browser, session, out, r


def test_signal_histograms_pairs_and_boilerplate_render(sections_page):
    cdp, session, out, r = sections_page
    # one loaded chart per thresholded rule, each captioned with its threshold
    figs = cdp.evaluate(
        session,
        "Promise.all(Array.from(document.querySelectorAll('figure.signal-hist')).map(f => { const i = f.querySelector('img');"
        " return i.decode().then(() => [f.dataset.rule, i.naturalWidth, i.getBoundingClientRect().width,"
        " f.querySelector('figcaption').innerText]); }))",
    )
    hists = r["signal_histograms"]
    assert [f[0] for f in figs] == [h["rule"] for h in hists] and len(hists) >= 10
    for (rule, natural, shown, caption), h in zip(figs, hists):
        assert natural > 200 and shown > 200, rule
        assert f"{'≥' if h['bound'] == 'min' else '≤'} {h['threshold']:g}" in caption, rule
    # pairs: the kept and the dropped text side by side in one row
    rows = cdp.evaluate(
        session,
        "Array.from(document.querySelectorAll('table.dup-pairs tr')).slice(1).map(tr => { const c = tr.cells;"
        " const a = c[3].getBoundingClientRect(), b = c[4].getBoundingClientRect();"
        " return [c[0].innerText, c[2].innerText, a.left < b.left && a.top === b.top && a.width > 150 && b.width > 150,"
        " c[3].querySelector('.doc').innerText, c[4].querySelector('.doc').innerText]; })",
    )
    pairs = r["duplicates"]["pairs"]
    assert len(rows) == len(pairs) > 0
    for (cluster, sim, side_by_side, kept, dropped), p in zip(rows, pairs):
        assert (cluster, sim, side_by_side) == (p["cluster"], f"{p['similarity']:.2f}", True)
        assert kept.strip() == p["kept"]["text"].strip() and dropped.strip() == p["dropped"]["text"].strip()
    # boilerplate: each line with its documents and an example id
    lines = _table_rows(cdp, session, "boilerplate")
    assert lines[0] == ["line", "clusters", "documents", "of them kept", "example document"]
    got = [(x[0].strip(), int(x[2].replace(",", "")), x[4]) for x in lines[1:]]
    want = [(b["line"], b["docs"], b["example_id"]) for b in r["duplicates"]["boilerplate"]["top_boilerplate"]]
    assert got == want and want


# ---------------------------------------------------------------------------- domains
@pytest.fixture(scope="module")
def domains_page(browser, tmp_path_factory):
    """The report of the shard-report sample with the URLs its sources were published at."""
    from test_report_domains import curated_with_urls

    return _opened(browser, curated_with_urls(tmp_path_factory.mktemp("domains-page")))


def test_domains_table_renders(domains_page):
    cdp, session, out, r = domains_page
    rows = _table_rows(cdp, session, "domains")
    assert rows[0] == ["domain", "read", "kept", "dropped", "kept share", "top drop reason"]
    want = [[x["domain"], x["docs"], x["kept"], x["dropped"], x["top_reason"]] for x in r["domains"]["rows"]]
    got = [[c[0], *(int(v.replace(",", "")) for v in c[1:4]), c[5].rsplit(" (", 1)[0]] for c in rows[1:]]
    assert got == want and {w[0] for w in want} >= {"no domain", "movie.naver.com"}
    assert cdp.evaluate(session, "document.querySelector('#domains').getBoundingClientRect().height") > 0
    assert cdp.evaluate(session, "document.querySelector('nav a[href=\"#domains\"]') !== null")
