"""Interest circles storage: circles, their members and their pings (one repository)."""

from __future__ import annotations

from storage.circles.repo import Circle, CircleRepo, CircleStat, Joined, Listener, MuteResult
from storage.circles.tables import circle_members, circle_pings, circles

__all__ = [
    "Circle",
    "CircleRepo",
    "CircleStat",
    "Joined",
    "Listener",
    "MuteResult",
    "circle_members",
    "circle_pings",
    "circles",
]
