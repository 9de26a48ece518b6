"""The ports the circles feature provides: ``CircleMembers`` (who a post addressed to a circle
mentions) and ``CircleFacts`` (``/stats circles``)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime

from bot.args import BadArgument
from bot.events import UserRef
from bot.ports import CircleAudience, CircleFigures
from handlers.circles.service import fold_name
from storage.circles import CircleRepo
from storage.models import Group, Member


class Circles:
    """Both ports over the circles' repository."""

    def __init__(self, repo: CircleRepo) -> None:
        self.repo = repo

    async def audience(self, group: Group, name: str) -> CircleAudience | None:
        """The circle called ``name`` and the members its posts reach (see ``CircleMembers``)."""
        try:
            _, key = fold_name(name)
        except BadArgument:
            return None
        circle = await self.repo.by_name(group.id, key)
        if circle is None:
            return None
        people = await self.repo.listeners(circle.id)
        users = tuple(UserRef(group.platform, p.user_id, p.display_name, username=p.username) for p in people)
        return CircleAudience(circle.id, circle.name, users)

    async def circles_of(self, group: Group, member: Member) -> list[str]:
        """The names of the member's circles."""
        return [c.name for c, _ in await self.repo.of_member(group.id, member.id)]

    def tagged(self, text: str, names: Sequence[str]) -> list[str]:
        """The circles among ``names`` that ``text`` tags with ``#NAME`` (case- and width-blind;
        ``#game`` is not ``#games``)."""
        folded = unicodedata.normalize("NFKC", text).casefold()
        found = []
        for name in names:
            tag = "#" + unicodedata.normalize("NFKC", name).casefold()
            at = folded.find(tag)
            while at >= 0:
                end = at + len(tag)
                if end == len(folded) or not (folded[end].isalnum() or folded[end] in "-_"):
                    found.append(name)
                    break
                at = folded.find(tag, end)
        return found

    async def circle_figures(self, group_id: int, since: datetime) -> list[CircleFigures]:
        """Each circle's figures since ``since`` (see ``CircleFacts``)."""
        stats = await self.repo.stats(group_id, since)
        ids = await self.repo.member_ids([s.circle_id for s in stats])
        return [
            CircleFigures(s.name, s.members, s.muted, s.joined_since, s.pings_since, tuple(ids[s.circle_id]))
            for s in stats
        ]
