"""The moderation feature's settings (``[moderation]`` in config.toml, ``/set moderation.<key>``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from bot.settings import WORD, FeatureSettings, Number, OnOff
from handlers.moderation.ladder import parse_later_minutes


class ModerationSettings(FeatureSettings):
    """What screening does in one group: levels, sanctions, credit, floods, alerts."""

    SECTION = "moderation"

    enabled: OnOff = Field(True, description="screen messages against the lexicon")
    exempt_moderators: OnOff = Field(True, description="moderators and above are not screened")
    red_action: Annotated[Literal["mute", "ban"], WORD] = Field(
        "mute", description="what a red hit does to the member"
    )
    red_mute_minutes: Number = Field(1440, ge=1, le=525600, description="mute length for a red hit")
    yellow_credit: Number = Field(10, ge=0, le=100, description="credit taken by a yellow hit")
    red_credit: Number = Field(30, ge=0, le=100, description="credit taken by a red hit")
    warning_days: Number = Field(30, ge=1, le=3650, description="days a warning stays active")
    alert_batch_minutes: Number = Field(5, ge=0, le=1440, description="at most one yellow alert per this")
    escalate_minutes: Number = Field(15, ge=1, le=1440, description="re-alert an unacknowledged red after")
    escalate_later_minutes: Annotated[str, BeforeValidator(parse_later_minutes)] = Field(
        "60",
        description="further re-alerts of an unacknowledged red, minutes after the hit "
        "(e.g. 60,240; off: none); then the daily digest",
    )
    digest_hour: Number = Field(21, ge=0, le=23, description="local hour of the moderators' digest")
    default_mute_minutes: Number = Field(60, ge=1, le=525600, description="/mute without a duration")
    flood_messages: Number = Field(8, ge=2, le=1000, description="more messages than this in the window")
    flood_seconds: Number = Field(10, ge=1, le=3600, description="flood window in seconds")
    flood_identical: Number = Field(4, ge=2, le=1000, description="this many identical messages…")
    flood_identical_seconds: Number = Field(60, ge=1, le=86400, description="…within this many seconds")
    flood_mute_minutes: Number = Field(10, ge=1, le=525600, description="mute length for a flood")
    surge_hits: Number = Field(5, ge=1, le=10000, description="more red/yellow hits than this…")
    surge_minutes: Number = Field(10, ge=1, le=1440, description="…within this many minutes: surge alert")
    pinyin: OnOff = Field(
        False, description="terms of 3+ Chinese characters also match in pinyin or homophones"
    )
    leetspeak: OnOff = Field(
        True,
        description="English abuse terms also match in leetspeak and with repeated letters (k1ll, fuuuck)",
    )
    everyday_guard: OnOff = Field(
        True,
        description="a term that is an everyday word (系统, 管理, system) counts one level lower "
        "when no other term matches in the message",
    )
