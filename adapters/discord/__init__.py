"""Discord adapter (discord.py 2): ``CONFIG_MODEL`` and ``build`` for the app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.config import DiscordConfig
from bot.errors import ConfigError

CONFIG_MODEL = DiscordConfig

__all__ = ["CONFIG_MODEL", "DiscordAdapter", "DiscordConfig", "build"]


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
    # The adapter's own strings (intent warnings) and its slash commands come from the host
    # it is started with: the shared catalogs and the core's command table.
    return DiscordAdapter(name, config, token)
