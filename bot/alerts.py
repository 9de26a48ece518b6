"""Moderator alerts: the group's moderator chat, else moderators privately, else the group."""

from __future__ import annotations

import logging

from bot.adapter import Capability
from bot.errors import QunyouError
from bot.events import ChatRef, SentMessage
from bot.messages import OutgoingMessage
from bot.roles import Role
from bot.services import Services
from storage.models import Group

log = logging.getLogger(__name__)


class AlertService:
    """Routes messages meant for a group's moderators."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def moderator_chat(self, group: Group) -> ChatRef | None:
        """The configured or platform-default moderator chat of a group."""
        services = self._services
        adapter = services.adapters.get(group.adapter)
        if adapter is None:
            return None
        configured = await services.settings.get(group.id, "mod_chat")
        if configured:
            return ChatRef(
                platform=group.platform,
                adapter=group.adapter,
                scope_id=str(configured),
                channel_id=str(configured),
                kind="group",
            )
        return adapter.default_moderator_chat(services.directory.chat_for(group))

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
