"""The registry of ports (:mod:`bot.ports` declares them): which feature provides each, filled
once at start. ``Ports.check`` refuses to start a bot in which a required port has no provider,
naming the feature and the port, instead of failing later inside a handler.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeVar, cast

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
