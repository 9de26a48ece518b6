"""The batched hot path: one flush of counters, last posts, member counters, joins and retained
text in a single transaction, never one round trip per message."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from storage.schema import members
from storage.sql import dialect_insert
from storage.stats.base import StatsBase
from storage.stats.tables import (
    stats_group_daily,
    stats_hourly,
    stats_member,
    stats_member_daily,
    stats_recall,
    stats_text,
)
from storage.stats.values import Batch


class RecorderRepo(StatsBase):
    """The hot path's writes, and the user-id lookups a flush needs."""

    async def record(self, batch: Batch) -> None:
        """Write one flush of the hot path in a single transaction."""
        if not batch:
            return
        returned = await self.db.transact(self._record, batch)
        # Only once committed: a transaction that is rolled back (and on PostgreSQL perhaps run
        # again after a conflict) must find them still awaited.
        if self._awaiting is not None:
            self._awaiting.difference_update(returned)

    def _record(self, conn: Connection, batch: Batch) -> set[int]:
        returned: set[int] = set()
        if batch.hourly:
            stmt = dialect_insert(conn, stats_hourly)
            stmt = stmt.on_conflict_do_update(
                index_elements=["group_id", "day", "hour"],
                set_={"messages": stats_hourly.c.messages + stmt.excluded.messages},
            )
            conn.execute(
                stmt,
                [
                    {"group_id": g, "day": d, "hour": h, "messages": n}
                    for (g, d, h), n in batch.hourly.items()
                ],
            )
        if batch.last_post:
            stmt = dialect_insert(conn, stats_member)
            stmt = stmt.on_conflict_do_update(
                index_elements=["member_id"],
                # Flushes run in order and a batch keeps each member's latest post, so the
                # new value is the latest: a plain overwrite, no per-row comparison.
                set_={"last_post_at": stmt.excluded.last_post_at},
            )
            conn.execute(
                stmt,
                [
                    {"member_id": m, "group_id": g, "last_post_at": at, "nudge_off": False}
                    for m, (g, at) in batch.last_post.items()
                ],
            )
            returned = self._mark_returns(conn, batch.last_post)
        if batch.member_daily:
            stmt = dialect_insert(conn, stats_member_daily)
            stmt = stmt.on_conflict_do_update(
                index_elements=["member_id", "day"],
                set_={
                    "replies_received": stats_member_daily.c.replies_received
                    + stmt.excluded.replies_received,
                    "topic_replies": stats_member_daily.c.topic_replies + stmt.excluded.topic_replies,
                },
            )
            conn.execute(
                stmt,
                [
                    {"group_id": g, "member_id": m, "day": d, "replies_received": r, "topic_replies": t}
                    for (g, m, d), (r, t) in batch.member_daily.items()
                ],
            )
        if batch.joins:
            stmt = dialect_insert(conn, stats_group_daily)
            stmt = stmt.on_conflict_do_update(
                index_elements=["group_id", "day"],
                set_={
                    "joins": stats_group_daily.c.joins + stmt.excluded.joins,
                    "leaves": stats_group_daily.c.leaves + stmt.excluded.leaves,
                },
            )
            conn.execute(
                stmt,
                [
                    {"group_id": g, "day": d, "joins": j, "leaves": lv}
                    for (g, d), (j, lv) in batch.joins.items()
                ],
            )
        if batch.texts:
            conn.execute(
                stats_text.insert(),
                [{"group_id": g, "member_id": m, "at": at, "text": t} for g, m, at, t in batch.texts],
            )
        return returned

    def _mark_returns(self, conn: Connection, posts: Mapping[int, tuple[int, datetime]]) -> set[int]:
        """A recalled member's first post within 7 days of being named counts as a return;
        returns the members marked, for the caller to stop awaiting once committed."""
        from sqlalchemy import bindparam

        if self._awaiting is None:
            latest = max(at for _g, at in posts.values())
            self._awaiting = {
                int(r.member_id)
                for r in (
                    conn.execute(
                        select(stats_recall.c.member_id).where(
                            stats_recall.c.returned_at.is_(None),
                            stats_recall.c.named_at >= latest - timedelta(days=7),
                        )
                    )
                ).all()
            }
        back = [(m, at) for m, (_g, at) in posts.items() if m in self._awaiting]
        if not back:
            return set()
        conn.execute(
            update(stats_recall)
            .where(
                stats_recall.c.member_id == bindparam("mid"),
                stats_recall.c.returned_at.is_(None),
                stats_recall.c.named_at <= bindparam("at"),
                stats_recall.c.named_at >= bindparam("since"),
            )
            .values(returned_at=bindparam("at")),
            [{"mid": m, "at": at, "since": at - timedelta(days=7)} for m, at in back],
        )
        return {m for m, _at in back}

    async def resolve_users(self, group_id: int, user_ids: Iterable[str]) -> dict[str, int]:
        """Member ids of platform user ids (for replies received, resolved once per flush)."""
        wanted = list(set(user_ids))
        if not wanted:
            return {}
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(members.c.user_id, members.c.id).where(
                        members.c.group_id == group_id, members.c.user_id.in_(wanted)
                    )
                )
            ).all()
        return {r.user_id: int(r.id) for r in rows}
