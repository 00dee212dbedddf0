"""The report's fonts on a machine without system fonts: the plots fall back to the Noto
Sans CJK that the notojp-matplotlib package ships, the page embeds a subset of it, and
with no CJK font at all the report is still written.

"No system fonts" is made by hiding them from matplotlib: a fresh font manager that
knows only matplotlib's own fonts (DejaVu, which has no Hangul or Kana), and no known
system font paths.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import warnings

import matplotlib
import pytest

from curate.report import build as report
from curate.report import fonts, webfont

HANGUL_KANA = re.compile(r"[\uac00-\ud7a3\u3040-\u30ff]")


def _clear_caches():
    fonts.find_cjk_font.cache_clear()
    fonts.use_cjk_font.cache_clear()


@pytest.fixture
def no_system_fonts(monkeypatch):
    """matplotlib's font manager knows only its bundled fonts; the font search sees no
    system font. (The manager itself is kept: the Agg backend holds a reference to it.)"""
    from matplotlib import font_manager

    bundled = os.path.join(matplotlib.get_data_path(), "fonts")
    real_find = font_manager.findSystemFonts

    def only_bundled(fontpaths=None, fontext="ttf"):
        return [f for f in real_find(fontpaths, fontext) if f.startswith(bundled)]

    monkeypatch.setattr(font_manager, "findSystemFonts", only_bundled)
    monkeypatch.setattr(fonts, "KNOWN_FONTS", [])
    monkeypatch.delenv("CURATE_CJK_FONT", raising=False)
    manager = font_manager.fontManager
    saved_fonts, saved_rc = manager.ttflist, dict(matplotlib.rcParams)
    manager.ttflist = [f for f in saved_fonts if f.fname.startswith(bundled)]
    manager._findfont_cached.cache_clear()
    _clear_caches()
    yield manager
    manager.ttflist = saved_fonts
    manager._findfont_cached.cache_clear()
    _clear_caches()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated keys come back as they were
        matplotlib.rcParams.update(saved_rc)


@pytest.fixture
def curated(tmp_path):
    from test_report import curated_dir

    return shutil.copytree(curated_dir(), tmp_path / "out")


def _glyph_warnings(text: str, **kw) -> list[str]:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.set_title(text, **kw)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_packaged_font_is_noto_sans_cjk_with_hangul_and_kana():
    from matplotlib.ft2font import FT2Font

    path = fonts.packaged_cjk_font()
    assert path and path.endswith("NotoSansCJKjp-Regular.otf")
    cmap = FT2Font(path).get_charmap()
    assert all(c in cmap for c in range(0xAC00, 0xD7A4))  # every Hangul syllable
    assert all(ord(c) in cmap for c in "あいうアイウ言語構成日本語한국어")


def test_plots_use_packaged_font_when_no_system_font(no_system_fonts, curated):
    from matplotlib import font_manager

    assert all("cjk" not in f.fname.lower() for f in no_system_fonts.ttflist)
    assert _glyph_warnings("언어 구성 / ひらがな")  # matplotlib alone cannot draw them here
    packaged = fonts.packaged_cjk_font()
    assert fonts.find_cjk_font() == packaged
    name = fonts.use_cjk_font()
    assert name == "Noto Sans CJK JP"
    assert font_manager.findfont(font_manager.FontProperties(family=["sans-serif"])) == packaged
    assert _glyph_warnings("언어 구성 / 言語構成 / ひらがな") == []  # the default family draws them

    r = report.build_report(curated)
    assert r["font"] == name and r["font_file"] == packaged and r["font_error"] is None
    assert r["missing_glyphs"] == []
    page = (curated / "report.html").read_text(encoding="utf-8")
    assert "Set in Noto Sans CJK JP." in page


def test_environment_override_wins_and_is_checked(no_system_fonts, monkeypatch, tmp_path):
    from matplotlib import font_manager

    packaged = fonts.packaged_cjk_font()
    monkeypatch.setenv("CURATE_CJK_FONT", packaged)
    assert fonts.find_cjk_font() == packaged
    _clear_caches()
    dejavu = font_manager.findfont("DejaVu Sans")
    monkeypatch.setenv("CURATE_CJK_FONT", dejavu)
    with pytest.raises(fonts.FontNotFound, match="no Hangul/Kana"):
        fonts.find_cjk_font()
    _clear_caches()
    monkeypatch.setenv("CURATE_CJK_FONT", str(tmp_path / "absent.ttf"))
    with pytest.raises(fonts.FontNotFound):
        fonts.find_cjk_font()


def test_known_system_font_comes_before_packaged(no_system_fonts, monkeypatch, tmp_path):
    # a "system" CJK font at a known path (a copy of the packaged file under another name)
    system = tmp_path / "NotoSansCJK-Regular.otf"
    shutil.copyfile(fonts.packaged_cjk_font(), system)
    monkeypatch.setattr(fonts, "KNOWN_FONTS", [str(tmp_path / "absent.ttc"), str(system)])
    assert fonts.find_cjk_font() == str(system)


def test_without_any_cjk_font_report_is_still_written(no_system_fonts, monkeypatch, curated, capsys):
    monkeypatch.setattr(fonts, "PACKAGED_FONT", ("curate_no_such_font_package", ("x.otf",)))
    with pytest.raises(fonts.FontNotFound):
        fonts.find_cjk_font()
    _clear_caches()
    assert report.main([str(curated)]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "no font with Hangul and Kana found" in err
    r = json.loads((curated / "report.json").read_text(encoding="utf-8"))
    assert r["font"] is None and "no font with Hangul and Kana" in r["font_error"]
    assert r["counts"]["kept"] > 0
    assert r["missing_glyphs"] == []  # labels lost their Hangul to '?', nothing drew as a box
    page = (curated / "report.html").read_text(encoding="utf-8")
    assert "@font-face" not in page and page.count("data:image/png;base64,") >= 6


def _font_from_page(page: str):
    from fontTools.ttLib import TTFont

    m = re.search(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", page)
    assert m, "no embedded font"
    return TTFont(io.BytesIO(base64.b64decode(m.group(1)))), len(m.group(1))


def _has_outline(font, ch: str) -> bool:
    from fontTools.pens.boundsPen import BoundsPen

    name = font.getBestCmap()[ord(ch)]
    pen = BoundsPen(font.getGlyphSet())
    font.getGlyphSet()[name].draw(pen)
    return pen.bounds is not None


def test_page_embeds_a_subset_covering_its_text(no_system_fonts, curated):
    report.build_report(curated)
    page = (curated / "report.html").read_text(encoding="utf-8")
    font, b64_len = _font_from_page(page)
    cmap = font.getBestCmap()
    cjk_chars = set(HANGUL_KANA.findall(page))
    assert len(cjk_chars) > 100
    assert cjk_chars <= {chr(c) for c in cmap}
    assert all(_has_outline(font, ch) for ch in sorted(cjk_chars)[:50] + list("Aa1"))
    # only the page's characters: far fewer glyphs than the 65k of the whole font
    assert len(cmap) < len(set(page)) + 100
    assert b64_len < len(page) // 2
    assert "Open Font License" in font["name"].getDebugName(13)  # the licence travels with it


def test_subset_holds_asked_characters_only():
    woff, points = webfont.subset_font(fonts.packaged_cjk_font(), "한국어 にほんご")
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(woff))
    assert font.flavor == "woff"
    assert set(font.getBestCmap()) == points
    assert {ord(c) for c in "한국어にほんご"} <= points
    assert ord("語") not in points  # not asked for
    assert all(_has_outline(font, c) for c in "한국어にほんご")
