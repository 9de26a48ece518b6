"""The moderation feature's tables: lexicon and allow-list, term statistics, alerts and report
votes, warnings, credit, sanctions and the audit log. Declared on ``storage.schema.metadata``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
    true,
)

from storage.rights import clear, declare, erase, rewrite
from storage.schema import metadata
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
    # Shared with the chat's community (when it shares its lexicon); false: ``/kw add … here``.
    Column("shared", Boolean, nullable=False, server_default=true()),
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

#: A flooder of an open burst (``handlers.moderation.floods``): muted on the platform already,
#: their alert, sanction and audit rows not written yet. One cheap insert when they are muted, so
#: a crash inside the burst loses nothing: the next start writes what is left here. Deleted in
#: the transaction that writes the burst.
mod_flood_held = Table(
    "mod_flood_held",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("record", Text, nullable=False),
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

# -- data rights (storage/rights.py; docs/privacy.md) ------------------------------------------

#: The stand-in where a column that names someone cannot be NULL.
FORGOTTEN = "(forgotten)"


def _open(table: Table) -> Any:
    """A sanction still in force: kept whole until it is lifted, or it could not be lifted."""
    return table.c.lifted_at.is_(None)


def _held(table: Table) -> Any:
    """Every held flooder: the burst's write takes the row within seconds."""
    return table.c.id.is_not(None)


def _alerts_of(table: Table, group_id: int) -> Any:
    return table.c.alert_id.in_(select(mod_alerts.c.id).where(mod_alerts.c.group_id == group_id))


declare(mod_terms, clear("created_by", holds="user"), why="the group's word list stays, unsigned")
declare(mod_allow, clear("created_by", holds="user"), why="the group's allow list stays, unsigned")
declare(
    mod_alerts,
    clear("member_id", "user_id", "excerpt"),
    clear("user_id", "member_id", "excerpt", holds="user"),
    clear("handled_by", holds="user"),
    why="an alert stays for the moderators' figures (level, category, handling time) without "
    "who it was about or the words it quoted; who handled it is forgotten",
)
declare(
    mod_report_votes,
    erase("user_id", holds="user"),
    scope=_alerts_of,
    why="who reported what goes; the alert keeps its count of reporters",
)
declare(
    mod_warnings,
    erase("member_id"),
    clear("created_by", holds="user"),
    why="the member's warnings go; warnings they gave stay, unsigned",
)
declare(mod_credit, erase("member_id"), why="the member's credit score")
declare(
    mod_sanctions,
    erase("member_id", keep=_open),
    erase("user_id", holds="user", keep=_open),
    why="a mute or ban still in force stays until it is lifted (so it can be lifted); the "
    "retention sweep deletes it after that. The audit log keeps that it happened, unnamed",
)
declare(
    mod_flood_held,
    erase("member_id", keep=_held),
    why="a flooder's mute waiting (seconds) for its burst's write: kept until written, or the "
    "mute would never be recorded nor lifted; the written rows then follow their own rules",
)
declare(
    mod_log,
    rewrite("member_id", {"member_id": None, "detail": ""}),
    rewrite("actor", {"actor": FORGOTTEN}, holds="user"),
    why="the audit trail keeps every action and when, without the member it was about, the "
    "detail (which may quote them) or, when they acted, their name",
)
