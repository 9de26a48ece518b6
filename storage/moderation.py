"""Moderation storage: lexicon entries, allow-list, alerts, warnings, credit, sanctions, audit log.

Every action the moderation feature takes, automatic or by a moderator, leaves a row in
``mod_log``; alerts keep who handled them and when, so handling times can be reported.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Row

from storage.database import Database
from storage.schema import metadata
from storage.sql import upsert
from storage.types import UTCDateTime

mod_terms = Table(
    "mod_terms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("term", String(256), nullable=False),
    Column("key", String(256), nullable=False),
    Column("level", String(8), nullable=False),
    Column("category", String(32), nullable=False),
    Column("mode", String(8), nullable=False),
    Column("created_by", String(128)),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("group_id", "key", "mode", name="uq_mod_terms_group_key_mode"),
)

mod_allow = Table(
    "mod_allow",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("term", String(256), nullable=False),
    Column("key", String(256), nullable=False),
    Column("created_by", String(128)),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("group_id", "key", name="uq_mod_allow_group_key"),
)

#: Per group and folded key (global or group term): how often it hit and how often a moderator
#: undid the hit, so a term's precision can be reviewed.
mod_term_stats = Table(
    "mod_term_stats",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("hits", Integer, nullable=False, default=0),
    Column("false_positives", Integer, nullable=False, default=0),
)

mod_alerts = Table(
    "mod_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("level", String(8)),
    Column("category", String(32)),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("user_id", String(128)),
    Column("message_id", String(128)),
    Column("term_key", String(256)),
    Column("excerpt", Text),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("notified_at", UTCDateTime()),
    Column("escalated_at", UTCDateTime()),
    Column("handled_by", String(128)),
    Column("handled_at", UTCDateTime()),
    Column("steps", Text, nullable=False),
    Column("refs", Text, nullable=False),
    Column("reporters", Integer, nullable=False, default=0),
    Column("credit_delta", Integer, nullable=False, default=0),
    Column("sanction", String(8)),
    Index("ix_mod_alerts_group_created", "group_id", "created_at"),
)

mod_report_votes = Table(
    "mod_report_votes",
    metadata,
    Column("alert_id", Integer, ForeignKey("mod_alerts.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(128), primary_key=True),
)

mod_warnings = Table(
    "mod_warnings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("reason", Text),
    Column("category", String(32)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("created_by", String(128)),
    Column("revoked_at", UTCDateTime()),
    Column("alert_id", Integer),
    Index("ix_mod_warnings_member", "member_id", "expires_at"),
)

mod_credit = Table(
    "mod_credit",
    metadata,
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("score", Integer, nullable=False),
    Column("recovered_through", Date, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

mod_sanctions = Table(
    "mod_sanctions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("until", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("lifted_at", UTCDateTime()),
    Column("reason", Text),
    Index("ix_mod_sanctions_open", "lifted_at", "until"),
)

mod_log = Table(
    "mod_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("alert_id", Integer),
    Index("ix_mod_log_group_at", "group_id", "at"),
)


@dataclass(frozen=True, slots=True)
class TermRow:
    """A group lexicon entry."""

    id: int
    group_id: int
    term: str
    key: str
    level: str
    category: str
    mode: str
    created_by: str | None


@dataclass(frozen=True, slots=True)
class AllowRow:
    """A group allow-list phrase."""

    id: int
    group_id: int
    term: str
    key: str


@dataclass(frozen=True, slots=True)
class AlertRow:
    """An alert to the moderators and how it was handled."""

    id: int
    group_id: int
    kind: str
    level: str | None
    category: str | None
    member_id: int | None
    user_id: str | None
    message_id: str | None
    term_key: str | None
    excerpt: str | None
    status: str
    created_at: datetime
    notified_at: datetime | None
    escalated_at: datetime | None
    handled_by: str | None
    handled_at: datetime | None
    steps: list[dict[str, Any]]
    refs: list[list[str]]
    reporters: int
    credit_delta: int
    sanction: str | None


@dataclass(frozen=True, slots=True)
class WarningRow:
    """A warning; active while not revoked and not expired."""

    id: int
    group_id: int
    member_id: int
    reason: str | None
    category: str | None
    created_at: datetime
    expires_at: datetime
    created_by: str | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class SanctionRow:
    """A mute or ban, with the instant it ends (None: until lifted by hand)."""

    id: int
    group_id: int
    member_id: int
    user_id: str
    kind: str
    until: datetime | None
    created_at: datetime
    lifted_at: datetime | None


@dataclass(frozen=True, slots=True)
class LogRow:
    """One audit-log line."""

    id: int
    group_id: int
    at: datetime
    actor: str
    member_id: int | None
    action: str
    detail: str
    alert_id: int | None


@dataclass(frozen=True, slots=True)
class CreditRow:
    """A member's credit and the last local day already credited for being clean."""

    member_id: int
    group_id: int
    score: int
    recovered_through: date


@dataclass(frozen=True, slots=True)
class TermStats:
    """Hits and undone hits of one folded key in one group."""

    key: str
    hits: int
    false_positives: int


def _alert(row: Row[Any]) -> AlertRow:
    return AlertRow(
        id=row.id,
        group_id=row.group_id,
        kind=row.kind,
        level=row.level,
        category=row.category,
        member_id=row.member_id,
        user_id=row.user_id,
        message_id=row.message_id,
        term_key=row.term_key,
        excerpt=row.excerpt,
        status=row.status,
        created_at=row.created_at,
        notified_at=row.notified_at,
        escalated_at=row.escalated_at,
        handled_by=row.handled_by,
        handled_at=row.handled_at,
        steps=json.loads(row.steps or "[]"),
        refs=json.loads(row.refs or "[]"),
        reporters=row.reporters,
        credit_delta=row.credit_delta,
        sanction=row.sanction,
    )


def _warning(row: Row[Any]) -> WarningRow:
    return WarningRow(
        id=row.id,
        group_id=row.group_id,
        member_id=row.member_id,
        reason=row.reason,
        category=row.category,
        created_at=row.created_at,
        expires_at=row.expires_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
    )


def _sanction(row: Row[Any]) -> SanctionRow:
    return SanctionRow(
        id=row.id,
        group_id=row.group_id,
        member_id=row.member_id,
        user_id=row.user_id,
        kind=row.kind,
        until=row.until,
        created_at=row.created_at,
        lifted_at=row.lifted_at,
    )


def _log(row: Row[Any]) -> LogRow:
    return LogRow(
        id=row.id,
        group_id=row.group_id,
        at=row.at,
        actor=row.actor,
        member_id=row.member_id,
        action=row.action,
        detail=row.detail,
        alert_id=row.alert_id,
    )


class ModerationRepo:
    """Every moderation query; one transaction per method."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- lexicon -------------------------------------------------------------------------
    async def terms(self, group_id: int) -> list[TermRow]:
        """The group's lexicon entries, oldest first."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(mod_terms).where(mod_terms.c.group_id == group_id).order_by(mod_terms.c.id)
            )
            return [
                TermRow(r.id, r.group_id, r.term, r.key, r.level, r.category, r.mode, r.created_by)
                for r in rows
            ]

    async def add_terms(
        self, group_id: int, entries: Sequence[tuple[str, str, str, str, str]], by: str, now: datetime
    ) -> int:
        """Insert ``(term, key, level, category, mode)`` rows, updating existing keys; returns how many."""
        if not entries:
            return 0
        async with self.db.begin() as conn:
            await upsert(
                conn,
                mod_terms,
                [
                    {
                        "group_id": group_id,
                        "term": term,
                        "key": key,
                        "level": level,
                        "category": category,
                        "mode": mode,
                        "created_by": by,
                        "created_at": now,
                    }
                    for term, key, level, category, mode in entries
                ],
                keys=["group_id", "key", "mode"],
                update=["term", "level", "category", "created_by", "created_at"],
            )
        return len(entries)

    async def delete_term(self, group_id: int, key: str) -> int:
        """Remove every entry with this folded key (or this exact regex); returns how many."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(mod_terms).where(
                    mod_terms.c.group_id == group_id, or_(mod_terms.c.key == key, mod_terms.c.term == key)
                )
            )
            return int(result.rowcount or 0)

    async def allow_terms(self, group_id: int) -> list[AllowRow]:
        """The group's allow-list."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(mod_allow).where(mod_allow.c.group_id == group_id).order_by(mod_allow.c.id)
            )
            return [AllowRow(r.id, r.group_id, r.term, r.key) for r in rows]

    async def add_allow(self, group_id: int, term: str, key: str, by: str, now: datetime) -> bool:
        """Add an allow-list phrase; False when its key is already there."""
        async with self.db.begin() as conn:
            found = await conn.execute(
                select(mod_allow.c.id).where(mod_allow.c.group_id == group_id, mod_allow.c.key == key)
            )
            if found.first() is not None:
                return False
            await conn.execute(
                mod_allow.insert().values(
                    group_id=group_id, term=term, key=key, created_by=by, created_at=now
                )
            )
            return True

    async def delete_allow(self, group_id: int, key: str) -> bool:
        """Remove an allow-list phrase."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                delete(mod_allow).where(mod_allow.c.group_id == group_id, mod_allow.c.key == key)
            )
            return bool(result.rowcount)

    async def count_hit(self, group_id: int, key: str, *, false_positive: bool = False) -> None:
        """Count a hit (or an undone one) of a folded key."""
        async with self.db.begin() as conn:
            await upsert(
                conn,
                mod_term_stats,
                {
                    "group_id": group_id,
                    "key": key,
                    "hits": 0 if false_positive else 1,
                    "false_positives": int(false_positive),
                },
                keys=["group_id", "key"],
                update={
                    "hits": mod_term_stats.c.hits + (0 if false_positive else 1),
                    "false_positives": mod_term_stats.c.false_positives + int(false_positive),
                },
            )

    async def term_stats(self, group_id: int) -> dict[str, TermStats]:
        """Hit counts by folded key."""
        async with self.db.begin() as conn:
            rows = await conn.execute(select(mod_term_stats).where(mod_term_stats.c.group_id == group_id))
            return {r.key: TermStats(r.key, r.hits, r.false_positives) for r in rows}

    # -- alerts --------------------------------------------------------------------------
    async def add_alert(
        self,
        *,
        group_id: int,
        kind: str,
        now: datetime,
        level: str | None = None,
        category: str | None = None,
        member_id: int | None = None,
        user_id: str | None = None,
        message_id: str | None = None,
        term_key: str | None = None,
        excerpt: str | None = None,
        steps: Sequence[dict[str, Any]] = (),
        credit_delta: int = 0,
        sanction: str | None = None,
        reporters: int = 0,
    ) -> int:
        """Create an open alert; returns its id."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                mod_alerts.insert().values(
                    group_id=group_id,
                    kind=kind,
                    level=level,
                    category=category,
                    member_id=member_id,
                    user_id=user_id,
                    message_id=message_id,
                    term_key=term_key,
                    excerpt=excerpt,
                    status="open",
                    created_at=now,
                    steps=json.dumps(list(steps), ensure_ascii=False),
                    refs="[]",
                    reporters=reporters,
                    credit_delta=credit_delta,
                    sanction=sanction,
                )
            )
            inserted = result.inserted_primary_key
            assert inserted is not None
            return int(inserted[0])

    async def alert(self, alert_id: int) -> AlertRow | None:
        """One alert."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(mod_alerts).where(mod_alerts.c.id == alert_id))).first()
            return _alert(row) if row else None

    async def alerts(
        self,
        group_id: int,
        *,
        status: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
    ) -> list[AlertRow]:
        """Alerts of a group, newest first."""
        query = select(mod_alerts).where(mod_alerts.c.group_id == group_id)
        if status is not None:
            query = query.where(mod_alerts.c.status == status)
        if kind is not None:
            query = query.where(mod_alerts.c.kind == kind)
        if since is not None:
            query = query.where(mod_alerts.c.created_at >= since)
        async with self.db.begin() as conn:
            rows = await conn.execute(query.order_by(mod_alerts.c.id.desc()).limit(limit))
            return [_alert(r) for r in rows]

    async def unnotified(self, group_id: int, kind: str, level: str) -> list[AlertRow]:
        """Alerts waiting for the next batched message, oldest first."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(mod_alerts)
                .where(
                    mod_alerts.c.group_id == group_id,
                    mod_alerts.c.kind == kind,
                    mod_alerts.c.level == level,
                    mod_alerts.c.notified_at.is_(None),
                )
                .order_by(mod_alerts.c.id)
            )
            return [_alert(r) for r in rows]

    async def last_notified(self, group_id: int, kind: str, level: str) -> datetime | None:
        """When the last batched alert message of this kind went out."""
        async with self.db.begin() as conn:
            value = (
                await conn.execute(
                    select(func.max(mod_alerts.c.notified_at)).where(
                        mod_alerts.c.group_id == group_id,
                        mod_alerts.c.kind == kind,
                        mod_alerts.c.level == level,
                    )
                )
            ).scalar()
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        # func.max bypasses the column type on SQLite, so the value may come back naive.
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    async def mark_notified(
        self, alert_ids: Sequence[int], now: datetime, refs: Sequence[Sequence[str]] = ()
    ) -> None:
        """Record that these alerts were sent (and where, so buttons and edits can find them)."""
        if not alert_ids:
            return
        async with self.db.begin() as conn:
            await conn.execute(
                update(mod_alerts)
                .where(mod_alerts.c.id.in_(list(alert_ids)))
                .values(notified_at=now, refs=json.dumps([list(r) for r in refs]))
            )

    async def set_alert(self, alert_id: int, **values: Any) -> None:
        """Update fields of an alert (``steps`` and ``refs`` as lists)."""
        for name in ("steps", "refs"):
            if name in values:
                values[name] = json.dumps(values[name], ensure_ascii=False)
        async with self.db.begin() as conn:
            await conn.execute(update(mod_alerts).where(mod_alerts.c.id == alert_id).values(**values))

    async def handle_alert(self, alert_id: int, status: str, by: str, now: datetime) -> bool:
        """Close an open alert; False when it was already handled (first moderator wins)."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(mod_alerts)
                .where(mod_alerts.c.id == alert_id, mod_alerts.c.status == "open")
                .values(status=status, handled_by=by, handled_at=now)
            )
            return bool(result.rowcount)

    async def report_alert_for(self, group_id: int, message_id: str) -> AlertRow | None:
        """The open report alert about a message, if any."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(mod_alerts).where(
                        mod_alerts.c.group_id == group_id,
                        mod_alerts.c.kind == "report",
                        mod_alerts.c.message_id == message_id,
                        mod_alerts.c.status == "open",
                    )
                )
            ).first()
            return _alert(row) if row else None

    async def add_reporter(self, alert_id: int, user_id: str) -> bool:
        """Count one member's report of an alert's message; False when they had already reported it."""
        async with self.db.begin() as conn:
            found = await conn.execute(
                select(mod_report_votes.c.alert_id).where(
                    mod_report_votes.c.alert_id == alert_id, mod_report_votes.c.user_id == user_id
                )
            )
            if found.first() is not None:
                return False
            await conn.execute(mod_report_votes.insert().values(alert_id=alert_id, user_id=user_id))
            await conn.execute(
                update(mod_alerts)
                .where(mod_alerts.c.id == alert_id)
                .values(reporters=mod_alerts.c.reporters + 1)
            )
            return True

    async def handled_durations(self, group_id: int, kind: str, since: datetime) -> list[float]:
        """Seconds from creation to handling of the alerts handled since ``since``."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(mod_alerts.c.created_at, mod_alerts.c.handled_at).where(
                    mod_alerts.c.group_id == group_id,
                    mod_alerts.c.kind == kind,
                    mod_alerts.c.created_at >= since,
                    mod_alerts.c.handled_at.is_not(None),
                )
            )
            return [(r.handled_at - r.created_at).total_seconds() for r in rows]

    async def count_alerts(self, group_id: int, kind: str, since: datetime) -> int:
        """How many alerts of a kind were raised since ``since``."""
        async with self.db.begin() as conn:
            value = (
                await conn.execute(
                    select(func.count()).where(
                        mod_alerts.c.group_id == group_id,
                        mod_alerts.c.kind == kind,
                        mod_alerts.c.created_at >= since,
                    )
                )
            ).scalar()
            return int(value or 0)

    # -- warnings ------------------------------------------------------------------------
    async def add_warning(
        self,
        group_id: int,
        member_id: int,
        *,
        reason: str | None,
        category: str | None,
        by: str,
        now: datetime,
        expires_at: datetime,
        alert_id: int | None = None,
    ) -> int:
        """Record a warning; returns the member's active warnings after it."""
        async with self.db.begin() as conn:
            await conn.execute(
                mod_warnings.insert().values(
                    group_id=group_id,
                    member_id=member_id,
                    reason=reason,
                    category=category,
                    created_at=now,
                    expires_at=expires_at,
                    created_by=by,
                    alert_id=alert_id,
                )
            )
            value = (
                await conn.execute(
                    select(func.count()).where(
                        mod_warnings.c.member_id == member_id,
                        mod_warnings.c.revoked_at.is_(None),
                        mod_warnings.c.expires_at > now,
                    )
                )
            ).scalar()
            return int(value or 0)

    async def active_warnings(self, member_id: int, now: datetime) -> list[WarningRow]:
        """Unexpired, unrevoked warnings, oldest first."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(mod_warnings)
                .where(
                    mod_warnings.c.member_id == member_id,
                    mod_warnings.c.revoked_at.is_(None),
                    mod_warnings.c.expires_at > now,
                )
                .order_by(mod_warnings.c.id)
            )
            return [_warning(r) for r in rows]

    async def revoke_latest_warning(self, member_id: int, now: datetime) -> WarningRow | None:
        """Revoke the newest active warning; returns it (None when there was none)."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(mod_warnings)
                    .where(
                        mod_warnings.c.member_id == member_id,
                        mod_warnings.c.revoked_at.is_(None),
                        mod_warnings.c.expires_at > now,
                    )
                    .order_by(mod_warnings.c.id.desc())
                    .limit(1)
                )
            ).first()
            if row is None:
                return None
            await conn.execute(update(mod_warnings).where(mod_warnings.c.id == row.id).values(revoked_at=now))
            return _warning(row)

    async def revoke_warnings_of_alert(self, alert_id: int, now: datetime) -> int:
        """Revoke the warnings an alert gave (an undone false positive)."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(mod_warnings)
                .where(mod_warnings.c.alert_id == alert_id, mod_warnings.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return int(result.rowcount or 0)

    # -- credit --------------------------------------------------------------------------
    async def credit(self, member_id: int) -> CreditRow | None:
        """A member's stored credit (None: never changed, so the starting score)."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(mod_credit).where(mod_credit.c.member_id == member_id))).first()
            return CreditRow(row.member_id, row.group_id, row.score, row.recovered_through) if row else None

    async def put_credit(
        self, member_id: int, group_id: int, score: int, recovered_through: date, now: datetime
    ) -> None:
        """Store a member's credit."""
        async with self.db.begin() as conn:
            await upsert(
                conn,
                mod_credit,
                {
                    "member_id": member_id,
                    "group_id": group_id,
                    "score": score,
                    "recovered_through": recovered_through,
                    "updated_at": now,
                },
                keys=["member_id"],
                update=["score", "recovered_through", "updated_at"],
            )

    # -- sanctions -----------------------------------------------------------------------
    async def add_sanction(
        self,
        group_id: int,
        member_id: int,
        user_id: str,
        kind: str,
        until: datetime | None,
        now: datetime,
        reason: str | None,
    ) -> int:
        """Record a mute or ban; an earlier open one of the same kind is closed. Returns the id."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(mod_sanctions)
                .where(
                    mod_sanctions.c.member_id == member_id,
                    mod_sanctions.c.kind == kind,
                    mod_sanctions.c.lifted_at.is_(None),
                )
                .values(lifted_at=now)
            )
            result = await conn.execute(
                mod_sanctions.insert().values(
                    group_id=group_id,
                    member_id=member_id,
                    user_id=user_id,
                    kind=kind,
                    until=until,
                    created_at=now,
                    reason=reason,
                )
            )
            inserted = result.inserted_primary_key
            assert inserted is not None
            return int(inserted[0])

    async def sanction(self, sanction_id: int) -> SanctionRow | None:
        """One sanction."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(mod_sanctions).where(mod_sanctions.c.id == sanction_id))).first()
            return _sanction(row) if row else None

    async def open_sanctions(self, member_id: int | None = None) -> list[SanctionRow]:
        """Sanctions not yet lifted (of one member, or all)."""
        query = select(mod_sanctions).where(mod_sanctions.c.lifted_at.is_(None))
        if member_id is not None:
            query = query.where(mod_sanctions.c.member_id == member_id)
        async with self.db.begin() as conn:
            rows = await conn.execute(query.order_by(mod_sanctions.c.id))
            return [_sanction(r) for r in rows]

    async def lift(self, member_id: int, kind: str, now: datetime) -> list[int]:
        """Close the open sanctions of a kind for a member; returns their ids."""
        async with self.db.begin() as conn:
            rows = await conn.execute(
                select(mod_sanctions.c.id).where(
                    mod_sanctions.c.member_id == member_id,
                    mod_sanctions.c.kind == kind,
                    mod_sanctions.c.lifted_at.is_(None),
                )
            )
            ids = [int(r.id) for r in rows]
            if ids:
                await conn.execute(
                    update(mod_sanctions).where(mod_sanctions.c.id.in_(ids)).values(lifted_at=now)
                )
            return ids

    async def close_sanction(self, sanction_id: int, now: datetime) -> bool:
        """Mark one sanction lifted; False when it already was."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(mod_sanctions)
                .where(mod_sanctions.c.id == sanction_id, mod_sanctions.c.lifted_at.is_(None))
                .values(lifted_at=now)
            )
            return bool(result.rowcount)

    # -- audit log -----------------------------------------------------------------------
    async def log(
        self,
        group_id: int,
        at: datetime,
        actor: str,
        action: str,
        detail: str = "",
        *,
        member_id: int | None = None,
        alert_id: int | None = None,
    ) -> None:
        """Append one audit-log line."""
        async with self.db.begin() as conn:
            await conn.execute(
                mod_log.insert().values(
                    group_id=group_id,
                    at=at,
                    actor=actor,
                    member_id=member_id,
                    action=action,
                    detail=detail,
                    alert_id=alert_id,
                )
            )

    async def log_rows(self, group_id: int, member_id: int | None = None, limit: int = 20) -> list[LogRow]:
        """Newest audit-log lines of a group (or about one member)."""
        query = select(mod_log).where(mod_log.c.group_id == group_id)
        if member_id is not None:
            query = query.where(mod_log.c.member_id == member_id)
        async with self.db.begin() as conn:
            rows = await conn.execute(query.order_by(mod_log.c.id.desc()).limit(limit))
            return [_log(r) for r in rows]

    # -- member data ---------------------------------------------------------------------
    async def export_member(self, member_id: int) -> dict[str, Any]:
        """What moderation stores about a member, for ``/mydata``."""
        async with self.db.begin() as conn:
            warnings = (
                await conn.execute(select(mod_warnings).where(mod_warnings.c.member_id == member_id))
            ).all()
            credit = (
                await conn.execute(select(mod_credit).where(mod_credit.c.member_id == member_id))
            ).first()
            sanctions = (
                await conn.execute(select(mod_sanctions).where(mod_sanctions.c.member_id == member_id))
            ).all()
            alerts = (await conn.execute(select(mod_alerts).where(mod_alerts.c.member_id == member_id))).all()
        return {
            "warnings": [
                {
                    "at": w.created_at.isoformat(),
                    "expires": w.expires_at.isoformat(),
                    "category": w.category,
                    "reason": w.reason,
                }
                for w in warnings
            ],
            "credit": credit.score if credit else None,
            "sanctions": [
                {
                    "kind": s.kind,
                    "at": s.created_at.isoformat(),
                    "until": s.until.isoformat() if s.until else None,
                }
                for s in sanctions
            ],
            "alerts": [
                {"at": a.created_at.isoformat(), "kind": a.kind, "level": a.level, "category": a.category}
                for a in alerts
            ],
        }

    async def forget_member(self, member_id: int) -> None:
        """Remove what is personal; alerts and the audit log keep counts but lose the link."""
        async with self.db.begin() as conn:
            await conn.execute(delete(mod_warnings).where(mod_warnings.c.member_id == member_id))
            await conn.execute(delete(mod_credit).where(mod_credit.c.member_id == member_id))
            await conn.execute(
                update(mod_alerts)
                .where(mod_alerts.c.member_id == member_id)
                .values(member_id=None, user_id=None, excerpt=None)
            )
            await conn.execute(update(mod_log).where(mod_log.c.member_id == member_id).values(member_id=None))
            await conn.execute(
                update(mod_sanctions)
                .where(and_(mod_sanctions.c.member_id == member_id, mod_sanctions.c.lifted_at.is_(None)))
                .values(reason=None)
            )
