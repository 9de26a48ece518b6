"""Telegram adapter (python-telegram-bot 22): ``CONFIG_MODEL`` and ``build`` for the app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.telegram.adapter import MenuCommand, TelegramAdapter
from adapters.telegram.config import TelegramConfig
from bot.errors import ConfigError

CONFIG_MODEL = TelegramConfig


def build(name: str, config: Any, env: Mapping[str, str]) -> TelegramAdapter:
    """Build the adapter from its config section; the token is read from the named variable."""
    if not isinstance(config, TelegramConfig):
        config = TelegramConfig.model_validate(config)
    token = env.get(config.token_env, "").strip()
    if not token:
        raise ConfigError(
            f"adapters.{name}.token_env: the environment variable {config.token_env} is not set; "
            "put the bot token from @BotFather there"
        )
    if ":" not in token:
        raise ConfigError(
            f"adapters.{name}.token_env: {config.token_env} does not look like a bot token "
            "(expected digits, a colon, then letters, as @BotFather gives it)"
        )
    secret: str | None = None
    if config.mode == "webhook" and config.secret_token_env:
        secret = env.get(config.secret_token_env, "").strip()
        if not secret:
            raise ConfigError(
                f"adapters.{name}.secret_token_env: the environment variable "
                f"{config.secret_token_env} is not set"
            )
    return TelegramAdapter(name, config, token, secret_token=secret)


__all__ = ["CONFIG_MODEL", "MenuCommand", "TelegramAdapter", "TelegramConfig", "build"]
