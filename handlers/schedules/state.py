"""The schedule feature's repository, kept in ``services.state`` (never a module global)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.schedules import ScheduleRepo

if TYPE_CHECKING:
    from bot.services import Services

STATE_KEY = "schedule"


def post_repo(services: Services) -> ScheduleRepo:
    """The scheduled-posts repository, created on first use."""
    repo = services.state.get(STATE_KEY)
    if repo is None:
        repo = ScheduleRepo(services.db)
        services.state[STATE_KEY] = repo
    return repo
