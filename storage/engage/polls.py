"""Polls and their votes (``engage_polls``, ``engage_poll_votes``).

A vote is one ``Database.transact``: a single-choice vote replaces the member's earlier one, a
multiple-choice vote toggles one option, and both first re-read the poll's status, so a vote
racing the close either lands before it or is refused. Closing is one compare-and-set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from storage.database import Database
from storage.engage.tables import engage_poll_answers as answers
from storage.engage.tables import engage_poll_votes as votes
from storage.engage.tables import engage_polls as polls
from storage.schema import members
from storage.sql import dialect_insert


@dataclass(frozen=True, slots=True)
class Poll:
    """One poll."""

    id: int
    group_id: int
    channel_id: str | None
    thread_id: str | None
    message_id: str | None
    question: str
    options: tuple[str, ...]
    multi: bool
    anon: bool
    closes_at: datetime | None
    status: str
    created_by: int | None
    created_at: datetime
    closed_at: datetime | None
    #: The platform's id when the poll is the platform's own (native) poll, else None.
    native_id: str | None = None


@dataclass(frozen=True, slots=True)
class Tally:
    """Votes per option (index → count), voters (members who voted at all), and, unless the poll
    is anonymous, who chose each option (index → names, in voting order)."""

    counts: tuple[int, ...]
    voters: int
    names: tuple[tuple[str, ...], ...] = ()


VoteOutcome = Literal["voted", "changed", "removed", "same", "closed"]


def _poll(row: Row[Any]) -> Poll:
    return Poll(
        row.id,
        row.group_id,
        row.channel_id,
        row.thread_id,
        row.message_id,
        row.question,
        tuple(json.loads(row.options)),
        bool(row.multi),
        bool(row.anon),
        row.closes_at,
        row.status,
        row.created_by,
        row.created_at,
        row.closed_at,
        row.native_id,
    )


def _vote(conn: Connection, poll_id: int, member_id: int, option: int, now: datetime) -> VoteOutcome:
    # FOR UPDATE on PostgreSQL: one member's two presses in the same millisecond must not both
    # read "no vote yet" and leave two choices in a single-choice poll (the key is per option).
    # Votes of one poll then queue for a moment each; SQLite's BEGIN IMMEDIATE does the same.
    row = conn.execute(select(polls).where(polls.c.id == poll_id).with_for_update()).first()
    if row is None or row.status != "open" or (row.closes_at is not None and row.closes_at <= now):
        return "closed"
    mine = {
        r.option
        for r in conn.execute(
            select(votes.c.option).where(votes.c.poll_id == poll_id, votes.c.member_id == member_id)
        )
    }
    where = (votes.c.poll_id == poll_id) & (votes.c.member_id == member_id)
    if row.multi and option in mine:
        conn.execute(delete(votes).where(where, votes.c.option == option))
        return "removed"
    if not row.multi and mine == {option}:
        return "same"
    if not row.multi and mine:
        conn.execute(delete(votes).where(where))
    stmt = (
        dialect_insert(conn, votes)
        .values(poll_id=poll_id, member_id=member_id, option=option, voted_at=now)
        .on_conflict_do_nothing()
    )
    conn.execute(stmt)
    return "changed" if mine and not row.multi else "voted"


def _set_votes(
    conn: Connection, poll_id: int, member_id: int, options: tuple[int, ...], now: datetime, order: int
) -> VoteOutcome:
    # A native poll's answer is the member's whole choice (empty: taken back), so it replaces
    # whatever was stored; the same row lock as ``_vote`` orders it against the close and
    # against the member's other answers, handled concurrently: an older one is stale.
    row = conn.execute(select(polls).where(polls.c.id == poll_id).with_for_update()).first()
    if row is None or row.status != "open":
        return "closed"
    key = (answers.c.poll_id == poll_id) & (answers.c.member_id == member_id)
    last = conn.execute(select(answers.c.answered_at, answers.c.answer_order).where(key)).first()
    if last is not None and (last.answered_at, last.answer_order) >= (now, order):
        return "same"
    if last is None:
        conn.execute(
            insert(answers).values(poll_id=poll_id, member_id=member_id, answered_at=now, answer_order=order)
        )
    else:
        conn.execute(update(answers).where(key).values(answered_at=now, answer_order=order))
    wanted = {o for o in options if 0 <= o < len(json.loads(row.options))}
    if not row.multi and len(wanted) > 1:
        wanted = {min(wanted)}
    where = (votes.c.poll_id == poll_id) & (votes.c.member_id == member_id)
    mine = {r.option for r in conn.execute(select(votes.c.option).where(where))}
    if mine == wanted:
        return "same"
    if mine - wanted:
        conn.execute(delete(votes).where(where, votes.c.option.in_(mine - wanted)))
    for option in sorted(wanted - mine):
        conn.execute(insert(votes).values(poll_id=poll_id, member_id=member_id, option=option, voted_at=now))
    if not wanted:
        return "removed"
    return "changed" if mine else "voted"


def _change_vote(
    conn: Connection, poll_id: int, member_id: int, option: int, added: bool, now: datetime
) -> VoteOutcome:
    # A platform that reports one answer at a time (Discord's vote add / remove): an added
    # answer is kept (on a single-choice poll it is the member's only one, whatever the order
    # the platform's "remove the old, add the new" pair arrives in), a removed one dropped.
    # Both are idempotent, so a repeated event counts once; the row lock orders it with the close.
    row = conn.execute(select(polls).where(polls.c.id == poll_id).with_for_update()).first()
    if row is None or row.status != "open":
        return "closed"
    if not 0 <= option < len(json.loads(row.options)):
        return "same"
    where = (votes.c.poll_id == poll_id) & (votes.c.member_id == member_id)
    mine = {r.option for r in conn.execute(select(votes.c.option).where(where))}
    if not added:
        if option not in mine:
            return "same"
        conn.execute(delete(votes).where(where, votes.c.option == option))
        return "removed"
    if option in mine and (row.multi or mine == {option}):
        return "same"
    if not row.multi and mine:
        conn.execute(delete(votes).where(where))
    conn.execute(insert(votes).values(poll_id=poll_id, member_id=member_id, option=option, voted_at=now))
    return "changed" if mine and not row.multi else "voted"


def _close(conn: Connection, poll_id: int, now: datetime) -> bool:
    result = conn.execute(
        update(polls)
        .where(polls.c.id == poll_id, polls.c.status == "open")
        .values(status="closed", closed_at=now)
    )
    return bool(result.rowcount)


class PollRepo:
    """Polls of every group."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, *, options: tuple[str, ...], **values: Any) -> Poll:
        """Store a new open poll; ``values`` are its columns but ``id``, ``status``, ``options``."""
        async with self.db.begin() as conn:
            result = await conn.execute(
                insert(polls).values(
                    status="open", options=json.dumps(list(options), ensure_ascii=False), **values
                )
            )
            pid = result.inserted_primary_key[0] if result.inserted_primary_key else None
            row = (await conn.execute(select(polls).where(polls.c.id == pid))).one()
        return _poll(row)

    async def set_message(self, poll_id: int, message_id: str) -> None:
        """Remember the post, so it can be edited in place."""
        async with self.db.begin() as conn:
            await conn.execute(update(polls).where(polls.c.id == poll_id).values(message_id=message_id))

    async def set_native(self, poll_id: int, native_id: str) -> None:
        """Remember the platform's id of a native poll (its answers carry only that)."""
        async with self.db.begin() as conn:
            await conn.execute(update(polls).where(polls.c.id == poll_id).values(native_id=native_id))

    async def by_native(self, group_id: int, native_id: str) -> Poll | None:
        """The group's poll that is the platform's poll ``native_id``."""
        stmt = select(polls).where(polls.c.group_id == group_id, polls.c.native_id == native_id)
        async with self.db.begin() as conn:
            row = (await conn.execute(stmt)).first()
        return _poll(row) if row else None

    async def by_message(self, group_id: int, message_id: str) -> Poll | None:
        """The group's poll posted as ``message_id`` (members reply to it with numbers)."""
        stmt = select(polls).where(polls.c.group_id == group_id, polls.c.message_id == message_id)
        async with self.db.begin() as conn:
            row = (await conn.execute(stmt)).first()
        return _poll(row) if row else None

    async def open_native(self) -> list[Poll]:
        """Every open native poll (their places are told to the adapters after a restart)."""
        stmt = select(polls).where(polls.c.status == "open", polls.c.native_id.is_not(None))
        async with self.db.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_poll(r) for r in rows]

    async def set_votes(
        self, poll_id: int, member_id: int, options: tuple[int, ...], now: datetime, order: int = 0
    ) -> VoteOutcome:
        """Make the member's choice exactly ``options`` (0-based; empty: no vote), as a native
        poll's answer given at ``now`` says; an answer older (``now``, then ``order``) than one
        already applied is stale and changes nothing."""
        return await self.db.transact(_set_votes, poll_id, member_id, options, now, order)

    async def change_vote(
        self, poll_id: int, member_id: int, option: int, *, added: bool, now: datetime
    ) -> VoteOutcome:
        """Add or take back the member's vote for one option (0-based), as a platform that
        reports answers one at a time says; a repeat changes nothing."""
        return await self.db.transact(_change_vote, poll_id, member_id, option, added, now)

    async def by_id(self, poll_id: int) -> Poll | None:
        """A poll by id alone."""
        async with self.db.begin() as conn:
            row = (await conn.execute(select(polls).where(polls.c.id == poll_id))).first()
        return _poll(row) if row else None

    async def get(self, group_id: int, poll_id: int | None) -> Poll | None:
        """A poll of the group; without an id, its latest (open ones first)."""
        stmt = select(polls).where(polls.c.group_id == group_id)
        if poll_id is None:
            stmt = stmt.order_by((polls.c.status == "open").desc(), polls.c.id.desc()).limit(1)
        else:
            stmt = stmt.where(polls.c.id == poll_id)
        async with self.db.begin() as conn:
            row = (await conn.execute(stmt)).first()
        return _poll(row) if row else None

    async def open_ids(self) -> list[int]:
        """Every open poll's id."""
        async with self.db.begin() as conn:
            rows = (await conn.execute(select(polls.c.id).where(polls.c.status == "open"))).all()
        return [r.id for r in rows]

    async def vote(self, poll_id: int, member_id: int, option: int, now: datetime) -> VoteOutcome:
        """Vote for option ``option`` (0-based) as the poll's rules say."""
        return await self.db.transact(_vote, poll_id, member_id, option, now)

    async def close(self, poll_id: int, now: datetime) -> bool:
        """Close an open poll; False when it was closed already."""
        return await self.db.transact(_close, poll_id, now)

    async def tally(self, poll: Poll, *, names: bool = False) -> Tally:
        """The counts (and, for a poll that is not anonymous, who chose what)."""
        async with self.db.begin() as conn:
            rows = (
                await conn.execute(
                    select(votes.c.option, func.count())
                    .where(votes.c.poll_id == poll.id)
                    .group_by(votes.c.option)
                )
            ).all()
            voters = (
                await conn.execute(
                    select(func.count(func.distinct(votes.c.member_id))).where(votes.c.poll_id == poll.id)
                )
            ).scalar_one()
            chosen: list[list[str]] = [[] for _ in poll.options]
            if names and not poll.anon:
                for r in await conn.execute(
                    select(votes.c.option, members.c.display_name)
                    .join(members, members.c.id == votes.c.member_id)
                    .where(votes.c.poll_id == poll.id)
                    .order_by(votes.c.voted_at, members.c.id)
                ):
                    if 0 <= r.option < len(chosen):
                        chosen[r.option].append(r.display_name)
        counts = [0] * len(poll.options)
        for option, count in rows:
            if 0 <= option < len(counts):
                counts[option] = int(count)
        return Tally(tuple(counts), int(voters), tuple(tuple(c) for c in chosen) if names else ())
