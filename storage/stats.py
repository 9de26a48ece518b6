"""Community-health storage: group-level daily counters, hour-of-day counters, lifecycle state,
retained message text for hot words, recall tracking, feedback and NPS polls.

The per-member daily counters belong to the foundation (``activity_daily``); this module only
reads them. Counters that come from the per-message path arrive here in batches (``record``),
never one round trip per message.

Rollups: the distinct-member figures (DAU, WAU, MAU) of a *complete* local day never change,
so they are computed once from ``activity_daily`` and kept on the day's ``stats_group_daily``
row. That is what lets ``/stats`` answer in milliseconds for a large group with a long history.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    and_,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import ColumnElement

from storage.database import Database
from storage.schema import activity_daily, members, metadata
from storage.sql import dialect_insert, upsert
from storage.types import UTCDateTime

#: Group counters per local day. ``messages``/``replies``/``commands``/``checkins`` and the
#: distinct-member columns are filled by the rollup of a complete day (NULL ``dau`` = not yet);
#: ``joins``/``leaves`` are counted live from the hot path.
stats_group_daily = Table(
    "stats_group_daily",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("joins", Integer, nullable=False, default=0),
    Column("leaves", Integer, nullable=False, default=0),
    Column("messages", BigInteger),
    Column("replies", BigInteger),
    Column("commands", BigInteger),
    Column("checkins", Integer),
    Column("dau", Integer),
    Column("wau", Integer),
    Column("mau", Integer),
)

#: Messages per group, local day and local hour: the heatmap and the busiest hours.
stats_hourly = Table(
    "stats_hourly",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("hour", SmallInteger, primary_key=True),
    Column("messages", BigInteger, nullable=False, default=0),
)

#: One row per member who ever posted (or was named in a recall): the lifecycle's last post.
stats_member = Table(
    "stats_member",
    metadata,
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("last_post_at", UTCDateTime()),
    Column("nudge_off", Boolean, nullable=False, default=False),
    Index("ix_stats_member_group_post", "group_id", "last_post_at"),
)

#: Per member and local day: replies received and replies to the bot's own posts (topic prompts).
stats_member_daily = Table(
    "stats_member_daily",
    metadata,
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("replies_received", Integer, nullable=False, default=0),
    Column("topic_replies", Integer, nullable=False, default=0),
    Index("ix_stats_member_daily_group_day", "group_id", "day"),
)

#: Message text kept only for the retention window (hot words); purged by a scheduled job.
stats_text = Table(
    "stats_text",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE")),
    Column("at", UTCDateTime(), nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_stats_text_group_at", "group_id", "at"),
    Index("ix_stats_text_at", "at"),
)

#: Members named in a recall post; ``returned_at`` is their first post within the window.
stats_recall = Table(
    "stats_recall",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("named_at", UTCDateTime(), nullable=False),
    Column("returned_at", UTCDateTime()),
    Index("ix_stats_recall_group_named", "group_id", "named_at"),
    Index("ix_stats_recall_member", "member_id", "named_at"),
)

stats_feedback = Table(
    "stats_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE")),
    Column("at", UTCDateTime(), nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_stats_feedback_group_at", "group_id", "at"),
)

stats_nps_poll = Table(
    "stats_nps_poll",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("question", Text),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("started_by", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("closed_at", UTCDateTime()),
    Index("ix_stats_nps_poll_group", "group_id", "started_at"),
)

stats_nps_answer = Table(
    "stats_nps_answer",
    metadata,
    Column("poll_id", Integer, ForeignKey("stats_nps_poll.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("score", SmallInteger, nullable=False),
    Column("answered_at", UTCDateTime(), nullable=False),
)

#: The top members of a complete period (``days`` days ending ``end_day``): past days never
#: change, so the ranking over a large history is computed once, not per ``/stats``.
stats_top = Table(
    "stats_top",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("end_day", Date, primary_key=True),
    Column("days", SmallInteger, primary_key=True),
    Column("rank", SmallInteger, primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("messages", BigInteger, nullable=False),
)

#: Small per-group markers (last churn alert, last recall post…), so a check never repeats.
stats_marker = Table(
    "stats_marker",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("value", String(64), nullable=False),
)


# -- what the repository hands out ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DailyRow:
    """One complete day of a group, rolled up."""

    day: date
    messages: int
    replies: int
    commands: int
    joins: int
    leaves: int
    checkins: int
    dau: int
    wau: int | None
    mau: int | None


@dataclass(frozen=True, slots=True)
class MemberCount:
    """A member with a count, for top lists."""

    member_id: int
    name: str
    user_id: str
    value: int


@dataclass(frozen=True, slots=True)
class StageMember:
    """A member listed under a lifecycle stage."""

    member_id: int
    user_id: str
    name: str
    last_post_at: datetime | None


@dataclass(frozen=True, slots=True)
class Feedback:
    """One piece of member feedback."""

    id: int
    member_id: int | None
    name: str | None
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class NpsPoll:
    """An NPS poll."""

    id: int
    group_id: int
    question: str | None
    started_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class KolRow:
    """Raw KOL figures of one member over a window.

    ``activities`` and ``streak`` come from other features (events, check-in): ``kol_inputs``
    leaves them 0 and the stats feature fills them in from those features' ports.
    """

    member_id: int
    user_id: str
    name: str
    messages: int
    topic_replies: int
    replies_received: int
    activities: int = 0
    streak: int = 0


@dataclass(frozen=True, slots=True)
class KpiInputs:
    """Everything ``/stats`` reads, taken in one transaction."""

    rows: list[DailyRow]
    wau: tuple[int, int]
    mau: tuple[int, int]
    #: (member id, name, messages now, messages in the previous period), best first
    top: list[tuple[int, str, int, int]]
    #: local hour → (messages now, messages in the previous period)
    hours: dict[int, tuple[int, int]]
    members_now: int


@dataclass
class Batch:
    """What the hot path collected since the last flush, already summed."""

    #: (group, day, hour) → messages
    hourly: dict[tuple[int, date, int], int]
    #: member → (group, latest post)
    last_post: dict[int, tuple[int, datetime]]
    #: (group, member, day) → (replies received, topic replies)
    member_daily: dict[tuple[int, int, date], tuple[int, int]]
    #: (group, day) → (joins, leaves)
    joins: dict[tuple[int, date], tuple[int, int]]
    #: (group, member, at, text)
    texts: list[tuple[int, int | None, datetime, str]]

    @classmethod
    def empty(cls) -> Batch:
        """A batch with nothing in it."""
        return cls({}, {}, {}, {}, [])

    def __bool__(self) -> bool:
        return bool(self.hourly or self.last_post or self.member_daily or self.joins or self.texts)


#: Check-ins per day of a group over ``first``…``last`` (``CheckinFacts.checkins_per_day``):
#: how the rollups learn the check-in counts without reading the check-in feature's tables.
CheckinCounter = Callable[[int, date, date], Awaitable[Mapping[date, int]]]


def _active() -> ColumnElement[bool]:
    return (activity_daily.c.messages + activity_daily.c.commands) > 0


class StatsRepo:
    """Every query of the stats feature."""

    def __init__(self, db: Database, checkins: CheckinCounter | None = None) -> None:
        self.db = db
        #: Where the day rollups get check-in counts; None when no check-in feature is installed
        #: (the rollups then record none, and ``/stats`` shows no check-in rate).
        self._checkins = checkins
        #: Members named in a recall who have not posted since; None until first loaded. Kept in
        #: memory so the per-second flush touches ``stats_recall`` only for them (usually nobody).
        self._awaiting: set[int] | None = None

    @asynccontextmanager
    async def _tx(self, conn: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
        """The caller's transaction when given (one snapshot for many reads), else a new one."""
        if conn is not None:
            yield conn
        else:
            async with self.db.begin() as new:
                yield new

    def checkins_tracked(self) -> bool:
        """True when a check-in feature feeds the rollups (so a 0 % rate means something)."""
        return self._checkins is not None

    # -- the batched hot path --------------------------------------------------------------
    async def record(self, batch: Batch) -> None:
        """Write one flush of the hot path in a single transaction."""
        if not batch:
            return
        await self.db.transact(self._record, batch)

    def _record(self, conn: Connection, batch: Batch) -> None:
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
            self._mark_returns(conn, batch.last_post)
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

    def _mark_returns(self, conn: Connection, posts: Mapping[int, tuple[int, datetime]]) -> None:
        """A recalled member's first post within 7 days of being named counts as a return."""
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
            return
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
        self._awaiting.difference_update(m for m, _at in back)

    # -- rollups --------------------------------------------------------------------------
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

    # -- lifecycle ------------------------------------------------------------------------
    def _stage_expr(self, now: datetime) -> ColumnElement[str]:
        """The lifecycle stage as SQL; mirrors ``handlers.stats.lifecycle.classify``.

        The last sign of life is the later of the last post we counted and the member's
        ``last_seen`` (any event they caused: a command, a button, a join).
        """
        post = stats_member.c.last_post_at
        sign = case((and_(post.is_not(None), post > members.c.last_seen), post), else_=members.c.last_seen)
        return case(
            (members.c.left_at.is_not(None), literal("left")),
            (
                and_(members.c.joined_at.is_not(None), members.c.joined_at >= now - timedelta(days=7)),
                literal("new"),
            ),
            (sign >= now - timedelta(days=7), literal("active")),
            (sign >= now - timedelta(days=30), literal("sleeping")),
            else_=literal("churned"),
        )

    def _member_scope(self, group_id: int) -> Any:
        return members.outerjoin(stats_member, stats_member.c.member_id == members.c.id), and_(
            members.c.group_id == group_id, members.c.is_bot.is_(False)
        )

    async def stage_counts(self, group_id: int, now: datetime) -> dict[str, int]:
        """Members per lifecycle stage at ``now``."""
        stage = self._stage_expr(now).label("stage")
        source, where = self._member_scope(group_id)
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(stage, func.count().label("n")).select_from(source).where(where).group_by(stage)
                )
            ).all()
        return {r.stage: int(r.n) for r in rows}

    async def stage_members(
        self, group_id: int, now: datetime, stage: str, limit: int, *, for_recall: bool = False
    ) -> list[StageMember]:
        """Members in ``stage``, most recently active first.

        ``for_recall`` keeps only members who posted at some point, did not opt out, and were not
        already named since their last post.
        """
        expr = self._stage_expr(now)
        source, where = self._member_scope(group_id)
        stmt = (
            select(members.c.id, members.c.user_id, members.c.display_name, stats_member.c.last_post_at)
            .select_from(source)
            .where(where, expr == stage)
            .order_by(stats_member.c.last_post_at.desc(), members.c.id)
            .limit(limit)
        )
        if for_recall:
            # Named at most once per quiet spell: not again until they have posted since.
            named_since_post = (
                select(stats_recall.c.id)
                .where(
                    stats_recall.c.member_id == members.c.id,
                    stats_recall.c.named_at >= stats_member.c.last_post_at,
                )
                .exists()
            )
            stmt = stmt.where(
                stats_member.c.nudge_off.is_(False),
                stats_member.c.last_post_at.is_not(None),
                members.c.forgotten.is_(False),
                ~named_since_post,
            )
        async with self.db.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return [StageMember(r.id, r.user_id, r.display_name, r.last_post_at) for r in rows]

    async def went_quiet(
        self, group_id: int, today: date, now: datetime, limit: int = 5
    ) -> list[MemberCount]:
        """The most active members of the baseline window (35…8 days ago) with no post in 7 days."""
        start, end = today - timedelta(days=35), today - timedelta(days=8)
        total = func.sum(activity_daily.c.messages).label("n")
        stmt = (
            select(activity_daily.c.member_id, total, members.c.display_name, members.c.user_id)
            .join(members, members.c.id == activity_daily.c.member_id)
            .outerjoin(stats_member, stats_member.c.member_id == activity_daily.c.member_id)
            .where(
                activity_daily.c.group_id == group_id,
                activity_daily.c.day.between(start, end),
                members.c.left_at.is_(None),
                or_(
                    stats_member.c.last_post_at.is_(None),
                    stats_member.c.last_post_at < now - timedelta(days=7),
                ),
            )
            .group_by(activity_daily.c.member_id, members.c.display_name, members.c.user_id)
            .having(total > 0)
            .order_by(total.desc(), activity_daily.c.member_id)
            .limit(limit)
        )
        async with self.db.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return [MemberCount(r.member_id, r.display_name, r.user_id, int(r.n)) for r in rows]

    async def set_nudge(self, group_id: int, member_id: int, off: bool) -> None:
        """Opt a member out of (or back into) recall posts."""
        async with self.db.begin() as conn:
            await upsert(
                conn,
                stats_member,
                {"member_id": member_id, "group_id": group_id, "last_post_at": None, "nudge_off": off},
                keys=("member_id",),
                update=("nudge_off",),
            )

    async def record_recall(self, group_id: int, member_ids: Iterable[int], at: datetime) -> None:
        """Remember who a recall post named."""
        ids = list(member_ids)
        if not ids:
            return
        async with self.db.begin() as conn:
            await conn.execute(
                stats_recall.insert(), [{"group_id": group_id, "member_id": m, "named_at": at} for m in ids]
            )
        if self._awaiting is not None:
            self._awaiting.update(ids)

    async def recall_rate(self, group_id: int, since: datetime, until: datetime) -> tuple[int, int]:
        """(named, returned within 7 days) for recalls named in ``since``…``until``."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(func.count(), func.count(stats_recall.c.returned_at)).where(
                        stats_recall.c.group_id == group_id,
                        stats_recall.c.named_at >= since,
                        stats_recall.c.named_at < until,
                    )
                )
            ).one()
        return int(row[0]), int(row[1])

    # -- hot words text ---------------------------------------------------------------------
    async def texts(self, group_id: int, since: datetime, limit: int = 20000) -> list[tuple[int, str]]:
        """(member, text) of the newest ``limit`` retained messages since ``since``."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(stats_text.c.member_id, stats_text.c.text)
                    .where(stats_text.c.group_id == group_id, stats_text.c.at >= since)
                    .order_by(stats_text.c.at.desc())
                    .limit(limit)
                )
            ).all()
        return [(int(r.member_id or 0), r.text) for r in rows]

    async def purge_text(self, before: datetime, group_id: int | None = None) -> int:
        """Delete retained text older than ``before`` (one group, or all); returns rows deleted."""
        stmt = delete(stats_text).where(stats_text.c.at < before)
        if group_id is not None:
            stmt = stmt.where(stats_text.c.group_id == group_id)
        async with self.db.begin() as conn:
            result = await conn.execute(stmt)
        return int(result.rowcount or 0)

    async def drop_group_text(self, group_id: int) -> int:
        """Delete every retained message of a group (``store_text`` turned off)."""
        async with self.db.begin() as conn:
            result = await conn.execute(delete(stats_text).where(stats_text.c.group_id == group_id))
        return int(result.rowcount or 0)

    async def text_count(self, group_id: int) -> int:
        """How many messages a group has retained."""
        async with self.db.begin() as conn:
            return int(
                (
                    await conn.execute(select(func.count()).where(stats_text.c.group_id == group_id))
                ).scalar_one()
            )

    # -- KOL ----------------------------------------------------------------------------------
    async def kol_inputs(
        self, group_id: int, start: date, end: date, exclude_user_ids: Sequence[str], limit: int = 50
    ) -> list[KolRow]:
        """Raw KOL figures over ``start``…``end`` for the group's most active ``limit`` members."""
        msg = func.sum(activity_daily.c.messages).label("n")
        async with self.db.begin() as conn:
            stmt = (
                select(activity_daily.c.member_id, msg, members.c.display_name, members.c.user_id)
                .join(members, members.c.id == activity_daily.c.member_id)
                .where(
                    activity_daily.c.group_id == group_id,
                    activity_daily.c.day.between(start, end),
                    members.c.is_bot.is_(False),
                    members.c.left_at.is_(None),
                )
                .group_by(activity_daily.c.member_id, members.c.display_name, members.c.user_id)
                .order_by(msg.desc())
                .limit(limit)
            )
            if exclude_user_ids:
                stmt = stmt.where(members.c.user_id.not_in(list(exclude_user_ids)))
            base = (await conn.execute(stmt)).all()
            ids = [r.member_id for r in base]
            extra = {
                r.member_id: r
                for r in (
                    await conn.execute(
                        select(
                            stats_member_daily.c.member_id,
                            func.sum(stats_member_daily.c.replies_received).label("rr"),
                            func.sum(stats_member_daily.c.topic_replies).label("tr"),
                        )
                        .where(
                            stats_member_daily.c.member_id.in_(ids),
                            stats_member_daily.c.day.between(start, end),
                        )
                        .group_by(stats_member_daily.c.member_id)
                    )
                ).all()
            }
        out = []
        for r in base:
            e = extra.get(r.member_id)
            out.append(
                KolRow(
                    member_id=r.member_id,
                    user_id=r.user_id,
                    name=r.display_name,
                    messages=int(r.n or 0),
                    topic_replies=int(e.tr or 0) if e else 0,
                    replies_received=int(e.rr or 0) if e else 0,
                )
            )
        return out

    # -- feedback --------------------------------------------------------------------------
    async def add_feedback(self, group_id: int, member_id: int | None, at: datetime, text: str) -> int:
        """Store feedback; returns its id."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                stats_feedback.insert().values(group_id=group_id, member_id=member_id, at=at, text=text)
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    async def feedback(self, group_id: int, since: datetime, limit: int = 200) -> list[Feedback]:
        """Feedback since ``since``, newest first."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(stats_feedback, members.c.display_name)
                    .select_from(
                        stats_feedback.outerjoin(members, members.c.id == stats_feedback.c.member_id)
                    )
                    .where(stats_feedback.c.group_id == group_id, stats_feedback.c.at >= since)
                    .order_by(stats_feedback.c.at.desc(), stats_feedback.c.id.desc())
                    .limit(limit)
                )
            ).all()
        return [Feedback(r.id, r.member_id, r.display_name, r.at, r.text) for r in rows]

    # -- NPS ----------------------------------------------------------------------------------
    async def open_poll(self, group_id: int) -> NpsPoll | None:
        """The group's open NPS poll, if any."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(stats_nps_poll)
                    .where(stats_nps_poll.c.group_id == group_id, stats_nps_poll.c.closed_at.is_(None))
                    .order_by(stats_nps_poll.c.id.desc())
                )
            ).first()
        return _poll(row) if row else None

    async def latest_poll(self, group_id: int) -> NpsPoll | None:
        """The group's newest NPS poll, open or closed."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(stats_nps_poll)
                    .where(stats_nps_poll.c.group_id == group_id)
                    .order_by(stats_nps_poll.c.id.desc())
                )
            ).first()
        return _poll(row) if row else None

    async def get_poll(self, poll_id: int) -> NpsPoll | None:
        """One poll by id."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(stats_nps_poll).where(stats_nps_poll.c.id == poll_id))).first()
        return _poll(row) if row else None

    async def start_poll(self, group_id: int, question: str | None, by: int | None, at: datetime) -> NpsPoll:
        """Close any open poll of the group and open a new one."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(stats_nps_poll)
                .where(stats_nps_poll.c.group_id == group_id, stats_nps_poll.c.closed_at.is_(None))
                .values(closed_at=at)
            )
            result = await conn.execute(
                stats_nps_poll.insert().values(
                    group_id=group_id, question=question, started_by=by, started_at=at
                )
            )
            poll_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return NpsPoll(poll_id, group_id, question, at, None)

    async def close_poll(self, poll_id: int, at: datetime) -> None:
        """Close a poll."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(stats_nps_poll).where(stats_nps_poll.c.id == poll_id).values(closed_at=at)
            )

    async def answer(self, poll_id: int, member_id: int, score: int, at: datetime) -> bool:
        """Record (or change) a member's answer; True when it replaced an earlier one."""
        async with self.db.begin() as conn:
            before = (
                await conn.execute(
                    select(stats_nps_answer.c.score).where(
                        stats_nps_answer.c.poll_id == poll_id, stats_nps_answer.c.member_id == member_id
                    )
                )
            ).first()
            await upsert(
                conn,
                stats_nps_answer,
                {"poll_id": poll_id, "member_id": member_id, "score": score, "answered_at": at},
                keys=("poll_id", "member_id"),
                update=("score", "answered_at"),
            )
        return before is not None

    async def scores(self, poll_id: int) -> list[int]:
        """Every member's current answer to a poll."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(stats_nps_answer.c.score).where(stats_nps_answer.c.poll_id == poll_id)
                )
            ).all()
        return [int(r.score) for r in rows]

    # -- markers --------------------------------------------------------------------------------
    async def marker(self, group_id: int, key: str) -> str | None:
        """A per-group marker value."""
        async with self.db.begin() as conn:
            return (
                await conn.execute(
                    select(stats_marker.c.value).where(
                        stats_marker.c.group_id == group_id, stats_marker.c.key == key
                    )
                )
            ).scalar_one_or_none()

    async def set_marker(self, group_id: int, key: str, value: str) -> None:
        """Set a per-group marker."""
        async with self.db.begin() as conn:
            await upsert(
                conn,
                stats_marker,
                {"group_id": group_id, "key": key, "value": value},
                keys=("group_id", "key"),
                update=("value",),
            )

    # -- a member's own data -------------------------------------------------------------------
    async def export_member(self, member_id: int) -> dict[str, Any]:
        """Everything this feature keeps about one member."""
        async with self.db.begin() as conn:
            state = (
                await conn.execute(select(stats_member).where(stats_member.c.member_id == member_id))
            ).first()
            texts = (
                await conn.execute(
                    select(stats_text.c.at, stats_text.c.text)
                    .where(stats_text.c.member_id == member_id)
                    .order_by(stats_text.c.at)
                )
            ).all()
            feedback = (
                await conn.execute(
                    select(stats_feedback.c.at, stats_feedback.c.text)
                    .where(stats_feedback.c.member_id == member_id)
                    .order_by(stats_feedback.c.at)
                )
            ).all()
            answers = (
                await conn.execute(
                    select(
                        stats_nps_answer.c.poll_id, stats_nps_answer.c.score, stats_nps_answer.c.answered_at
                    )
                    .where(stats_nps_answer.c.member_id == member_id)
                    .order_by(stats_nps_answer.c.poll_id)
                )
            ).all()
            recalls = (
                await conn.execute(
                    select(stats_recall.c.named_at, stats_recall.c.returned_at)
                    .where(stats_recall.c.member_id == member_id)
                    .order_by(stats_recall.c.named_at)
                )
            ).all()
            daily = (
                await conn.execute(
                    select(stats_member_daily)
                    .where(stats_member_daily.c.member_id == member_id)
                    .order_by(stats_member_daily.c.day)
                )
            ).all()
        return {
            "last_post_at": state.last_post_at.isoformat() if state and state.last_post_at else None,
            "nudge_off": bool(state.nudge_off) if state else False,
            "retained_messages": [{"at": r.at.isoformat(), "text": r.text} for r in texts],
            "feedback": [{"at": r.at.isoformat(), "text": r.text} for r in feedback],
            "nps_answers": [
                {"poll": r.poll_id, "score": r.score, "at": r.answered_at.isoformat()} for r in answers
            ],
            "recalls": [
                {
                    "named_at": r.named_at.isoformat(),
                    "returned_at": r.returned_at.isoformat() if r.returned_at else None,
                }
                for r in recalls
            ],
            "daily": [
                {
                    "day": r.day.isoformat(),
                    "replies_received": r.replies_received,
                    "topic_replies": r.topic_replies,
                }
                for r in daily
            ],
        }

    async def delete_member(self, member_id: int) -> None:
        """Forget one member: their text, feedback, answers, recalls and counters."""
        if self._awaiting is not None:
            self._awaiting.discard(member_id)
        async with self.db.begin() as conn:
            for table in (
                stats_text,
                stats_feedback,
                stats_nps_answer,
                stats_recall,
                stats_member_daily,
                stats_member,
            ):
                await conn.execute(delete(table).where(table.c.member_id == member_id))
            # Cached rankings that named them are dropped whole; they are recomputed on demand.
            groups = select(members.c.group_id).where(members.c.id == member_id).scalar_subquery()
            await conn.execute(delete(stats_top).where(stats_top.c.group_id == groups))

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


def _poll(row: Any) -> NpsPoll:
    return NpsPoll(row.id, row.group_id, row.question, row.started_at, row.closed_at)


class BulkLoader:
    """Fast inserts of synthetic history: the benchmark (``python -m bot bench stats``) and the demo."""

    def __init__(self, db: Database, checkins: CheckinCounter | None = None) -> None:
        self.db = db
        #: Where the day rollups get check-in counts; None when no check-in feature is installed
        #: (the rollups then record none, and ``/stats`` shows no check-in rate).
        self._checkins = checkins

    async def members(self, group_id: int, user_ids: Sequence[str], seen: datetime) -> list[int]:
        """Insert members; returns their ids in order."""
        async with self.db.begin() as conn:
            await conn.execute(
                members.insert(),
                [
                    {
                        "group_id": group_id,
                        "user_id": uid,
                        "display_name": f"member {uid}",
                        "username": None,
                        "is_bot": False,
                        "first_seen": seen,
                        "last_seen": seen,
                        "joined_at": None,
                        "left_at": None,
                        "forgotten": False,
                    }
                    for uid in user_ids
                ],
            )
            rows = (
                await conn.execute(
                    select(members.c.id).where(
                        members.c.group_id == group_id, members.c.user_id.in_(list(user_ids))
                    )
                )
            ).all()
        return sorted(int(r.id) for r in rows)

    async def day(
        self, group_id: int, day: date, activity: Sequence[tuple[int, int, int]], hourly: Sequence[int]
    ) -> None:
        """One day: (member, messages, replies) rows and 24 hourly message counts."""
        async with self.db.begin() as conn:
            if activity:
                await conn.execute(
                    activity_daily.insert(),
                    [
                        {
                            "group_id": group_id,
                            "member_id": m,
                            "day": day,
                            "messages": n,
                            "replies": r,
                            "commands": 0,
                        }
                        for m, n, r in activity
                    ],
                )
            await conn.execute(
                stats_hourly.insert(),
                [{"group_id": group_id, "day": day, "hour": h, "messages": n} for h, n in enumerate(hourly)],
            )

    async def last_posts(self, group_id: int, posts: Sequence[tuple[int, datetime]]) -> None:
        """Lifecycle state: each member's last post."""
        if not posts:
            return
        async with self.db.begin() as conn:
            await conn.execute(
                stats_member.insert(),
                [
                    {"member_id": m, "group_id": group_id, "last_post_at": at, "nudge_off": False}
                    for m, at in posts
                ],
            )

    async def texts(self, group_id: int, rows: Sequence[tuple[int, datetime, str]]) -> None:
        """Retained message text: (member, at, text)."""
        if not rows:
            return
        async with self.db.begin() as conn:
            await conn.execute(
                stats_text.insert(),
                [{"group_id": group_id, "member_id": m, "at": at, "text": t} for m, at, t in rows],
            )
