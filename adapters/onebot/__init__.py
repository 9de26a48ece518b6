"""OneBot 11: QQ and WeChat groups through a bridge (NapCat, LLOneBot, Lagrange, WeChat bridges).

```toml
[adapters.qq]
type = "onebot"
mode = "reverse"                 # or "forward"
listen = "127.0.0.1:6700"        # reverse: ws://HOST:PORT/onebot/v11/ws
url = ""                         # forward: ws://bridge:port/
access_token_env = "ONEBOT_ACCESS_TOKEN"
self_id = ""
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.onebot.adapter import OneBotAdapter
from adapters.onebot.config import OneBotConfig
from bot.errors import ConfigError

CONFIG_MODEL = OneBotConfig

__all__ = ["CONFIG_MODEL", "OneBotAdapter", "OneBotConfig", "build"]


def build(name: str, config: Any, env: Mapping[str, str]) -> OneBotAdapter:
    """Build the adapter for ``[adapters.<name>]``; a named but unset token is a config error."""
    if not isinstance(config, OneBotConfig):
        config = OneBotConfig.model_validate(config)
    token = ""
    if config.access_token_env:
        token = env.get(config.access_token_env, "")
        if not token:
            raise ConfigError(
                f"adapters.{name}.access_token_env: environment variable {config.access_token_env} is not set"
            )
    host = config.host_port[0]
    if config.mode == "reverse" and not token and host not in ("127.0.0.1", "localhost", "::1"):
        # Anyone who can reach the port could pose as the bridge and drive the bot.
        raise ConfigError(
            f"adapters.{name}.access_token_env: required when listen ({config.listen}) "
            "is not a loopback address"
        )
    return OneBotAdapter(name, config, token)
