"""Rollups and KPIs: the distinct-member figures (DAU, WAU, MAU) of a *complete* local day never
change, so they are computed once from ``activity_daily`` and kept on the day's
``stats_group_daily`` row; rankings of complete periods are kept in ``stats_top``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import ColumnElement

from storage.schema import activity_daily, members
from storage.sql import dialect_insert, upsert
from storage.stats.base import StatsBase
from storage.stats.tables import stats_group_daily, stats_hourly, stats_top
from storage.stats.values import DailyRow, KpiInputs, MemberCount


def _active() -> ColumnElement[bool]:
    return (activity_daily.c.messages + activity_daily.c.commands) > 0


class RollupRepo(StatsBase):
    """Day rollups, top members, hours and the KPI snapshot of ``/stats``."""

    async def ensure_rollups(self, group_id: int, start: date, end: date, force: bool = False) -> None:
        """Compute the day figures of ``start``…``end`` (complete days) that are still missing."""
        missing = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        if not force:
            async with self.db.begin() as conn:
                have = {
                    r.day
                    for r in (
                        await conn.execute(
                            select(stats_group_daily.c.day).where(
                                stats_group_daily.c.group_id == group_id,
                                stats_group_daily.c.day.between(start, end),
                                stats_group_daily.c.dau.is_not(None),
                            )
                        )
                    ).all()
                }
            missing = [d for d in missing if d not in have]
        if not missing:
            return
        lo, hi = min(missing), max(missing)
        # Asked while no transaction of ours is open: the counts come from the check-in
        # feature's own transaction, and on SQLite (BEGIN IMMEDIATE) two open transactions
        # would wait on each other.
        checkins: Mapping[date, int] = await self._checkins(group_id, lo, hi) if self._checkins else {}
        async with self.db.begin() as conn:
            sums = {
                r.day: r
                for r in (
                    await conn.execute(
                        select(
                            activity_daily.c.day,
                            func.coalesce(func.sum(activity_daily.c.messages), 0).label("messages"),
                            func.coalesce(func.sum(activity_daily.c.replies), 0).label("replies"),
                            func.coalesce(func.sum(activity_daily.c.commands), 0).label("commands"),
                            func.count().filter(_active()).label("dau"),
                        )
                        .where(activity_daily.c.group_id == group_id, activity_daily.c.day.between(lo, hi))
                        .group_by(activity_daily.c.day)
                    )
                ).all()
            }
            rows = []
            for d in missing:
                s = sums.get(d)
                rows.append(
                    {
                        "group_id": group_id,
                        "day": d,
                        "joins": 0,
                        "leaves": 0,
                        "messages": int(s.messages) if s else 0,
                        "replies": int(s.replies) if s else 0,
                        "commands": int(s.commands) if s else 0,
                        "checkins": int(checkins.get(d, 0)),
                        "dau": int(s.dau) if s else 0,
                    }
                )
            stmt = dialect_insert(conn, stats_group_daily)
            stmt = stmt.on_conflict_do_update(
                index_elements=["group_id", "day"],
                set_={k: stmt.excluded[k] for k in ("messages", "replies", "commands", "checkins", "dau")}
                | {"wau": None, "mau": None},
            )
            await conn.execute(stmt, rows)

    async def distinct_active(
        self, group_id: int, end: date, days: int, *, conn: AsyncConnection | None = None
    ) -> int:
        """Members active on at least one of the ``days`` days ending ``end``, cached for WAU/MAU."""
        column = {7: "wau", 30: "mau"}.get(days)
        async with self._tx(conn) as conn:
            if column is not None:
                cached = (
                    await conn.execute(
                        select(stats_group_daily.c[column]).where(
                            stats_group_daily.c.group_id == group_id, stats_group_daily.c.day == end
                        )
                    )
                ).scalar_one_or_none()
                if cached is not None:
                    return int(cached)
            value = int(
                (
                    await conn.execute(
                        select(func.count(func.distinct(activity_daily.c.member_id))).where(
                            activity_daily.c.group_id == group_id,
                            activity_daily.c.day.between(end - timedelta(days=days - 1), end),
                            _active(),
                        )
                    )
                ).scalar_one()
            )
            if column is not None:
                await conn.execute(
                    update(stats_group_daily)
                    .where(stats_group_daily.c.group_id == group_id, stats_group_daily.c.day == end)
                    .values({column: value})
                )
        return value

    async def daily(
        self, group_id: int, start: date, end: date, *, conn: AsyncConnection | None = None
    ) -> list[DailyRow]:
        """The rolled-up rows of ``start``…``end`` (call ``ensure_rollups`` first)."""
        async with self._tx(conn) as conn:
            rows = (
                await conn.execute(
                    select(stats_group_daily)
                    .where(
                        stats_group_daily.c.group_id == group_id, stats_group_daily.c.day.between(start, end)
                    )
                    .order_by(stats_group_daily.c.day)
                )
            ).all()
        return [
            DailyRow(
                day=r.day,
                messages=int(r.messages or 0),
                replies=int(r.replies or 0),
                commands=int(r.commands or 0),
                joins=int(r.joins or 0),
                leaves=int(r.leaves or 0),
                checkins=int(r.checkins or 0),
                dau=int(r.dau or 0),
                wau=r.wau,
                mau=r.mau,
            )
            for r in rows
        ]

    async def first_day(self, group_id: int, *, conn: AsyncConnection | None = None) -> date | None:
        """The first day the group has any activity."""
        async with self._tx(conn) as conn:
            value = (
                await conn.execute(
                    select(func.min(activity_daily.c.day)).where(activity_daily.c.group_id == group_id)
                )
            ).scalar_one_or_none()
        return value

    async def members_now(self, group_id: int, *, conn: AsyncConnection | None = None) -> int:
        """Members in the group now (known to the bot, not left, not bots)."""
        async with self._tx(conn) as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count()).where(
                            members.c.group_id == group_id,
                            members.c.left_at.is_(None),
                            members.c.is_bot.is_(False),
                        )
                    )
                ).scalar_one()
            )

    async def top_members(
        self,
        group_id: int,
        start: date,
        end: date,
        limit: int = 5,
        exclude: Sequence[int] = (),
        *,
        conn: AsyncConnection | None = None,
    ) -> list[MemberCount]:
        """The members with the most messages in ``start``…``end``."""
        total = func.sum(activity_daily.c.messages).label("n")
        inner = (
            select(activity_daily.c.member_id, total)
            .where(
                activity_daily.c.group_id == group_id,
                activity_daily.c.day.between(start, end),
                activity_daily.c.member_id.is_not(None),
            )
            .group_by(activity_daily.c.member_id)
            .having(total > 0)
        )
        if exclude:
            inner = inner.where(activity_daily.c.member_id.not_in(list(exclude)))
        sub = inner.order_by(total.desc(), activity_daily.c.member_id).limit(limit).subquery()
        async with self._tx(conn) as conn:
            rows = (
                await conn.execute(
                    select(sub.c.member_id, sub.c.n, members.c.display_name, members.c.user_id)
                    .join(members, members.c.id == sub.c.member_id)
                    .order_by(sub.c.n.desc(), sub.c.member_id)
                )
            ).all()
        return [MemberCount(r.member_id, r.display_name, r.user_id, int(r.n)) for r in rows]

    async def member_messages(
        self,
        group_id: int,
        member_ids: Sequence[int],
        start: date,
        end: date,
        *,
        conn: AsyncConnection | None = None,
    ) -> dict[int, int]:
        """Messages of the given members in ``start``…``end``."""
        if not member_ids:
            return {}
        async with self._tx(conn) as conn:
            rows = (
                await conn.execute(
                    select(activity_daily.c.member_id, func.sum(activity_daily.c.messages).label("n"))
                    .where(
                        activity_daily.c.group_id == group_id,
                        activity_daily.c.member_id.in_(list(member_ids)),
                        activity_daily.c.day.between(start, end),
                    )
                    .group_by(activity_daily.c.member_id)
                )
            ).all()
        return {r.member_id: int(r.n or 0) for r in rows}

    async def hours(
        self, group_id: int, start: date, end: date, *, conn: AsyncConnection | None = None
    ) -> dict[int, int]:
        """Messages per local hour of the day over ``start``…``end``."""
        async with self._tx(conn) as conn:
            rows = (
                await conn.execute(
                    select(stats_hourly.c.hour, func.sum(stats_hourly.c.messages).label("n"))
                    .where(stats_hourly.c.group_id == group_id, stats_hourly.c.day.between(start, end))
                    .group_by(stats_hourly.c.hour)
                )
            ).all()
        return {int(r.hour): int(r.n) for r in rows}

    async def cached_top(
        self, group_id: int, start: date, end: date, limit: int = 5, *, conn: AsyncConnection | None = None
    ) -> list[MemberCount]:
        """``top_members`` of a complete period, computed once and kept in ``stats_top``."""
        days = (end - start).days + 1
        async with self._tx(conn) as conn:
            rows = (
                await conn.execute(
                    select(
                        stats_top.c.member_id, stats_top.c.messages, members.c.display_name, members.c.user_id
                    )
                    .join(members, members.c.id == stats_top.c.member_id)
                    .where(
                        stats_top.c.group_id == group_id, stats_top.c.end_day == end, stats_top.c.days == days
                    )
                    .order_by(stats_top.c.rank)
                    .limit(limit)
                )
            ).all()
            if rows:
                return [MemberCount(r.member_id, r.display_name, r.user_id, int(r.messages)) for r in rows]
            top = await self.top_members(group_id, start, end, limit, conn=conn)
            if top:
                await upsert(
                    conn,
                    stats_top,
                    [
                        {
                            "group_id": group_id,
                            "end_day": end,
                            "days": days,
                            "rank": i,
                            "member_id": m.member_id,
                            "messages": m.value,
                        }
                        for i, m in enumerate(top)
                    ],
                    keys=("group_id", "end_day", "days", "rank"),
                    update=("member_id", "messages"),
                )
            return top

    async def kpi_inputs(
        self,
        group_id: int,
        start: date,
        end: date,
        prev_start: date,
        prev_end: date,
        top: int = 5,
        members_now: int | None = None,
    ) -> KpiInputs:
        """The inputs of a period's KPIs and the previous period's, as one consistent snapshot.

        ``members_now`` may come from the caller's cache (counting a large group costs more than
        everything else here together).
        """
        # Rolled up first, in their own transactions (see ``ensure_rollups``); complete days
        # never change afterwards, so the snapshot below stays consistent.
        await self.ensure_rollups(group_id, prev_start, end)
        async with self.db.begin() as conn:
            rows = await self.daily(group_id, prev_start, end, conn=conn)
            wau = (
                await self.distinct_active(group_id, end, 7, conn=conn),
                await self.distinct_active(group_id, prev_end, 7, conn=conn),
            )
            mau = (
                await self.distinct_active(group_id, end, 30, conn=conn),
                await self.distinct_active(group_id, prev_end, 30, conn=conn),
            )
            best = await self.cached_top(group_id, start, end, top, conn=conn)
            before = await self.member_messages(
                group_id, [m.member_id for m in best], prev_start, prev_end, conn=conn
            )
            now_col = func.sum(case((stats_hourly.c.day >= start, stats_hourly.c.messages), else_=0)).label(
                "now"
            )
            prev_col = func.sum(case((stats_hourly.c.day < start, stats_hourly.c.messages), else_=0)).label(
                "prev"
            )
            hour_rows = (
                await conn.execute(
                    select(stats_hourly.c.hour, now_col, prev_col)
                    .where(stats_hourly.c.group_id == group_id, stats_hourly.c.day.between(prev_start, end))
                    .group_by(stats_hourly.c.hour)
                )
            ).all()
            if members_now is None:
                members_now = await self.members_now(group_id, conn=conn)
        return KpiInputs(
            rows=rows,
            wau=wau,
            mau=mau,
            top=[(m.member_id, m.name, m.value, before.get(m.member_id, 0)) for m in best],
            hours={int(r.hour): (int(r.now or 0), int(r.prev or 0)) for r in hour_rows},
            members_now=members_now,
        )

    async def hour_of_week(self, group_id: int, start: date, end: date) -> list[list[int]]:
        """A 7 × 24 grid (Monday first) of messages over ``start``…``end``."""
        grid = [[0] * 24 for _ in range(7)]
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(stats_hourly.c.day, stats_hourly.c.hour, stats_hourly.c.messages).where(
                        stats_hourly.c.group_id == group_id, stats_hourly.c.day.between(start, end)
                    )
                )
            ).all()
        for r in rows:
            grid[r.day.weekday()][int(r.hour)] += int(r.messages)
        return grid
