"""Leaderboards across a community's chats: earnings by who made them.

In a community that shares points a person's earnings are posted on their one wallet (the
*primary* membership, ``storage.checkin.wallets``), naming the membership that earned them as
``actor_id``; earnings posted on another membership before a merge stay on its own rows. So the
rows to rank are the earning rows of every sharing chat, without the merge and split moves (they
only carry earnings that are already counted where they were made), each grouped by holder and
maker: the actor, except on rows a moderator granted (``GRANTED_KINDS``), where the actor is the
moderator and the holder made them. The rows stay where they were written, so an unlink changes
nothing here: the earnings stay with the account that made them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select

from storage.checkin.tables import points_ledger
from storage.database import Database

#: The moves between one person's memberships: never earnings of their own.
MOVE_KINDS = ("merge_in", "merge_out", "split_in", "split_out")
#: Earning kinds whose actor is someone else (the moderator who granted the points): the holder
#: made them. Every other earning row's actor is the holder's own membership it was earned by.
GRANTED_KINDS = ("admin",)


@dataclass(frozen=True, slots=True)
class Earnings:
    """The earnings one holder's rows name one maker for (None: the holder itself)."""

    group_id: int
    member_id: int
    #: The membership that earned them, when not the holder.
    maker_id: int | None
    earned: int
    #: The id of the last earning row: ties go to whoever reached the total first.
    reached: int


class BoardRepo:
    """Earnings for community-wide and per-chat leaderboards."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def earnings(self, group_ids: Sequence[int], since: date | None) -> list[Earnings]:
        """Earnings in ``group_ids`` since local day ``since`` (None: all time), per holder and
        maker, merges and splits left out."""
        maker = case((points_ledger.c.kind.in_(GRANTED_KINDS), None), else_=points_ledger.c.actor_id)
        conds = [
            points_ledger.c.group_id.in_(sorted(set(group_ids))),
            points_ledger.c.earned != 0,
            points_ledger.c.kind.not_in(MOVE_KINDS),
        ]
        if since is not None:
            conds.append(points_ledger.c.day >= since)
        stmt = (
            select(
                points_ledger.c.group_id,
                points_ledger.c.member_id,
                maker.label("maker_id"),
                func.sum(points_ledger.c.earned).label("earned"),
                func.max(points_ledger.c.id).label("reached"),
            )
            .where(*conds)
            .group_by(points_ledger.c.group_id, points_ledger.c.member_id, maker)
        )
        async with self.db.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            Earnings(
                int(r.group_id),
                int(r.member_id),
                None if r.maker_id is None else int(r.maker_id),
                int(r.earned),
                int(r.reached),
            )
            for r in rows
        ]
