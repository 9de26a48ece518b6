"""One person, one wallet across a community: where a member's points and check-ins live.

A chat in a community that shares points (``CommunityScope``) shares them with the community's
other such chats: a person's memberships there (the same account in two chats, or accounts they
linked, ``LinkedAccounts``) have one balance, one level, one check-in a day and one streak. They
live on the person's *primary* membership: the oldest (lowest id). Resolving the wallet first
merges whatever the other memberships hold into it (``storage.checkin.wallets``: two ledger rows
per move that say so), so writers that post on a membership directly (activity points, the shop,
referrals) never lose anything; the next read gathers it. Postings made on the primary on
behalf of another membership name that membership as the actor, which is how an unlink later
knows what to give back. The merge gathers badge counters too and gives every membership the
person's one badge set; ``held_elsewhere`` keeps a membership's own new badge (its first message
in another chat) from being announced again when the person has it already.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from bot.ports import CommunityScope, LinkedAccounts
from handlers.checkin.state import day_of, rules_for, state
from storage.models import Group, Member

if TYPE_CHECKING:
    from bot.services import Services


@dataclass(frozen=True, slots=True)
class Wallet:
    """Where one membership's points and check-ins are kept."""

    #: The chat and membership that hold the balance and the check-ins.
    group: Group
    member: Member
    #: The community's first sharing chat: its timezone and day start make the community's day.
    home: Group
    #: The person's other memberships in the sharing chats.
    others: tuple[Member, ...] = ()

    @property
    def shared(self) -> bool:
        """True when the points are kept for more than this one membership."""
        return bool(self.others)

    def actor_for(self, member: Member) -> int | None:
        """The actor to write on a posting made by ``member``: itself when it is not the primary."""
        return member.id if member.id != self.member.id else None


async def _memberships(
    services: Services, group: Group, member: Member, chats: Sequence[int]
) -> list[Member]:
    """The person's memberships in ``chats``: every linked account's, this one's included."""
    linked = services.ports.find(LinkedAccounts)
    accounts = (
        await linked.accounts(group.platform, member.user_id)
        if linked
        else [(group.platform, member.user_id)]
    )
    found: dict[int, Member] = {member.id: member}
    wanted = set(chats)
    for platform, user_id in accounts:
        for other in await services.members.for_account(platform, user_id):
            if other.group_id in wanted:
                found[other.id] = other
    return sorted(found.values(), key=lambda m: m.id)


async def chats_sharing(services: Services, group: Group) -> list[int]:
    """The chats sharing points with ``group`` (itself alone without a community)."""
    scope = services.ports.find(CommunityScope)
    chats = await scope.shared_chats(group) if scope else [group.id]
    return chats or [group.id]


async def wallet_of(services: Services, group: Group, member: Member) -> Wallet:
    """The member's wallet, after merging into it whatever their other memberships hold."""
    chats = await chats_sharing(services, group)
    if len(chats) == 1:
        return Wallet(group, member, group)
    directory = services.directory
    home = group if chats[0] == group.id else await directory.group_by_id(chats[0]) or group
    everyone = await _memberships(services, group, member, chats)
    primary, others = everyone[0], tuple(everyone[1:])
    where = group if primary.group_id == group.id else await directory.group_by_id(primary.group_id) or group
    if others:
        now = services.clock.now()
        day = day_of(now, home, await rules_for(services, home.id))
        st = state(services)
        await st.repos.wallets.merge(
            (primary.group_id, primary.id),
            [(o.group_id, o.id) for o in others],
            at=now,
            day=day,
            badge_rules=st.auto_rules,
        )
    return Wallet(where, primary, home, others)


async def wallet_day(services: Services, wallet: Wallet, now: datetime) -> date:
    """The community's day holding ``now``: its first chat's timezone and day start."""
    return day_of(now, wallet.home, await rules_for(services, wallet.home.id))


class LinkSplitter:
    """``AccountLinkWatcher``: an unlinked account takes back its share of each wallet."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def unlinked(self, account: tuple[str, str], others: Sequence[tuple[str, str]]) -> None:
        """Split every wallet the account shared with ``others`` as the ledger says."""
        services = self._services
        mine = await services.members.for_account(*account)
        theirs: list[Member] = []
        for platform, user_id in others:
            theirs.extend(await services.members.for_account(platform, user_id))
        done: set[tuple[int, ...]] = set()
        for start in mine:
            group = await services.directory.group_by_id(start.group_id)
            if group is None:
                continue
            chats = await chats_sharing(services, group)
            scope = tuple(sorted(chats))
            if len(chats) == 1 or scope in done:
                continue
            done.add(scope)
            a = sorted((m for m in mine if m.group_id in chats), key=lambda m: m.id)
            b = sorted((m for m in theirs if m.group_id in chats), key=lambda m: m.id)
            if not b:
                continue
            primary = min(a[0], b[0], key=lambda m: m.id)
            # The side without the primary leaves with its share, onto its own oldest membership.
            leaving = b if primary.id in {m.id for m in a} else a
            home = await services.directory.group_by_id(chats[0]) or group
            now = services.clock.now()
            day = day_of(now, home, await rules_for(services, home.id))
            await state(services).repos.wallets.split(
                (primary.group_id, primary.id),
                (leaving[0].group_id, leaving[0].id),
                [m.id for m in leaving],
                at=now,
                day=day,
                badges_to=[(m.group_id, m.id) for m in leaving],
            )


async def held_elsewhere(services: Services, group: Group, member: Member, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` the person holds on another of their memberships in the chats sharing
    with ``group`` (none outside a community). Read without merging: for badges a membership
    was just awarded on its own (its activity, an invitation), not through its wallet."""
    if not keys:
        return set()
    chats = await chats_sharing(services, group)
    if len(chats) == 1:
        return set()
    repo = state(services).repos.badges
    found: set[str] = set()
    for other in await _memberships(services, group, member, chats):
        if other.id != member.id:
            found.update(k for k in await repo.badges_of(other.group_id, other.id) if k in keys)
    return found
