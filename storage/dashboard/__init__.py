"""Dashboard storage: one-time login links, browser sessions and failed logins (``DashboardRepo``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, insert, or_, select, update

from storage.dashboard.tables import dashboard_links, dashboard_login_failures, dashboard_sessions
from storage.database import Database


def digest(secret: str) -> str:
    """What is stored of a token or a session id: its SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Account:
    """A platform account a link or a session is bound to."""

    platform: str
    user_id: str


@dataclass(frozen=True, slots=True)
class SessionRow:
    """An open browser session."""

    account: Account
    csrf: str
    lang: str | None
    expires_at: datetime


class DashboardRepo:
    """Login links and sessions; one transaction per method. Secrets come in raw and are
    stored hashed (``digest``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_link(self, token: str, account: Account, now: datetime, expires_at: datetime) -> None:
        """Store a new one-time link."""
        async with self.db.begin() as conn:
            await conn.execute(
                insert(dashboard_links).values(
                    token_hash=digest(token),
                    platform=account.platform,
                    user_id=account.user_id,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    async def links_since(self, account: Account, since: datetime) -> int:
        """How many links the account was sent since ``since`` (the rate limit)."""
        async with self.db.begin() as conn:
            query = select(func.count()).where(
                dashboard_links.c.platform == account.platform,
                dashboard_links.c.user_id == account.user_id,
                dashboard_links.c.created_at >= since,
            )
            return int((await conn.execute(query)).scalar_one())

    async def peek_link(self, token: str, now: datetime) -> Account | None:
        """The account of a link still usable at ``now`` (unused, unexpired), without using it."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(dashboard_links.c.platform, dashboard_links.c.user_id).where(
                        dashboard_links.c.token_hash == digest(token),
                        dashboard_links.c.used_at.is_(None),
                        dashboard_links.c.expires_at > now,
                    )
                )
            ).first()
        return Account(row.platform, row.user_id) if row else None

    async def use_link(self, token: str, now: datetime) -> Account | None:
        """Use a link: its account when it was unused and unexpired at ``now``, else None. One
        conditional UPDATE, so two browsers racing with one link cannot both get in."""
        where = and_(
            dashboard_links.c.token_hash == digest(token),
            dashboard_links.c.used_at.is_(None),
            dashboard_links.c.expires_at > now,
        )
        async with self.db.begin() as conn:
            row = (
                await conn.execute(select(dashboard_links.c.platform, dashboard_links.c.user_id).where(where))
            ).first()
            if row is None:
                return None
            done = await conn.execute(update(dashboard_links).where(where).values(used_at=now))
            if done.rowcount != 1:
                return None
        return Account(row.platform, row.user_id)

    async def open_session(
        self, session_id: str, account: Account, csrf: str, now: datetime, expires_at: datetime
    ) -> None:
        """Store a new session."""
        async with self.db.begin() as conn:
            await conn.execute(
                insert(dashboard_sessions).values(
                    id_hash=digest(session_id),
                    platform=account.platform,
                    user_id=account.user_id,
                    csrf=csrf,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    async def session(self, session_id: str, now: datetime) -> SessionRow | None:
        """The open session with this id at ``now``, or None."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    select(dashboard_sessions).where(
                        dashboard_sessions.c.id_hash == digest(session_id),
                        dashboard_sessions.c.expires_at > now,
                    )
                )
            ).first()
        if row is None:
            return None
        return SessionRow(Account(row.platform, row.user_id), row.csrf, row.lang, row.expires_at)

    async def set_language(self, session_id: str, lang: str) -> None:
        """Remember the page language a session chose."""
        async with self.db.begin() as conn:
            await conn.execute(
                update(dashboard_sessions)
                .where(dashboard_sessions.c.id_hash == digest(session_id))
                .values(lang=lang)
            )

    async def close_session(self, session_id: str) -> None:
        """End one session (the page's Log out)."""
        async with self.db.begin() as conn:
            await conn.execute(
                delete(dashboard_sessions).where(dashboard_sessions.c.id_hash == digest(session_id))
            )

    async def close_all(self, account: Account) -> int:
        """End every session of an account (``/dashboard logout``); returns how many."""
        async with self.db.begin() as conn:
            done = await conn.execute(
                delete(dashboard_sessions).where(
                    dashboard_sessions.c.platform == account.platform,
                    dashboard_sessions.c.user_id == account.user_id,
                )
            )
            return int(done.rowcount or 0)

    async def failures_since(self, address: str, since: datetime) -> int:
        """How many failed login attempts ``address`` made after ``since`` (the login rate limit)."""
        async with self.db.begin() as conn:
            query = select(func.count()).where(
                dashboard_login_failures.c.address == address[:64],
                dashboard_login_failures.c.at > since,
            )
            return int((await conn.execute(query)).scalar_one())

    async def add_failure(self, address: str, now: datetime, keep: timedelta) -> None:
        """Count one failed login attempt of ``address``, and delete every address's attempts
        older than ``keep`` (the table never holds more than one window of failures)."""
        async with self.db.begin() as conn:
            old = dashboard_login_failures.c.at <= now - keep
            await conn.execute(delete(dashboard_login_failures).where(old))
            await conn.execute(insert(dashboard_login_failures).values(address=address[:64], at=now))

    async def sweep(self, now: datetime) -> int:
        """Delete expired sessions and links past use; returns how many rows went."""
        async with self.db.begin() as conn:
            a = await conn.execute(delete(dashboard_sessions).where(dashboard_sessions.c.expires_at <= now))
            b = await conn.execute(
                delete(dashboard_links).where(
                    or_(dashboard_links.c.expires_at <= now, dashboard_links.c.used_at.is_not(None))
                )
            )
            return int(a.rowcount or 0) + int(b.rowcount or 0)


__all__ = ["Account", "DashboardRepo", "SessionRow", "digest"]
