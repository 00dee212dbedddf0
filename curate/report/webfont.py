"""The report page's own font: a subset of the plot font, embedded in the HTML.

A browser on a machine without CJK fonts draws Hangul and Kana as empty boxes. The page
carries, as an @font-face data URL, only the glyphs of the characters it contains
(fontTools subsetter, WOFF with zlib), so it renders alike everywhere and stays one file.
"""

from __future__ import annotations

import base64
import io

FAMILY = "curate-report-cjk"
# Name records kept in the subset: family and version (1-6), and the copyright and the
# licence (0, 13, 14) that the SIL Open Font License asks to travel with the font.
NAME_IDS = [0, 1, 2, 3, 4, 5, 6, 13, 14]
ASCII = {chr(c) for c in range(0x20, 0x7F)}


def subset_font(font_path: str, text: str | set[str]) -> tuple[bytes, set[int]]:
    """WOFF bytes holding the glyphs for the characters of text (and printable ASCII)
    that the font has, and those code points. A collection (.ttc) gives its first face,
    the one matplotlib draws with."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(font_path, fontNumber=0, lazy=True)
    cmap = font.getBestCmap()
    wanted = {ord(ch) for ch in set(text) | ASCII} & set(cmap)
    options = subset.Options()
    options.flavor = "woff"
    options.hinting = False  # browsers rasterize CJK outlines well unhinted; hints are a third of a TTF
    options.desubroutinize = True  # CFF outlines inline: a tenth smaller after compression
    options.name_IDs = NAME_IDS
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(wanted))
    subsetter.subset(font)
    buf = io.BytesIO()
    font.flavor = "woff"
    font.save(buf)
    return buf.getvalue(), wanted


def font_face_css(font_path: str, text: str | set[str]) -> str:
    """An @font-face rule naming FAMILY, its source the subset as a base64 data URL."""
    woff, _ = subset_font(font_path, text)
    data = base64.b64encode(woff).decode("ascii")
    return (
        f'@font-face{{font-family:"{FAMILY}";src:url(data:font/woff;base64,{data}) format("woff");font-display:swap}}'
    )
