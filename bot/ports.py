"""Ports: what one feature needs from another, as typed protocols, wired at start.

A feature lists the ports it ``provides`` (a factory building the implementations once the
services exist) and the ports it ``requires``. ``Ports.check`` refuses to start a bot in which a
required port has no provider, naming the feature and the port, instead of failing later
inside a handler.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

if TYPE_CHECKING:
    from storage.models import Group, Job

PortT = TypeVar("PortT")


class Requirer(Protocol):
    """What ``Ports.check`` reads of a feature (kept apart so ports need not import features)."""

    @property
    def name(self) -> str:
        """The feature's name, for the error."""
        ...

    @property
    def requires(self) -> Sequence[type[Any]]:
        """The ports it needs."""
        ...


class AuditTrail(Protocol):
    """Appends to a group's audit log (``/modlog``): who changed what, and when."""

    async def record(self, group_id: int, at: datetime, actor: str, action: str, detail: str = "") -> None:
        """Write one audit line for ``group_id``."""
        ...


class QuietHours(Protocol):
    """A group's quiet hours, in which automated, non-urgent posts wait (the schedule feature,
    ``handlers/schedules``)."""

    async def defer(
        self, group: Group, job: Job, fire: datetime, *, event_start: datetime | None = None
    ) -> bool:
        """Re-plan this run of ``job`` for the end of the group's quiet hours; True when it did
        (the caller then posts nothing now), False when the post may go out at ``fire``.

        ``event_start``: the run is a reminder of something starting then; it is not deferred
        when that would leave it less than two hours before the start."""
        ...


class PortMissing(RuntimeError):
    """A feature requires a port nobody provides."""


class Ports:
    """The providers of every port, filled once at start."""

    def __init__(self) -> None:
        self._providers: dict[type[Any], tuple[str, Any]] = {}

    def provide(self, port: type[PortT], implementation: PortT, by: str) -> None:
        """Register ``by``'s implementation of ``port``; two providers of one port is an error."""
        if port in self._providers:
            other = self._providers[port][0]
            raise PortMissing(f"port {port.__name__} is provided by both {other} and {by}")
        self._providers[port] = (by, implementation)

    def get(self, port: type[PortT]) -> PortT:
        """The implementation of ``port``; ``check`` at start guarantees required ones exist."""
        try:
            return cast(PortT, self._providers[port][1])
        except KeyError:
            raise PortMissing(f"no feature provides the port {port.__name__}") from None

    def find(self, port: type[PortT]) -> PortT | None:
        """The implementation of ``port``, or None when no listed feature provides it: for a
        feature that uses another's behaviour when it is installed and works without it."""
        entry = self._providers.get(port)
        return None if entry is None else cast(PortT, entry[1])

    def check(self, features: Iterable[Requirer]) -> None:
        """Raise ``PortMissing`` naming the first feature whose requirement is unmet."""
        for feature in features:
            for port in feature.requires:
                if port not in self._providers:
                    raise PortMissing(
                        f"feature {feature.name!r} requires the port {port.__name__}, "
                        "but no listed feature provides it (add the providing feature to "
                        "handlers/__init__.py, or drop the requirement)"
                    )
