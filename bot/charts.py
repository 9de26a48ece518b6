"""Fonts for charts drawn with matplotlib: a CJK font that really draws Chinese, so a Chinese
group's charts (the stats health chart, a poll's results) are in Chinese and never show boxes.

One comes with the install: the ``notojp-matplotlib`` dependency ships Noto Sans CJK (SIL Open
Font License), which ``cjk_font()`` registers with matplotlib at the first chart and prefers.
Only its file is used (found through the package metadata, never imported: importing it would
change matplotlib's global font). Without it ``cjk_font()`` looks for an installed font that
covers the glyphs; when there is none, callers draw English labels.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

log = logging.getLogger(__name__)

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
    "pingfang",
    "hiragino",
    "droid sans fallback",
    "sarasa",
    "simsun",
    "fangsong",
    "noto sans sc",
    "noto serif sc",
    "unifont",
)
_PROBE = "数据活跃成员"


#: The distribution that ships the CJK font (a dependency in pyproject.toml).
FONT_PACKAGE = "notojp-matplotlib"


def packaged_cjk_font() -> str | None:
    """Register the CJK font file the font package ships with matplotlib; its path, or None.

    Read through ``importlib.metadata`` so the package's own ``__init__`` (which sets
    matplotlib's global default font) never runs.
    """
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
    """The family name of a font that really draws Chinese, or None.

    The packaged font comes first (the same on every machine); then installed fonts whose
    names suggest CJK (cheap); then every other font, because a family such as "Unifont" or a
    vendor font may cover Chinese under any name.
    """
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    packaged = packaged_cjk_font()
    # "Last Resort" covers every code point with a box glyph: exactly the tofu to avoid.
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


__all__ = ["FONT_PACKAGE", "chart_language", "cjk_font", "packaged_cjk_font"]
