"""The schedule feature's settings (``[schedule]`` in config.toml, ``/set schedule.<key>``)."""

from __future__ import annotations

from typing import Any

from bot.params import OFF_WORDS
from bot.settings import SettingSpec, int_range
from bot.timeparse import TimeError
from handlers.schedules.quiet import QUIET_KEY, parse_window

MAX_KEY = "schedule.max_posts"


def _quiet_setting(value: Any) -> str:
    """Validate the quiet-hours setting: ``""`` (off) or ``HH:MM-HH:MM``."""
    text = str(value).strip()
    if not text or text.lower() in OFF_WORDS:
        return ""
    try:
        return str(parse_window(text))
    except TimeError:
        raise ValueError("HH:MM-HH:MM | off") from None


__all__ = ["MAX_KEY", "QUIET_KEY", "SETTINGS"]

SETTINGS = [
    SettingSpec(QUIET_KEY, _quiet_setting, "", "quiet hours HH:MM-HH:MM in which automated posts wait"),
    SettingSpec(MAX_KEY, int_range(1, 10_000), 100, "live scheduled posts a group may have"),
]
