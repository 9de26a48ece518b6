"""Translation: every member-visible string goes through ``I18n.t``.

Catalogs are TOML files under ``bot/locales/<language>/``, one per feature; nested tables are
flattened to dotted keys. zh-CN and en ship complete (a test enforces it).
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.events import UserRef
from bot.messages import Mention, Part, Text

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).with_name("locales")
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

_ALIASES = {
    "zh": "zh-CN",
    "zh-cn": "zh-CN",
    "zh-hans": "zh-CN",
    "zh_cn": "zh-CN",
    "cn": "zh-CN",
    "中文": "zh-CN",
    "en": "en",
    "en-us": "en",
    "en-gb": "en",
    "en_us": "en",
    "english": "en",
}


def normalize_language(text: str | None) -> str | None:
    """Map ``zh``, ``zh-hans``, ``en-US``… onto a shipped language, or None."""
    if not text:
        return None
    key = text.strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    base = key.split("-")[0].split("_")[0]
    return _ALIASES.get(base)


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


def _read(folder: Path) -> dict[str, str]:
    """One language: every ``folder/*.toml``, flattened to dotted keys."""
    merged: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as fh:
            _flatten("", tomllib.load(fh), merged)
    return merged


class _SafeDict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class I18n:
    """The catalogs: the default language's read at start, each other one on first use."""

    def __init__(self, catalogs: dict[str, dict[str, str]], root: Path | None = None) -> None:
        self._loaded = catalogs
        self._root = root

    @classmethod
    def load(cls, root: Path = LOCALES_DIR) -> I18n:
        """Read ``<root>/<default language>/*.toml``; the other languages wait for their first
        use (parsing TOML is pure Python: each language cost about 40 ms of start-up)."""
        return cls({DEFAULT_LANGUAGE: _read(root / DEFAULT_LANGUAGE)}, root)

    @property
    def catalogs(self) -> dict[str, dict[str, str]]:
        """Every shipped language's catalog (loading those not read yet)."""
        for lang in LANGUAGES:
            self._catalog(lang)
        return self._loaded

    def _catalog(self, lang: str) -> dict[str, str] | None:
        catalog = self._loaded.get(lang)
        if catalog is None and self._root is not None and lang in LANGUAGES:
            catalog = self._loaded[lang] = _read(self._root / lang)
        return catalog

    def has(self, key: str, lang: str = DEFAULT_LANGUAGE) -> bool:
        """True when ``key`` exists in ``lang``."""
        return key in (self._catalog(lang) or {})

    def raw(self, lang: str, key: str) -> str:
        """The template for ``key``: the language's, else zh-CN's, else the key itself."""
        default = self._loaded[DEFAULT_LANGUAGE]
        catalog = self._catalog(lang) or default
        template = catalog.get(key)
        if template is None:
            template = default.get(key)
            if template is None:
                log.error("missing translation key %s", key)
                return key
        return template

    def t(self, lang: str, key: str, /, **kwargs: Any) -> str:
        """The translated string with ``{placeholders}`` filled."""
        template = self.raw(lang, key)
        if not kwargs:
            return template
        values = {k: (("@" + v.display_name) if isinstance(v, UserRef) else v) for k, v in kwargs.items()}
        return template.format_map(_SafeDict(values))

    def parts(self, lang: str, key: str, /, **kwargs: Any) -> tuple[Part, ...]:
        """Like ``t`` but ``UserRef`` values become mention parts."""
        template = self.raw(lang, key)
        mentions = {k: v for k, v in kwargs.items() if isinstance(v, UserRef)}
        if not mentions:
            return (Text(self.t(lang, key, **kwargs)),)
        plain = {k: v for k, v in kwargs.items() if k not in mentions}
        out: list[Part] = []
        rest = template
        while rest:
            positions = [(rest.find("{" + name + "}"), name) for name in mentions]
            positions = [(i, n) for i, n in positions if i >= 0]
            if not positions:
                out.append(Text(rest.format_map(_SafeDict(plain))))
                break
            index, name = min(positions)
            if index:
                out.append(Text(rest[:index].format_map(_SafeDict(plain))))
            out.append(Mention(mentions[name]))
            rest = rest[index + len(name) + 2 :]
        return tuple(out)
