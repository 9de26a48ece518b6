"""The ``[adapters.<name>]`` section for ``type = "wecom_robot"``."""

from __future__ import annotations

from typing import Literal

from bot.adapter import AdapterConfig


class WeComRobotConfig(AdapterConfig):
    """A WeCom (企业微信) group robot: send-only, addressed by its webhook URL."""

    type: Literal["wecom_robot"] = "wecom_robot"
    #: The environment variable holding the webhook URL (it contains the robot's secret key).
    webhook_url_env: str = "WECOM_WEBHOOK_URL"
