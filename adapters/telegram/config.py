"""The ``[adapters.<name>]`` section for ``type = "telegram"``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from bot.adapter import AdapterConfig


class TelegramConfig(AdapterConfig):
    """Settings for one Telegram bot account; the token itself comes from the environment."""

    type: Literal["telegram"] = "telegram"
    #: Name of the environment variable that holds the BotFather token (never the token itself).
    token_env: str = "TELEGRAM_BOT_TOKEN"
    #: A self-hosted Bot API server, e.g. ``http://127.0.0.1:8081/bot``; empty means api.telegram.org.
    api_base_url: str = ""
    mode: Literal["polling", "webhook"] = "polling"
    #: Webhook mode: the local address and port the HTTP listener binds.
    listen: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    #: Webhook mode: the public HTTPS URL Telegram posts to (a reverse proxy forwards it to listen:port).
    url: str = ""
    #: Webhook mode: environment variable holding the secret Telegram echoes in every webhook call.
    secret_token_env: str = ""
    #: Non-anonymous ``/poll`` as Telegram's own poll (``sendPoll``); false keeps the buttons.
    native_polls: bool = True

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramConfig:
        if self.mode == "webhook" and not self.url:
            raise ValueError("mode = 'webhook' needs url (the public HTTPS address Telegram posts to)")
        return self


#: What operators read in the log when the bot cannot see ordinary group messages.
PRIVACY_TEXT = (
    "Telegram privacy mode is ON: in groups where the bot is not an admin it sees only "
    "commands and replies to it, so moderation and activity points miss ordinary messages. "
    "Fix: @BotFather → /mybots → Bot Settings → Group Privacy → Turn off, then remove and "
    "re-add the bot to each group (or make it an admin)."
)
