"""A font that draws Chinese in matplotlib charts, for any feature that draws one.

The ``notojp-matplotlib`` dependency ships Noto Sans CJK (SIL Open Font License); its file is
registered with matplotlib at the first chart (found through the package metadata, never
imported: importing it would change matplotlib's global font) and preferred, so a fresh machine
draws a Chinese group's charts in Chinese. Without it an installed font that really covers the
glyphs is looked for; when there is none, callers draw in English, so a chart never shows boxes
of missing glyphs. (The stats feature's ``handlers/stats/charts.py`` holds the same logic from
before this module; it can import from here.)
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

log = logging.getLogger(__name__)

#: The distribution that ships the CJK font (a dependency in pyproject.toml).
FONT_PACKAGE = "notojp-matplotlib"
_CJK_HINTS = (
    "cjk",
    "han",
    "hei",
    "song",
    "ming",
    "kai",
    "wenquanyi",
    "wqy",
    "yahei",
    "noto sans sc",
    "unifont",
)
_PROBE = "数据活跃成员"


def packaged_cjk_font() -> str | None:
    """Register the CJK font file the font package ships with matplotlib; its path, or None."""
    from importlib import metadata

    from matplotlib import font_manager

    try:
        files = metadata.distribution(FONT_PACKAGE).files or []
    except metadata.PackageNotFoundError:
        log.warning("%s is not installed: Chinese charts need another CJK font", FONT_PACKAGE)
        return None
    for file in files:
        if file.suffix.lower() in (".otf", ".ttf", ".ttc"):
            path = Path(str(file.locate()))
            if path.is_file():
                if all(entry.fname != str(path) for entry in font_manager.fontManager.ttflist):
                    font_manager.fontManager.addfont(str(path))
                return str(path)
    return None


@functools.cache
def cjk_font() -> str | None:
    """The family name of a font that really draws Chinese, or None (packaged font first)."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    packaged = packaged_cjk_font()
    fonts = [f for f in font_manager.fontManager.ttflist if "last resort" not in f.name.lower()]
    first = [f for f in fonts if f.fname == packaged]
    hinted = [f for f in fonts if any(h in f.name.lower() for h in _CJK_HINTS) and f not in first]
    for entry in first + hinted + [f for f in fonts if f not in hinted and f not in first]:
        try:
            charmap = FT2Font(entry.fname).get_charmap()
        except (OSError, RuntimeError):
            continue
        if all(ord(ch) in charmap for ch in _PROBE):
            return str(entry.name)
    return None


def chart_language(lang: str) -> str:
    """The language a chart can be drawn in on this machine (English without a CJK font)."""
    return lang if lang == "en" or cjk_font() else "en"
