"""Communities (chats that share bans), federations (shared ban lists) and linked accounts.

A chat belongs to at most one community (``community_chats.group_id`` is the key); a community
is subscribed by its chats to federations (``federation_chats``); a person's accounts on
several platforms are one ``person`` (``account_links``). All ids of people are platform user
ids together with their platform: a display name never decides anything.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, UniqueConstraint

from storage.schema import metadata
from storage.types import UTCDateTime

communities = Table(
    "communities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("share_bans", Boolean, nullable=False, default=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

community_chats = Table(
    "community_chats",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("community_id", Integer, ForeignKey("communities.id", ondelete="CASCADE"), nullable=False),
    Column("added_by", String(128), nullable=False),
    Column("added_at", UTCDateTime(), nullable=False),
)

#: One-time codes: a community's invitation for another chat, or a person's account-link code.
community_codes = Table(
    "community_codes",
    metadata,
    Column("code", String(16), primary_key=True),
    #: ``community`` (``target`` = community id) or ``link`` (``target`` = person id, 0: new).
    Column("kind", String(16), nullable=False),
    Column("target", Integer, nullable=False),
    Column("platform", String(32), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE")),
    Column("expires_at", UTCDateTime(), nullable=False),
)

account_links = Table(
    "account_links",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("person_id", Integer, nullable=False, index=True),
    Column("linked_at", UTCDateTime(), nullable=False),
)

federations = Table(
    "federations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(16), nullable=False),
    Column("name", String(64), nullable=False),
    Column("owner_platform", String(32), nullable=False),
    Column("owner_user", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("code", name="uq_federations_code"),
)

federation_admins = Table(
    "federation_admins",
    metadata,
    Column("federation_id", Integer, ForeignKey("federations.id", ondelete="CASCADE"), primary_key=True),
    Column("platform", String(32), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("added_at", UTCDateTime(), nullable=False),
)

federation_chats = Table(
    "federation_chats",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("federation_id", Integer, ForeignKey("federations.id", ondelete="CASCADE"), nullable=False),
    Column("joined_at", UTCDateTime(), nullable=False),
)

federation_bans = Table(
    "federation_bans",
    metadata,
    Column("federation_id", Integer, ForeignKey("federations.id", ondelete="CASCADE"), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("reason", String(200)),
    Column("banned_by", String(128), nullable=False),
    Column("banned_at", UTCDateTime(), nullable=False),
    UniqueConstraint("federation_id", "platform", "user_id", name="uq_federation_bans"),
)
