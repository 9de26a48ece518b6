"""In-memory caches of groups and members in front of the repositories (the hot path's lookup)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from bot.clock import Clock
from bot.events import ChatRef, UserRef
from storage import GroupRepo, MemberRepo
from storage.models import Group, Member

log = logging.getLogger(__name__)


class Directory:
    """Groups by platform id and members by user id, created on first sight and cached."""

    def __init__(
        self, groups: GroupRepo, members: MemberRepo, clock: Clock, default_tz: str, default_lang: str
    ) -> None:
        self._groups = groups
        self._members = members
        self._clock = clock
        self.default_tz = default_tz
        self.default_lang = default_lang
        self._by_scope: dict[tuple[str, str], Group] = {}
        self._by_id: dict[int, Group] = {}
        self._member_cache: dict[tuple[int, str], Member] = {}
        #: member id → last time seen, flushed in batches.
        self.seen: dict[int, datetime] = {}
        #: Called after ``update_group`` stored a change (the app tells the other workers).
        self.changed: Callable[[int], Awaitable[object]] | None = None

    async def group_for(self, chat: ChatRef) -> Group:
        """The group of a chat, created with the defaults on first sight."""
        key = (chat.adapter, chat.scope_id)
        group = self._by_scope.get(key)
        if group is None:
            group = await self._groups.get_or_create(
                platform=chat.platform,
                adapter=chat.adapter,
                scope_id=chat.scope_id,
                title=chat.title,
                timezone=self.default_tz,
                language=self.default_lang,
                now=self._clock.now(),
            )
            self._remember(group)
            # Once per chat and process, at INFO (shown by default under ``run``): operators
            # read a chat's id here for [core] mod_chat and [bot.superusers].
            log.info(
                "%s: chat %s (%s) seen, group %d", chat.adapter, chat.scope_id, chat.title or "-", group.id
            )
        return group

    async def group_by_id(self, group_id: int) -> Group | None:
        """A group by internal id."""
        group = self._by_id.get(group_id)
        if group is None:
            group = await self._groups.get(group_id)
            if group is not None:
                self._remember(group)
        return group

    def _remember(self, group: Group) -> None:
        self._by_scope[(group.adapter, group.scope_id)] = group
        self._by_id[group.id] = group

    async def update_group(self, group: Group, **values: object) -> Group:
        """Change a group's language, timezone or title and refresh the cache."""
        await self._groups.update(group.id, **values)
        fresh = await self._groups.get(group.id)
        assert fresh is not None
        self._remember(fresh)
        if self.changed is not None:
            await self.changed(group.id)
        return fresh

    def forget_group(self, group_id: int) -> None:
        """Drop a cached group (another worker changed it): read again on next use."""
        group = self._by_id.pop(group_id, None)
        if group is not None:
            self._by_scope.pop((group.adapter, group.scope_id), None)

    async def migrate(self, adapter: str, old_scope: str, new_scope: str) -> Group | None:
        """Follow a chat-id change."""
        moved = await self._groups.migrate_scope(adapter, old_scope, new_scope)
        self._by_scope.pop((adapter, old_scope), None)
        self._by_scope.pop((adapter, new_scope), None)
        if moved is not None:
            self._remember(moved)
        return moved

    async def member_for(self, group: Group, user: UserRef, *, joined_at: datetime | None = None) -> Member:
        """The member row of ``user`` in ``group``; a name change refreshes it. ``joined_at``
        records a join in the same write."""
        key = (group.id, user.user_id)
        member = self._member_cache.get(key)
        if (
            member is None
            or joined_at is not None
            or member.display_name != user.display_name
            or member.username != user.username
        ):
            member = await self._members.upsert(
                group_id=group.id,
                user_id=user.user_id,
                display_name=user.display_name or user.user_id,
                username=user.username,
                is_bot=user.is_bot,
                now=self._clock.now(),
                joined_at=joined_at,
            )
            self._member_cache[key] = member
        return member

    async def mark_left(self, member: Member, at: datetime) -> Member:
        """Record that ``member`` left, in the database and in the cache, so a press on one of
        the group's buttons right after leaving already sees it (a later join clears it)."""
        await self._members.mark_left(member.id, at)
        left = replace(member, left_at=at)
        if self._member_cache.get((member.group_id, member.user_id)) is not None:
            self._member_cache[(member.group_id, member.user_id)] = left
        return left

    def forget_member(self, member: Member) -> None:
        """Drop a member from the cache (after ``/forgetme``)."""
        self._member_cache.pop((member.group_id, member.user_id), None)
        self.seen.pop(member.id, None)

    def chat_for(self, group: Group, channel_id: str | None = None) -> ChatRef:
        """Where to post in a group."""
        return ChatRef(
            platform=group.platform,
            adapter=group.adapter,
            scope_id=group.scope_id,
            channel_id=channel_id or group.scope_id,
            kind="group",
            title=group.title,
        )

    def user_ref(self, member: Member, platform: str) -> UserRef:
        """A ``UserRef`` for a stored member (for mentions)."""
        return UserRef(
            platform=platform,
            user_id=member.user_id,
            display_name=member.display_name,
            is_bot=member.is_bot,
            username=member.username,
        )
