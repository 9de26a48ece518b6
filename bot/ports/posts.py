"""Ports for what posts carry and whom they reach: pictures (media), interest circles and
upcoming activities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.events import UserRef
    from storage.models import Group, Member


class MediaRefused(Exception):
    """A picture the media store will not keep: ``key`` is a translation key saying why
    (too big, not a picture, a path outside the media directory…), with its ``values``."""

    def __init__(self, key: str, **values: Any) -> None:
        self.key = key
        self.values = values
        super().__init__(key)


class MediaLibrary(Protocol):
    """Pictures for posts (the media feature, ``handlers/media``): each kept once by its
    SHA-256, size-limited, checked by its magic bytes; a group's post (``owner``: the feature's
    own name for it, e.g. ``schedule:12``) carries at most one."""

    @property
    def max_bytes(self) -> int:
        """The largest picture kept, in bytes."""
        ...

    async def keep_bytes(self, data: bytes) -> int:
        """Keep a picture (or find the same one kept before); its id. Raises ``MediaRefused``."""
        ...

    async def keep_file(self, name: str) -> int:
        """Keep the picture at ``name`` inside the configured media directory; its id. Raises
        ``MediaRefused`` for a name outside it, a missing file, or a file that is not a picture."""
        ...

    async def attach(self, group: Group, owner: str, media_id: int) -> None:
        """Make ``media_id`` the picture of ``owner`` in ``group`` (replacing any before)."""
        ...

    async def detach(self, group: Group, owner: str) -> None:
        """Take the picture off ``owner`` (nothing when it had none)."""
        ...

    async def path_of(self, group: Group, owner: str) -> str | None:
        """A local file with the picture ``owner`` carries, for ``OutgoingMessage.image``."""


# -- interest circles (issue 23) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CircleAudience:
    """A circle and the members a post addressed to it mentions (``CircleMembers.audience``)."""

    circle_id: int
    name: str
    #: In the circle, not muting its pings, still in the group; in joining order.
    members: tuple[UserRef, ...]


class CircleMembers(Protocol):
    """Who is in a group's interest circles (the circles feature provides it), so scheduled
    posts, activities and giveaways can address a circle: mention its members, never the ones
    who muted its pings."""

    async def audience(self, group: Group, name: str) -> CircleAudience | None:
        """The group's circle called ``name`` (as a member types it, any case or width) and who
        its posts reach; None when the group has no such circle."""
        ...

    async def circles_of(self, group: Group, member: Member) -> list[str]:
        """The names of the circles ``member`` is in (muted ones too), by name."""
        ...

    def tagged(self, text: str, names: Sequence[str]) -> list[str]:
        """The circles among ``names`` that ``text`` is addressed to: an activity or a post
        written with ``#NAME`` (any case or width) is for that circle."""
        ...


@dataclass(frozen=True, slots=True)
class CircleFigures:
    """One circle's figures since a given instant (``CircleFacts.circle_figures``)."""

    name: str
    members: int
    muted: int
    joined: int
    pings: int
    #: Every member of the circle (for activity figures the asker keeps itself).
    member_ids: tuple[int, ...] = ()


class CircleFacts(Protocol):
    """Read-only figures of a group's interest circles for ``/stats circles`` (the circles
    feature publishes them)."""

    async def circle_figures(self, group_id: int, since: datetime) -> list[CircleFigures]:
        """Each circle of the group by name: size, muted members, joins and pings since ``since``."""
        ...


@dataclass(frozen=True, slots=True)
class UpcomingActivity:
    """An open activity that has not started yet (``UpcomingActivities.upcoming``)."""

    id: int
    title: str
    description: str
    start_at: datetime


class UpcomingActivities(Protocol):
    """A group's activities still to come (the activities feature, named "events", provides it):
    the lifecycle's recall post names the ones in a dormant member's interest circles."""

    async def upcoming(self, group_id: int, since: datetime, until: datetime) -> list[UpcomingActivity]:
        """Open activities of the group starting in ``[since, until)``, soonest first."""
