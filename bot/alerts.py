"""Moderator alerts: the group's moderator chat, else moderators privately, else the group."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Protocol

from bot.adapter import Adapter, Capability
from bot.directory import Directory
from bot.errors import QunyouError
from bot.events import ChatRef, SentMessage
from bot.messages import OutgoingMessage
from bot.permissions import Permissions
from bot.roles import Role
from bot.settings import SettingsService
from storage import Database, GroupRepo
from storage.modchat import ModChatRepo
from storage.models import Group

log = logging.getLogger(__name__)


class AlertHost(Protocol):
    """What alert routing needs of the services (``bot.services.Services`` is one): typed as a
    protocol so this module never imports the services bag that holds an ``AlertService``."""

    @property
    def db(self) -> Database:
        """The database (moderator-chat links)."""
        ...

    @property
    def adapters(self) -> Mapping[str, Adapter]:
        """The running adapters by name."""
        ...

    @property
    def groups(self) -> GroupRepo:
        """Groups by id and by platform scope."""
        ...

    @property
    def directory(self) -> Directory:
        """Chats of groups."""
        ...

    @property
    def settings(self) -> SettingsService:
        """The operator's default moderator chat."""
        ...

    @property
    def permissions(self) -> Permissions:
        """Who moderates a group."""
        ...

    async def send(self, chat: ChatRef, message: OutgoingMessage, lang: str | None = None) -> SentMessage:
        """Post to a chat."""
        ...

    async def send_private(
        self, adapter_name: str, user_id: str, message: OutgoingMessage, lang: str | None = None
    ) -> SentMessage:
        """Send one-to-one."""
        ...


class AlertService:
    """Routes messages meant for a group's moderators."""

    def __init__(self, services: AlertHost) -> None:
        self._services = services
        self.links = ModChatRepo(services.db)

    async def moderator_chat(self, group: Group) -> ChatRef | None:
        """Where a group's alerts go: its consented link, else the operator's default from
        config.toml, else the platform's own convention (console: ``<chat>-mods``)."""
        services = self._services
        adapter = services.adapters.get(group.adapter)
        if adapter is None:
            return None
        link = await self.links.link_of(group.id)
        if link is not None:
            linked = await services.groups.get(link.chat_group_id)
            if linked is not None:
                return services.directory.chat_for(linked, link.channel_id)
        configured = services.settings.default("mod_chat")
        if configured:
            return ChatRef(
                platform=group.platform,
                adapter=group.adapter,
                scope_id=str(configured),
                channel_id=str(configured),
                kind="group",
            )
        return adapter.default_moderator_chat(services.directory.chat_for(group))

    async def moderated_group(self, chat_group: Group, chat: ChatRef) -> Group | None:
        """The group whose moderator chat ``chat`` (in ``chat_group``) is, or None.

        Only a consented link or the platform's convention (checked both ways: the other group
        must still route its alerts here) makes a chat a moderator chat; the operator's
        config-wide default serves every group and so is never a command target.
        """
        services = self._services
        link = await self.links.link_served_by(chat_group.id)
        if link is not None:
            if link.channel_id is not None and link.channel_id != chat.channel_id:
                return None  # another channel of that server: it acts on its own server
            return await services.groups.get(link.group_id)
        adapter = services.adapters.get(chat_group.adapter)
        if adapter is None:
            return None
        scope = adapter.moderated_scope(chat)
        if scope is None or scope == chat_group.scope_id:
            return None
        group = await services.groups.find(chat_group.adapter, scope)
        if group is None or await self.links.link_of(group.id) is not None:
            return None
        return group

    async def moderators(self, group: Group) -> list[str]:
        """User ids known to be moderators or above in a group."""
        services = self._services
        granted = [
            uid
            for uid, role in (await services.permissions.overrides(group.id)).items()
            if role >= Role.MODERATOR
        ]
        platform = services.permissions.known_platform_moderators(group.adapter, group.scope_id)
        return sorted(set(granted) | set(platform))

    async def notify(self, group: Group, message: OutgoingMessage) -> list[SentMessage]:
        """Deliver an alert; returns what was sent (one message, or one per moderator)."""
        services = self._services
        adapter = services.adapters.get(group.adapter)
        if adapter is None:
            log.error("alert for group %s but adapter %s is not running", group.id, group.adapter)
            return []
        chat = await self.moderator_chat(group)
        if chat is not None:
            try:
                return [await services.send(chat, message, group.language)]
            except QunyouError as exc:
                log.warning("moderator chat %s unreachable (%s); trying moderators", chat.channel_id, exc)
        sent: list[SentMessage] = []
        if adapter.supports(Capability.PRIVATE):
            for user_id in await self.moderators(group):
                try:
                    sent.append(await services.send_private(group.adapter, user_id, message, group.language))
                except QunyouError as exc:
                    log.warning("could not alert moderator %s privately: %s", user_id, exc)
        if sent:
            return sent
        return [await services.send(services.directory.chat_for(group), message, group.language)]
