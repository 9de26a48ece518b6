"""The support desk's tables: FAQ entries, their automatic answers and the votes on them.

Declared on ``storage.schema.metadata``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from storage.rights import clear, declare, erase, rewrite
from storage.schema import metadata
from storage.types import UTCDateTime

#: One FAQ entry of a group: how it matches (``keyword``, ``exact``, ``regex``, ``question``),
#: its triggers (one per line), the answer, the language it answers in (None: any) and the
#: cooldown per chat in seconds.
desk_faq = Table(
    "desk_faq",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("triggers", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("lang", String(16)),
    Column("cooldown", Integer, nullable=False),
    #: Who it answers: ``all``, ``members`` (not moderators) or ``newcomers`` (seen or joined in
    #: the last 7 days).
    Column("audience", String(16), nullable=False, server_default="all"),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_desk_faq_group", "group_id"),
)

#: One automatic answer: which entry answered whom, in which chat and when. The latest per
#: entry and chat is the cooldown (so it survives a restart); the rows are the entry's hits.
desk_faq_answers = Table(
    "desk_faq_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("entry_id", Integer, ForeignKey("desk_faq.id", ondelete="CASCADE"), nullable=False),
    Column("channel_id", String(128), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_desk_faq_answers_entry", "entry_id", "channel_id", "at"),
)

#: "Helpful / not helpful" under an automatic answer: one vote per member and answer (the
#: primary key makes a second press impossible, not merely unlikely).
desk_faq_votes = Table(
    "desk_faq_votes",
    metadata,
    Column("answer_id", Integer, ForeignKey("desk_faq_answers.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("helpful", Boolean, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)

#: What a forgotten moderator's user id becomes where the column cannot be NULL.
FORGOTTEN = "(forgotten)"

declare(
    desk_faq,
    rewrite("created_by", {"created_by": FORGOTTEN}, holds="user"),
    why="an FAQ entry is the group's; the moderator who wrote it is forgotten",
)
declare(
    desk_faq_answers,
    clear("member_id"),
    why="an answer counts as the entry's hit; who asked is forgotten",
)
declare(
    desk_faq_votes,
    erase("member_id"),
    why="a vote is the member's own",
)

#: A group's own version of a standard reply (话术), per language: the 3T structure (fact,
#: impact, plan) between a calming opening and closing. The starter set lives in the catalogs;
#: a row here replaces a starter of the same name, or adds a new reply.
desk_replies = Table(
    "desk_replies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("lang", String(16), nullable=False),
    Column("opening", Text, nullable=False),
    Column("fact", Text, nullable=False),
    Column("impact", Text, nullable=False),
    Column("plan", Text, nullable=False),
    Column("closing", Text, nullable=False),
    Column("updated_by", String(128), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("group_id", "name", "lang", name="uq_desk_replies_group_id"),
)

declare(
    desk_replies,
    rewrite("updated_by", {"updated_by": FORGOTTEN}, holds="user"),
    why="a standard reply is the group's; the moderator who last edited it is forgotten",
)

#: Complaints: ``/complain TEXT`` (source ``command``). Counted per local day for the first
#: level of the response; each is also an alert in the moderators' list (its id here).
desk_complaints = Table(
    "desk_complaints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("text", Text, nullable=False),
    Column("source", String(16), nullable=False),
    Column("alert_id", Integer),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_desk_complaints_group_at", "group_id", "at"),
)

#: Each time a level of the three-level response fired in a group (level 1: the automatic
#: acknowledgement and the alert), so "at most once per hour" holds across a restart.
desk_responses = Table(
    "desk_responses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("level", Integer, nullable=False),
    Column("count", Integer, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_desk_responses_group_level", "group_id", "level", "at"),
)

declare(
    desk_complaints,
    erase("member_id"),
    why="a complaint is the member's own words",
)

#: Members' questions (messages that look like one) that no FAQ entry answered, until someone
#: replies to them; those still unanswered after 30 minutes are what ``/faq unanswered`` shows.
#: Kept 7 days, then purged.
desk_unanswered = Table(
    "desk_unanswered",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("channel_id", String(128), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("text", Text, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("answered_at", UTCDateTime()),
    Index("ix_desk_unanswered_group_at", "group_id", "at"),
)

declare(
    desk_unanswered,
    erase("member_id"),
    why="an unanswered question is the member's own words",
)

#: The group's mood per local hour (``day`` and ``hour`` in the group's timezone): messages
#: scored, the sum of their scores (-1 … +1 each) and how many were negative. Days are the sum
#: of their hours. Holds no text and no member.
desk_mood_hourly = Table(
    "desk_mood_hourly",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("hour", Integer, primary_key=True),
    Column("messages", Integer, nullable=False),
    Column("score_sum", Float, nullable=False),
    Column("negative", Integer, nullable=False),
)

#: Negative messages with their score and text, for the most negative topics (hot words of
#: negative messages). Only negative ones are kept, and only for ``desk.mood_days`` (the text
#: retention window, 7 days by default like ``stats.text_retention_days``); purged hourly.
desk_mood_negative = Table(
    "desk_mood_negative",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("at", UTCDateTime(), nullable=False),
    Column("score", Float, nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_desk_mood_negative_group_at", "group_id", "at"),
)

declare(
    desk_mood_negative,
    erase("member_id"),
    why="a negative message is the member's own words",
)

#: Level 3's watchdog, shared by the workers on one database. Each worker reports, about once a
#: minute, what it sees of each adapter it runs (connected, since when not, outbound backlog),
#: and in the row with ``adapter = ''`` its errors of the last five minutes. A worker stopped
#: cleanly removes its rows; a killed one's rows go stale (``seen_at``). Bot-wide, names nobody.
desk_watch_reports = Table(
    "desk_watch_reports",
    metadata,
    Column("worker", String(128), primary_key=True),
    Column("adapter", String(64), primary_key=True),
    Column("connected", Boolean, nullable=False),
    Column("offline_since", UTCDateTime()),
    Column("backlog", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("seen_at", UTCDateTime(), nullable=False),
)

#: Level 3's incidents (one row per signal key: ``offline:<adapter>``, ``backlog:<adapter>``,
#: ``errors``): open while ``cleared_at`` is null; kept across restarts, so a failure already
#: told is not told again and a recovery during a restart is still announced.
desk_incidents = Table(
    "desk_incidents",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("what", String(16), nullable=False),
    Column("adapter", String(64)),
    Column("values", Text, nullable=False),
    Column("since", UTCDateTime(), nullable=False),
    Column("cleared_at", UTCDateTime()),
)

#: Which adapter told the superusers of an incident (``phase``: ``alert`` or ``recovered``):
#: claimed before sending, so each adapter tells once however many workers run it.
desk_incident_notices = Table(
    "desk_incident_notices",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("since", UTCDateTime(), primary_key=True),
    Column("phase", String(16), primary_key=True),
    Column("adapter", String(64), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
)

declare(desk_watch_reports, why="the workers' view of their adapters: bot-wide, names nobody")
declare(desk_incidents, why="the bot's own failures: bot-wide, names nobody")
declare(desk_incident_notices, why="which adapter told the superusers (from config), names nobody")
