"""The media store's tables: each picture once (by SHA-256), and what each group attached it to.

Declared on ``storage.schema.metadata``. No column names a member: a picture a moderator
attached to a post belongs to the group's post, not to a person.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Table, UniqueConstraint

from storage.schema import metadata
from storage.types import UTCDateTime

#: One picture, stored once however many posts carry it: the SHA-256 of its bytes is unique.
#: The bytes live in the database, so a backup or a move to another host keeps them, and a
#: post planned before a restart finds its picture after it.
media = Table(
    "media",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False),
    #: ``png``, ``jpeg``, ``gif`` or ``webp``: read from the magic bytes, never from a name.
    Column("kind", String(8), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("sha256", name="uq_media_sha256"),
)

#: Which post of a group carries which picture: ``owner`` names the post in its feature's terms
#: (``schedule:12``, ``welcome``, ``event:3``); one picture per post.
media_links = Table(
    "media_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("media_id", Integer, ForeignKey("media.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("group_id", "owner", name="uq_media_links_owner"),
)
