"""Coalesced in-place edits of a live post (a giveaway, a poll, a sign-up list).

Shared by the features that keep one post up to date while members press its buttons: each keeps
its own ``PostBook`` (post ids are per table) in its ``services.state`` and flushes it from the
batcher. Moved here from ``handlers/engage/state.py`` so the activities feature's sign-up lists use
the same mechanism without importing another feature.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class PostBook:
    """Coalesced edits of live posts (giveaways, polls, sign-up lists): at most one edit per post
    per interval, however fast people press. A press marks the post dirty; it is edited at once
    when the last edit is older than the interval, else by the next batcher flush after the
    interval has passed."""

    last_edit: dict[int, datetime] = field(default_factory=dict)
    dirty: dict[int, float] = field(default_factory=dict)
    edits: int = 0

    def due(self, post_id: int, now: datetime, gap: float) -> bool:
        """True when the post may be edited now."""
        last = self.last_edit.get(post_id)
        return last is None or (now - last).total_seconds() >= gap

    def edited(self, post_id: int, now: datetime) -> None:
        """Record an edit (the post is clean again)."""
        self.last_edit[post_id] = now
        self.dirty.pop(post_id, None)
        self.edits += 1

    def forget(self, post_id: int) -> None:
        """A finished post (drawn, closed, cancelled) is not edited for presses any more."""
        self.last_edit.pop(post_id, None)
        self.dirty.pop(post_id, None)

    async def counts_changed(
        self, post_id: int, now: datetime, gap: float, edit: Callable[[], Awaitable[None]]
    ) -> None:
        """A post's counts changed: ``edit`` it now if the interval allows, else mark it for
        the next flush (giveaway joins, poll votes and sign-ups alike)."""
        if self.due(post_id, now, gap):
            await edit()
        else:
            self.dirty[post_id] = gap

    def ripe(self, now: datetime) -> list[int]:
        """The marked posts whose interval has passed (for the batcher's flush)."""
        return [post_id for post_id, gap in list(self.dirty.items()) if self.due(post_id, now, gap)]
