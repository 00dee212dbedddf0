"""A font with Hangul and Kana for matplotlib, registered explicitly.

Matplotlib's default DejaVu Sans has no Hangul or Kana: Korean and Japanese labels
would render as empty boxes. The search order: CURATE_CJK_FONT, then known system
fonts (Noto Sans CJK from `fonts-noto-cjk` and its kin, Apple SD Gothic Neo, Malgun
Gothic), then Noto Sans CJK JP from the `notojp-matplotlib` package that the install
brings in (so a machine with no system fonts still has one), then any installed font
whose character map covers both a Hangul syllable and a Hiragana letter. The font is
registered with matplotlib's font manager so the lookup does not depend on its cache.
"""

from __future__ import annotations

import functools
import importlib.util
import os

# Known locations, best first: Noto Sans CJK (Debian/Ubuntu, Fedora, Arch, Homebrew), then
# fonts of the operating system that cover Hangul and Kana.
KNOWN_FONTS = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKkr-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/opt/homebrew/share/fonts/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/AppleSDGothicNeo.ttc",
    "C:/Windows/Fonts/malgun.ttf",
]
# Noto Sans CJK JP 2.004 (SIL OFL 1.1): all 11,172 Hangul syllables, Kana and the CJK
# ideographs, shipped as package data of a PyPI dependency.
PACKAGED_FONT = ("notojp_matplotlib", ("fonts", "NotoSansCJKjp-Regular.otf"))
PROBE_CHARS = (ord("한"), ord("あ"), ord("ア"))  # Hangul syllable, Hiragana, Katakana


class FontNotFound(RuntimeError):
    pass


def covers_cjk(path: str) -> bool:
    """Whether the font file maps a Hangul syllable and Kana to glyphs."""
    from matplotlib.ft2font import FT2Font

    try:
        cmap = FT2Font(path).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(c in cmap for c in PROBE_CHARS)


def packaged_cjk_font() -> str | None:
    """Path of the font file shipped by the font package, or None where it is not installed."""
    package, parts = PACKAGED_FONT
    # located, not imported: importing the package would change matplotlib's rcParams
    spec = importlib.util.find_spec(package)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, *parts)
        if os.path.exists(path):
            return path
    return None


@functools.lru_cache(maxsize=1)
def find_cjk_font() -> str:
    """Path of a font covering Hangul and Kana; CURATE_CJK_FONT overrides the search."""
    override = os.environ.get("CURATE_CJK_FONT")
    if override:
        if not covers_cjk(override):
            raise FontNotFound(f"CURATE_CJK_FONT={override} has no Hangul/Kana glyphs")
        return override
    for path in KNOWN_FONTS:
        if os.path.exists(path) and covers_cjk(path):
            return path
    packaged = packaged_cjk_font()
    if packaged and covers_cjk(packaged):
        return packaged
    from matplotlib import font_manager

    for path in sorted(font_manager.findSystemFonts()):
        name = os.path.basename(path).lower()
        if any(k in name for k in ("cjk", "nanum", "gothic", "ipaex", "noto sans kr", "notosanskr")) and covers_cjk(
            path
        ):
            return path
    raise FontNotFound(
        "no font with Hangul and Kana found; reinstall the package (its dependency notojp-matplotlib "
        "ships Noto Sans CJK), install one (Debian/Ubuntu: apt-get install fonts-noto-cjk) "
        "or point CURATE_CJK_FONT at a .ttf/.otf/.ttc file"
    )


@functools.lru_cache(maxsize=1)
def use_cjk_font() -> str:
    """Register the CJK font with matplotlib and make it the default family; returns its name."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, rcParams

    path = find_cjk_font()
    font_manager.fontManager.addfont(path)
    name = font_manager.FontProperties(fname=path).get_name()
    # DejaVu Sans after it for the few symbols CJK fonts lack
    rcParams["font.family"] = "sans-serif"
    rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
    rcParams["axes.unicode_minus"] = False
    return name
