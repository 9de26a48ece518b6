"""Settings and config for check-ins, points, badges, shop and referrals.

Every number is a field of ``CheckinSettings``: config.toml's ``[checkin]`` changes the default
for all groups, ``/set checkin.<key> VALUE`` changes it for one group. Badges are defined in ``[[badges]]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.args import MAX_AMOUNT
from bot.settings import FeatureSettings, Number, OnOff
from handlers.checkin.badges import DEFAULT_BADGES, BadgeConfig
from handlers.checkin.rules import (
    DEFAULT_TIERS,
    ActivityRules,
    CheckinRules,
    Tier,
    format_tiers,
    parse_int_list,
    parse_milestones,
    parse_tiers,
)

if TYPE_CHECKING:
    from bot.services import Services


def _validated(parse: Callable[[str], Any], what: str) -> Callable[[Any], str]:
    def parser(value: Any) -> str:
        text = str(value).strip()
        try:
            parse(text)
        except (ValueError, TypeError):
            raise ValueError(what) from None
        return text

    return parser


def day_start_minutes(value: Any) -> int:
    """``"04:00"`` (or plain minutes) → minutes after local midnight when a check-in day begins."""
    text = str(value).strip()
    hours, sep, minutes = text.partition(":")
    try:
        total = int(hours) * 60 + int(minutes) if sep else int(text)
    except ValueError:
        raise ValueError("HH:MM") from None
    if not 0 <= total < 24 * 60:
        raise ValueError("00:00..23:59")
    return total


def _day_start(value: Any) -> str:
    """Stored and shown as ``HH:MM``."""
    total = day_start_minutes(value)
    return f"{total // 60:02d}:{total % 60:02d}"


class CheckinSettings(FeatureSettings):
    """Points, streaks, make-ups, activity points, referrals and levels of one group."""

    SECTION = "checkin"

    day_start: Annotated[str, BeforeValidator(_day_start)] = Field(
        "00:00", description="when a check-in day begins (HH:MM, local time)"
    )
    base_points: Number = Field(10, ge=0, le=MAX_AMOUNT, description="points for a check-in")
    streak_step: Number = Field(
        2, ge=0, le=MAX_AMOUNT, description="extra points per consecutive day after the first"
    )
    streak_cap: Number = Field(20, ge=0, le=MAX_AMOUNT, description="most extra points a streak can add")
    milestones: Annotated[str, BeforeValidator(_validated(parse_milestones, "DAYS:POINTS,…"))] = Field(
        "7:50,30:200,100:1000", description="streak milestones and their bonus"
    )
    rank_bonus: Annotated[str, BeforeValidator(_validated(parse_int_list, "N,N,N"))] = Field(
        "5,3,1", description="bonus for the first check-ins of the day"
    )
    makeup_cost: Number = Field(50, ge=0, le=MAX_AMOUNT, description="points a make-up costs")
    makeup_per_month: Number = Field(2, ge=0, le=31, description="make-ups allowed per calendar month")
    activity_points: Number = Field(1, ge=0, le=100, description="points for an ordinary message")
    activity_min_chars: Number = Field(
        5, ge=1, le=1000, description="characters (after folding) a message needs"
    )
    activity_cooldown: Number = Field(60, ge=0, le=86400, description="seconds between two activity points")
    activity_daily_cap: Number = Field(20, ge=0, le=10000, description="activity points per local day")
    transfer_daily_cap: Number = Field(
        200, ge=0, le=MAX_AMOUNT, description="points a member may send per local day"
    )
    referral_points: Number = Field(
        20, ge=0, le=MAX_AMOUNT, description="points for inviting a member who then speaks"
    )
    referral_clawback_days: Number = Field(
        7, ge=0, le=365, description="a leave within this many days undoes it"
    )
    level_factor: Number = Field(50, ge=1, le=100000, description="level n needs factor·n² earned points")
    tiers: Annotated[str, BeforeValidator(_validated(parse_tiers, "LEVEL:中文名/English,…"))] = Field(
        format_tiers(DEFAULT_TIERS), description="tier names by level"
    )
    announce_levels: OnOff = Field(True, description="announce level-ups in the group")
    announce_badges: OnOff = Field(True, description="announce new badges in the group")

    @cached_property
    def rules(self) -> GroupRules:
        """The settings as the rules the feature computes with (lists and tiers parsed)."""
        return GroupRules(
            day_start=day_start_minutes(self.day_start),
            checkin=CheckinRules(
                base=self.base_points,
                streak_step=self.streak_step,
                streak_cap=self.streak_cap,
                milestones=parse_milestones(self.milestones),
                rank_bonus=tuple(parse_int_list(self.rank_bonus)),
            ),
            makeup_cost=self.makeup_cost,
            makeup_per_month=self.makeup_per_month,
            activity=ActivityRules(
                points=self.activity_points,
                min_chars=self.activity_min_chars,
                cooldown_seconds=self.activity_cooldown,
                daily_cap=self.activity_daily_cap,
            ),
            transfer_cap=self.transfer_daily_cap,
            referral_points=self.referral_points,
            referral_days=self.referral_clawback_days,
            level_factor=self.level_factor,
            tiers=parse_tiers(self.tiers),
            announce_levels=self.announce_levels,
            announce_badges=self.announce_badges,
        )


class _Section(BaseModel):
    """``[checkin]`` keys that are not settings: none today, so a typo fails at start."""

    model_config = ConfigDict(extra="forbid")


class CheckinConfig(BaseModel):
    """The feature's config: the ``[checkin]`` section and the top-level ``[[badges]]`` list."""

    model_config = ConfigDict(extra="forbid")

    checkin: _Section = Field(default_factory=_Section)
    badges: list[BadgeConfig] = Field(default_factory=lambda: list(DEFAULT_BADGES))


@dataclass(frozen=True, slots=True)
class GroupRules:
    """One group's settings, read together for a command."""

    day_start: int
    checkin: CheckinRules
    makeup_cost: int
    makeup_per_month: int
    activity: ActivityRules
    transfer_cap: int
    referral_points: int
    referral_days: int
    level_factor: int
    tiers: tuple[Tier, ...]
    announce_levels: bool
    announce_badges: bool


async def group_rules(services: Services, group_id: int | None) -> GroupRules:
    """A group's check-in rules, from its settings snapshot (parsed once per snapshot)."""
    return (await services.settings.of(group_id, CheckinSettings)).rules
