"""What the dashboard's Content page lists: plain values the schedule, topics and events
features return through their ports (``PlannedPostsDesk``, ``TopicBankDesk``, ``ActivityBoard``
in ``bot/ports.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ContentPost:
    """A scheduled post as the dashboard's Content page lists it."""

    id: int
    #: the WHEN in the viewer's language (``每周五 20:00``)
    when: str
    #: the WHEN as ``/schedule add`` reads it (``weekly fri 20:00``): the edit form's value
    canonical: str
    text: str
    urgent: bool
    paused: bool
    #: the next run (UTC; the page shows it in the group's timezone), None when paused or over
    next_run: datetime | None


@dataclass(frozen=True, slots=True)
class ContentTopic:
    """A topic of a group's bank."""

    id: int
    text: str
    source: str
    uses: int


@dataclass(frozen=True, slots=True)
class ContentSuggestion:
    """A member's topic suggestion waiting for a moderator."""

    id: int
    text: str
    member_name: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ContentActivity:
    """An upcoming activity."""

    id: int
    title: str
    start_at: datetime
    status: str
    going: int
    capacity: int | None
