"""The circles feature's runtime state, kept in ``services.state`` (never module globals)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.circles import CircleRepo

if TYPE_CHECKING:
    from bot.services import Services

STATE_KEY = "circles"


def circle_repo(services: Services) -> CircleRepo:
    """The feature's repository, built on first use."""
    repo = services.state.get(STATE_KEY)
    if repo is None:
        repo = CircleRepo(services.db)
        services.state[STATE_KEY] = repo
    assert isinstance(repo, CircleRepo)
    return repo
