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
    from bot.content_values import ContentActivity, ContentPost, ContentSuggestion, ContentTopic
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
    #: ``good``, ``warn`` or ``bad`` by the group's thresholds (``stats.thresholds``); None
    #: when no threshold covers the figure or it has no value
    tone: str | None = None


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
    #: When it was handled (acknowledged, resolved, undone, banned): the handling time's end.
    handled_at: datetime | None = None


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
        self, group_id: int, *, open_only: bool, offset: int, limit: int, kind: str | None = None
    ) -> tuple[list[DeskAlert], int]:
        """One page of the group's alerts (newest first; of one ``kind`` when given: ``report``,
        ``surge`` for raids…) and how many there are in all."""
        ...

    async def handling(self, group_id: int, kind: str, since: datetime) -> tuple[int, list[float]]:
        """How many alerts of ``kind`` were raised since ``since``, and the seconds each handled
        one took (``/reports stats``' figures)."""
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
        member_id: int | None = None,
    ) -> tuple[list[DeskLogLine], int]:
        """One page of the group's audit log (``/modlog``), newest first, filtered by actor
        (user id), action, the member it is about and ``[since, until)``, and the total."""
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


class PlannedPostsDesk(Protocol):
    """Scheduled posts in the browser, with the effects of ``/schedule`` (the schedule feature
    provides it). Refusals raise ``DeskRefused`` with ``/schedule``'s own error."""

    async def posts(self, group: Group, now: datetime, lang: str) -> list[ContentPost]:
        """The group's live posts with their next run."""
        ...

    async def add(
        self, group: Group, when: str, text: str, urgent: bool, actor: UserRef, now: datetime
    ) -> int:
        """Plan a post as ``/schedule add`` does; returns its id."""
        ...

    async def edit(
        self, group: Group, post_id: int, when: str, text: str, actor: UserRef, now: datetime
    ) -> None:
        """Change a post's WHEN and text and plan it again from ``now``."""
        ...

    async def pause(self, group: Group, post_id: int, paused: bool, actor: UserRef, now: datetime) -> None:
        """Pause or resume a post as ``/schedule pause|resume`` does."""
        ...

    async def delete(self, group: Group, post_id: int, actor: UserRef, now: datetime) -> None:
        """Delete a post as ``/schedule del`` does."""
        ...


class TopicBankDesk(Protocol):
    """The topic bank and its suggestions in the browser, with the effects of ``/topic`` and of
    the Approve / Reject buttons (the topics feature provides it)."""

    async def topics(self, group: Group, *, offset: int, limit: int) -> tuple[list[ContentTopic], int]:
        """One page of the bank in rotation order (next first) and its size."""
        ...

    async def daily(self, group: Group, now: datetime) -> tuple[str | None, datetime | None]:
        """The daily topic's local time (None: off) and its next run."""
        ...

    async def suggestions(self, group: Group) -> list[ContentSuggestion]:
        """The pending suggestions, oldest first."""
        ...

    async def add(self, group: Group, text: str, actor: UserRef, now: datetime) -> int:
        """Add a topic as ``/topic add`` does; returns its id. Raises ``DeskRefused``."""
        ...

    async def remove(self, group: Group, topic_id: int, actor: UserRef, now: datetime) -> None:
        """Remove a topic as ``/topic del`` does. Raises ``DeskRefused``."""
        ...

    async def decide(
        self, group: Group, suggestion_id: int, approve: bool, actor: UserRef, now: datetime
    ) -> tuple[int | None, bool]:
        """Approve or reject as the buttons do (the author is credited on approval); returns
        (the new topic's id or None, whether points were credited). Raises ``DeskRefused``."""
        ...


class ActivityBoard(Protocol):
    """Upcoming activities for the dashboard (the events feature provides it)."""

    async def upcoming(self, group: Group, now: datetime, limit: int) -> list[ContentActivity]:
        """The group's activities that have not ended, soonest first, with sign-up counts."""
        ...
