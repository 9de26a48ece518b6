"""The interest circles' tables (兴趣圈): the circles of a group, who is in each, and the pings
moderators sent to them. Declared on ``storage.schema.metadata``."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from storage.rights import clear, declare, erase
from storage.schema import metadata
from storage.types import UTCDateTime

#: A circle of one group. ``name`` is shown as the moderator typed it; ``name_key`` is its
#: NFKC case-folded form, unique per group, so ``Games`` and ``ｇａｍｅｓ`` are one circle.
#: ``role_id``: the platform role joining grants (Discord), None elsewhere.
circles = Table(
    "circles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("name_key", String(64), nullable=False),
    Column("description", Text),
    Column("role_id", String(32)),
    Column("created_by", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("group_id", "name_key", name="uq_circles_group_name"),
)

#: One row per member and circle (the key makes a double join impossible). ``muted``: 1 when the
#: member stays in the circle but does not want its pings.
circle_members = Table(
    "circle_members",
    metadata,
    Column("circle_id", Integer, ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("joined_at", UTCDateTime(), nullable=False),
    Column("muted", Integer, nullable=False),
    Index("ix_circle_members_member", "member_id"),
)

#: Every ``/circle ping``: the per-group rate limit reads the latest, ``/stats circles`` counts them.
circle_pings = Table(
    "circle_pings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("circle_id", Integer, ForeignKey("circles.id", ondelete="CASCADE"), nullable=False),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("sent_by", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("sent_at", UTCDateTime(), nullable=False),
    Column("reached", Integer, nullable=False),
    Index("ix_circle_pings_group", "group_id", "sent_at"),
)

declare(
    circles,
    clear("created_by"),
    why="a circle belongs to the group; the moderator who made it is forgotten",
)
declare(
    circle_members,
    erase("member_id"),
    why="being in a circle (and muting it) is the member's own choice; forgetting removes it",
)
declare(
    circle_pings,
    clear("sent_by"),
    why="a ping was a post to the group; who sent it is forgotten, the count stays for /stats",
)
