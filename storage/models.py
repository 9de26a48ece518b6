"""Dataclasses the repositories return; nothing outside ``storage/`` sees a row object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Group:
    """A community (scope) on one adapter."""

    id: int
    platform: str
    adapter: str
    scope_id: str
    title: str | None
    timezone: str
    language: str
    active: bool


@dataclass(frozen=True, slots=True)
class Member:
    """A platform account as a member of one group."""

    id: int
    group_id: int
    user_id: str
    display_name: str
    username: str | None
    is_bot: bool
    first_seen: datetime
    last_seen: datetime
    joined_at: datetime | None
    left_at: datetime | None
    #: After ``/forgetme``: an anonymous row the retention sweep deletes (``storage.rights``).
    forgotten: bool = False


@dataclass(frozen=True, slots=True)
class Job:
    """A scheduled job row: the source of truth the scheduler rebuilds from."""

    id: str
    kind: str
    group_id: int | None
    trigger: dict[str, Any]
    payload: dict[str, Any]
    next_run_at: datetime | None
    last_run_at: datetime | None
    paused: bool


@dataclass(frozen=True, slots=True)
class Lease:
    """A claimed run of a job (``fire_at``) held by ``owner`` until it completes or ``lease_until``."""

    job_id: str
    fire_at: datetime
    owner: str
    lease_until: datetime
    attempts: int
    message_id: str | None


@dataclass(frozen=True, slots=True)
class MessageCountRow:
    """Counts for one member on one local day."""

    group_id: int
    member_id: int | None
    day: date
    messages: int
    replies: int
    commands: int


#: Most matches a member search counts (``MemberRepo.page``): past it, the total is one more
#: and the dashboard says "more than" (here, not in ``storage.core``, because the web layer may
#: read only the shared models).
SEARCH_CAP = 1_000
