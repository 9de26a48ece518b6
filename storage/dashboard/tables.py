"""The dashboard's tables: one-time login links, browser sessions, failed logins (issue 17).

Neither keeps a secret in the clear: a link's token and a session's id are stored as their
SHA-256 (a copy of the database lets nobody in). Both are bound to a platform account
(``platform`` + ``user_id``), not to one group: a session sees every group its account moderates.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, select
from sqlalchemy.sql.elements import ColumnElement

from storage.rights import declare, erase
from storage.schema import groups, metadata
from storage.types import UTCDateTime

#: One-time login links sent by ``/dashboard``: valid until ``expires_at``, used at most once.
dashboard_links = Table(
    "dashboard_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime()),
    Index("ix_dashboard_links_user", "platform", "user_id", "created_at"),
)

#: Browser sessions opened with a link; ``/dashboard logout`` deletes all of an account's.
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("user_id", String(128), nullable=False),
    #: The per-session CSRF token every form posts back (random, not derived from the id).
    Column("csrf", String(64), nullable=False),
    #: The page language the member chose (None: the group's language).
    Column("lang", String(8)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index("ix_dashboard_sessions_user", "platform", "user_id"),
)


#: Cache invalidations between processes sharing one SQLite file (a worker and `bot web`), which
#: have no NOTIFY: each process appends what it changed and reads the others' lines
#: (``bot.changes.ChangeFeed``). Only topic names and group ids: nothing about members.
dashboard_changes = Table(
    "dashboard_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("worker", String(128), nullable=False),
    Column("topic", String(32), nullable=False),
    Column("key", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)


#: Failed login-link attempts per client address (the login rate limit), in the database so a
#: restart does not forget them and `bot web` and the workers share one count. An address is not
#: a member: no data rights to declare. Rows older than the window are deleted as new ones come.
dashboard_login_failures = Table(
    "dashboard_login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_dashboard_login_failures_address", "address", "at"),
    Index("ix_dashboard_login_failures_at", "at"),
)


def _same_platform(table: Table, group_id: int) -> ColumnElement[bool]:
    """An account's rows are the ones on the platform of the group being forgotten in."""
    platform = select(groups.c.platform).where(groups.c.id == group_id).scalar_subquery()
    return table.c.platform == platform


declare(
    dashboard_links,
    erase("user_id", holds="user"),
    scope=_same_platform,
    why="a login link is the member's own; it is useless once used or expired",
)
declare(
    dashboard_sessions,
    erase("user_id", holds="user"),
    scope=_same_platform,
    why="a browser session is the member's own; forgetting logs them out everywhere",
)
