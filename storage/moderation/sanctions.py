"""What moderation does to a member: warnings, the credit score, and mutes and bans."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Row

from storage.database import Database
from storage.moderation.tables import mod_credit, mod_sanctions, mod_warnings
from storage.sql import upsert


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
class CreditRow:
    """A member's credit and the last local day already credited for being clean."""

    member_id: int
    group_id: int
    score: int
    recovered_through: date


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


class SanctionRepo:
    """Warnings, credit and sanctions; one transaction per method."""

    def __init__(self, db: Database) -> None:
        self.db = db

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

    async def active_warning_count(self, member_ids: Sequence[int], now: datetime) -> int:
        """Unexpired, unrevoked warnings of all ``member_ids`` together (a person's accounts)."""
        if not member_ids:
            return 0
        async with self.db.begin() as conn:
            value = (
                await conn.execute(
                    select(func.count()).where(
                        mod_warnings.c.member_id.in_(list(member_ids)),
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
