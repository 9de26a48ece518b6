"""What statistics learn from other features, through the ports those features provide.

Check-in counts, streaks and badges (``CheckinFacts``), moderation alerts (``ModerationFacts``),
activity attendance (``ActivityFacts``) and the blocked-word screen (``MessageScreen``) are all
optional: the stats feature lists them in ``uses`` and works without them, showing no check-in
rate, no moderation section, and so on. Nothing here reads another feature's tables or state.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime

from bot.ports import (
    ActivityFacts,
    AlertSummary,
    BadgeAward,
    CheckinFacts,
    GroupMood,
    MessageScreen,
    ModerationFacts,
    MoodSummary,
)
from bot.services import Services
from storage.models import Group
from storage.stats import CheckinCounter, KolRow

log = logging.getLogger(__name__)


def checkin_counter(services: Services) -> CheckinCounter | None:
    """Check-ins per day for the day rollups; None without a check-in feature."""
    facts = services.ports.find(CheckinFacts)
    return None if facts is None else facts.checkins_per_day


async def blocked_words(services: Services, group_id: int) -> Callable[[str], bool] | None:
    """A predicate for text that must never be shown in public, from the moderation feature.

    Without that feature there is nothing to hide. A failing lookup hides nothing but is logged:
    hot words are a report, and a broken lexicon must not take ``/hot`` down with it.
    """
    screen = services.ports.find(MessageScreen)
    if screen is None:
        return None
    try:
        return await screen.blocked(group_id)
    except Exception:
        log.exception("moderation screen unavailable for group %s; hot words unfiltered", group_id)
        return None


async def with_other_figures(
    services: Services, rows: Sequence[KolRow], start: date, end: date
) -> list[KolRow]:
    """KOL rows with live check-in streaks and activities attended filled in, where the
    check-in and events features are installed (0 otherwise)."""
    ids = [r.member_id for r in rows]
    checkin = services.ports.find(CheckinFacts)
    activity = services.ports.find(ActivityFacts)
    # A streak only counts while it is alive: checked in on ``end`` (yesterday) or later.
    streaks = await checkin.live_streaks(ids, end) if checkin is not None and ids else {}
    attended = await activity.attended(ids, start, end) if activity is not None and ids else {}
    return [
        dataclasses.replace(r, streak=streaks.get(r.member_id, 0), activities=attended.get(r.member_id, 0))
        for r in rows
    ]


async def alert_summary(
    services: Services, group_id: int, since: datetime, until: datetime
) -> AlertSummary | None:
    """Moderation alerts of the window; None without the moderation feature."""
    facts = services.ports.find(ModerationFacts)
    return None if facts is None else await facts.alert_summary(group_id, since, until)


async def badges_awarded(
    services: Services, group_id: int, since: datetime, until: datetime
) -> list[BadgeAward]:
    """Badges awarded in the window; none without the check-in feature."""
    facts = services.ports.find(CheckinFacts)
    return [] if facts is None else await facts.badges_awarded(group_id, since, until)


async def group_mood(services: Services, group: Group, first: date, last: date) -> MoodSummary | None:
    """The group's mood over the local days ``first`` … ``last``; None without the desk feature
    or when no message of those days was scored. A failing lookup shows no mood but is logged."""
    facts = services.ports.find(GroupMood)
    if facts is None:
        return None
    try:
        found = await facts.mood(group, first, last)
    except Exception:
        log.exception("mood unavailable for group %s", group.id)
        return None
    return found if found.messages else None
