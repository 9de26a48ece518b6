"""The circles feature's runtime state, kept in ``services.state`` (never module globals): its
repository, and which ``/circles`` cards wait for an edit after presses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from storage.circles import CircleRepo

if TYPE_CHECKING:
    from bot.events import ChatRef
    from bot.services import Services

STATE_KEY = "circles"
#: Cards remembered for their last edit; past this the book starts over (an extra edit at worst).
CARDS_MAX = 10_000

#: A card: the adapter, the channel and the bot's message id.
CardKey = tuple[str, str, str]


@dataclass
class CardBook:
    """Coalesced edits of ``/circles`` cards: a press that changes a circle's size marks its card;
    the card is edited at once when its last edit is older than the interval, else by the next
    batcher flush after it, so a burst of presses makes one edit per interval."""

    last_edit: dict[CardKey, datetime] = field(default_factory=dict)
    #: Marked cards: where they are and which group's circles they show.
    dirty: dict[CardKey, tuple[ChatRef, int, str]] = field(default_factory=dict)

    def due(self, key: CardKey, now: datetime, gap: float) -> bool:
        """True when the card may be edited now."""
        last = self.last_edit.get(key)
        return last is None or (now - last).total_seconds() >= gap

    def edited(self, key: CardKey, now: datetime) -> None:
        """Record an edit (the card is clean again)."""
        if len(self.last_edit) >= CARDS_MAX:
            self.last_edit.clear()
        self.last_edit[key] = now
        self.dirty.pop(key, None)

    def ripe(self, now: datetime, gap: float) -> list[CardKey]:
        """The marked cards whose interval has passed."""
        return [key for key in list(self.dirty) if self.due(key, now, gap)]


@dataclass
class CirclesState:
    """Repository and in-memory bookkeeping of the circles feature."""

    repo: CircleRepo
    cards: CardBook = field(default_factory=CardBook)


def circles_state(services: Services) -> CirclesState:
    """The feature's state, built on first use."""
    state = services.state.get(STATE_KEY)
    if state is None:
        state = CirclesState(CircleRepo(services.db))
        services.state[STATE_KEY] = state
    assert isinstance(state, CirclesState)
    return state


def circle_repo(services: Services) -> CircleRepo:
    """The feature's repository."""
    return circles_state(services).repo
