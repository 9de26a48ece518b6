"""The moderation runtime: matcher cache, flood and surge tracking, credit, shared wording.

Everything here is reached through ``services.state["moderation"]`` (a :class:`ModState`), so
nothing lives in module globals and two apps in one process (tests) stay apart. Platform
actions (mute, ban, their lifting) are in ``sanctions``; alerts, batches, escalation and the
digest in ``alerting``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.clock import local_day
from bot.services import Services
from handlers.moderation.folding import fold
from handlers.moderation.lexicon import KNOWN_CATEGORIES
from handlers.moderation.matcher import (
    DEFAULT_REGEX_TIMEOUT,
    Entry,
    Layer,
    Level,
    Matcher,
    Mode,
    build_matcher,
)
from handlers.moderation.segment import SEGMENTER
from storage.models import Group, Member
from storage.moderation import ModerationRepos

if TYPE_CHECKING:
    from handlers.moderation.flood_share import SharedFloods

log = logging.getLogger(__name__)

STATE_KEY = "moderation"
BOT_ACTOR = "bot"

#: Credit starts here, recovers one point per clean local day up to here.
CREDIT_START = 100
#: (lowest score, level key) from best to worst.
CREDIT_LEVELS: tuple[tuple[int, str], ...] = (
    (90, "excellent"),
    (75, "good"),
    (60, "fair"),
    (40, "poor"),
    (0, "danger"),
)
#: Active warnings → what happens: 3 → mute 1 h, 4 → mute 24 h, 5 → ban.
WARNING_LADDER: dict[int, tuple[str, timedelta | None]] = {
    3: ("mute", timedelta(hours=1)),
    4: ("mute", timedelta(hours=24)),
    5: ("ban", None),
}
WARNING_MAX = 5

JOB_LIFT = "moderation.lift"
JOB_BATCH = "moderation.batch"
JOB_ESCALATE = "moderation.escalate"
JOB_DIGEST = "moderation.digest"


def credit_level(score: int) -> str:
    """The level key (``excellent``…``danger``) of a credit score."""
    for floor, name in CREDIT_LEVELS:
        if score >= floor:
            return name
    return "danger"


def category_key(category: str | None) -> str:
    """The translation key of a category; unknown ones read as generic "custom".

    A moderator may type anything as a category, even the blocked word itself, so only the
    known categories are ever shown by name in public.
    """
    cat = (category or "custom").casefold()
    return f"moderation.category.{cat if cat in KNOWN_CATEGORIES else 'custom'}"


@dataclass(slots=True)
class Step:
    """One action of a plan and how it went."""

    name: str
    ok: bool
    why: str = ""

    def as_dict(self) -> dict[str, Any]:
        """For the alert row."""
        return {"step": self.name, "ok": self.ok, "why": self.why}


class FloodTracker:
    """Recent message times and texts per member, in memory (never stored)."""

    def __init__(self) -> None:
        self._recent: dict[tuple[int, str], deque[tuple[datetime, str]]] = {}

    def observe(
        self,
        group_id: int,
        user_id: str,
        at: datetime,
        text: str,
        *,
        max_messages: int,
        window: timedelta,
        max_identical: int,
        identical_window: timedelta,
        folded: str | None = None,
    ) -> str | None:
        """Record a message; returns ``"rate"`` or ``"identical"`` when this one tips it over.

        ``folded`` is ``fold(text)`` when the caller has it already (``ctx.parsed.folded``)."""
        key = (group_id, user_id)
        queue = self._recent.setdefault(key, deque())
        queue.append((at, (fold(text) if folded is None else folded)[:200]))
        horizon = at - max(window, identical_window)
        while queue and queue[0][0] < horizon:
            queue.popleft()
        in_window = sum(1 for t, _ in queue if t > at - window)
        if in_window > max_messages:
            queue.clear()
            return "rate"
        folded = queue[-1][1]
        if folded:
            same = sum(1 for t, f in queue if f == folded and t > at - identical_window)
            if same >= max_identical:
                queue.clear()
                return "identical"
        if len(self._recent) > 50_000:
            # Drop the idle half rather than grow without bound in a huge deployment.
            for stale in [k for k, q in self._recent.items() if not q or q[-1][0] < horizon]:
                del self._recent[stale]
        return None

    def recent(self, group_id: int, user_id: str, since: datetime, text: str | None = None) -> list[datetime]:
        """The member's message times on this worker after ``since`` (of that folded text only,
        with ``text``), oldest first: what ``flood_share`` adds to the other workers' counts."""
        queue = self._recent.get((group_id, user_id), ())
        return [t for t, f in queue if t > since and (text is None or f == text)]

    def clear(self, group_id: int, user_id: str) -> None:
        """The member's window tipped over (on another worker's count too): it starts again."""
        self._recent.pop((group_id, user_id), None)


@dataclass(slots=True)
class ModState:
    """Runtime state of the moderation feature for one running app."""

    #: The feature's repositories, one per aggregate (lexicon, alerts, sanctions, audit…).
    repos: ModerationRepos
    global_layer: Layer
    regex_timeout: float = DEFAULT_REGEX_TIMEOUT
    matchers: dict[int, Matcher] = field(default_factory=dict)
    locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    flood: FloodTracker = field(default_factory=FloodTracker)
    #: Flood windows counted with the other workers' (PostgreSQL, several workers); None alone.
    shared_flood: SharedFloods | None = None
    surge: dict[int, deque[datetime]] = field(default_factory=dict)
    surge_alerted: dict[int, datetime] = field(default_factory=dict)
    digests: set[int] = field(default_factory=set)
    #: Recent group messages (id → author, text), memory only: a report's excerpt comes from here.
    recent: dict[int, OrderedDict[str, tuple[str, str]]] = field(default_factory=dict)
    builds: int = 0
    #: Called after a lexicon change rebuilt a group's matcher (other workers then drop theirs),
    #: and for each chat sharing its terms.
    on_rebuilt: Callable[[int], Awaitable[None]] | None = None
    #: group id → the other chats sharing their lexicon with it (``CommunityScope``), if wired.
    lexicon_peers: Callable[[int], Awaitable[tuple[int, ...]]] | None = None
    #: group id → the peers its cached matcher was built with.
    built_with: dict[int, tuple[int, ...]] = field(default_factory=dict)
    #: group id → (is it some group's moderator chat, until when that answer is trusted).

    # -- matchers ------------------------------------------------------------------------
    async def peers(self, group_id: int) -> tuple[int, ...]:
        """The other chats whose shared terms apply in this group (its community's, through
        ``CommunityScope``); none outside a community or without the community feature."""
        return await self.lexicon_peers(group_id) if self.lexicon_peers is not None else ()

    async def matcher(self, group_id: int) -> Matcher:
        """The group's compiled snapshot, built on first use, and again when the chats sharing
        its lexicon changed (a chat joined or left the community, or a ``share_lexicon`` switch)."""
        found = self.matchers.get(group_id)
        if found is not None and self.built_with.get(group_id, ()) == await self.peers(group_id):
            return found
        return await self.rebuild(group_id, only_if_stale=True)

    async def rebuild(self, group_id: int, *, only_if_stale: bool = False) -> Matcher:
        """Compile the group's lexicon in a worker thread, then swap it in with one assignment.

        The lexicon is the operator's files, the terms the group's community shares (the
        other chats' terms not added ``here``) and the group's own terms. Messages handled
        meanwhile keep using the previous snapshot; none sees a half-built one. Events run
        concurrently, so the first messages of a group may all ask for a build:
        ``only_if_stale`` lets the later ones take the snapshot the first one made.

        A change (not ``only_if_stale``) also drops the matchers of the chats sharing the
        group's terms, here and, through ``on_rebuilt``, in every other worker.
        """
        lock = self.locks.setdefault(group_id, asyncio.Lock())
        async with lock:
            peers = await self.peers(group_id)
            if only_if_stale and group_id in self.matchers and self.built_with.get(group_id, ()) == peers:
                return self.matchers[group_id]
            shared = await self.repos.lexicon.shared_terms(peers)
            terms = await self.repos.lexicon.terms(group_id)
            allow = [a.term for a in await self.repos.lexicon.allow_terms(group_id)]
            entries = [
                Entry(t.term, Level.parse(t.level), t.category, Mode(t.mode), t.id, scope=str(t.group_id))
                for t in (*shared, *terms)
            ]
            built = await asyncio.to_thread(
                build_matcher,
                self.global_layer,
                entries,
                allow,
                regex_timeout=self.regex_timeout,
                owner=f"group:{group_id}",
            )
            self.matchers[group_id] = built
            self.built_with[group_id] = peers
            if not only_if_stale:
                for other in peers:
                    self.matchers.pop(other, None)
                if self.on_rebuilt is not None:
                    for changed in (group_id, *peers):
                        await self.on_rebuilt(changed)
            self.builds += 1
            return built

    # -- recent messages -------------------------------------------------------------------
    def remember(self, group_id: int, message_id: str, user_id: str, text: str) -> None:
        """Keep a message for a possible report (bounded, in memory only)."""
        buf = self.recent.setdefault(group_id, OrderedDict())
        buf[message_id] = (user_id, text[:500])
        while len(buf) > 500:
            buf.popitem(last=False)

    def recalled(self, group_id: int, message_id: str) -> tuple[str, str] | None:
        """A remembered message."""
        buf = self.recent.get(group_id)
        return buf.get(message_id) if buf is not None else None

    # -- surge ---------------------------------------------------------------------------
    def surge_hit(self, group_id: int, at: datetime, limit: int, window: timedelta) -> bool:
        """Count a red/yellow hit; True when the group just went over ``limit`` in ``window``."""
        queue = self.surge.setdefault(group_id, deque())
        queue.append(at)
        while queue and queue[0] <= at - window:
            queue.popleft()
        if len(queue) <= limit:
            return False
        last = self.surge_alerted.get(group_id)
        if last is not None and at - last < window:
            return False
        self.surge_alerted[group_id] = at
        return True


def get_state(services: Services) -> ModState:
    """The feature's state (created by the startup hook)."""
    state: ModState = services.state[STATE_KEY]
    return state


def build_global_layer(entries: Sequence[Entry]) -> Layer:
    """Compile the operator's lexicon files and teach the segmenter their Chinese terms (added
    to jieba's dictionary when it loads, on first use or when the startup hook warms it)."""
    layer = Layer(entries)
    SEGMENTER.set_words("global", layer.cjk_words())
    return layer


# -- credit ----------------------------------------------------------------------------------


async def current_credit(services: Services, group: Group, member: Member) -> int:
    """A member's credit today, after adding the clean days since it was last touched."""
    state = get_state(services)
    row = await state.repos.sanctions.credit(member.id)
    if row is None:
        return CREDIT_START
    today = local_day(services.clock.now(), group.timezone)
    yesterday = today - timedelta(days=1)
    clean = (yesterday - row.recovered_through).days
    if clean <= 0 or row.score >= CREDIT_START:
        return row.score
    score = min(CREDIT_START, row.score + clean)
    await state.repos.sanctions.put_credit(member.id, group.id, score, yesterday, services.clock.now())
    return score


async def change_credit(services: Services, group: Group, member: Member, delta: int) -> int:
    """Add ``delta`` (negative for a penalty) and return the new score (0…100).

    A penalty marks today as not clean, so recovery starts again tomorrow.
    """
    state = get_state(services)
    score = await current_credit(services, group, member)
    new = max(0, min(CREDIT_START, score + delta))
    today = local_day(services.clock.now(), group.timezone)
    row = await state.repos.sanctions.credit(member.id)
    through = today if delta < 0 else (row.recovered_through if row else today - timedelta(days=1))
    await state.repos.sanctions.put_credit(member.id, group.id, new, through, services.clock.now())
    return new


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; 0 for none."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def human_duration(services: Services, lang: str, seconds: float) -> str:
    """``4h 12m`` / ``4 小时 12 分`` for a number of seconds."""
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    t = services.i18n.t
    parts = []
    if days:
        parts.append(t(lang, "moderation.time.days", n=days))
    if hours:
        parts.append(t(lang, "moderation.time.hours", n=hours))
    if mins or not parts:
        parts.append(t(lang, "moderation.time.minutes", n=mins))
    return " ".join(parts)
