"""The engagement feature's runtime state, kept in ``services.state`` (never module globals):
its repositories and which giveaway and poll posts wait for an edit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from storage.engage import Giveaway, GiveawayRepo, PollRepo

if TYPE_CHECKING:
    from bot.services import Services

STATE_KEY = "engage"
#: Giveaways kept in memory; past this the cache starts over.
CACHE_MAX = 10_000


@dataclass
class PostBook:
    """Coalesced edits of giveaway posts: at most one edit per post per interval, however fast
    people join. A join marks the post dirty; it is edited at once when the last edit is older
    than the interval, else by the next batcher flush after the interval has passed."""

    last_edit: dict[int, datetime] = field(default_factory=dict)
    dirty: dict[int, float] = field(default_factory=dict)
    edits: int = 0

    def due(self, giveaway_id: int, now: datetime, gap: float) -> bool:
        """True when the post may be edited now."""
        last = self.last_edit.get(giveaway_id)
        return last is None or (now - last).total_seconds() >= gap

    def edited(self, giveaway_id: int, now: datetime) -> None:
        """Record an edit (the post is clean again)."""
        self.last_edit[giveaway_id] = now
        self.dirty.pop(giveaway_id, None)
        self.edits += 1

    def forget(self, giveaway_id: int) -> None:
        """A finished giveaway's post is not edited for joins any more."""
        self.last_edit.pop(giveaway_id, None)
        self.dirty.pop(giveaway_id, None)

    async def counts_changed(
        self, post_id: int, now: datetime, gap: float, edit: Callable[[], Awaitable[None]]
    ) -> None:
        """A post's counts changed: ``edit`` it now if the interval allows, else mark it for
        the next flush (giveaway joins and poll votes alike)."""
        if self.due(post_id, now, gap):
            await edit()
        else:
            self.dirty[post_id] = gap

    def ripe(self, now: datetime) -> list[int]:
        """The marked posts whose interval has passed (for the batcher's flush)."""
        return [post_id for post_id, gap in list(self.dirty.items()) if self.due(post_id, now, gap)]


@dataclass
class EngageState:
    """Repositories and in-memory bookkeeping of the engagement feature."""

    giveaways: GiveawayRepo
    polls: PollRepo
    posts: PostBook = field(default_factory=PostBook)
    #: The same coalescing for poll posts (ids of another table, so a book of their own).
    poll_posts: PostBook = field(default_factory=PostBook)
    #: Giveaways by id, so a press reads no row: only for the checks before the entry, which
    #: re-reads the status in its own transaction (another worker may have drawn it meanwhile).
    cache: dict[int, Giveaway] = field(default_factory=dict)

    async def giveaway(self, group_id: int, giveaway_id: int) -> Giveaway | None:
        """A giveaway of the group, from the cache when it is there."""
        gw = self.cache.get(giveaway_id)
        if gw is None:
            gw = await self.giveaways.by_id(giveaway_id)
            if gw is None:
                return None
            if len(self.cache) >= CACHE_MAX:
                self.cache.clear()
            self.cache[giveaway_id] = gw
        return gw if gw.group_id == group_id else None

    def changed(self, giveaway_id: int) -> None:
        """Its row changed (drawn, cancelled, posted): read it again next time."""
        self.cache.pop(giveaway_id, None)


def get_state(services: Services) -> EngageState:
    """The feature's state, built on first use."""
    state = services.state.get(STATE_KEY)
    if state is None:
        state = EngageState(GiveawayRepo(services.db), PollRepo(services.db))
        services.state[STATE_KEY] = state
    assert isinstance(state, EngageState)
    return state
