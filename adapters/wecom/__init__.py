"""WeCom (企业微信) group robots: a send-only broadcast target.

```toml
[adapters.wecom_ops]
type = "wecom_robot"
webhook_url_env = "WECOM_WEBHOOK_URL"
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.wecom.adapter import SendOnly, WeComRobotAdapter
from adapters.wecom.config import WeComRobotConfig
from bot.errors import ConfigError

CONFIG_MODEL = WeComRobotConfig

__all__ = ["CONFIG_MODEL", "SendOnly", "WeComRobotAdapter", "WeComRobotConfig", "build"]


def build(name: str, config: Any, env: Mapping[str, str]) -> WeComRobotAdapter:
    """Build the robot for ``[adapters.<name>]``; the webhook URL must be in the environment."""
    if not isinstance(config, WeComRobotConfig):
        config = WeComRobotConfig.model_validate(config)
    url = env.get(config.webhook_url_env, "").strip()
    if not url:
        raise ConfigError(
            f"adapters.{name}.webhook_url_env: environment variable {config.webhook_url_env} is not set"
        )
    if not url.startswith(("https://", "http://")):
        raise ConfigError(f"adapters.{name}.webhook_url_env: {config.webhook_url_env} is not an http(s) URL")
    return WeComRobotAdapter(name, config, url)
