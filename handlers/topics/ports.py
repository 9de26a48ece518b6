"""The ports the topics feature provides: ``TopicFacts`` over the view it publishes
(``storage.topics_views``), and ``TopicBankDesk`` for the dashboard's Content page."""

from __future__ import annotations

from typing import Any

from bot.ports import TopicBankDesk, TopicFacts
from bot.services import Services
from handlers.topics.desk import TopicBankPort
from storage.topics_views import TopicsViews


def provide(services: Services) -> dict[type[Any], Any]:
    """The topics feature's ports (``Feature.provides``); ``TopicsViews`` has the port's shape."""
    facts: TopicFacts = TopicsViews(services.db)  # annotated: mypy checks the shape
    bank: TopicBankDesk = TopicBankPort(services)
    return {TopicFacts: facts, TopicBankDesk: bank}
