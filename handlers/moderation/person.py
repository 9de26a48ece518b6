"""One person across linked accounts (issue 18): their warnings add up, the lower credit stands.

A person who linked accounts (``/link``) is one member of their community: a warning given to
one account counts on the ladder of every other, and the moderation screen judges them by the
lowest credit score among their accounts. "The community" here is where their sanctions are
shared (``SharedSanctions``: the community's chats that take shared bans), and "their accounts"
are the ones they linked (``LinkedAccounts``); without either port, or without a linked account,
every account stands alone as before. An account's own warnings in other chats of the community
still do not count here (that stays per chat, as it was before linking existed).
"""

from __future__ import annotations

from bot.ports import LinkedAccounts, SharedSanctions
from bot.services import Services
from handlers.moderation.service import current_credit, get_state
from storage.models import Group, Member


async def linked_memberships(services: Services, group: Group, member: Member) -> list[tuple[Group, Member]]:
    """The memberships of the member's other linked accounts in the chats sharing sanctions."""
    linked = services.ports.find(LinkedAccounts)
    shared = services.ports.find(SharedSanctions)
    if linked is None or shared is None:
        return []
    me = (group.platform, member.user_id)
    others = {account for account in await linked.accounts(*me) if account != me}
    if not others:
        return []
    found: list[tuple[Group, Member]] = []
    for peer, user_id in await shared.peers(group, member.user_id):
        if (peer.platform, user_id) not in others:
            continue
        there = await services.members.find(peer.id, user_id)
        if there is not None:
            found.append((peer, there))
    return found


async def person_warnings(services: Services, group: Group, member: Member, own: int) -> int:
    """``own`` (this account's active warnings here) plus those of the person's linked accounts."""
    others = await linked_memberships(services, group, member)
    if not others:
        return own
    ids = [m.id for _, m in others]
    return own + await get_state(services).repos.sanctions.active_warning_count(ids, services.clock.now())


async def person_credit(services: Services, group: Group, member: Member) -> int:
    """The lowest credit score among the person's linked accounts (this one's when unlinked)."""
    score = await current_credit(services, group, member)
    for peer, there in await linked_memberships(services, group, member):
        score = min(score, await current_credit(services, peer, there))
    return score
