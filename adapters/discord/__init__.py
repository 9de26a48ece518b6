"""Discord adapter (discord.py 2): ``CONFIG_MODEL`` and ``build`` for the app."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.config import DiscordConfig
from bot.errors import ConfigError

CONFIG_MODEL = DiscordConfig

__all__ = ["CONFIG_MODEL", "DiscordAdapter", "DiscordConfig", "build"]

_LOCALES = Path(__file__).resolve().parents[2] / "bot" / "locales"


@cache
def _catalog(lang: str) -> dict[str, str]:
    flat: dict[str, str] = {}

    def walk(prefix: str, table: Mapping[str, Any]) -> None:
        for key, value in table.items():
            if isinstance(value, Mapping):
                walk(f"{prefix}{key}.", value)
            else:
                flat[prefix + key] = str(value)

    path = _LOCALES / lang / "discord.toml"
    if path.exists():
        walk("", tomllib.loads(path.read_text(encoding="utf-8")))
    return flat


def translate(lang: str, key: str, **kwargs: object) -> str:
    """The adapter's own strings in ``lang`` (English when missing)."""
    text = _catalog(lang).get(key) or _catalog("en").get(key) or key
    return text.format(**kwargs) if kwargs else text


def build(name: str, config: DiscordConfig | Mapping[str, Any], env: Mapping[str, str]) -> DiscordAdapter:
    """Build the adapter from its config section; the token comes from ``config.token_env``."""
    if not isinstance(config, DiscordConfig):
        config = DiscordConfig.model_validate(dict(config))
    token = env.get(config.token_env, "").strip()
    if not token:
        raise ConfigError(
            f"adapters.{name}.token_env: the environment variable {config.token_env} is empty or not set; "
            "put the bot token from the Discord Developer Portal (Bot → Reset Token) there"
        )
    return DiscordAdapter(name, config, token, translate=translate)
