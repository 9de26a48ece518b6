"""Ports: what one feature needs from another, as typed protocols, wired at start.

A feature lists the ports it ``provides`` (a factory building the implementations once the
services exist) and the ports it ``requires``. ``Ports.check`` refuses to start a bot in which a
required port has no provider, naming the feature and the port, instead of failing later
inside a handler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

if TYPE_CHECKING:
    from bot.events import ChatRef, UserRef
    from storage.models import Group, Job, Member

PortT = TypeVar("PortT")


class Requirer(Protocol):
    """What ``Ports.check`` reads of a feature (kept apart so ports need not import features)."""

    @property
    def name(self) -> str:
        """The feature's name, for the error."""
        ...

    @property
    def requires(self) -> Sequence[type[Any]]:
        """The ports it needs."""
        ...


class AuditTrail(Protocol):
    """Appends to a group's audit log (``/modlog``): who changed what, and when."""

    async def record(self, group_id: int, at: datetime, actor: str, action: str, detail: str = "") -> None:
        """Write one audit line for ``group_id``."""
        ...


class QuietHours(Protocol):
    """A group's quiet hours, in which automated, non-urgent posts wait (the schedule feature,
    ``handlers/schedules``)."""

    async def defer(
        self, group: Group, job: Job, fire: datetime, *, event_start: datetime | None = None
    ) -> bool:
        """Re-plan this run of ``job`` for the end of the group's quiet hours; True when it did
        (the caller then posts nothing now), False when the post may go out at ``fire``.

        ``event_start``: the run is a reminder of something starting then; it is not deferred
        when that would leave it less than two hours before the start."""
        ...


class PointsLedger(Protocol):
    """A member's points, owned by the check-in feature: topics and activities credit points
    and badge counters through it, onboarding reads a member's standing."""

    async def award(
        self,
        member: Member,
        points: int,
        kind: str,
        reason: str,
        *,
        chat: ChatRef | None = None,
        counters: Mapping[str, int] | None = None,
    ) -> None:
        """Credit ``points`` (and bump badge ``counters``) to ``member`` in one transaction,
        announcing level-ups and badges in ``chat`` after the commit. Raises ``ValueError`` on
        an unknown ledger kind or counter, a core ``QunyouError`` when storage fails."""
        ...

    async def has_checked_in(self, group: Group, member: Member) -> bool:
        """True when the member has ever checked in in ``group``."""
        ...

    async def balance(self, group: Group, member: Member) -> int:
        """The member's points balance in ``group``."""
        ...


@dataclass(frozen=True, slots=True)
class BadgeAward:
    """A badge a member was awarded (``CheckinFacts.badges_awarded``)."""

    member_name: str
    badge_key: str


class CheckinFacts(Protocol):
    """Read-only check-in figures for statistics (the check-in feature publishes them)."""

    async def checkins_per_day(self, group_id: int, first: date, last: date) -> dict[date, int]:
        """Check-ins per local check-in day of ``first``…``last``; days without any are absent."""
        ...

    async def live_streaks(self, member_ids: Sequence[int], alive_on: date) -> dict[int, int]:
        """The current streak of each member whose latest check-in is on or after ``alive_on``
        (a streak only counts while it is alive); members without one are absent."""
        ...

    async def badges_awarded(self, group_id: int, since: datetime, until: datetime) -> list[BadgeAward]:
        """Badges awarded in ``[since, until)``, oldest first."""
        ...


class MessageScreen(Protocol):
    """Whether a text must never be shown in public in a group (moderation's lexicon)."""

    async def blocked(self, group_id: int) -> Callable[[str], bool]:
        """A predicate, true for text the group's lexicon blocks; build it once, call it often."""
        ...


class CreditScore(Protocol):
    """A member's moderation credit (0…100) and its level, owned by the moderation feature."""

    async def score(self, group: Group, member: Member) -> int:
        """The member's credit today."""
        ...

    def level(self, score: int) -> str:
        """The level key of a score (``excellent``…``danger``; ``moderation.credit_level.<key>``)."""
        ...


@dataclass(frozen=True, slots=True)
class AlertSummary:
    """Moderation alerts raised in a window (``ModerationFacts.alert_summary``)."""

    #: alert level (``red``, ``yellow``, ``blue``, ``other``) → count
    by_level: Mapping[str, int] = field(default_factory=dict)
    #: seconds from raising to handling, for each handled alert
    handling_seconds: tuple[float, ...] = ()


class ModerationFacts(Protocol):
    """Read-only moderation figures for statistics (the moderation feature publishes them)."""

    async def alert_summary(self, group_id: int, since: datetime, until: datetime) -> AlertSummary:
        """Alerts raised in ``[since, until)`` by level, and how long handled ones took."""
        ...


class ActivityFacts(Protocol):
    """Read-only attendance figures of organised activities (the events feature publishes them)."""

    async def attended(self, member_ids: Sequence[int], first: date, last: date) -> dict[int, int]:
        """Activities each member attended over the local days ``first``…``last`` (absent: none)."""
        ...

    async def attended_count(self, member_id: int) -> int:
        """Activities one member has attended, ever (the newcomer's day-7 summary)."""
        ...


class TopicFacts(Protocol):
    """Read-only figures of the daily topics (the topics feature publishes them)."""

    async def replies_by(self, member_id: int) -> int:
        """Counted replies one member has made to topic posts, ever (the day-7 summary)."""
        ...


class TextFolding(Protocol):
    """The moderation feature's matching view of a text (NFKC, look-alikes, case, traditional →
    simplified, only letters and digits left), so other features compare text the way the
    lexicon does without importing moderation."""

    def fold(self, text: str) -> str:
        """The folded text (for comparing only, never shown)."""
        ...


class NewcomerGate(Protocol):
    """Whether per-member posts about newcomers (welcomes, badge announcements) should wait,
    because the group is being raided (the antispam feature provides it)."""

    async def holding(self, group_id: int) -> bool:
        """True while per-member announcements in the group are held."""
        ...

    async def verifying(self, group_id: int, user_id: str) -> bool:
        """True while this newcomer has a join challenge to pass: their welcome comes after it."""
        ...


class Greeter(Protocol):
    """Sends one newcomer's welcome on demand (the onboarding feature provides it): the antispam
    feature asks for it once a newcomer has passed join verification."""

    async def greet(self, group: Group, chat: ChatRef, user: UserRef) -> None:
        """Post the group's welcome for ``user`` in ``chat``."""
        ...


class SharedSanctions(Protocol):
    """Where else a sanction in a chat applies: the other chats of its community, with the
    member's account on each chat's platform (the same id, or an account they linked). The
    community feature provides it; without it a sanction stays in its chat."""

    async def peers(self, group: Group, user_id: str) -> list[tuple[Group, str]]:
        """``(other chat, user id there)`` for every chat a sanction of ``user_id`` in ``group``
        also applies to (none when the group shares no bans)."""
        ...


class LinkedAccounts(Protocol):
    """The accounts a person linked across platforms (the community feature provides it), so
    ``/mydata`` covers all of them."""

    async def accounts(self, platform: str, user_id: str) -> list[tuple[str, str]]:
        """``(platform, user id)`` of every account linked with this one, itself included."""
        ...


class MemberSanctions(Protocol):
    """Ban and unban an account in a chat the way a moderator's ``/ban`` does (recorded,
    audited, liftable), for features that decide bans elsewhere (federations). The moderation
    feature provides it."""

    async def ban(self, group: Group, user_id: str, name: str, reason: str, actor: str) -> bool:
        """Ban ``user_id`` in ``group`` for good, in that chat only; False when the platform refused."""
        ...

    async def unban(self, group: Group, user_id: str, name: str, actor: str) -> bool:
        """Lift a ban of ``user_id`` in ``group``, in that chat only."""
        ...


class PortMissing(RuntimeError):
    """A feature requires a port nobody provides."""


class Ports:
    """The providers of every port, filled once at start."""

    def __init__(self) -> None:
        self._providers: dict[type[Any], tuple[str, Any]] = {}

    def provide(self, port: type[PortT], implementation: PortT, by: str) -> None:
        """Register ``by``'s implementation of ``port``; two providers of one port is an error."""
        if port in self._providers:
            other = self._providers[port][0]
            raise PortMissing(f"port {port.__name__} is provided by both {other} and {by}")
        self._providers[port] = (by, implementation)

    def get(self, port: type[PortT]) -> PortT:
        """The implementation of ``port``; ``check`` at start guarantees required ones exist."""
        try:
            return cast(PortT, self._providers[port][1])
        except KeyError:
            raise PortMissing(f"no feature provides the port {port.__name__}") from None

    def find(self, port: type[PortT]) -> PortT | None:
        """The implementation of ``port``, or None when no listed feature provides it: for a
        feature that uses another's behaviour when it is installed and works without it."""
        entry = self._providers.get(port)
        return None if entry is None else cast(PortT, entry[1])

    def check(self, features: Iterable[Requirer]) -> None:
        """Raise ``PortMissing`` naming the first feature whose requirement is unmet."""
        for feature in features:
            for port in feature.requires:
                if port not in self._providers:
                    raise PortMissing(
                        f"feature {feature.name!r} requires the port {port.__name__}, "
                        "but no listed feature provides it (add the providing feature to "
                        "handlers/__init__.py, or drop the requirement)"
                    )
