"""The ``ActivityFacts`` port the events feature provides: attendance figures for statistics,
over the view it publishes (``storage.events_views``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.ports import ActivityFacts
from storage.events_views import EventsViews

if TYPE_CHECKING:
    from bot.services import Services


def provide(services: Services) -> dict[type[Any], Any]:
    """The events feature's ports (``Feature.provides``); ``EventsViews`` has the port's shape."""
    facts: ActivityFacts = EventsViews(services.db)  # annotated: mypy checks the shape
    return {ActivityFacts: facts}
