"""The activities feature's repository, kept in ``services.state`` (never a module global)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.postbook import PostBook
from storage.activities import ActivitiesRepo, Activity
from storage.activities_signups import SignupsRepo

if TYPE_CHECKING:
    from bot.services import Services

STATE_KEY = "events"
SIGNUP_KEY = "events.signup"
#: Lists kept in memory for presses; past this the cache starts over.
CACHE_MAX = 10_000


def activities_repo(services: Services) -> ActivitiesRepo:
    """The activities repository, created on first use."""
    repo = services.state.get(STATE_KEY)
    if repo is None:
        repo = ActivitiesRepo(services.db)
        services.state[STATE_KEY] = repo
    return repo


@dataclass
class SignupState:
    """Sign-up lists' repository and which list posts wait for an edit (``bot.postbook``)."""

    repo: SignupsRepo
    book: PostBook = field(default_factory=PostBook)
    #: Where the platform cannot edit, each refresh is a new post; replies to an earlier copy
    #: still count, until a restart ((group id, message id) → list id; bounded by the flushes).
    earlier: dict[tuple[int, str], int] = field(default_factory=dict)
    #: Lists by id, so a press reads no row before its join (the join's own transaction checks
    #: the status again: another worker may have closed the list meanwhile).
    cache: dict[int, Activity] = field(default_factory=dict)

    async def get(self, activities: ActivitiesRepo, group_id: int, activity_id: int) -> Activity | None:
        """A list (or another activity) of the group, from the cache when it is there."""
        act = self.cache.get(activity_id)
        if act is None:
            act = await activities.by_id(activity_id)
            if act is None:
                return None
            if len(self.cache) >= CACHE_MAX:
                self.cache.clear()
            self.cache[activity_id] = act
        return act if act.group_id == group_id else None


def signup_state(services: Services) -> SignupState:
    """The sign-up lists' state, created on first use."""
    state = services.state.get(SIGNUP_KEY)
    if state is None:
        state = SignupState(SignupsRepo(services.db))
        services.state[SIGNUP_KEY] = state
    assert isinstance(state, SignupState)
    return state
