"""The ``ActivityFacts`` port the activities feature (named "events") provides: attendance
figures for statistics, over the view it publishes (``storage.activities_views``); and the
``ActivityBoard`` port: upcoming activities for the dashboard's Content page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.ports import ActivityBoard, ActivityFacts
from handlers.activities.board import ActivityBoardPort
from storage.activities_views import ActivitiesViews

if TYPE_CHECKING:
    from bot.services import Services


def provide(services: Services) -> dict[type[Any], Any]:
    """The events feature's ports (``Feature.provides``); ``ActivitiesViews`` has the port's shape."""
    facts: ActivityFacts = ActivitiesViews(services.db)  # annotated: mypy checks the shape
    board: ActivityBoard = ActivityBoardPort(services)
    return {ActivityFacts: facts, ActivityBoard: board}
