"""The activities feature's repository, kept in ``services.state`` (never a module global)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.activities import ActivitiesRepo

if TYPE_CHECKING:
    from bot.services import Services

STATE_KEY = "events"


def activities_repo(services: Services) -> ActivitiesRepo:
    """The activities repository, created on first use."""
    repo = services.state.get(STATE_KEY)
    if repo is None:
        repo = ActivitiesRepo(services.db)
        services.state[STATE_KEY] = repo
    return repo
