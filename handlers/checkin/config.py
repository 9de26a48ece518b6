"""Settings and config for check-ins, points, badges, shop and referrals.

Every number is a ``SettingSpec``: config.toml's ``[checkin]`` changes the default for all groups,
``/set checkin.<key> VALUE`` changes it for one group. Badges are defined in ``[[badges]]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from bot.args import MAX_AMOUNT
from bot.settings import SettingSpec, int_range
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


def _nonneg(high: int = MAX_AMOUNT) -> Callable[[Any], int]:
    return int_range(0, high)


SETTINGS: list[SettingSpec] = [
    SettingSpec("checkin.day_start", _day_start, "00:00", "when a check-in day begins (HH:MM, local time)"),
    SettingSpec("checkin.base_points", _nonneg(), 10, "points for a check-in"),
    SettingSpec("checkin.streak_step", _nonneg(), 2, "extra points per consecutive day after the first"),
    SettingSpec("checkin.streak_cap", _nonneg(), 20, "most extra points a streak can add"),
    SettingSpec(
        "checkin.milestones",
        _validated(parse_milestones, "DAYS:POINTS,…"),
        "7:50,30:200,100:1000",
        "streak milestones and their bonus",
    ),
    SettingSpec(
        "checkin.rank_bonus",
        _validated(parse_int_list, "N,N,N"),
        "5,3,1",
        "bonus for the first check-ins of the day",
    ),
    SettingSpec("checkin.makeup_cost", _nonneg(), 50, "points a make-up costs"),
    SettingSpec("checkin.makeup_per_month", int_range(0, 31), 2, "make-ups allowed per calendar month"),
    SettingSpec("checkin.activity_points", int_range(0, 100), 1, "points for an ordinary message"),
    SettingSpec(
        "checkin.activity_min_chars", int_range(1, 1000), 5, "characters (after folding) a message needs"
    ),
    SettingSpec("checkin.activity_cooldown", int_range(0, 86400), 60, "seconds between two activity points"),
    SettingSpec("checkin.activity_daily_cap", int_range(0, 10000), 20, "activity points per local day"),
    SettingSpec("checkin.transfer_daily_cap", _nonneg(), 200, "points a member may send per local day"),
    SettingSpec("checkin.referral_points", _nonneg(), 20, "points for inviting a member who then speaks"),
    SettingSpec(
        "checkin.referral_clawback_days", int_range(0, 365), 7, "a leave within this many days undoes it"
    ),
    SettingSpec("checkin.level_factor", int_range(1, 100000), 50, "level n needs factor·n² earned points"),
    SettingSpec(
        "checkin.tiers",
        _validated(parse_tiers, "LEVEL:中文名/English,…"),
        format_tiers(DEFAULT_TIERS),
        "tier names by level",
    ),
    SettingSpec("checkin.announce_levels", bool, True, "announce level-ups in the group"),
    SettingSpec("checkin.announce_badges", bool, True, "announce new badges in the group"),
]


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
    """Read every check-in setting of a group (cached by the settings service)."""

    async def get(key: str) -> Any:
        return await services.settings.get(group_id, "checkin." + key)

    return GroupRules(
        day_start=day_start_minutes(await get("day_start")),
        checkin=CheckinRules(
            base=int(await get("base_points")),
            streak_step=int(await get("streak_step")),
            streak_cap=int(await get("streak_cap")),
            milestones=parse_milestones(str(await get("milestones"))),
            rank_bonus=tuple(parse_int_list(str(await get("rank_bonus")))),
        ),
        makeup_cost=int(await get("makeup_cost")),
        makeup_per_month=int(await get("makeup_per_month")),
        activity=ActivityRules(
            points=int(await get("activity_points")),
            min_chars=int(await get("activity_min_chars")),
            cooldown_seconds=int(await get("activity_cooldown")),
            daily_cap=int(await get("activity_daily_cap")),
        ),
        transfer_cap=int(await get("transfer_daily_cap")),
        referral_points=int(await get("referral_points")),
        referral_days=int(await get("referral_clawback_days")),
        level_factor=int(await get("level_factor")),
        tiers=parse_tiers(str(await get("tiers"))),
        announce_levels=bool(await get("announce_levels")),
        announce_badges=bool(await get("announce_badges")),
    )
