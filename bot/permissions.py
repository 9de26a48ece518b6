"""The permission ladder resolved from config superusers, database overrides and the platform."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from bot.adapter import Adapter, Capability
from bot.clock import Clock
from bot.config import BotSection
from bot.errors import QunyouError
from bot.events import ChatRef
from bot.roles import Role
from storage import RoleRepo

log = logging.getLogger(__name__)


class Permissions:
    """Answers "what role does this member have here?"."""

    def __init__(self, config: BotSection, repo: RoleRepo, clock: Clock) -> None:
        self._superusers = {platform: set(ids) for platform, ids in config.superusers.items()}
        self._repo = repo
        self._clock = clock
        self._ttl = timedelta(seconds=config.role_cache_seconds)
        self._overrides: dict[int, dict[str, Role]] = {}
        self._platform: dict[tuple[str, str, str], tuple[Role, object]] = {}
        #: Called after ``invalidate`` (the app tells the other workers; they ``forget_grants``).
        self.changed: Callable[[int], object] | None = None

    def is_superuser(self, platform: str, user_id: str) -> bool:
        """True for a configured superuser."""
        return user_id in self._superusers.get(platform, ())

    async def overrides(self, group_id: int) -> dict[str, Role]:
        """The group's ``/promote`` grants, cached."""
        cached = self._overrides.get(group_id)
        if cached is None:
            raw = await self._repo.all_for(group_id)
            cached = {}
            for user_id, name in raw.items():
                try:
                    cached[user_id] = Role.parse(name)
                except ValueError:
                    log.warning("ignoring unknown role %r for %s in group %s", name, user_id, group_id)
            self._overrides[group_id] = cached
        return cached

    def invalidate(self, group_id: int) -> None:
        """Forget cached grants of a group (after ``/promote`` or ``/demote``)."""
        self.forget_grants(group_id)
        if self.changed is not None:
            self.changed(group_id)

    def forget_grants(self, group_id: int) -> None:
        """Forget cached grants of a group, telling no one (another worker changed them)."""
        self._overrides.pop(group_id, None)

    def forget_platform_role(self, adapter: str, scope_id: str, user_id: str) -> None:
        """Drop one cached platform role (the console changes roles on the fly)."""
        self._platform.pop((adapter, scope_id, user_id), None)

    async def role_of(self, adapter: Adapter, chat: ChatRef, group_id: int | None, user_id: str) -> Role:
        """The member's role: superuser, else the higher of the grant and the platform role."""
        if self.is_superuser(chat.platform, user_id):
            return Role.SUPERUSER
        role = Role.MEMBER
        if group_id is not None:
            role = (await self.overrides(group_id)).get(user_id, Role.MEMBER)
        if chat.is_private or not adapter.supports(Capability.ROLE_LOOKUP):
            return role
        return max(role, await self._platform_role(adapter, chat, user_id))

    async def _platform_role(self, adapter: Adapter, chat: ChatRef, user_id: str) -> Role:
        key = (adapter.name, chat.scope_id, user_id)
        now = self._clock.now()
        cached = self._platform.get(key)
        if cached is not None and cached[1] > now and adapter.role_cache_ok:  # type: ignore[operator]
            return cached[0]
        try:
            role = await adapter.get_role(chat, user_id)
        except QunyouError as exc:
            log.warning("role lookup failed for %s in %s: %s", user_id, chat.scope_id, exc)
            role = Role.MEMBER
        self._platform[key] = (role, now + self._ttl)
        return role

    def known_platform_moderators(self, adapter: str, scope_id: str) -> list[str]:
        """User ids the platform said are moderators or above (from the cache)."""
        return sorted(
            uid
            for (a, s, uid), (role, _) in self._platform.items()
            if a == adapter and s == scope_id and role >= Role.MODERATOR
        )
