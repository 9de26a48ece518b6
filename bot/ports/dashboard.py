"""Ports the operators' dashboard (``web/``) reads and acts through: indicators, the moderation
desk, ledgers, member discipline and the Content page's desks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.content_values import ContentActivity, ContentPost, ContentSuggestion, ContentTopic
    from bot.events import UserRef
    from storage.models import Group, Member


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

    async def cohorts(self, group: Group, now: datetime, weeks: int) -> list[RetentionCohort]:
        """Weekly join cohorts of the ``weeks`` weeks of complete local days before ``now``,
        oldest first, with their retention in weeks 1…4 after joining."""
        ...

    async def stages(self, group: Group, now: datetime, days: int) -> StageSeries:
        """Members per lifecycle stage at the end of each of the ``days`` complete local days
        before ``now`` (as recorded each night), and now."""
        ...

    async def hot_words(self, group: Group, now: datetime, hours: int, *, wait: bool = True) -> HotWords:
        """The group's hot words of the last ``hours`` hours, best first (``/hot``'s). Without
        ``wait``, words not counted yet are counted in the background and the answer says so."""
        ...


@dataclass(frozen=True, slots=True)
class StageSeries:
    """Members per lifecycle stage over days (``/lifecycle``'s stages: new, active, sleeping,
    churned, left). ``counts[i][j]`` is the number in ``stages[j]`` at the end of ``days[i]``,
    None for a day nothing was recorded on (the bot was not running at its nightly job);
    ``now`` is the same counted at the moment asked."""

    days: tuple[date, ...]
    stages: tuple[str, ...]
    counts: tuple[tuple[int, ...] | None, ...]
    now: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class HotWords:
    """``state``: ``ready`` (``words``, best first, maybe none), ``counting`` (started in the
    background: ask again shortly) or ``off`` (the group keeps no message text)."""

    state: str
    words: tuple[HotWordFigure, ...] = ()


@dataclass(frozen=True, slots=True)
class HotWordFigure:
    """A hot word with its score and how many messages and members used it."""

    word: str
    score: float
    messages: int
    members: int


@dataclass(frozen=True, slots=True)
class RetentionCohort:
    """The members who joined in one week (7 local days from ``start``) and the share of them
    active in each following week: ``weeks[k-1]`` for days 7k…7k+6 after joining, None while
    that week is not complete for the whole cohort."""

    start: date
    size: int
    weeks: tuple[float | None, ...]


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

    async def edit_term(
        self, group: Group, term: str, mode: str, level: str, category: str, actor: UserRef
    ) -> None:
        """Give an existing term (as listed: its text and mode) a new level and category, as
        ``/kw add`` of the same term does (validated, audited, matcher rebuilt); raises
        ``DeskRefused`` (``/kw add``'s errors, or not found)."""
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

    async def create(
        self,
        group: Group,
        title: str,
        start: str,
        duration: str,
        description: str,
        capacity: str,
        actor: UserRef,
        now: datetime,
    ) -> int:
        """Add an activity as ``/event add`` does from the form's fields (as typed; empty
        duration and capacity take the chat's defaults), announce it in the group and audit it;
        returns its id. Raises ``DeskRefused``."""
        ...

    async def cancel(self, group: Group, activity_id: int, actor: UserRef, now: datetime) -> None:
        """Cancel as ``/event cancel`` does (the group is told, sign-ups mentioned) and audit
        it. Raises ``DeskRefused``."""
        ...
