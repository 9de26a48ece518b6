"""Activity points and message counts, batched from the hot path and flushed in one transaction.

The daily cap is re-checked against the ledger at flush time: the in-memory limiter on the hot
path forgets its counts on restart, the ledger does not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from storage.checkin.tables import member_badges, member_counters, points_balances, points_ledger
from storage.checkin.values import ActivityCredit, AutoRule, Posting
from storage.database import Database
from storage.sql import dialect_insert

#: Members per statement in a batch flush: far below SQLite's bound-parameter limit.
_CHUNK = 400


class ActivityPointsRepo:
    """Writes a batch of members' activity (points within the daily cap, message counters, badges)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def flush_activity(
        self,
        credits: Sequence[ActivityCredit],
        *,
        badge_rules: Sequence[AutoRule] = (),
    ) -> list[Posting]:
        """Persist a batch of activity in one transaction, in a fixed handful of statements.

        The daily cap is re-checked here against the ledger: the in-memory limiter on the hot path
        forgets its counts on restart, this sum does not. Returns one posting per credit, in order.
        """
        return await self.db.transact(self._flush_activity, credits, badge_rules)

    def _flush_activity(
        self, conn: Connection, credits: Sequence[ActivityCredit], badge_rules: Sequence[AutoRule]
    ) -> list[Posting]:
        out: list[Posting] = []
        for i in range(0, len(credits), _CHUNK):
            out.extend(self._flush_chunk(conn, credits[i : i + _CHUNK], badge_rules))
        return out

    def _flush_chunk(
        self, conn: Connection, credits: Sequence[ActivityCredit], badge_rules: Sequence[AutoRule]
    ) -> list[Posting]:
        member_ids = sorted({c.member_id for c in credits})
        group_ids = sorted({c.group_id for c in credits})
        counted = [
            {"group_id": c.group_id, "member_id": c.member_id, "key": "messages", "value": c.messages}
            for c in credits
            if c.messages
        ]
        if counted:
            stmt = dialect_insert(conn, member_counters)
            stmt = stmt.on_conflict_do_update(
                index_elements=["group_id", "member_id", "key"],
                set_={"value": member_counters.c.value + stmt.excluded.value},
            )
            conn.execute(stmt, counted)
        claiming = [c for c in credits if c.points > 0]
        granted: dict[tuple[int, int, date], int] = {}
        if claiming:
            already = {
                (int(r.group_id), int(r.member_id), r.day): int(r.total)
                for r in (
                    conn.execute(
                        select(
                            points_ledger.c.group_id,
                            points_ledger.c.member_id,
                            points_ledger.c.day,
                            func.sum(points_ledger.c.delta).label("total"),
                        )
                        .where(
                            points_ledger.c.group_id.in_(group_ids),
                            points_ledger.c.member_id.in_(sorted({c.member_id for c in claiming})),
                            points_ledger.c.day.in_(sorted({c.day for c in claiming})),
                            points_ledger.c.kind == "activity",
                        )
                        .group_by(points_ledger.c.group_id, points_ledger.c.member_id, points_ledger.c.day)
                    )
                ).all()
            }
            for c in claiming:
                k = (c.group_id, c.member_id, c.day)
                room = c.daily_cap - already.get(k, 0) - granted.get(k, 0)
                pts = max(0, min(c.points, room))
                if pts:
                    granted[k] = granted.get(k, 0) + pts
        per_member: dict[tuple[int, int], int] = {}
        for (gid, mid, _day), pts in granted.items():
            per_member[(gid, mid)] = per_member.get((gid, mid), 0) + pts
        if per_member:
            first = min(c.at for c in credits)
            conn.execute(
                dialect_insert(conn, points_balances).on_conflict_do_nothing(
                    index_elements=["group_id", "member_id"]
                ),
                [
                    {"group_id": g, "member_id": m, "balance": 0, "earned": 0, "updated_at": first}
                    for g, m in sorted(per_member)
                ],
            )
            last = max(c.at for c in credits)
            conn.execute(
                update(points_balances)
                .where(
                    points_balances.c.group_id == bindparam("g"),
                    points_balances.c.member_id == bindparam("m"),
                )
                .values(
                    balance=points_balances.c.balance + bindparam("d"),
                    earned=points_balances.c.earned + bindparam("d"),
                    updated_at=bindparam("at"),
                    earned_at=bindparam("at"),
                ),
                # Rows in key order, like every multi-row lock here: no deadlock with a transfer.
                [{"g": g, "m": m, "d": d, "at": last} for (g, m), d in sorted(per_member.items())],
            )
        balances = {
            (int(r.group_id), int(r.member_id)): (int(r.balance), int(r.earned))
            for r in (
                conn.execute(
                    select(
                        points_balances.c.group_id,
                        points_balances.c.member_id,
                        points_balances.c.balance,
                        points_balances.c.earned,
                    ).where(
                        points_balances.c.group_id.in_(group_ids), points_balances.c.member_id.in_(member_ids)
                    )
                )
            ).all()
        }
        # Ledger rows with running balances: a member's credits (one per local day) in order.
        running = {k: balances[k][0] - d for k, d in per_member.items()}
        ledger_rows: list[dict[str, Any]] = []
        for c in credits:
            pts = granted.pop((c.group_id, c.member_id, c.day), 0)
            if not pts:
                continue
            mk = (c.group_id, c.member_id)
            running[mk] += pts
            ledger_rows.append(
                {
                    "group_id": c.group_id,
                    "member_id": c.member_id,
                    "delta": pts,
                    "earned": pts,
                    "kind": "activity",
                    "reason": None,
                    "actor_id": None,
                    "ref": None,
                    "at": c.at,
                    "day": c.day,
                    "balance_after": running[mk],
                }
            )
        if ledger_rows:
            conn.execute(points_ledger.insert(), ledger_rows)
        new_badges = self._grant_batch(conn, credits, balances, badge_rules)
        out: list[Posting] = []
        for c in credits:
            mk = (c.group_id, c.member_id)
            bal, earned = balances.get(mk, (0, 0))
            before = earned - per_member.pop(mk, 0)
            out.append(Posting(c.member_id, bal, before, earned, tuple(new_badges.pop(mk, ()))))
        return out

    def _grant_batch(
        self,
        conn: Connection,
        credits: Sequence[ActivityCredit],
        balances: Mapping[tuple[int, int], tuple[int, int]],
        badge_rules: Sequence[AutoRule],
    ) -> dict[tuple[int, int], list[str]]:
        """Badges a flush can unlock (message counts, points earned), checked for the whole batch."""
        rules = [r for r in badge_rules if r[1] in ("messages", "points_earned")]
        if not rules:
            return {}
        keys = sorted({(c.group_id, c.member_id) for c in credits})
        member_ids = sorted({m for _, m in keys})
        group_ids = sorted({g for g, _ in keys})
        messages = {
            (int(r.group_id), int(r.member_id)): int(r.value)
            for r in (
                conn.execute(
                    select(
                        member_counters.c.group_id, member_counters.c.member_id, member_counters.c.value
                    ).where(
                        member_counters.c.group_id.in_(group_ids),
                        member_counters.c.member_id.in_(member_ids),
                        member_counters.c.key == "messages",
                    )
                )
            ).all()
        }
        due: dict[tuple[int, int], list[str]] = {}
        for k in keys:
            values = {"messages": messages.get(k, 0), "points_earned": balances.get(k, (0, 0))[1]}
            hits = [key for key, counter, threshold in rules if values[counter] >= threshold]
            if hits:
                due[k] = hits
        if not due:
            return {}
        owned = {
            (int(r.group_id), int(r.member_id), r.badge_key)
            for r in (
                conn.execute(
                    select(
                        member_badges.c.group_id, member_badges.c.member_id, member_badges.c.badge_key
                    ).where(
                        member_badges.c.group_id.in_(group_ids),
                        member_badges.c.member_id.in_(sorted({m for _, m in due})),
                        member_badges.c.badge_key.in_(sorted({b for hits in due.values() for b in hits})),
                    )
                )
            ).all()
        }
        new = {k: [b for b in hits if (k[0], k[1], b) not in owned] for k, hits in due.items()}
        new = {k: v for k, v in new.items() if v}
        at = max(c.at for c in credits)
        if new:
            conn.execute(
                member_badges.insert(),
                [
                    {"group_id": g, "member_id": m, "badge_key": b, "awarded_at": at}
                    for (g, m), badges in new.items()
                    for b in badges
                ],
            )
        return new
