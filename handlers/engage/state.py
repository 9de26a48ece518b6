"""The engagement feature's runtime state, kept in ``services.state`` (never module globals):
its repositories and which giveaway and poll posts wait for an edit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.postbook import PostBook
from storage.engage import Giveaway, GiveawayRepo, PollRepo

if TYPE_CHECKING:
    from bot.services import Services

STATE_KEY = "engage"
#: Giveaways kept in memory; past this the cache starts over.
CACHE_MAX = 10_000


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
