"""The services a handler reaches through ``ctx.services``: one object, built by the app.

Every field is set when the object is built: nothing is filled in a second phase and nothing a
handler uses is Optional. The bag sits low in ``bot/``: what it holds of higher layers (the
features, the command table) it types as the small protocols below, so no module it names needs
to import it back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot import metrics
from bot.adapter import Adapter
from bot.alerts import AlertService
from bot.batcher import Batcher
from bot.buttons import ButtonFallback
from bot.changes import ChangeFeed
from bot.clock import Clock
from bot.config import Settings
from bot.cooldowns import Cooldowns, Counts
from bot.directory import Directory
from bot.errors import TargetNotFound
from bot.events import ChatRef, SentMessage
from bot.i18n import I18n
from bot.messages import OutgoingMessage
from bot.notices import Notices
from bot.permissions import Permissions
from bot.port_registry import Ports
from bot.roles import Role
from bot.scheduler import Scheduler
from bot.settings import SettingsService
from storage import Database, EventLogRepo, GroupRepo, JobRepo, MemberRepo, MessageCountRepo, RoleRepo

if TYPE_CHECKING:
    from storage.models import Group, Member

log = logging.getLogger(__name__)


class Owned(Protocol):
    """What a feature's router says of itself: the name its commands carry as ``feature``."""

    @property
    def feature(self) -> str:
        """The feature name on its commands."""
        ...


class FeatureHooks(Protocol):
    """A feature as the core's own commands see it (``bot.feature.Feature`` is one): its name
    and the hooks that make ``/mydata``, ``/forgetme`` and the console demo complete."""

    @property
    def name(self) -> str:
        """The feature's name (its config section)."""
        ...

    @property
    def router(self) -> Owned:
        """Its router (``/help`` lists features in the bot's order by it)."""
        ...

    @property
    def export_member_data(self) -> Callable[[Services, Member], Awaitable[dict[str, Any]]] | None:
        """What it stores about a member, for ``/mydata``."""
        ...

    @property
    def delete_member_data(self) -> Callable[[Services, Member], Awaitable[None]] | None:
        """Forget a member, for ``/forgetme``."""
        ...

    @property
    def demo(self) -> Callable[[Services, Group, list[Member]], Awaitable[None]] | None:
        """Seed the console demo group."""
        ...


class CommandView(Protocol):
    """One command as handlers may read it (``bot.router.Command`` is one)."""

    @property
    def name(self) -> str:
        """Its name, without prefix."""
        ...

    @property
    def aliases(self) -> tuple[str | tuple[str, str], ...]:
        """Plain words that call it (a pair: word and the sub-command it stands for)."""
        ...

    @property
    def min_role(self) -> Role:
        """The rank needed."""
        ...

    @property
    def usage(self) -> str | None:
        """Translation key of the usage line."""
        ...

    @property
    def help(self) -> str | None:
        """Translation key of the help text."""
        ...

    @property
    def where(self) -> str:
        """``group``, ``private`` or ``any``."""
        ...

    @property
    def hidden(self) -> bool:
        """Left out of ``/help``."""
        ...

    @property
    def feature(self) -> str:
        """The feature that declared it (``/help`` groups by it when the list is long)."""
        ...

    @property
    def subcommands(self) -> Sequence[object]:
        """Its word-led forms (``/kw add …``), if any."""
        ...

    def forms(self, role: Role | None, t: Callable[[str], str]) -> list[str]:
        """Usage lines of the forms ``role`` may use (every form when ``role`` is None)."""
        ...


class CommandCatalog(Protocol):
    """The command table (``bot.router.CommandTable``) as handlers may consult it: typed this
    way because the router hands contexts, which hold these services, to handlers."""

    @property
    def by_name(self) -> Mapping[str, CommandView]:
        """Commands by name."""
        ...

    @property
    def plain(self) -> Mapping[str, tuple[CommandView, str]]:
        """Commands by plain-word alias, with the sub-command the word stands for."""
        ...

    def all(self) -> Sequence[CommandView]:
        """Every command, by name."""
        ...

    def parse(self, text: str, me: str | None, /) -> object:
        """What ``text`` invokes: an ``Invocation``, ``Unknown`` or None."""
        ...


@dataclass
class Services:
    """Everything shared: configuration, clock, storage, scheduler, translation, adapters."""

    config: Settings
    clock: Clock
    db: Database
    groups: GroupRepo
    members: MemberRepo
    roles: RoleRepo
    jobs: JobRepo
    #: Daily message counts per member (the ``activity`` feature's; not organised activities).
    message_counts: MessageCountRepo
    event_log: EventLogRepo
    i18n: I18n
    settings: SettingsService
    scheduler: Scheduler[Services]
    permissions: Permissions
    directory: Directory
    batcher: Batcher
    buttons: ButtonFallback
    features: Sequence[FeatureHooks]
    commands: CommandCatalog
    started_at: datetime
    #: The running adapters by name; filled by the app before anything is delivered.
    adapters: dict[str, Adapter] = field(default_factory=dict)
    #: Cross-feature needs, wired from the features' ``provides`` at start (``bot.ports``).
    ports: Ports = field(default_factory=Ports)
    #: Per-feature runtime state (caches, matchers), keyed by feature name: never module globals.
    state: dict[str, Any] = field(default_factory=dict)
    #: Moderator alerts: built with the services, since it routes through them.
    alerts: AlertService = field(init=False)

    #: Public sanction notices, coalesced and kept under the per-group cap (``bot.notices``).
    notices: Notices = field(init=False)

    def __post_init__(self) -> None:
        self.alerts = AlertService(self)
        self.notices = Notices(self, self.config.bot.language)

    #: Cache invalidation across workers sharing PostgreSQL (``bot.changes``).
    changes: ChangeFeed = field(default_factory=ChangeFeed)
    #: Cooldowns that hold across workers sharing PostgreSQL (``bot.cooldowns``); one worker
    #: alone: a no-op, the features' own memory decides.
    cooldowns: Cooldowns = field(default_factory=Cooldowns)
    #: Sliding-window counts across workers sharing PostgreSQL (``bot.cooldowns``); alone: None.
    counts: Counts = field(default_factory=Counts)

    def adapter_for(self, chat: ChatRef) -> Adapter:
        """The adapter that owns ``chat``."""
        return self.adapters[chat.adapter]

    async def send(self, chat: ChatRef, message: OutgoingMessage, lang: str | None = None) -> SentMessage:
        """Post ``message`` to ``chat`` through its adapter; buttons degrade where unsupported."""
        adapter = self.adapter_for(chat)
        fallback = self.buttons.needs_fallback(adapter, message)
        outgoing = self.buttons.render(message, lang or self.config.bot.language) if fallback else message
        try:
            sent = await adapter.send(chat, outgoing)
        except TargetNotFound:
            await self._chat_gone(chat)
            raise
        metrics.MESSAGES_OUT.labels(platform=chat.platform).inc()
        self.notices.posted(chat)
        if fallback:
            self.buttons.remember(chat.adapter, chat.channel_id, sent.message_id, message)
        return sent

    async def _chat_gone(self, chat: ChatRef) -> None:
        """The platform says a group chat no longer exists: mark its group inactive, so features
        can stop planning posts there instead of failing at every one."""
        if chat.is_private:
            return
        group = await self.groups.find(chat.adapter, chat.scope_id)
        if group is not None and group.active and chat.channel_id == chat.scope_id:
            await self.directory.update_group(group, active=False)
            log.warning(
                "group %s (%s) no longer exists on %s; marked inactive", group.id, chat.scope_id, chat.adapter
            )

    async def send_private(
        self, adapter_name: str, user_id: str, message: OutgoingMessage, lang: str | None = None
    ) -> SentMessage:
        """Send a one-to-one message; raises ``CapabilityNotSupported`` where impossible."""
        adapter = self.adapters[adapter_name]
        fallback = self.buttons.needs_fallback(adapter, message)
        outgoing = self.buttons.render(message, lang or self.config.bot.language) if fallback else message
        sent = await adapter.send_private(user_id, outgoing)
        metrics.MESSAGES_OUT.labels(platform=adapter.platform).inc()
        return sent
