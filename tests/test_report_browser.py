"""Open report.html in real headless Chromium (started by the test, driven over the
DevTools protocol) and check that every plot loads and no text lacks a glyph.

Chromium comes from the system packages (Debian: `apt-get install chromium
fonts-noto-cjk`); the test is skipped, saying so, only where no Chromium is found.
"""
from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from curate import report

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome", "chrome")
                 if shutil.which(n)), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium found: install it (Debian/Ubuntu: apt-get install chromium) to run the browser test")
CJK = re.compile(r"[\uac00-\ud7a3\u3040-\u30ff\u4e00-\u9fff]")


class DevTools:
    """A minimal Chrome DevTools Protocol client over one websocket (flattened sessions)."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    def call(self, method: str, session: str | None = None, timeout: float = 30, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="chromium-")
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-extensions", "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and url is None:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            url = m.group(1) if m else None
        if url is None:
            pytest.fail(f"Chromium did not start its DevTools endpoint (exit {proc.poll()})")
        from websockets.sync.client import connect

        with connect(url, max_size=64 << 20, open_timeout=30, proxy=None) as ws:
            yield DevTools(ws)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    from test_report import curated_dir

    out = tmp_path_factory.mktemp("browser") / "out"
    shutil.copytree(curated_dir(), out)
    r = report.build_report(out)
    target = browser.call("Target.createTarget", url="about:blank")["targetId"]
    session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    browser.call("Page.enable", session)
    browser.call("Emulation.setDeviceMetricsOverride", session, width=1280, height=900, deviceScaleFactor=1, mobile=False)
    browser.call("Page.navigate", session, url=(out / "report.html").resolve().as_uri())
    deadline = time.monotonic() + 60
    while browser.call("Runtime.evaluate", session, expression="document.readyState")["result"]["value"] != "complete":
        assert time.monotonic() < deadline, "report.html did not finish loading"
        time.sleep(0.2)
    return browser, session, out, r


def _eval(cdp, session, expr):
    return cdp.call("Runtime.evaluate", session, expression=expr, returnByValue=True, awaitPromise=True)["result"].get("value")


def test_every_plot_loads(page):
    cdp, session, out, r = page
    images = _eval(cdp, session, "Promise.all(Array.from(document.images).map(i => i.decode().then("
                                 "() => [i.alt, i.naturalWidth, i.naturalHeight], () => [i.alt, 0, 0])))")
    assert len(images) >= 6
    for alt, w, h in images:
        assert w > 100 and h > 100, f"plot '{alt}' did not load ({w}x{h})"
    assert r["missing_glyphs"] == []  # matplotlib found a glyph for every label


def _font_files() -> dict[str, str]:
    """Family name -> font file, as fontconfig (which Chromium uses on Linux) knows them."""
    listing = subprocess.run(["fc-list", "--format", "%{family}\t%{file}\n"], capture_output=True, text=True).stdout
    files = {}
    for line in listing.splitlines():
        families, _, path = line.partition("\t")
        for fam in families.split(","):
            files.setdefault(fam.strip(), path)
    return files


def test_page_text_renders_with_fonts_that_have_its_glyphs(page):
    """Chromium says which fonts drew each sample document; those fonts must map every character."""
    from matplotlib.ft2font import FT2Font

    cdp, session, out, r = page
    cdp.call("DOM.enable", session)
    cdp.call("CSS.enable", session)
    root = cdp.call("DOM.getDocument", session, depth=-1)["root"]["nodeId"]
    nodes = cdp.call("DOM.querySelectorAll", session, nodeId=root, selector=".doc, h2, .card, td")["nodeIds"]
    files, charmaps = _font_files(), {}
    checked_cjk = 0
    for node in nodes:
        obj = cdp.call("DOM.resolveNode", session, nodeId=node)["object"]["objectId"]
        text = cdp.call("Runtime.callFunctionOn", session, objectId=obj, returnByValue=True,
                        functionDeclaration="function() { return this.innerText; }")["result"]["value"]
        fonts = cdp.call("CSS.getPlatformFontsForNode", session, nodeId=node)["fonts"]
        if not text.strip() or not fonts:
            continue
        covered: set[int] = set()
        for f in fonts:
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


def _glyph_crops(cdp, session, chars: str) -> list[bytes]:
    """Screenshots of each character drawn alone, in the page's own font stack."""
    rects = _eval(cdp, session, f"""(() => {{
        const box = document.createElement('div');
        box.style = 'position:fixed;left:0;top:0;background:#fff;z-index:9;font-size:40px;padding:10px;white-space:nowrap';
        // fixed whole-pixel cells: the same glyph drawn twice gives the same pixels
        box.innerHTML = {json.dumps(chars)}.split('').map(c => '<span style="display:inline-block;width:60px;' +
            'height:60px;line-height:60px;text-align:center">' + c + '</span>').join('');
        document.body.appendChild(box);
        return Array.from(box.children).map(s => {{ const r = s.getBoundingClientRect();
            return [r.x, r.y, r.width, r.height]; }});
    }})()""")
    crops = []
    for x, y, w, h in rects:
        data = cdp.call("Page.captureScreenshot", session, format="png",
                        clip={"x": x, "y": y, "width": w, "height": h, "scale": 1})["data"]
        crops.append(base64.b64decode(data))
    _eval(cdp, session, "document.body.lastChild.remove()")
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
