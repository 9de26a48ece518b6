"""Member lifecycle (new, active, sleeping, churned, left), recall posts and their returns, and
the raw KOL figures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Integer, and_, case, func, literal, or_, select
from sqlalchemy.sql.expression import ColumnElement

from storage.schema import activity_daily, members
from storage.sql import upsert
from storage.stats.base import StatsBase
from storage.stats.tables import stats_member, stats_member_daily, stats_recall, stats_stage_daily
from storage.stats.values import JoinDay, KolRow, MemberCount, StageMember


class MemberRepo(StatsBase):
    """Lifecycle stages, recall and KOL inputs."""

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

    async def record_stages(self, group_id: int, day: date, counts: Mapping[str, int]) -> None:
        """Keep ``counts`` (members per stage) as the stages at the end of local day ``day``."""
        async with self.db.begin() as conn:
            await conn.execute(
                stats_stage_daily.delete().where(
                    stats_stage_daily.c.group_id == group_id, stats_stage_daily.c.day == day
                )
            )
            if counts:
                await conn.execute(
                    stats_stage_daily.insert(),
                    [{"group_id": group_id, "day": day, "stage": k, "members": n} for k, n in counts.items()],
                )

    async def stage_history(self, group_id: int, start: date, end: date) -> dict[date, dict[str, int]]:
        """The recorded stage counts of the days ``start``…``end`` (days not recorded are absent)."""
        t = stats_stage_daily
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(t.c.day, t.c.stage, t.c.members).where(
                        t.c.group_id == group_id, t.c.day.between(start, end)
                    )
                )
            ).all()
        out: dict[date, dict[str, int]] = {}
        for r in rows:
            out.setdefault(r.day, {})[r.stage] = int(r.members)
        return out

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

    # -- new members' retention ---------------------------------------------------------------
    async def join_retention(
        self, group_id: int, days: Sequence[JoinDay]
    ) -> dict[int, tuple[int, tuple[int, ...]]]:
        """Per bucket key: how many members (not bots) joined on its days, and how many of them
        were active (a message or a command, as DAU counts) on some day of each window.

        ``days`` are consecutive and ascending (each ``until`` the next ``since``), all with the
        same number of windows. One pass over the group's members in the database: a member's
        join day, bucket and windows come from a ``CASE`` binary search over the days' bounds, and
        each window is an ``EXISTS`` through the (group, member, day) unique index; nothing per
        member comes back to Python (reading every cohort member's active days back took 0.5-2 s
        of CPU at 100,000 members; see docs/dashboard.md)."""
        if not days:
            return {}
        joined = members.c.joined_at

        def by_day(values: Sequence[Any], kind: Any, lo: int = 0, hi: int = len(days)) -> ColumnElement[Any]:
            # A binary search over the days' bounds: log2(days) comparisons a member, not days/2.
            if hi - lo == 1:
                return literal(values[lo], kind)
            mid = (lo + hi) // 2
            earlier, later = by_day(values, kind, lo, mid), by_day(values, kind, mid, hi)
            return case((joined < days[mid].since, earlier), else_=later)

        flags = []
        for w in range(len(days[0].windows)):
            first = by_day([d.windows[w][0] for d in days], Date())
            last = by_day([d.windows[w][1] for d in days], Date())
            seen = (
                select(literal(1))
                .where(
                    activity_daily.c.group_id == group_id,
                    activity_daily.c.member_id == members.c.id,
                    activity_daily.c.day >= first,
                    activity_daily.c.day <= last,
                    (activity_daily.c.messages + activity_daily.c.commands) > 0,
                )
                .exists()
            )
            flags.append(case((seen, 1), else_=0).label(f"w{w}"))
        inner = (
            select(by_day([d.key for d in days], Integer()).label("key"), *flags)
            .where(
                members.c.group_id == group_id,
                members.c.is_bot.is_(False),
                joined >= days[0].since,
                joined < days[-1].until,
            )
            .subquery()
        )
        stmt = select(
            inner.c.key, func.count().label("n"), *[func.sum(inner.c[f"w{w}"]) for w in range(len(flags))]
        ).group_by(inner.c.key)
        async with self.db.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return {int(r[0]): (int(r[1]), tuple(int(v or 0) for v in r[2:])) for r in rows}

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
