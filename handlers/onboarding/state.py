"""The onboarding feature's runtime state, kept in ``services.state`` (never module globals)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.onboarding import OnboardingRepo

if TYPE_CHECKING:
    from bot.services import Services

STATE_KEY = "welcome"
#: Change-feed topic: a newcomer's onboarding started on another worker (``bot.changes``).
PENDING_TOPIC = "onboarding.pending"


class WelcomeState:
    """The onboarding repository and the newcomers still being onboarded (no query per message)."""

    def __init__(self, repo: OnboardingRepo) -> None:
        self.repo = repo
        self.pending: set[tuple[int, int]] = set()


def onboarding_state(services: Services) -> WelcomeState:
    """The feature's state, created on first use."""
    st = services.state.get(STATE_KEY)
    if st is None:
        st = WelcomeState(OnboardingRepo(services.db))
        services.state[STATE_KEY] = st
    return st
