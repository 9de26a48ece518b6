"""The stats feature's settings (``[stats]`` in config.toml, ``/set stats.<key>``)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from bot.settings import GUARDED, WORD, FeatureSettings, Number, OnOff
from handlers.stats.thresholds import DEFAULT as DEFAULT_THRESHOLDS
from handlers.stats.thresholds import normalize as normalize_thresholds

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _time_of_day(value: Any) -> str:
    text = str(value).strip()
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text)
    if not m:
        raise ValueError("HH:MM, 00:00–23:59")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


class StatsSettings(FeatureSettings):
    """What the stats feature keeps and posts in one group."""

    SECTION = "stats"

    public: Annotated[OnOff, GUARDED] = Field(
        False, description="members may use /stats (moderators only when off)"
    )
    store_text: OnOff = Field(True, description="keep message text for hot words (off: /hot is off)")
    text_retention_days: Number = Field(7, ge=1, le=30, description="days message text is kept for hot words")
    recall: OnOff = Field(True, description="weekly post naming sleeping members")
    recall_day: Annotated[Weekday, WORD] = Field("sat", description="weekday of the recall post")
    recall_time: Annotated[str, BeforeValidator(_time_of_day)] = Field(
        "10:00", description="local time of the recall post"
    )
    weekly_report: OnOff = Field(True, description="Monday 09:00 report to the moderator chat")
    churn_alert: OnOff = Field(True, description="daily churn check with a moderator alert")
    thresholds: Annotated[str, BeforeValidator(normalize_thresholds)] = Field(
        DEFAULT_THRESHOLDS,
        description="dashboard colours: KEY>=GOOD/BAD or KEY<=GOOD/BAD, blank-separated; off for none",
    )
