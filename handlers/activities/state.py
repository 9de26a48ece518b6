"""The activities feature's repository, kept in ``services.state`` (never a module global)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.postbook import PostBook
from storage.activities import ActivitiesRepo
from storage.activities_signups import SignupsRepo

if TYPE_CHECKING:
    from bot.services import Services

STATE_KEY = "events"
SIGNUP_KEY = "events.signup"


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


def signup_state(services: Services) -> SignupState:
    """The sign-up lists' state, created on first use."""
    state = services.state.get(SIGNUP_KEY)
    if state is None:
        state = SignupState(SignupsRepo(services.db))
        services.state[SIGNUP_KEY] = state
    assert isinstance(state, SignupState)
    return state
