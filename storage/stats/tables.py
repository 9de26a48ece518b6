"""The stats feature's tables: group and hour counters, lifecycle state, retained text, recall,
feedback, NPS polls and answers, cached rankings and markers. Declared on
``storage.schema.metadata``; ``stats_0001``… build exactly these."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)

from storage.rights import clear, declare, erase
from storage.schema import metadata
from storage.types import UTCDateTime

#: Group counters per local day. ``messages``/``replies``/``commands``/``checkins`` and the
#: distinct-member columns are filled by the rollup of a complete day (NULL ``dau`` = not yet);
#: ``joins``/``leaves`` are counted live from the hot path.
stats_group_daily = Table(
    "stats_group_daily",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("joins", Integer, nullable=False, default=0),
    Column("leaves", Integer, nullable=False, default=0),
    Column("messages", BigInteger),
    Column("replies", BigInteger),
    Column("commands", BigInteger),
    Column("checkins", Integer),
    Column("dau", Integer),
    Column("wau", Integer),
    Column("mau", Integer),
)

#: Messages per group, local day and local hour: the heatmap and the busiest hours.
stats_hourly = Table(
    "stats_hourly",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("hour", SmallInteger, primary_key=True),
    Column("messages", BigInteger, nullable=False, default=0),
)

#: One row per member who ever posted (or was named in a recall): the lifecycle's last post.
stats_member = Table(
    "stats_member",
    metadata,
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("last_post_at", UTCDateTime()),
    Column("nudge_off", Boolean, nullable=False, default=False),
    Index("ix_stats_member_group_post", "group_id", "last_post_at"),
)

#: Per member and local day: replies received and replies to the bot's own posts (topic prompts).
stats_member_daily = Table(
    "stats_member_daily",
    metadata,
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("replies_received", Integer, nullable=False, default=0),
    Column("topic_replies", Integer, nullable=False, default=0),
    Index("ix_stats_member_daily_group_day", "group_id", "day"),
)

#: Message text kept only for the retention window (hot words); purged by a scheduled job.
stats_text = Table(
    "stats_text",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE")),
    Column("at", UTCDateTime(), nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_stats_text_group_at", "group_id", "at"),
    Index("ix_stats_text_at", "at"),
)

#: Members named in a recall post; ``returned_at`` is their first post within the window.
stats_recall = Table(
    "stats_recall",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("named_at", UTCDateTime(), nullable=False),
    Column("returned_at", UTCDateTime()),
    Index("ix_stats_recall_group_named", "group_id", "named_at"),
    Index("ix_stats_recall_member", "member_id", "named_at"),
)

stats_feedback = Table(
    "stats_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE")),
    Column("at", UTCDateTime(), nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_stats_feedback_group_at", "group_id", "at"),
)

stats_nps_poll = Table(
    "stats_nps_poll",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("question", Text),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("started_by", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("closed_at", UTCDateTime()),
    Index("ix_stats_nps_poll_group", "group_id", "started_at"),
)

stats_nps_answer = Table(
    "stats_nps_answer",
    metadata,
    Column("poll_id", Integer, ForeignKey("stats_nps_poll.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("score", SmallInteger, nullable=False),
    Column("answered_at", UTCDateTime(), nullable=False),
)

#: The top members of a complete period (``days`` days ending ``end_day``): past days never
#: change, so the ranking over a large history is computed once, not per ``/stats``.
stats_top = Table(
    "stats_top",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("end_day", Date, primary_key=True),
    Column("days", SmallInteger, primary_key=True),
    Column("rank", SmallInteger, primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("messages", BigInteger, nullable=False),
)

#: Members per lifecycle stage at the end of each local day, recorded by the nightly job (the
#: stages depend on instants that later activity overwrites, so a past day cannot be recounted).
stats_stage_daily = Table(
    "stats_stage_daily",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("stage", String(16), primary_key=True),
    Column("members", Integer, nullable=False),
)

#: Small per-group markers (last churn alert, last recall post…), so a check never repeats.
stats_marker = Table(
    "stats_marker",
    metadata,
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("value", String(64), nullable=False),
)

# -- data rights (storage/rights.py; docs/privacy.md) ------------------------------------------

declare(stats_member, erase("member_id"), why="the member's last post and nudge choice")
declare(stats_member_daily, erase("member_id"), why="the member's daily reply counts")
declare(stats_text, erase("member_id"), why="the member's retained message text")
declare(stats_recall, erase("member_id"), why="the member's recall records")
declare(stats_feedback, erase("member_id"), why="the member's feedback, their words")
declare(stats_nps_answer, erase("member_id"), why="the member's survey answers")
declare(stats_nps_poll, clear("started_by"), why="a survey stays with the group, without who started it")
declare(stats_top, erase("member_id"), why="a cached ranking row naming the member (rankings are recomputed)")
