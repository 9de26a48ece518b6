"""The ``ActivityBoard`` port: upcoming activities with their sign-ups, for the dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.content_values import ContentActivity
from handlers.activities.state import activities_repo

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group


class ActivityBoardPort:
    """Upcoming activities over the feature's repository (what ``/events`` lists)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def upcoming(self, group: Group, now: datetime, limit: int) -> list[ContentActivity]:
        """Open activities not yet over, soonest first, with how many are going."""
        repo = activities_repo(self.services)
        out = []
        for act in await repo.upcoming(group.id, now, limit):
            going = sum(1 for r in await repo.rsvps(act.id) if r.status == "going")
            out.append(ContentActivity(act.id, act.title, act.start_at, act.status, going, act.capacity))
        return out
