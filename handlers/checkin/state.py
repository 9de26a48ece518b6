"""The check-in feature's runtime state and the per-group basics every module of it needs: the
rules of a group (cached) and a group's check-in day. Kept apart from ``api`` so the wallet
(``wallet``), which ``api`` builds on, can use them without an import cycle."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.clock import local_day
from bot.events import ChatRef
from handlers.checkin.badges import Badge
from handlers.checkin.config import GroupRules, group_rules
from handlers.checkin.rules import ActivityState
from storage.checkin import AutoRule, CheckinRepos
from storage.models import Group, Member

if TYPE_CHECKING:
    from bot.services import Services

FEATURE_NAME = "checkin"


@dataclass(slots=True)
class PendingActivity:
    """Activity gathered in memory since the last flush, for one member on one local day."""

    chat: ChatRef
    lang: str
    #: Kept so an announcement after the flush needs no lookup.
    member: Member
    points: int = 0
    messages: int = 0
    at: datetime | None = None
    daily_cap: int = 20


@dataclass
class CheckinState:
    """Everything the feature keeps between events (in ``services.state["checkin"]``)."""

    #: The feature's repositories, one per aggregate (ledger, check-ins, badges, shop…).
    repos: CheckinRepos
    badges: tuple[Badge, ...]
    activity: dict[tuple[int, int], ActivityState] = field(default_factory=dict)
    pending: dict[tuple[int, int, date], PendingActivity] = field(default_factory=dict)
    referrals: set[tuple[int, int]] = field(default_factory=set)
    #: group id → (the settings overrides object the rules were read from, the rules).
    rules_cache: dict[int, tuple[object, GroupRules]] = field(default_factory=dict)

    @property
    def auto_rules(self) -> tuple[AutoRule, ...]:
        """Automatic badge rules as plain tuples for storage."""
        return tuple(
            (b.key, b.rule.counter, b.rule.threshold) for b in self.badges if b.rule.counter is not None
        )

    def badge(self, key: str) -> Badge | None:
        """A badge definition by key."""
        return next((b for b in self.badges if b.key == key), None)


def state(services: Services) -> CheckinState:
    """The feature's state; present once the startup hook has run."""
    value = services.state[FEATURE_NAME]
    assert isinstance(value, CheckinState)
    return value


async def rules_for(services: Services, group_id: int) -> GroupRules:
    """A group's rules, re-read only when its settings change (the hot path calls this)."""
    st = state(services)
    overrides = await services.settings.overrides(group_id)
    cached = st.rules_cache.get(group_id)
    if cached is not None and cached[0] is overrides:
        return cached[1]
    rules = await group_rules(services, group_id)
    st.rules_cache[group_id] = (overrides, rules)
    return rules


def day_of(instant: datetime, group: Group, rules: GroupRules) -> date:
    """The group's check-in day holding ``instant`` (local time, shifted by ``day_start``)."""
    return local_day(instant, group.timezone, rules.day_start)
