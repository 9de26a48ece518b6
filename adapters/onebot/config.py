"""The ``[adapters.<name>]`` section for ``type = "onebot"``."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator, model_validator

from bot.adapter import AdapterConfig

WS_PATH = "/onebot/v11/ws"


class OneBotConfig(AdapterConfig):
    """A OneBot 11 bridge (NapCat, LLOneBot, Lagrange, WeChat bridges) over one WebSocket."""

    type: Literal["onebot"] = "onebot"
    #: ``reverse``: the bridge connects to us; ``forward``: we connect to the bridge.
    mode: Literal["reverse", "forward"] = "reverse"
    #: Reverse mode: where our WebSocket server listens (``ws://HOST:PORT/onebot/v11/ws``).
    listen: str = "127.0.0.1:6700"
    #: Forward mode: the bridge's WebSocket address, ``ws://bridge:port/``.
    url: str = ""
    #: The environment variable holding the shared access token; empty means no token.
    access_token_env: str = ""
    #: Only accept this bot account (the bridge's ``X-Self-ID`` / ``self_id``); empty accepts any.
    self_id: str = ""

    @field_validator("listen")
    @classmethod
    def _listen_is_host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"expected HOST:PORT such as 127.0.0.1:6700, got {value!r}")
        return value

    @field_validator("self_id")
    @classmethod
    def _strip_self_id(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _forward_needs_url(self) -> OneBotConfig:
        if self.mode == "forward" and not self.url.startswith(("ws://", "wss://")):
            raise ValueError('mode = "forward" needs url = "ws://bridge:port/" (ws:// or wss://)')
        return self

    @property
    def host_port(self) -> tuple[str, int]:
        """``listen`` split into a host (IPv6 brackets removed) and a port."""
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)
