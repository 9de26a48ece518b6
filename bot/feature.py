"""The ``Feature`` interface: a router plus optional hooks, listed explicitly in ``handlers``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from bot.router import Router
from bot.settings import FeatureSettings

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Member

Hook = Callable[["Services"], Awaitable[None]]
ExportHook = Callable[["Services", "Member"], Awaitable[dict[str, Any]]]
DeleteHook = Callable[["Services", "Member"], Awaitable[None]]
DemoHook = Callable[["Services", "Group", "list[Member]"], Awaitable[None]]
#: Builds a feature's port implementations once the services exist.
PortFactory = Callable[["Services"], Mapping[type[Any], Any]]


@dataclass
class Feature:
    """One feature: its commands and listeners, its settings and its lifecycle hooks.

    ``export_member_data`` and ``delete_member_data`` make ``/mydata`` and ``/forgetme``
    complete: every feature that stores something about a member says how to give it back and
    how to forget it.
    """

    name: str
    router: Router
    #: The feature's settings model (``bot.settings``): its keys are ``/set`` and config keys.
    settings: type[FeatureSettings] | None = None
    startup: Hook | None = None
    shutdown: Hook | None = None
    export_member_data: ExportHook | None = None
    delete_member_data: DeleteHook | None = None
    demo: DemoHook | None = None
    config_model: type[BaseModel] | None = None
    #: Filled at start from ``[<name>]`` in config.toml when ``config_model`` is set.
    config: Any = field(default=None)
    #: The ports (``bot.ports``) this feature implements, built at start.
    provides: PortFactory | None = None
    #: The ports this feature needs from others; the bot refuses to start without them.
    requires: Sequence[type[Any]] = ()
    #: Ports this feature uses when a listed feature provides them, and does without otherwise.
    uses: Sequence[type[Any]] = ()
