"""The antispam feature's runtime state: caches in front of its tables, the duplicate window and
the group's spam samples, kept in ``services.state`` (never module globals)."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.parsed import ParsedMessage, plain_fold
from bot.ports import AuditTrail, TextFolding
from handlers.antispam.similar import DuplicateWindow, features, message_features, sketch
from storage.antispam import AntispamRepos, ProbationRow

if TYPE_CHECKING:
    from datasketch import LeanMinHash

    from bot.services import Services

STATE_KEY = "antispam"
#: Recent messages kept for ``/spam`` (which needs the text of the message it answers).
RECENT_MAX = 20_000
#: Messages per member kept for ``/purge`` (Telegram deletes at most 100 per call).
PURGE_MAX = 100
#: Probation rows cached; past this the cache starts over (rows are re-read on demand).
ROWS_MAX = 200_000
#: At most one automatic alert per group in this time: a wave is one alert, not one per spammer.
ALERT_GAP = timedelta(seconds=60)


@dataclass
class AntispamState:
    """Caches and in-memory detectors of the antispam feature."""

    repos: AntispamRepos
    services: Services
    window: DuplicateWindow = field(default_factory=DuplicateWindow)
    rows: dict[tuple[int, int], ProbationRow | None] = field(default_factory=dict)
    recent: OrderedDict[tuple[int, str], tuple[str, str]] = field(default_factory=OrderedDict)
    #: (group, account) → their latest message ids and times, for ``/purge``.
    by_user: dict[tuple[int, str], deque[tuple[str, datetime]]] = field(default_factory=dict)
    samples: dict[int, list[LeanMinHash]] = field(default_factory=dict)
    last_alert: dict[int, datetime] = field(default_factory=dict)
    #: Approvals, so a join can start probation in memory and write it with the next flush.
    approvals: dict[tuple[int, int], tuple[datetime, str | None]] = field(default_factory=dict)
    #: Probations started but not written yet (flushed by the batcher, or before any other write).
    unwritten: dict[tuple[int, int], ProbationRow] = field(default_factory=dict)
    _flush_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Join challenges' generator: unguessable, but seeded under the virtual clock so console
    #: runs and tests repeat exactly (set by ``get_state``).
    rng: random.Random = field(default_factory=secrets.SystemRandom)
    #: (group, account) of newcomers with a join challenge of their own open.
    verifying: set[tuple[int, str]] = field(default_factory=set)
    #: Applicants the bot let in on the right answer to the join question: not asked again when
    #: they arrive (in memory: after a restart they are asked to type it, the safe side).
    answered: set[tuple[int, str]] = field(default_factory=set)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def lock(self, key: str) -> asyncio.Lock:
        """One lock per challenge: two presses at once are handled one after the other."""
        found = self._locks.get(key)
        if found is None:
            if len(self._locks) >= RECENT_MAX:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            found = self._locks[key] = asyncio.Lock()
        return found

    def fold(self, text: str) -> str:
        """The moderation feature's folding when it is installed, a plain one otherwise."""
        port = self.services.ports.find(TextFolding)
        return port.fold(text) if port is not None else plain_fold(text)

    def sketch_of(self, text: str) -> LeanMinHash:
        """The MinHash sketch of a message."""
        return sketch(features(text, self.fold))

    def sketch_of_message(self, parsed: ParsedMessage) -> LeanMinHash:
        """The MinHash sketch of a message, from its shared parse."""
        return sketch(message_features(parsed, self.fold))

    # -- probation rows -----------------------------------------------------------------
    def joined(self, group_id: int, member_id: int, at: datetime) -> ProbationRow:
        """A join starts (or restarts) probation in memory; the batcher writes it. A burst of a
        thousand joins is then one transaction, not a thousand."""
        key = (group_id, member_id)
        approved = self.approvals.get(key)
        row = ProbationRow(
            group_id,
            member_id,
            at,
            True,
            0,
            0,
            approved[0] if approved else None,
            approved[1] if approved else None,
        )
        self.unwritten[key] = row
        self.put(row)
        return row

    async def flush(self) -> None:
        """Write the probations started since the last flush."""
        async with self._flush_lock:
            if not self.unwritten:
                return
            rows, self.unwritten = list(self.unwritten.values()), {}
            await self.repos.probation.start_many(rows)

    async def settle(self, group_id: int, member_id: int) -> None:
        """Before another write to a member's row: make sure its start is written."""
        if (group_id, member_id) in self.unwritten:
            await self.flush()

    async def row(self, group_id: int, member_id: int) -> ProbationRow | None:
        """A member's probation row (cached)."""
        key = (group_id, member_id)
        if key in self.unwritten:
            return self.unwritten[key]
        if key in self.rows:
            return self.rows[key]
        found = await self.repos.probation.get(group_id, member_id)
        self.put(found, key)
        return found

    def put(self, row: ProbationRow | None, key: tuple[int, int] | None = None) -> None:
        """Cache a row (or the absence of one)."""
        if len(self.rows) >= ROWS_MAX:
            self.rows.clear()
        if row is not None:
            key = (row.group_id, row.member_id)
        assert key is not None
        self.rows[key] = row

    def forget_rows(self, member_id: int) -> None:
        """Drop a member's cached rows (after ``/forgetme``)."""
        for key in [k for k in self.rows if k[1] == member_id]:
            del self.rows[key]
        for key in [k for k in self.approvals if k[1] == member_id]:
            del self.approvals[key]

    # -- recent texts, for /spam ----------------------------------------------------------
    def remember(self, group_id: int, message_id: str, user_id: str, text: str, at: datetime) -> None:
        """Keep a message's author and text for a while."""
        self.recent[(group_id, message_id)] = (user_id, text)
        if len(self.recent) > RECENT_MAX:
            self.recent.popitem(last=False)
        mine = self.by_user.get((group_id, user_id))
        if mine is None:
            if len(self.by_user) >= RECENT_MAX:
                self.by_user.clear()
            mine = self.by_user[(group_id, user_id)] = deque(maxlen=PURGE_MAX)
        mine.append((message_id, at))

    # -- samples ----------------------------------------------------------------------------
    async def samples_of(self, group_id: int) -> list[LeanMinHash]:
        """The sketches of a group's spam samples (loaded once)."""
        found = self.samples.get(group_id)
        if found is None:
            found = [self.sketch_of(text) for text in await self.repos.samples.texts(group_id)]
            self.samples[group_id] = found
        return found

    # -- audit and alerts -------------------------------------------------------------------
    async def audit(self, group_id: int, at: datetime, actor: str, action: str, detail: str) -> None:
        """One line in the group's audit log, when the moderation feature keeps one."""
        trail = self.services.ports.find(AuditTrail)
        if trail is not None:
            await trail.record(group_id, at, actor, action, detail)

    def may_alert(self, group_id: int, now: datetime) -> bool:
        """True when no automatic alert went out for this group within ``ALERT_GAP``."""
        last = self.last_alert.get(group_id)
        if last is not None and now - last < ALERT_GAP:
            return False
        self.last_alert[group_id] = now
        return True


def get_state(services: Services) -> AntispamState:
    """The feature's state (built at start)."""
    state = services.state.get(STATE_KEY)
    if not isinstance(state, AntispamState):
        state = AntispamState(AntispamRepos(services.db), services)
        if services.clock.is_virtual:
            state.rng = random.Random(0)
        services.state[STATE_KEY] = state
    return state
