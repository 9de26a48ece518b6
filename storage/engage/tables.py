"""The engagement feature's tables: giveaways and their entries, polls and their votes.

Declared on ``storage.schema.metadata``."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from storage.rights import clear, declare, erase
from storage.schema import metadata
from storage.types import UTCDateTime

#: A giveaway (抽奖): the prize, how many win, when it is drawn, who may enter, and the secret seed
#: whose SHA-256 was published at the start (the seed itself is shown only after the draw).
#: ``status``: ``open`` → ``drawn`` or ``cancelled``; the draw is that one compare-and-set.
engage_giveaways = Table(
    "engage_giveaways",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("channel_id", String(128)),
    Column("thread_id", String(128)),
    Column("message_id", String(128)),
    Column("prize", Text, nullable=False),
    Column("winners", Integer, nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("seed", String(64), nullable=False),
    Column("seed_hash", String(64), nullable=False),
    Column("price", Integer, nullable=False),
    Column("min_points", Integer, nullable=False),
    Column("min_days", Integer, nullable=False),
    Column("min_checkins", Integer, nullable=False),
    Column("created_by", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("drawn_at", UTCDateTime()),
    Index("ix_engage_giveaways_group", "group_id", "status"),
)

#: One entry per member and giveaway (the primary key makes a second entry impossible). ``paid``
#: is the entry price taken (refunded on cancel); ``won`` the draw round that picked the member
#: (0: not picked, 1: the draw, 2…: rerolls).
engage_giveaway_entries = Table(
    "engage_giveaway_entries",
    metadata,
    Column("giveaway_id", Integer, ForeignKey("engage_giveaways.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("entered_at", UTCDateTime(), nullable=False),
    Column("paid", Integer, nullable=False),
    Column("won", Integer, nullable=False),
)

#: A poll (投票): the question, its options (a JSON list of strings), single or multiple choice,
#: anonymous or not, and when it closes by itself (None: when a moderator closes it).
engage_polls = Table(
    "engage_polls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("channel_id", String(128)),
    Column("thread_id", String(128)),
    Column("message_id", String(128)),
    Column("question", Text, nullable=False),
    Column("options", Text, nullable=False),
    Column("multi", Integer, nullable=False),
    Column("anon", Integer, nullable=False),
    Column("closes_at", UTCDateTime()),
    Column("status", String(16), nullable=False),
    Column("created_by", Integer, ForeignKey("members.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime()),
    #: The platform's id of a native poll (Telegram's ``poll.id``); None for a post with buttons.
    Column("native_id", String(128)),
    Index("ix_engage_polls_group", "group_id", "status"),
    Index("ix_engage_polls_native", "native_id"),
)

#: One row per member and chosen option (a single-choice poll keeps at most one per member).
engage_poll_votes = Table(
    "engage_poll_votes",
    metadata,
    Column("poll_id", Integer, ForeignKey("engage_polls.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("option", Integer, primary_key=True),
    Column("voted_at", UTCDateTime(), nullable=False),
)

#: The latest native-poll answer applied per member (``at`` then the platform's order): answers
#: handled concurrently must not let an earlier one overwrite a later one (a vote, then its
#: retraction). The votes themselves stay in ``engage_poll_votes``.
engage_poll_answers = Table(
    "engage_poll_answers",
    metadata,
    Column("poll_id", Integer, ForeignKey("engage_polls.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("answered_at", UTCDateTime(), nullable=False),
    Column("answer_order", BigInteger, nullable=False),
)

declare(
    engage_giveaways,
    clear("created_by"),
    why="a giveaway belongs to the group; the moderator who started it is forgotten",
)
declare(
    engage_giveaway_entries,
    erase("member_id"),
    why="an entry is the member's own; forgetting removes it (a draw already announced stays as posted)",
)
declare(
    engage_polls,
    clear("created_by"),
    why="a poll belongs to the group; the member who asked it is forgotten",
)
declare(
    engage_poll_votes,
    erase("member_id"),
    why="a vote is the member's own; forgetting removes it from the counts",
)
declare(
    engage_poll_answers,
    erase("member_id"),
    why="when a member last answered a native poll is theirs; forgetting removes it with the vote",
)
