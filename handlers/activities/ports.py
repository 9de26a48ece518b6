"""The ``ActivityFacts`` port the activities feature (named "events") provides: attendance
figures for statistics, over the view it publishes (``storage.activities_views``); and the
``ActivityBoard`` port: upcoming activities for the dashboard's Content page; and
``UpcomingActivities`` for the lifecycle's recall post."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.ports import ActivityBoard, ActivityFacts, UpcomingActivities, UpcomingActivity
from handlers.activities.board import ActivityBoardPort
from storage.activities_views import ActivitiesViews

if TYPE_CHECKING:
    from datetime import datetime

    from bot.services import Services


class Upcoming:
    """The ``UpcomingActivities`` port over the same view (the lifecycle's recall post reads it)."""

    def __init__(self, views: ActivitiesViews) -> None:
        self.views = views

    async def upcoming(self, group_id: int, since: datetime, until: datetime) -> list[UpcomingActivity]:
        """Open activities of the group starting in ``[since, until)``, soonest first."""
        rows = await self.views.upcoming(group_id, since, until)
        return [UpcomingActivity(r.id, r.title, r.description, r.start_at) for r in rows]


def provide(services: Services) -> dict[type[Any], Any]:
    """The events feature's ports (``Feature.provides``); ``ActivitiesViews`` has the port's shape."""
    facts: ActivityFacts = ActivitiesViews(services.db)  # annotated: mypy checks the shape
    upcoming: UpcomingActivities = Upcoming(ActivitiesViews(services.db))
    board: ActivityBoard = ActivityBoardPort(services)
    return {ActivityFacts: facts, UpcomingActivities: upcoming, ActivityBoard: board}
