"""The antispam feature's tables: newcomer probation per member and group, and the group's spam
samples. Declared on ``storage.schema.metadata``."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from storage.rights import clear, declare, erase, rewrite
from storage.schema import metadata
from storage.types import UTCDateTime

#: One row per member the feature has met in a group: when their probation started (a join the
#: bot saw, or the first message when never-seen members are included), how many clean messages
#: they have posted, how many probation rules they broke, and whether a moderator approved them.
#: Approval survives a re-join, so an approved regular is not put on probation again.
antispam_probation = Table(
    "antispam_probation",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("joined", Integer, nullable=False, default=1),
    Column("messages", Integer, nullable=False, default=0),
    Column("strikes", Integer, nullable=False, default=0),
    Column("approved_at", UTCDateTime()),
    Column("approved_by", String(128)),
)

#: Texts moderators marked as spam with ``/spam``. Only the text is kept, never who sent it: a
#: sample is a pattern, not a record about a member.
antispam_samples = Table(
    "antispam_samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("added_by", String(128), nullable=False),
    Column("added_at", UTCDateTime(), nullable=False),
    Index("ix_antispam_samples_group", "group_id"),
)

#: A raid in progress (one per group), so a restart mid-raid carries on with it: its counters,
#: where its public notice and moderator alerts are (``notice``/``alerts``: JSON of chat refs and
#: message ids, no member data) and the standing challenge's nonce and answer. Deleted when the
#: raid ends.
antispam_raids = Table(
    "antispam_raids",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("reason", String(16), nullable=False),
    Column("last_surge", UTCDateTime(), nullable=False),
    Column("until", UTCDateTime()),
    Column("removed", Integer, nullable=False, default=0),
    Column("notice", Text),
    Column("alerts", Text, nullable=False, default="[]"),
)

#: Who joined during a raid: held (muted) until released, banned, or the raid ends. The name is
#: kept for the one combined welcome after the raid.
antispam_raid_joiners = Table(
    "antispam_raid_joiners",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(128), nullable=False),
    Column("name", String(256), nullable=False),
    Column("banned", Integer, nullable=False, default=0),
    Column("released", Integer, nullable=False, default=0),
    Column("wrong", Integer, nullable=False, default=0),
)


#: What a forgotten moderator's user id becomes where the column cannot be NULL.
FORGOTTEN = "(forgotten)"

declare(
    antispam_probation,
    erase("member_id"),
    clear("approved_by", holds="user"),
    why="a newcomer's probation is theirs; a moderator's approval of someone else stays, unsigned",
)
declare(
    antispam_samples,
    rewrite("added_by", {"added_by": FORGOTTEN}, holds="user"),
    why="spam samples hold the spammer's text, never the sender; the moderator who marked one is forgotten",
)
declare(
    antispam_raid_joiners,
    erase("member_id"),
    erase("user_id", holds="user"),
    why="a raid's newcomer and their name, kept only until the raid ends",
)
