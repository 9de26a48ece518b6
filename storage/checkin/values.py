"""Plain values crossing the check-in storage's edge: results, refusals and the inputs the
handlers give (rule objects from ``handlers`` arrive as tuples)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

#: Counters kept in ``member_counters``; the rest are derived from check-ins and balances.
STORED_COUNTER_KEYS = frozenset({"messages", "invites", "events_attended", "topic_replies"})
ALL_COUNTER_KEYS = STORED_COUNTER_KEYS | {"checkin_streak", "checkin_total", "points_earned"}


class InsufficientPoints(Exception):
    """A spend would take a balance below zero; the transaction was rolled back."""

    def __init__(self, balance: int) -> None:
        self.balance = balance
        super().__init__(f"balance {balance} is too low")


class Refused(Exception):
    """Roll back and report ``status`` (an expected refusal, not an error) with its ``detail``.

    Raised inside a transaction function of this package and turned into an ``Outcome`` by the
    repository method that ran it; it never leaves ``storage.checkin``.
    """

    def __init__(self, status: str, **detail: Any) -> None:
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger line to post: ``earns`` says whether it counts toward levels and leaderboards."""

    delta: int
    kind: str
    earns: bool


#: Badge rules as plain values: (badge key, counter name, threshold).
AutoRule = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class Posting:
    """What a balance change did; ``earned_before/after`` show a level-up to the caller."""

    member_id: int
    balance: int
    earned_before: int
    earned_after: int
    new_badges: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One ledger line as shown to members and moderators."""

    id: int
    member_id: int
    delta: int
    kind: str
    reason: str | None
    actor_id: int | None
    ref: str | None
    at: datetime
    day: date
    balance_after: int


@dataclass(frozen=True, slots=True)
class CheckinOutcome:
    """The result of a check-in attempt."""

    created: bool
    day: date
    streak: int
    rank: int | None
    items: tuple[tuple[str, int], ...] = ()
    posting: Posting | None = None
    total_checkins: int = 0


@dataclass(frozen=True, slots=True)
class CheckinStatus:
    """A member's check-in standing on a given local day."""

    today: bool
    streak: int
    total: int
    last_day: date | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """An operation that may be refused: ``status`` is ``ok`` or the refusal's reason key."""

    status: str
    posting: Posting | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the operation committed."""
        return self.status == "ok"


@dataclass(frozen=True, slots=True)
class ShopItem:
    """An item for sale in a group's shop."""

    id: int
    name: str
    cost: int
    stock: int
    per_member_limit: int | None
    active: bool


@dataclass(frozen=True, slots=True)
class Redemption:
    """A member's purchase, open until a moderator marks it done."""

    id: int
    item_id: int
    item_name: str
    member_id: int | None
    cost: int
    at: datetime
    status: str
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class ActivityCredit:
    """One member's activity since the last flush: points claimed and messages counted."""

    group_id: int
    member_id: int
    day: date
    points: int
    messages: int
    at: datetime
    #: The group's activity-points cap per local day, re-checked against the ledger at flush.
    daily_cap: int


#: ``(streak, rank) → [(kind, amount)]``: the handler's reward rules, so storage holds none.
Itemizer = Callable[[int, int], Iterable[tuple[str, int]]]


def month_bounds(day: date) -> tuple[date, date]:
    """First and last day of ``day``'s month."""
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)


def iter_entries(items: Iterable[tuple[str, int]], earns: bool = True) -> list[Entry]:
    """``[(kind, amount)]`` as ledger entries."""
    return [Entry(a, k, earns) for k, a in items]
