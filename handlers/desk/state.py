"""The desk feature's runtime state, kept in ``services.state`` (never module globals): each
group's compiled FAQ and the cooldowns in front of the answers table."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.ports import AuditTrail, TextFolding
from handlers.desk.match import Entry, FaqIndex, plain_fold
from storage.desk import DeskRepos, FaqRow, MoodHour, NegativeMessage

if TYPE_CHECKING:
    from bot.services import Services

STATE_KEY = "desk"
#: Change-feed topic: a group's FAQ entries changed on another worker (``bot.changes``).
CHANGES_TOPIC = "desk.faq"
#: A question nobody replied to within this time is "unanswered".
ANSWER_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Pending:
    """A message waiting for the next flush."""

    group_id: int
    member_id: int | None
    at: datetime
    day: date
    hour: int
    text: str


@dataclass
class MoodBook:
    """Messages waiting to be scored, and when old negative messages were last purged."""

    pending: list[Pending] = field(default_factory=list)
    #: scored rows the database could not take at the last flush
    unwritten: list[MoodHour | NegativeMessage] = field(default_factory=list)
    last_purge: datetime | None = None
    #: group → (the setting, its product words as typed, the same folded)
    products: dict[int, tuple[str, tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)


@dataclass
class Compiled:
    """One group's FAQ, ready to match."""

    index: FaqIndex
    rows: dict[int, FaqRow]


@dataclass
class DeskState:
    """Caches of the desk feature."""

    repos: DeskRepos
    services: Services
    compiled: dict[int, Compiled] = field(default_factory=dict)
    #: (entry id, channel id) → when it last answered there; filled from the table on demand,
    #: so a restart in the middle of a cooldown keeps it.
    last_answer: dict[tuple[int, str], datetime | None] = field(default_factory=dict)
    #: group → "channel:message" → (question id, asker's member id, asked at): the questions of
    #: the last ``ANSWER_WINDOW``, oldest first, read back from the table after a restart.
    questions: dict[int, OrderedDict[str, tuple[int, int | None, datetime]]] = field(default_factory=dict)
    #: groups whose daily job is known to exist (``handlers/desk/jobs.py``)
    scheduled: set[int] = field(default_factory=set)
    #: messages waiting for the mood flush (``handlers/desk/mood.py``)
    mood: MoodBook = field(default_factory=MoodBook)
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)

    async def open_questions(
        self, group_id: int, now: datetime
    ) -> OrderedDict[str, tuple[int, int | None, datetime]]:
        """The group's questions still within the answer window."""
        found = self.questions.get(group_id)
        if found is None:
            rows = await self.repos.unanswered.waiting(group_id, now - ANSWER_WINDOW)
            found = OrderedDict((f"{r.channel_id}:{r.message_id}", (r.id, r.member_id, r.at)) for r in rows)
            self.questions[group_id] = found
        while found and now - next(iter(found.values()))[2] >= ANSWER_WINDOW:
            found.popitem(last=False)
        return found

    def fold(self, text: str) -> str:
        """The moderation feature's folding when it is installed, a plain one otherwise."""
        port = self.services.ports.find(TextFolding)
        return port.fold(text) if port is not None else plain_fold(text)

    async def faq(self, group_id: int) -> Compiled:
        """The group's compiled FAQ (built once, off the event loop: jieba and BM25 take time)."""
        found = self.compiled.get(group_id)
        if found is not None:
            return found
        lock = self._locks.setdefault(group_id, asyncio.Lock())
        async with lock:
            found = self.compiled.get(group_id)
            if found is not None:
                return found
            rows = await self.repos.faq.entries(group_id)
            entries = [Entry(r.id, r.mode, r.triggers, r.lang) for r in rows]
            index = await asyncio.to_thread(FaqIndex, entries, self.fold)
            found = Compiled(index, {r.id: r for r in rows})
            self.compiled[group_id] = found
            return found

    def changed(self, group_id: int) -> None:
        """The group's entries changed: compile again on the next message (every worker)."""
        self.compiled.pop(group_id, None)
        self.services.changes.publish_soon(CHANGES_TOPIC, group_id)

    async def cooling(self, row: FaqRow, channel_id: str, now: datetime) -> bool:
        """True while the entry's cooldown in this chat runs."""
        key = (row.id, channel_id)
        if key not in self.last_answer:
            self.last_answer[key] = await self.repos.faq.last_answer(row.id, channel_id)
        last = self.last_answer[key]
        return last is not None and now - last < timedelta(seconds=row.cooldown)

    def answered(self, entry_id: int, channel_id: str, at: datetime) -> None:
        """Remember an answer just given (the table has it too)."""
        self.last_answer[(entry_id, channel_id)] = at

    async def audit(self, group_id: int, at: datetime, actor: str, action: str, detail: str = "") -> None:
        """One line in the group's audit log, when the moderation feature keeps one."""
        trail = self.services.ports.find(AuditTrail)
        if trail is not None:
            await trail.record(group_id, at, actor, action, detail)


def get_state(services: Services) -> DeskState:
    """The feature's state."""
    state = services.state.get(STATE_KEY)
    if not isinstance(state, DeskState):
        state = DeskState(DeskRepos(services.db), services)
        services.state[STATE_KEY] = state
    return state
