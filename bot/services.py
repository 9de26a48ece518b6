"""The services a handler reaches through ``ctx.services``: one object, built by the app."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot import metrics
from bot.adapter import Adapter
from bot.batcher import Batcher
from bot.buttons import ButtonFallback
from bot.changes import ChangeFeed
from bot.clock import Clock
from bot.config import Settings
from bot.directory import Directory
from bot.errors import TargetNotFound
from bot.events import ChatRef, SentMessage
from bot.i18n import I18n
from bot.messages import OutgoingMessage
from bot.permissions import Permissions
from bot.ports import Ports
from bot.scheduler import Scheduler
from bot.settings import SettingsService
from storage import ActivityRepo, Database, EventLogRepo, GroupRepo, JobRepo, MemberRepo, RoleRepo

if TYPE_CHECKING:
    from bot.alerts import AlertService
    from bot.feature import Feature
    from bot.router import CommandTable

log = logging.getLogger(__name__)


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
    activity: ActivityRepo
    event_log: EventLogRepo
    i18n: I18n
    settings: SettingsService
    scheduler: Scheduler
    permissions: Permissions
    directory: Directory
    batcher: Batcher
    buttons: ButtonFallback
    adapters: dict[str, Adapter] = field(default_factory=dict)
    features: list[Feature] = field(default_factory=list)
    commands: CommandTable | None = None
    alerts: AlertService | None = None
    #: Cross-feature needs, wired from the features' ``provides`` at start (``bot.ports``).
    ports: Ports = field(default_factory=Ports)
    #: Per-feature runtime state (caches, matchers), keyed by feature name: never module globals.
    state: dict[str, Any] = field(default_factory=dict)
    started_at: Any = None
    #: Cache invalidation across workers sharing PostgreSQL (``bot.changes``).
    changes: ChangeFeed = field(default_factory=ChangeFeed)

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
