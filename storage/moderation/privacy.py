"""What moderation keeps about one member, for export and for forgetting."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, select, update

from storage.database import Database
from storage.moderation.tables import mod_alerts, mod_credit, mod_log, mod_sanctions, mod_warnings


class ModerationPrivacyRepo:
    """Exports or forgets one member's moderation rows."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
