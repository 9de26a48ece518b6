"""The ``TopicFacts`` port the topics feature provides, over the view it publishes
(``storage.topics_views``)."""

from __future__ import annotations

from typing import Any

from bot.ports import TopicFacts
from bot.services import Services
from storage.topics_views import TopicsViews


def provide(services: Services) -> dict[type[Any], Any]:
    """The topics feature's ports (``Feature.provides``); ``TopicsViews`` has the port's shape."""
    facts: TopicFacts = TopicsViews(services.db)  # annotated: mypy checks the shape
    return {TopicFacts: facts}
