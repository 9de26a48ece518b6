"""Repositories for the foundation tables: groups, members, settings, roles, dedupe, activity
(scheduled jobs are in ``storage.jobs``)."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.engine import Connection, Row

from storage.database import Database
from storage.models import SEARCH_CAP, Group, Member
from storage.schema import (
    activity_daily,
    adapter_state,
    group_settings,
    groups,
    members,
    processed_events,
    role_overrides,
)
from storage.sql import chunked, dialect_insert, named_upsert, upsert, upsert_statement


def _group(row: Row[Any]) -> Group:
    return Group(
        id=row.id,
        platform=row.platform,
        adapter=row.adapter,
        scope_id=row.scope_id,
        title=row.title,
        timezone=row.timezone,
        language=row.language,
        active=bool(row.active),
    )


def member_from_row(row: Row[Any]) -> Member:
    """A ``Member`` from a row of ``members`` (shared by every repository that joins it)."""
    return Member(
        id=row.id,
        group_id=row.group_id,
        user_id=row.user_id,
        display_name=row.display_name,
        username=row.username,
        is_bot=bool(row.is_bot),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        joined_at=row.joined_at,
        left_at=row.left_at,
        forgotten=bool(row.forgotten),
    )


class GroupRepo:
    """Scopes: one row per community per adapter."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get_or_create(
        self,
        *,
        platform: str,
        adapter: str,
        scope_id: str,
        title: str | None,
        timezone: str,
        language: str,
        now: datetime,
    ) -> Group:
        """The group for ``(adapter, scope_id)``, created with the given defaults on first sight."""
        async with self.db.begin() as conn:
            await upsert(
                conn,
                groups,
                {
                    "platform": platform,
                    "adapter": adapter,
                    "scope_id": scope_id,
                    "title": title,
                    "timezone": timezone,
                    "language": language,
                    "active": True,
                    "created_at": now,
                },
                keys=("adapter", "scope_id"),
            )
            row = (
                await conn.execute(
                    select(groups).where(groups.c.adapter == adapter, groups.c.scope_id == scope_id)
                )
            ).one()
        return _group(row)

    async def get(self, group_id: int) -> Group | None:
        """A group by its internal id."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(groups).where(groups.c.id == group_id))).first()
        return _group(row) if row else None

    async def find(self, adapter: str, scope_id: str) -> Group | None:
        """A group by its platform id."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(groups).where(groups.c.adapter == adapter, groups.c.scope_id == scope_id)
                )
            ).first()
        return _group(row) if row else None

    async def all(self) -> list[Group]:
        """Every group, active or not."""
        async with self.db.begin() as conn:
            rows = (await conn.execute(select(groups).order_by(groups.c.id))).all()
        return [_group(r) for r in rows]

    async def update(self, group_id: int, **values: Any) -> None:
        """Change ``timezone``, ``language``, ``title`` or ``active``."""
        allowed = {"timezone", "language", "title", "active"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        async with self.db.begin() as conn:
            await conn.execute(update(groups).where(groups.c.id == group_id).values(**values))

    async def migrate_scope(self, adapter: str, old_scope: str, new_scope: str) -> Group | None:
        """Follow a platform chat-id change; every feature table refers to ``groups.id``.

        When the new id already has a (fresh, empty) row, it is removed first so the old
        community's history wins.
        """
        async with self.db.begin() as conn:
            old = (
                await conn.execute(
                    select(groups).where(groups.c.adapter == adapter, groups.c.scope_id == old_scope)
                )
            ).first()
            if old is None:
                return None
            await conn.execute(
                delete(groups).where(groups.c.adapter == adapter, groups.c.scope_id == new_scope)
            )
            await conn.execute(update(groups).where(groups.c.id == old.id).values(scope_id=new_scope))
            row = (await conn.execute(select(groups).where(groups.c.id == old.id))).one()
        return _group(row)


@functools.lru_cache(maxsize=8)
def _member_upsert(dialect: str, refreshed: tuple[str, ...]) -> Any:
    """The member upsert returning the row, built once per shape (SQLite ≥ 3.35 and PostgreSQL
    return the row of ``ON CONFLICT DO UPDATE``, inserted or updated alike)."""
    return named_upsert(dialect, members, ("group_id", "user_id"), refreshed).returning(*members.c)


class MemberRepo:
    """Members of groups."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def upsert(
        self,
        *,
        group_id: int,
        user_id: str,
        display_name: str,
        username: str | None,
        is_bot: bool,
        now: datetime,
        joined_at: datetime | None = None,
    ) -> Member:
        """Create the member on first sight, or refresh the name; returns the row.

        ``joined_at``: the member just joined; recorded (clearing an earlier leave) in the same
        transaction, so a join costs one write, not two (a raid is a thousand joins).
        """
        values: dict[str, object] = {
            "group_id": group_id,
            "user_id": user_id,
            "display_name": display_name,
            "username": username,
            "is_bot": is_bot,
            "first_seen": now,
            "last_seen": now,
            "forgotten": False,
        }
        refreshed: tuple[str, ...] = ("display_name", "username", "last_seen")
        if joined_at is not None:
            values.update(joined_at=joined_at, left_at=None)
            refreshed += ("joined_at", "left_at")

        def _write(conn: Connection) -> Row[Any]:
            # One transaction on SQLite's direct writer (no thread round trips), one statement
            # (the upsert returns the row): a new member is the hot path of a raid.
            return conn.execute(_member_upsert(conn.dialect.name, refreshed), values).one()

        row = await self.db.transact(_write)
        return member_from_row(row)

    async def get(self, member_id: int) -> Member | None:
        """A member by internal id."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(members).where(members.c.id == member_id))).first()
        return member_from_row(row) if row else None

    async def find(self, group_id: int, user_id: str) -> Member | None:
        """A member by platform user id."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(members).where(members.c.group_id == group_id, members.c.user_id == user_id)
                )
            ).first()
        return member_from_row(row) if row else None

    async def search(self, group_id: int, name: str) -> list[Member]:
        """Members whose username or display name is ``name`` (case-insensitive)."""
        lowered = name.lower()
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(members)
                    .where(
                        members.c.group_id == group_id,
                        or_(
                            func.lower(members.c.username) == lowered,
                            func.lower(members.c.display_name) == lowered,
                            members.c.user_id == name,
                        ),
                    )
                    .order_by(members.c.id)
                )
            ).all()
        return [member_from_row(r) for r in rows]

    async def page(self, group_id: int, query: str, *, offset: int, limit: int) -> tuple[list[Member], int]:
        """One page of a group's members whose name, username or user id contains ``query``
        (case-insensitive; empty: all) in user-id order, and how many match.

        Without a query, both the order and the count come from the ``(group_id, user_id)``
        unique index, so a page of a 100,000-member group costs no sort and no table scan.

        A search is a substring match, which no B-tree index serves: it reads the group's rows
        once, collecting the matching ids (at most ``SEARCH_CAP`` + 1, sorted by user id here: a
        total above ``SEARCH_CAP`` means "more than that", pages through the first matches the
        scan met, and such a search should be narrowed), then reads the one page it shows by
        id: one pass instead of a count and a page, with a plain ``LIKE`` (case-insensitive for
        ASCII on SQLite; ``ILIKE`` on PostgreSQL) instead of ``lower()`` on every row.
        Forgotten members (anonymous rows waiting for the sweep) are counted but not returned.
        """
        needle = query.strip().lower()
        if not needle:
            async with self.db.begin() as conn:
                total = (
                    await conn.execute(
                        select(func.count()).select_from(members).where(members.c.group_id == group_id)
                    )
                ).scalar_one()
                rows = (
                    await conn.execute(
                        select(members)
                        .where(members.c.group_id == group_id)
                        .order_by(members.c.user_id)
                        .offset(offset)
                        .limit(limit)
                    )
                ).all()
            return [m for m in map(member_from_row, rows) if not m.forgotten], int(total)
        typed = query.strip()
        pattern = "%" + typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        if self.db.is_sqlite:
            # SQLite's LIKE ignores ASCII case itself; lower() on every row costs twice the scan.
            # Letters outside ASCII (CJK has no case) then match as typed.
            match = or_(
                members.c.display_name.like(pattern, escape="\\"),
                members.c.username.like(pattern, escape="\\"),
                members.c.user_id == typed,
            )
        else:
            match = or_(
                members.c.display_name.ilike(pattern, escape="\\"),
                members.c.username.ilike(pattern, escape="\\"),
                members.c.user_id == typed,
            )
        # On SQLite, ``group_id + 0`` keeps the planner off the (group_id, user_id) index: walking
        # it costs a row lookup per member, where reading the table in order and sorting the few
        # matches costs a third less (measured: bench dashboard, members_search).
        in_group = (members.c.group_id + 0 if self.db.is_sqlite else members.c.group_id) == group_id
        async with self.db.begin() as conn:
            # No ORDER BY: sorting every match of a broad search would cost more than the scan.
            # The scan stops at the cap; the matches are put in user-id order here.
            hits = (
                await conn.execute(
                    select(members.c.id, members.c.user_id).where(in_group, match).limit(SEARCH_CAP + 1)
                )
            ).all()
            found = [row.id for row in sorted(hits, key=lambda row: row.user_id)]
            shown = found[:SEARCH_CAP][offset : offset + limit]
            rows = (await conn.execute(select(members).where(members.c.id.in_(shown)))).all() if shown else []
        by_id = {r.id: member_from_row(r) for r in rows}
        page = [by_id[i] for i in shown if i in by_id]
        return [m for m in page if not m.forgotten], len(found)

    async def for_user(self, adapter: str, user_id: str) -> list[Member]:
        """Every group membership of one account on one adapter."""
        return await self._memberships(groups.c.adapter == adapter, user_id)

    async def for_account(self, platform: str, user_id: str) -> list[Member]:
        """Every group membership of one platform account, whichever adapter carries it."""
        return await self._memberships(groups.c.platform == platform, user_id)

    async def _memberships(self, where: Any, user_id: str) -> list[Member]:
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(members)
                    .join(groups, groups.c.id == members.c.group_id)
                    .where(where, members.c.user_id == user_id)
                    .order_by(members.c.id)
                )
            ).all()
        return [member_from_row(r) for r in rows]

    async def in_group(self, group_id: int) -> list[Member]:
        """Every member of a group."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(members).where(members.c.group_id == group_id).order_by(members.c.id)
                )
            ).all()
        return [member_from_row(r) for r in rows]

    async def touch_many(self, seen: Iterable[tuple[int, datetime]]) -> None:
        """Batch-update ``last_seen`` (from the hot path's flush)."""
        rows = [{"mid": mid, "at": at} for mid, at in seen]
        for chunk in chunked(rows):
            await self.db.transact(_touch, chunk)

    async def mark_joined(self, member_id: int, at: datetime) -> None:
        """Record a join (clears an earlier leave)."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(members).where(members.c.id == member_id).values(joined_at=at, left_at=None)
            )

    async def mark_left(self, member_id: int, at: datetime) -> None:
        """Record a leave."""
        async with self.db.begin() as conn:
            await conn.execute(update(members).where(members.c.id == member_id).values(left_at=at))


class SettingsRepo:
    """Per-group setting overrides, stored as JSON text."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def all_for(self, group_id: int) -> dict[str, Any]:
        """Every override of a group."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(group_settings.c.key, group_settings.c.value).where(
                        group_settings.c.group_id == group_id
                    )
                )
            ).all()
        return {r.key: json.loads(r.value) for r in rows}

    async def put(self, group_id: int, key: str, value: Any, by: str | None, now: datetime) -> None:
        """Set one override."""
        async with self.db.begin() as conn:
            await upsert(
                conn,
                group_settings,
                {
                    "group_id": group_id,
                    "key": key,
                    "value": json.dumps(value, ensure_ascii=False),
                    "updated_at": now,
                    "updated_by": by,
                },
                keys=("group_id", "key"),
                update=("value", "updated_at", "updated_by"),
            )

    async def remove(self, group_id: int, key: str) -> None:
        """Drop an override (back to the default)."""
        async with self.db.begin() as conn:
            await conn.execute(
                delete(group_settings).where(
                    group_settings.c.group_id == group_id, group_settings.c.key == key
                )
            )


class RoleRepo:
    """Per-group role overrides granted with ``/promote``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, group_id: int, user_id: str) -> str | None:
        """The override for one member, if any."""
        async with self.db.begin() as conn:
            return (
                await conn.execute(
                    select(role_overrides.c.role).where(
                        role_overrides.c.group_id == group_id, role_overrides.c.user_id == user_id
                    )
                )
            ).scalar_one_or_none()

    async def all_for(self, group_id: int) -> dict[str, str]:
        """Every override in a group, by user id."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(role_overrides.c.user_id, role_overrides.c.role).where(
                        role_overrides.c.group_id == group_id
                    )
                )
            ).all()
        return {r.user_id: r.role for r in rows}

    async def put(self, group_id: int, user_id: str, role: str, by: str | None, now: datetime) -> None:
        """Grant a role."""
        async with self.db.begin() as conn:
            await upsert(
                conn,
                role_overrides,
                {"group_id": group_id, "user_id": user_id, "role": role, "granted_by": by, "granted_at": now},
                keys=("group_id", "user_id"),
                update=("role", "granted_by", "granted_at"),
            )

    async def remove(self, group_id: int, user_id: str) -> bool:
        """Take an override away; True when there was one."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(role_overrides).where(
                    role_overrides.c.group_id == group_id, role_overrides.c.user_id == user_id
                )
            )
        return bool(result.rowcount)


class EventLogRepo:
    """Inbound dedupe state: recent event ids and per-adapter high-water marks."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def recent(self, since: datetime) -> list[tuple[str, str]]:
        """(adapter, event id) pairs seen since ``since``."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(processed_events.c.adapter, processed_events.c.event_id).where(
                        processed_events.c.seen_at >= since
                    )
                )
            ).all()
        return [(r.adapter, r.event_id) for r in rows]

    async def record(self, seen: Sequence[tuple[str, str, datetime]], prune_before: datetime) -> None:
        """Store a batch of handled ids (a transaction per chunk), then prune old ones."""
        await self.insert(seen)
        await self.prune(prune_before)

    async def insert(self, seen: Sequence[tuple[str, str, datetime]]) -> None:
        """Store handled ids (a transaction per chunk)."""
        rows = [{"adapter": a, "event_id": e[:191], "seen_at": t} for a, e, t in seen]
        for chunk in chunked(rows):
            await self.db.transact(_insert_events, chunk)

    async def claim(self, adapter: str, event_id: str, at: datetime) -> bool:
        """Record one handled id now; False when it was already there (another worker has it).

        The primary key (adapter, event id) decides, so two workers that receive the same update
        handle it once between them.
        """
        row = {"adapter": adapter, "event_id": event_id[:191], "seen_at": at}
        return await self.db.transact(_claim_event, row)

    async def prune(self, before: datetime) -> None:
        """Forget ids handled before ``before``."""
        await self.db.transact(_prune_events, before)

    async def get_state(self, adapter: str, key: str) -> str | None:
        """One adapter state value."""
        async with self.db.begin() as conn:
            return (
                await conn.execute(
                    select(adapter_state.c.value).where(
                        adapter_state.c.adapter == adapter, adapter_state.c.key == key
                    )
                )
            ).scalar_one_or_none()

    async def set_states(self, values: Sequence[tuple[str, str, str]]) -> None:
        """Set (adapter, key, value) triples."""
        if values:
            await self.db.transact(_set_states, [{"adapter": a, "key": k, "value": v} for a, k, v in values])


class MessageCountRepo:
    """Per member per local day message counts (the ``activity`` feature's), written in batches."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, rows: Sequence[tuple[int, int | None, date, int, int, int]]) -> None:
        """Add (group, member, day, messages, replies, commands) counts."""
        values = [
            {"group_id": g, "member_id": m, "day": d, "messages": n, "replies": r, "commands": c}
            for g, m, d, n, r, c in rows
        ]
        for chunk in chunked(values):
            await self.db.transact(_add_activity, chunk)

    async def for_member(self, member_id: int) -> list[tuple[date, int, int, int]]:
        """A member's daily counts (for data export)."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(
                        activity_daily.c.day,
                        activity_daily.c.messages,
                        activity_daily.c.replies,
                        activity_daily.c.commands,
                    )
                    .where(activity_daily.c.member_id == member_id)
                    .order_by(activity_daily.c.day)
                )
            ).all()
        return [(r.day, r.messages, r.replies, r.commands) for r in rows]

    async def totals(self, group_id: int, day: date) -> tuple[int, int]:
        """(messages, distinct active members) of a group on a day."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(func.coalesce(func.sum(activity_daily.c.messages), 0), func.count()).where(
                        activity_daily.c.group_id == group_id,
                        activity_daily.c.day == day,
                        activity_daily.c.messages > 0,
                    )
                )
            ).one()
        return int(row[0]), int(row[1])


# --- the hot path's batched writes: one synchronous transaction each (``Database.transact``) ---


def _touch(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    conn.execute(
        update(members).where(members.c.id == bindparam("mid")).values(last_seen=bindparam("at")), rows
    )


def _insert_events(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    conn.execute(upsert_statement(conn, processed_events, ("adapter", "event_id")), rows)


def _claim_event(conn: Connection, row: Mapping[str, Any]) -> bool:
    return bool(conn.execute(upsert_statement(conn, processed_events, ("adapter", "event_id")), row).rowcount)


def _prune_events(conn: Connection, before: datetime) -> None:
    conn.execute(delete(processed_events).where(processed_events.c.seen_at < before))


def _set_states(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    conn.execute(upsert_statement(conn, adapter_state, ("adapter", "key"), ("value",)), rows)


def _add_activity(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    stmt = dialect_insert(conn, activity_daily)
    stmt = stmt.on_conflict_do_update(
        index_elements=["group_id", "member_id", "day"],
        set_={
            "messages": activity_daily.c.messages + stmt.excluded.messages,
            "replies": activity_daily.c.replies + stmt.excluded.replies,
            "commands": activity_daily.c.commands + stmt.excluded.commands,
        },
    )
    conn.execute(stmt, rows)
