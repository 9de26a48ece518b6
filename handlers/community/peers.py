"""The ``SharedSanctions`` port (where a sanction in one chat of a community applies as well) and
the ``CommunityScope`` port (which chats share points and check-ins, and which the lexicon)."""

from __future__ import annotations

from bot.ports import BoardScope
from bot.services import Services
from handlers.community.settings import CommunitySettings
from handlers.community.state import account_of, get_state
from storage.community import accounts_on
from storage.models import Group


class CommunityPeers:
    """The community's other chats that take shared bans, with the member's accounts there."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def peers(self, group: Group, user_id: str) -> list[tuple[Group, str]]:
        """``(chat, user id there)`` pairs; none outside a community or when it shares no bans."""
        services = self._services
        repos = get_state(services).repos
        community = await repos.communities.of_group(group.id)
        if community is None or not community.share_bans:
            return []
        accounts = await repos.links.accounts(account_of(group, user_id))
        found: list[tuple[Group, str]] = []
        for group_id in await repos.communities.chats(community.id):
            peer = await services.directory.group_by_id(group_id)
            if peer is None or peer.id == group.id or not peer.active:
                continue
            if not (await services.settings.of(peer.id, CommunitySettings)).receive_shared_bans:
                continue
            found.extend((peer, other) for other in accounts_on(accounts, peer.platform))
        return found


class CommunityPoints:
    """``CommunityScope``: the community's chats that share points, the first chat first."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def shared_chats(self, group: Group) -> list[int]:
        """Chats sharing points with ``group``; ``[group.id]`` alone or when it opted out."""
        services = self._services
        if not (await services.settings.of(group.id, CommunitySettings)).share_points:
            return [group.id]
        chats = await get_state(services).community_chats(group.id)
        return [
            chat
            for chat in chats or (group.id,)
            if chat == group.id or (await services.settings.of(chat, CommunitySettings)).share_points
        ]

    async def boards(self, group: Group) -> BoardScope:
        """The chat's ``community.leaderboards``; ``chat`` when it keeps its points to itself."""
        settings = await self._services.settings.of(group.id, CommunitySettings)
        if not settings.share_points or not await get_state(self._services).community_chats(group.id):
            return "chat"
        return settings.leaderboards

    async def lexicon_chats(self, group: Group) -> list[int]:
        """Chats sharing the moderation lexicon with ``group`` (``community.share_lexicon``),
        ``group`` included; ``[group.id]`` alone or when it keeps its lexicon to itself. Asked on
        every message moderation screens: both look-ups are cached."""
        services = self._services
        if not (await services.settings.of(group.id, CommunitySettings)).share_lexicon:
            return [group.id]
        chats = await get_state(services).community_chats(group.id)
        return [
            chat
            for chat in chats or (group.id,)
            if chat == group.id or (await services.settings.of(chat, CommunitySettings)).share_lexicon
        ]
