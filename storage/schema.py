"""Table definitions on one ``MetaData``. Feature modules in ``storage/`` add their own tables here."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    cast,
    literal,
)

from storage.rights import clear, declare, erase, rewrite
from storage.types import UTCDateTime

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: A scope: the community that owns points, check-ins and settings. Every other table refers to
#: ``groups.id``, so a platform chat-id change (Telegram group → supergroup) is one UPDATE here.
groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("adapter", String(64), nullable=False),
    Column("scope_id", String(128), nullable=False),
    Column("title", String(256)),
    Column("timezone", String(64), nullable=False),
    Column("language", String(16), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("adapter", "scope_id", name="uq_groups_adapter_scope"),
)

members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("display_name", String(256), nullable=False),
    Column("username", String(128)),
    Column("is_bot", Boolean, nullable=False, default=False),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime(), nullable=False),
    Column("joined_at", UTCDateTime()),
    Column("left_at", UTCDateTime()),
    Column("forgotten", Boolean, nullable=False, default=False),
    UniqueConstraint("group_id", "user_id", name="uq_members_group_user"),
)

group_settings = Table(
    "group_settings",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("updated_by", String(128)),
)

role_overrides = Table(
    "role_overrides",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("granted_by", String(128)),
    Column("granted_at", UTCDateTime(), nullable=False),
)

#: Recently handled inbound event ids, written in batches, so a redelivery after a restart is
#: recognised; pruned after a day.
processed_events = Table(
    "processed_events",
    metadata,
    Column("adapter", String(64), primary_key=True),
    Column("event_id", String(191), primary_key=True),
    Column("seen_at", UTCDateTime(), nullable=False),
)

#: Small per-adapter state such as Telegram's update_id high-water mark.
adapter_state = Table(
    "adapter_state",
    metadata,
    Column("adapter", String(64), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

scheduled_jobs = Table(
    "scheduled_jobs",
    metadata,
    Column("id", String(191), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE")),
    Column("trigger", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("next_run_at", UTCDateTime()),
    Column("last_run_at", UTCDateTime()),
    Column("paused", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_scheduled_jobs_next", "next_run_at"),
)

#: One row per run of a job claimed and not yet completed (``storage.leases``): the claim is a lease,
#: deleted when the run completes, so a run cut short by a crash is found and re-run at start.
#: ``owner`` and ``lease_until`` say who holds it and until when, so several workers on one
#: database can later take over only a dead worker's runs.
job_leases = Table(
    "job_leases",
    metadata,
    Column("job_id", String(191), primary_key=True),
    Column("fire_at", UTCDateTime(), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=False),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False),
    #: The platform's id of the message the run sent, recorded right after the send: a re-run that
    #: finds it knows the message went out and does not post it again.
    Column("message_id", String(191)),
)

#: Per member and local day; aggregated counts stay when a member is forgotten (member_id nulls).
activity_daily = Table(
    "activity_daily",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("day", Date, nullable=False),
    Column("messages", BigInteger, nullable=False, default=0),
    Column("replies", BigInteger, nullable=False, default=0),
    Column("commands", BigInteger, nullable=False, default=0),
    UniqueConstraint("group_id", "member_id", "day", name="uq_activity_daily_gmd"),
    Index("ix_activity_daily_group_day", "group_id", "day"),
)


# -- data rights (storage/rights.py; docs/privacy.md) ------------------------------------------

#: The members row is the anchor everything else points at. /forgetme overwrites who they were
#: (the platform id becomes ``forgotten:<id>``, so their next message starts a new member); the
#: retention sweep deletes the row once nothing has to point at it any more.
_ANONYMOUS_MEMBER = {
    "user_id": lambda t: literal("forgotten:") + cast(t.c.id, String),
    "display_name": "(forgotten)",
    "username": None,
    "joined_at": None,
    "left_at": None,
    "forgotten": True,
}
declare(
    members,
    rewrite("id", _ANONYMOUS_MEMBER),
    rewrite("user_id", _ANONYMOUS_MEMBER, holds="user"),
    why="anonymised at once, deleted by the retention sweep",
)
declare(
    group_settings,
    clear("updated_by", holds="user"),
    why="a group's setting stays; who changed it is forgotten",
)
declare(
    role_overrides,
    erase("user_id", holds="user"),
    clear("granted_by", holds="user"),
    why="a role given to the member goes; roles they gave others stay, ungranted by anyone",
)
declare(
    activity_daily,
    clear("member_id"),
    why="the group's daily message counts stay; whose they were is forgotten",
)
