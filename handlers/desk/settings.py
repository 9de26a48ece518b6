"""The support desk's per-group settings (``[desk]`` in config.toml, ``/set desk.<key>``)."""

from __future__ import annotations

from pydantic import Field

from bot.settings import FeatureSettings, Number, OnOff, String


class DeskSettings(FeatureSettings):
    """FAQ auto-replies and the complaint response in one group."""

    SECTION = "desk"

    faq: OnOff = Field(True, description="answer members' questions from the FAQ")
    faq_threshold: Number = Field(
        60, ge=1, le=100, description="question entries: how close (percent) a question must be to answer"
    )
    faq_cooldown: Number = Field(
        60, ge=0, le=86400, description="seconds before an entry answers again in one chat (new entries)"
    )
    complaint_threshold: Number = Field(
        0,
        ge=0,
        le=100000,
        description="complaints in a day over this start level 1 (0: scaled to the group, 3 per 300 members)",
    )
    mood: OnOff = Field(
        True, description="score each message's sentiment for the mood in /stats and the weekly report"
    )
    mood_days: Number = Field(
        7, ge=1, le=30, description="days negative messages (score and text) are kept for the negative topics"
    )
    product_words: String = Field(
        "",
        max_length=500,
        description="product words (comma-separated): a strongly negative message naming one is a complaint",
    )
    complaint_mood: Number = Field(
        60,
        ge=1,
        le=100,
        description="how negative (percent) a message naming a product word must be to count as a complaint",
    )
    daily_hour: Number = Field(
        21,
        ge=0,
        le=23,
        description="local hour of the daily check (level 2) and the unanswered questions digest",
    )
    rate_drop: Number = Field(
        5, ge=1, le=100, description="level 2: a key rate down this many percent week over week alerts"
    )
