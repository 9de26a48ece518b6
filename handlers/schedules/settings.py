"""The schedule feature's settings (``[schedule]`` in config.toml, ``/set schedule.<key>``)."""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from bot.params import OFF_WORDS
from bot.settings import FeatureSettings, Number
from bot.timeparse import TimeError
from handlers.schedules.quiet import QuietWindow, parse_window, window_from_setting


def _quiet_setting(value: Any) -> str:
    """Validate the quiet-hours setting: ``""`` (off) or ``HH:MM-HH:MM``."""
    text = str(value).strip()
    if not text or text.lower() in OFF_WORDS:
        return ""
    try:
        return str(parse_window(text))
    except TimeError:
        raise ValueError("HH:MM-HH:MM | off") from None


__all__ = ["ScheduleSettings"]


class ScheduleSettings(FeatureSettings):
    """Quiet hours and the cap on planned posts of one group."""

    SECTION = "schedule"

    quiet_hours: Annotated[str, BeforeValidator(_quiet_setting)] = Field(
        "", description="quiet hours HH:MM-HH:MM in which automated posts wait"
    )
    max_posts: Number = Field(100, ge=1, le=10_000, description="live scheduled posts a group may have")

    @cached_property
    def quiet_window(self) -> QuietWindow | None:
        """The quiet-hours window, or None when off."""
        return window_from_setting(self.quiet_hours)
