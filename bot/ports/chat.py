"""Ports between the chat features: audit, quiet hours, points, moderation, greeting, shared
sanctions and linked accounts, the community's scope, and the group's mood."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from bot.events import ChatRef, UserRef
    from storage.models import Group, Job, Member


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

    async def spend(self, member: Member, points: int, kind: str, reason: str) -> bool:
        """Debit ``points`` in one transaction; False (nothing taken) when the balance is too low.
        A refund is an ``award`` of the same kind."""
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

    async def checkin_days(self, member_id: int, first: date, last: date) -> int:
        """On how many check-in days of ``first``…``last`` one member checked in (giveaways'
        "checked in on N of the last 7 days")."""
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

    async def attendance(self, group_id: int, since: datetime, until: datetime) -> tuple[int, int]:
        """(signed up as going, attended) over the group's open activities that started in
        ``[since, until)`` (the dashboard's attendance rate)."""
        ...


class TopicFacts(Protocol):
    """Read-only figures of the daily topics (the topics feature publishes them)."""

    async def replies_by(self, member_id: int) -> int:
        """Counted replies one member has made to topic posts, ever (the day-7 summary)."""
        ...

    async def participants(self, group_id: int, since: datetime, until: datetime) -> int:
        """Distinct members who replied to the group's topic posts made in ``[since, until)``
        (the dashboard's topic participation)."""
        ...


class TextFolding(Protocol):
    """The moderation feature's matching view of a text (NFKC, look-alikes, case, traditional →
    simplified, only letters and digits left), so other features compare text the way the
    lexicon does without importing moderation."""

    def fold(self, text: str) -> str:
        """The folded text (for comparing only, never shown)."""
        ...


class ModeratorAlerts(Protocol):
    """Opens an alert in a group's moderation alert list at one of its levels (``red``,
    ``yellow``, ``blue``) and sends it to the moderators: listed by ``/alerts``, closed with
    ``/ack`` or its button, counted in the handling times (the moderation feature provides it)."""

    async def open_alert(
        self, group: Group, *, kind: str, level: str, text: str, member: Member | None = None
    ) -> int:
        """Open and send one alert; ``{id}`` in ``text`` becomes its id. Returns the id."""
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


class MemberDiscipline(Protocol):
    """Warn and mute from the dashboard's member page exactly as ``/warn`` and ``/mute`` do
    (recorded, audited as ``actor``, the warning ladder applies, the same reply posted in the
    group). The moderation feature provides it; refusals raise ``DeskRefused``."""

    async def warnings(self, group: Group, member: Member) -> int:
        """The member's active warnings."""
        ...

    async def warn(self, group: Group, member: Member, reason: str, actor: UserRef, lang: str) -> str:
        """Warn; returns the chat's reply in ``lang``."""
        ...

    async def mute(
        self, group: Group, member: Member, minutes: int | None, reason: str, actor: UserRef, lang: str
    ) -> str:
        """Mute for ``minutes`` (None: the group's default); returns the chat's reply in ``lang``."""
        ...


class PointsCorrection(Protocol):
    """A moderator's points correction, as ``/points give|take`` (the check-in feature)."""

    async def correct(
        self, group: Group, member: Member, delta: int, reason: str, actor: UserRef, lang: str
    ) -> str:
        """Post ``delta`` as the moderator ``actor`` and announce it in the group as the chat
        does; returns that reply in ``lang``. Raises ``DeskRefused``."""
        ...


#: Which leaderboards a chat of a community offers (``CommunityScope.boards``).
BoardScope = Literal["both", "chat", "community"]


class CommunityScope(Protocol):
    """Which chats share points, levels and check-ins with a chat, and which share the moderation
    lexicon: its community's chats that share them (the community feature provides it). Without
    it every chat keeps its own."""

    async def shared_chats(self, group: Group) -> list[int]:
        """Group ids of the chats sharing points with ``group``, the community's first chat
        first (its day is the community's day), ``group`` included; ``[group.id]`` when alone."""
        ...

    async def boards(self, group: Group) -> BoardScope:
        """Which leaderboards ``group`` offers: ``both`` (this chat's, and the community's with
        ``/rank community``), ``chat`` (only its own) or ``community`` (only the community's)."""
        ...

    async def lexicon_chats(self, group: Group) -> list[int]:
        """Group ids of the chats whose shared lexicon terms apply in ``group`` (``group``
        included): its community's chats that share their lexicon; ``[group.id]`` when alone or
        when it keeps its lexicon to itself."""
        ...


class AccountLinkWatcher(Protocol):
    """Told when an account leaves a person's linked accounts, to give back what is its own
    (the check-in feature splits the merged balance as the ledger says)."""

    async def unlinked(self, account: tuple[str, str], others: Sequence[tuple[str, str]]) -> None:
        """``account`` (platform, user id) is no longer linked with ``others``."""


# -- the support desk's mood (issue 19) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MoodDay:
    """One local day of a group's mood: messages scored, their average (-1 … +1) and how many
    were negative."""

    day: date
    messages: int
    average: float
    negative: int


@dataclass(frozen=True, slots=True)
class MoodSummary:
    """A group's mood over a period of local days, with the period before it."""

    messages: int
    #: -1 (all negative) … +1; None when no message was scored
    average: float | None
    negative: int
    #: the average of the period of the same length just before; None without data
    previous_average: float | None
    days: tuple[MoodDay, ...]
    #: the most negative topics: hot words of the negative messages, most frequent first
    negative_words: tuple[str, ...]


class GroupMood(Protocol):
    """A group's mood from the sentiment of its messages (the desk feature provides it; ``/stats``
    and the weekly report read it)."""

    async def mood(self, group: Group, first: date, last: date, *, words: int = 5) -> MoodSummary:
        """The mood of the local days ``first`` … ``last`` (inclusive) and up to ``words``
        negative topics (only from the days whose negative messages are still kept)."""
