"""Leaderboards in a community: this chat's board and the community's.

A chat that shares points (``CommunityScope``) keeps its earnings on people's one wallet, which
may sit in another chat. The boards therefore rank earnings by who made them, not by where the
wallet is (``storage.checkin.boards``): a row posted on a wallet names the membership that
earned it as its actor (a moderator's grant names the moderator; there the holder is the maker).
History stays with the account that made it, before a link and after an unlink.

* **This chat's board** ranks the memberships of this chat by what they earned here.
* **The community's board** ranks people: a person's memberships in the sharing chats (the same
  account in several chats, and every account they linked, ``LinkedAccounts``) count as one.

Which boards a chat offers is the community feature's ``community.leaderboards`` setting
(``CommunityScope.boards``). A chat outside a community keeps the plain board of its ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

from bot.ports import BoardScope, CommunityScope, LinkedAccounts
from handlers.checkin.state import state
from storage.models import Group, Member

if TYPE_CHECKING:
    from bot.services import Services

Scope = Literal["chat", "community"]


@dataclass(frozen=True, slots=True)
class Standing:
    """One line of a board: who is shown, what they earned, and the key their rank is found by."""

    member: Member
    earned: int
    #: The last earning row's id: of two equal totals the one reached first ranks higher.
    reached: int
    key: object


async def offered(services: Services, group: Group) -> BoardScope:
    """The boards ``group`` offers (``chat`` alone outside a community)."""
    scope = services.ports.find(CommunityScope)
    return await scope.boards(group) if scope else "chat"


class _People:
    """Memberships and who is the same person, looked up once per board."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._members: dict[int, Member | None] = {}
        self._people: dict[int, tuple[str, str]] = {}
        self._linked = services.ports.find(LinkedAccounts)

    async def member(self, member_id: int) -> Member | None:
        if member_id not in self._members:
            self._members[member_id] = await self._services.members.get(member_id)
        return self._members[member_id]

    async def person(self, member: Member) -> tuple[str, str]:
        """The person's key: the least of their linked accounts (their own account if none)."""
        found = self._people.get(member.id)
        if found is None:
            group = await self._services.directory.group_by_id(member.group_id)
            account = (group.platform if group else "", member.user_id)
            accounts = await self._linked.accounts(*account) if self._linked else [account]
            found = min([account, *accounts])
            self._people[member.id] = found
        return found


async def standings(
    services: Services, group: Group, chats: Sequence[int], since: date | None, scope: Scope
) -> tuple[list[Standing], _People]:
    """The board of ``group`` (scope ``chat``) or of its community (``community``) over the
    sharing ``chats`` since local day ``since`` (None: all time), best first."""
    people = _People(services)
    totals: dict[object, list[int]] = {}
    shown: dict[object, Member] = {}
    for row in await state(services).repos.boards.earnings(chats, since):
        holder = await people.member(row.member_id)
        if holder is None:
            continue
        maker = holder
        if row.maker_id is not None and row.maker_id != row.member_id:
            maker = await people.member(row.maker_id) or holder
        if scope == "chat":
            if maker.group_id != group.id:
                continue
            key: object = maker.id
        else:
            key = await people.person(maker)
        total = totals.setdefault(key, [0, 0])
        total[0] += row.earned
        total[1] = max(total[1], row.reached)
        # Shown by their account in this chat when they have one, else by their oldest.
        current = shown.get(key)
        if current is None or _better(maker, current, group.id):
            shown[key] = maker
    board = [Standing(shown[k], t[0], t[1], k) for k, t in totals.items() if t[0] > 0]
    board.sort(key=lambda s: (-s.earned, s.reached))
    return board, people


def _better(candidate: Member, current: Member, group_id: int) -> bool:
    here_new, here_old = candidate.group_id == group_id, current.group_id == group_id
    if here_new != here_old:
        return here_new
    return candidate.id < current.id


async def rank_in(
    services: Services, group: Group, member: Member, chats: Sequence[int], since: date | None, scope: Scope
) -> tuple[list[Standing], tuple[int, int] | None]:
    """The board and ``member``'s ``(rank, earned)`` on it (None when they earned nothing)."""
    board, people = await standings(services, group, chats, since, scope)
    key: object = member.id if scope == "chat" else await people.person(member)
    for i, s in enumerate(board, start=1):
        if s.key == key:
            return board, (i, s.earned)
    return board, None
