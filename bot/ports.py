"""Ports: what one feature needs from another, as typed protocols, wired at start.

A feature lists the ports it ``provides`` (a factory building the implementations once the
services exist) and the ports it ``requires``; the registry that wires them and refuses to start
a bot with a required port unprovided is :mod:`bot.port_registry`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

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


# -- the operators' dashboard (issue 17) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Indicator:
    """One overview figure for a period with its value in the previous one.

    ``key`` names it (``dau``, ``stickiness``…; the dashboard's label is ``web.kpi.<key>``);
    ``delta`` is relative for counts and in points for ratios (``is_ratio``), None when there is
    nothing to compare with."""

    key: str
    value: float | None
    previous: float | None = None
    delta: float | None = None
    is_ratio: bool = False


@dataclass(frozen=True, slots=True)
class ActivitySeries:
    """A group's activity over complete local days (the numbers of ``/stats chart``)."""

    days: tuple[date, ...]
    messages: tuple[int, ...]
    #: distinct members who posted, per day
    actives: tuple[int, ...]
    #: 7 rows (Monday first) × 24 local hours of message counts over the same days
    heatmap: tuple[tuple[int, ...], ...]


class GroupIndicators(Protocol):
    """The key figures of a group for the dashboard's overview (the stats feature publishes
    them, from the same facts ``/stats`` reads)."""

    async def indicators(self, group: Group, now: datetime, days: int) -> list[Indicator]:
        """The figures of the ``days`` complete local days before ``now``, with the previous
        period's; an empty list when the group has no complete day of data yet."""
        ...

    async def activity(self, group: Group, now: datetime, days: int) -> ActivitySeries:
        """Messages and active members per day, and the hour-of-week grid, over the ``days``
        complete local days before ``now``."""
        ...


@dataclass(frozen=True, slots=True)
class DeskAlert:
    """An alert as the moderation desk lists it."""

    id: int
    kind: str
    level: str | None
    category: str | None
    status: str
    member_name: str | None
    created_at: datetime
    #: The flagged text when the alert kept it (shown only to the group's moderators).
    excerpt: str | None = None


@dataclass(frozen=True, slots=True)
class DeskTerm:
    """A group lexicon term as the dashboard lists it."""

    term: str
    level: str
    category: str
    mode: str
    hits: int = 0
    false_positives: int = 0


@dataclass(frozen=True, slots=True)
class DeskVerdict:
    """What the lexicon makes of a text, without saving anything (``/kw test``)."""

    folded: str
    #: (term, level) of every entry that matched and was kept, strongest first
    hits: tuple[tuple[str, str], ...] = ()
    #: the level the text would be flagged at, None when clean
    level: str | None = None


@dataclass(frozen=True, slots=True)
class DeskLogLine:
    """One line of a group's audit log (``/modlog``)."""

    at: datetime
    actor: str
    action: str
    member_name: str | None
    detail: str


class DeskRefused(Exception):
    """A desk action refused with a translated reason: ``key`` and its ``values``."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class ModerationDesk(Protocol):
    """The moderators' desk in the browser: the moderation feature's alerts and lexicon, with
    exactly the effects of the chat commands and buttons (it provides this port)."""

    async def alerts(
        self, group_id: int, *, open_only: bool, offset: int, limit: int
    ) -> tuple[list[DeskAlert], int]:
        """One page of the group's alerts (newest first) and how many there are in all."""
        ...

    async def act(self, group: Group, alert_id: int, action: str, actor: UserRef, lang: str) -> str:
        """``ack``, ``undo`` or ``ban`` an alert of ``group`` as ``actor`` (audited, alert messages
        edited, as the chat button); returns the confirmation. Raises ``DeskRefused``."""
        ...

    async def terms(
        self, group_id: int, query: str, *, offset: int, limit: int
    ) -> tuple[list[DeskTerm], int]:
        """One page of the group's own terms containing ``query`` (empty: all) and the total."""
        ...

    async def add_term(
        self, group: Group, level: str, term: str, category: str, mode: str, actor: UserRef
    ) -> None:
        """Add a term as ``/kw add`` does (validated, audited, matcher rebuilt); raises
        ``DeskRefused`` with ``/kw add``'s own error."""
        ...

    async def remove_term(self, group: Group, term: str, actor: UserRef) -> int:
        """Remove a term as ``/kw del`` does; returns how many rows went (0: not found)."""
        ...

    async def test(self, group: Group, text: str) -> DeskVerdict:
        """How the group's lexicon reads ``text`` (``/kw test``), saving nothing."""
        ...

    async def audit(
        self,
        group_id: int,
        *,
        actor: str,
        action: str,
        since: datetime | None,
        until: datetime | None,
        offset: int,
        limit: int,
    ) -> tuple[list[DeskLogLine], int]:
        """One page of the group's audit log (``/modlog``), newest first, filtered by actor
        (user id), action and ``[since, until)``, and the total."""
        ...


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One line of a member's points ledger, as a moderator sees it."""

    at: datetime
    delta: int
    kind: str
    reason: str | None
    balance_after: int


class LedgerHistory(Protocol):
    """A member's points ledger, newest first (the check-in feature provides it; the
    dashboard's member page reads it, as ``/points history`` does in chat)."""

    async def history(self, group: Group, member: Member, limit: int) -> list[LedgerLine]:
        """The member's latest ``limit`` ledger lines in ``group``."""
        ...


class MediaRefused(Exception):
    """A picture the media store will not keep: ``key`` is a translation key saying why
    (too big, not a picture, a path outside the media directory…), with its ``values``."""

    def __init__(self, key: str, **values: Any) -> None:
        self.key = key
        self.values = values
        super().__init__(key)


class MediaLibrary(Protocol):
    """Pictures for posts (the media feature, ``handlers/media``): each kept once by its
    SHA-256, size-limited, checked by its magic bytes; a group's post (``owner``: the feature's
    own name for it, e.g. ``schedule:12``) carries at most one."""

    @property
    def max_bytes(self) -> int:
        """The largest picture kept, in bytes."""
        ...

    async def keep_bytes(self, data: bytes) -> int:
        """Keep a picture (or find the same one kept before); its id. Raises ``MediaRefused``."""
        ...

    async def keep_file(self, name: str) -> int:
        """Keep the picture at ``name`` inside the configured media directory; its id. Raises
        ``MediaRefused`` for a name outside it, a missing file, or a file that is not a picture."""
        ...

    async def attach(self, group: Group, owner: str, media_id: int) -> None:
        """Make ``media_id`` the picture of ``owner`` in ``group`` (replacing any before)."""
        ...

    async def detach(self, group: Group, owner: str) -> None:
        """Take the picture off ``owner`` (nothing when it had none)."""
        ...

    async def path_of(self, group: Group, owner: str) -> str | None:
        """A local file with the picture ``owner`` carries, for ``OutgoingMessage.image``."""


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


# -- interest circles (issue 23) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CircleAudience:
    """A circle and the members a post addressed to it mentions (``CircleMembers.audience``)."""

    circle_id: int
    name: str
    #: In the circle, not muting its pings, still in the group; in joining order.
    members: tuple[UserRef, ...]


class CircleMembers(Protocol):
    """Who is in a group's interest circles (the circles feature provides it), so scheduled
    posts, activities and giveaways can address a circle: mention its members, never the ones
    who muted its pings."""

    async def audience(self, group: Group, name: str) -> CircleAudience | None:
        """The group's circle called ``name`` (as a member types it, any case or width) and who
        its posts reach; None when the group has no such circle."""
        ...

    async def circles_of(self, group: Group, member: Member) -> list[str]:
        """The names of the circles ``member`` is in (muted ones too), by name."""
        ...

    def tagged(self, text: str, names: Sequence[str]) -> list[str]:
        """The circles among ``names`` that ``text`` is addressed to: an activity or a post
        written with ``#NAME`` (any case or width) is for that circle."""
        ...


@dataclass(frozen=True, slots=True)
class CircleFigures:
    """One circle's figures since a given instant (``CircleFacts.circle_figures``)."""

    name: str
    members: int
    muted: int
    joined: int
    pings: int
    #: Every member of the circle (for activity figures the asker keeps itself).
    member_ids: tuple[int, ...] = ()


class CircleFacts(Protocol):
    """Read-only figures of a group's interest circles for ``/stats circles`` (the circles
    feature publishes them)."""

    async def circle_figures(self, group_id: int, since: datetime) -> list[CircleFigures]:
        """Each circle of the group by name: size, muted members, joins and pings since ``since``."""
        ...


@dataclass(frozen=True, slots=True)
class UpcomingActivity:
    """An open activity that has not started yet (``UpcomingActivities.upcoming``)."""

    id: int
    title: str
    description: str
    start_at: datetime


class UpcomingActivities(Protocol):
    """A group's activities still to come (the activities feature, named "events", provides it):
    the lifecycle's recall post names the ones in a dormant member's interest circles."""

    async def upcoming(self, group_id: int, since: datetime, until: datetime) -> list[UpcomingActivity]:
        """Open activities of the group starting in ``[since, until)``, soonest first."""


class CommunityScope(Protocol):
    """Which chats share points, levels and check-ins with a chat: its community's chats that
    share them (the community feature provides it). Without it every chat keeps its own."""

    async def shared_chats(self, group: Group) -> list[int]:
        """Group ids of the chats sharing points with ``group``, the community's first chat
        first (its day is the community's day), ``group`` included; ``[group.id]`` when alone."""
        ...


class AccountLinkWatcher(Protocol):
    """Told when an account leaves a person's linked accounts, to give back what is its own
    (the check-in feature splits the merged balance as the ledger says)."""

    async def unlinked(self, account: tuple[str, str], others: Sequence[tuple[str, str]]) -> None:
        """``account`` (platform, user id) is no longer linked with ``others``."""
        ...
