"""The topics feature's runtime state, kept in ``services.state`` (never module globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from storage.topics import TopicRepo

if TYPE_CHECKING:
    from bot.services import Services

STATE_KEY = "topics"
#: Change-feed topic: a topic was posted in a group by another worker (``bot.changes``).
POSTED_TOPIC = "topics.posted"


@dataclass
class TopicsState:
    """The topic repository and the message ids of recent topic posts."""

    topics: TopicRepo
    #: group id → message ids of recent topic posts, so the reply listener needs no query per message.
    topic_messages: dict[int, set[str]] = field(default_factory=dict)


def topics_state(services: Services) -> TopicsState:
    """The feature's state, created on first use."""
    st = services.state.get(STATE_KEY)
    if st is None:
        st = TopicsState(TopicRepo(services.db))
        services.state[STATE_KEY] = st
    return st
