"""What the stats repositories hand out and take in: plain frozen rows, the hot path's
batch, and the check-in counter the rollups are given."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class DailyRow:
    """One complete day of a group, rolled up."""

    day: date
    messages: int
    replies: int
    commands: int
    joins: int
    leaves: int
    checkins: int
    dau: int
    wau: int | None
    mau: int | None


@dataclass(frozen=True, slots=True)
class MemberCount:
    """A member with a count, for top lists."""

    member_id: int
    name: str
    user_id: str
    value: int


@dataclass(frozen=True, slots=True)
class StageMember:
    """A member listed under a lifecycle stage."""

    member_id: int
    user_id: str
    name: str
    last_post_at: datetime | None


@dataclass(frozen=True, slots=True)
class JoinDay:
    """One local join day of a retention count: the members whose ``joined_at`` falls in
    ``since``…``until`` (end excluded) go in bucket ``key``, and are looked for in each of
    ``windows``, (first, last) local days, both included."""

    key: int
    since: datetime
    until: datetime
    windows: tuple[tuple[date, date], ...]


@dataclass(frozen=True, slots=True)
class Feedback:
    """One piece of member feedback."""

    id: int
    member_id: int | None
    name: str | None
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class NpsPoll:
    """An NPS poll."""

    id: int
    group_id: int
    question: str | None
    started_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class KolRow:
    """Raw KOL figures of one member over a window.

    ``activities`` and ``streak`` come from other features (events, check-in): ``kol_inputs``
    leaves them 0 and the stats feature fills them in from those features' ports.
    """

    member_id: int
    user_id: str
    name: str
    messages: int
    topic_replies: int
    replies_received: int
    activities: int = 0
    streak: int = 0


@dataclass(frozen=True, slots=True)
class KpiInputs:
    """Everything ``/stats`` reads, taken in one transaction."""

    rows: list[DailyRow]
    wau: tuple[int, int]
    mau: tuple[int, int]
    #: (member id, name, messages now, messages in the previous period), best first
    top: list[tuple[int, str, int, int]]
    #: local hour → (messages now, messages in the previous period)
    hours: dict[int, tuple[int, int]]
    members_now: int


@dataclass
class Batch:
    """What the hot path collected since the last flush, already summed."""

    #: (group, day, hour) → messages
    hourly: dict[tuple[int, date, int], int]
    #: member → (group, latest post)
    last_post: dict[int, tuple[int, datetime]]
    #: (group, member, day) → (replies received, topic replies)
    member_daily: dict[tuple[int, int, date], tuple[int, int]]
    #: (group, day) → (joins, leaves)
    joins: dict[tuple[int, date], tuple[int, int]]
    #: (group, member, at, text)
    texts: list[tuple[int, int | None, datetime, str]]

    @classmethod
    def empty(cls) -> Batch:
        """A batch with nothing in it."""
        return cls({}, {}, {}, {}, [])

    def __bool__(self) -> bool:
        return bool(self.hourly or self.last_post or self.member_daily or self.joins or self.texts)


#: Check-ins per day of a group over ``first``…``last`` (``CheckinFacts.checkins_per_day``):
#: how the rollups learn the check-in counts without reading the check-in feature's tables.
CheckinCounter = Callable[[int, date, date], Awaitable[Mapping[date, int]]]
