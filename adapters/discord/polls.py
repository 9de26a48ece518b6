"""Discord's native polls: a message with ``poll``, ``POST …/polls/{id}/expire``, and the
gateway's ``MESSAGE_POLL_VOTE_ADD`` / ``_REMOVE`` events.

Discord reports one answer at a time: a member added their vote to an answer, or took it back
(changing a single-choice vote is a removal and an addition). Each becomes a ``PollAnswered``
with ``change`` ``"add"`` or ``"remove"`` of that one option, and the core keeps the member's
stored choice equal to what Discord shows.

Discord's limits (its poll create request): a question of at most 300 characters, 1 to 10
answers of at most 55, and a duration in whole hours up to 32 days (768 h), which every
native poll has. So a poll is native only when it closes by itself within 32 days (``for``); the
Discord poll's duration is rounded up to the hour, and the core ends it (``expire``) at its own
close time. An open-ended poll, or one past a limit, is the post with buttons instead.

Vote events carry the channel, message and server ids, so no chat has to be remembered; the
adapter only keeps which messages are our polls (and their answer ids, in the order sent) to
leave other members' polls alone. After a restart the core tells it again (``track``).
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import discord

from adapters.discord.client import PLATFORM
from adapters.discord.errors import guild_id, snowflake
from bot.capability import Capability
from bot.errors import CapabilityNotSupported
from bot.events import ChatRef, PollAnswered, SentMessage, UserRef

T = TypeVar("T")
Caller = Callable[[str, Callable[[], Awaitable[T]]], Awaitable[T]]

MAX_QUESTION = 300
MAX_ANSWER = 55
MAX_ANSWERS = 10
MAX_DURATION = timedelta(days=32)
#: How many polls are remembered (the oldest are forgotten first).
REMEMBERED = 10_000


def fits(question: str, options: tuple[str, ...], duration: timedelta | None) -> bool:
    """True when Discord takes this poll as it is and it ends in time (see the module doc)."""
    return (
        duration is not None
        and timedelta(0) < duration <= MAX_DURATION
        and 1 <= len(question) <= MAX_QUESTION
        and 2 <= len(options) <= MAX_ANSWERS
        and all(1 <= len(o) <= MAX_ANSWER for o in options)
    )


def hours(duration: timedelta) -> int:
    """Discord's duration: whole hours, rounded up, 1 to 768."""
    return min(max(1, math.ceil(duration.total_seconds() / 3600)), int(MAX_DURATION.total_seconds() // 3600))


class NativePolls:
    """Which messages are our polls, and the REST calls for them."""

    def __init__(self, adapter: str, client: Callable[[], discord.Client], call: Caller[Any]) -> None:
        self.adapter = adapter
        #: The adapter's current client (a restart builds a new one).
        self.client = client
        #: The adapter's ``_call``: the outbound queue and error mapping.
        self.call = call
        #: message id → the answer ids in option order (empty: Discord's 1, 2, 3… assumed).
        self.polls: OrderedDict[str, tuple[int, ...]] = OrderedDict()
        #: Tells apart events Discord sends in the same instant (an add, a remove, an add again).
        self._serial = itertools.count(1)

    def track(self, message_id: str, answer_ids: tuple[int, ...] = ()) -> None:
        """Remember that ``message_id`` is one of our polls."""
        self.polls[message_id] = answer_ids
        self.polls.move_to_end(message_id)
        while len(self.polls) > REMEMBERED:
            self.polls.popitem(last=False)

    async def send(
        self,
        chat: ChatRef,
        question: str,
        options: tuple[str, ...],
        *,
        multi: bool,
        anonymous: bool,
        now: datetime,
        closes_at: datetime | None,
    ) -> SentMessage:
        """Post the poll; one Discord would refuse, cannot end in time, or could not report
        voters for (anonymous) is not sent."""
        duration = closes_at - now if closes_at is not None else None
        if anonymous or chat.is_private or not fits(question, options, duration):
            raise CapabilityNotSupported(Capability.NATIVE_POLLS, self.adapter)
        assert duration is not None
        poll = discord.Poll(question, timedelta(hours=hours(duration)), multiple=multi)
        for option in options:
            poll.add_answer(text=option)
        channel = self.client().get_partial_messageable(snowflake(chat.channel_id), guild_id=guild_id(chat))

        async def post() -> discord.Message:
            return await channel.send(poll=poll, allowed_mentions=discord.AllowedMentions.none())

        message: discord.Message = await self.call(chat.channel_id, post)
        answer_ids = tuple(a.id for a in message.poll.answers) if message.poll is not None else ()
        message_id = str(message.id)
        self.track(message_id, answer_ids)
        # Discord's poll has no id of its own: the message's id names it.
        return SentMessage(chat=chat, message_id=message_id, extra={"poll_id": message_id})

    async def stop(self, chat: ChatRef, message_id: str) -> None:
        """End the poll now: nobody can vote any more and Discord shows the final counts."""
        http = self.client().http
        channel, message = snowflake(chat.channel_id), snowflake(message_id)
        await self.call(chat.channel_id, lambda: http.end_poll(channel, message))

    def option(self, message_id: str, answer_id: int) -> int | None:
        """The 0-based option of ``answer_id`` in our poll ``message_id``; None: not ours."""
        answer_ids = self.polls.get(message_id)
        if answer_ids is None:
            return None
        if answer_ids:
            return answer_ids.index(answer_id) if answer_id in answer_ids else None
        return answer_id - 1  # remembered after a restart: Discord numbers answers from 1

    def event(
        self, payload: discord.RawPollVoteActionEvent, chat: ChatRef, user: UserRef, at: datetime, added: bool
    ) -> PollAnswered | None:
        """A vote added or removed, as ``PollAnswered``; votes in polls not ours are dropped."""
        message_id = str(payload.message_id)
        option = self.option(message_id, payload.answer_id)
        if option is None or option < 0:
            return None
        sign = "+" if added else "-"
        return PollAnswered(
            event_id=f"{PLATFORM}:pv:{message_id}:{payload.user_id}:{payload.answer_id}{sign}:{at.isoformat()}:{next(self._serial)}",
            at=at,
            chat=chat,
            user=user,
            message_id=message_id,
            poll_id=message_id,
            option_ids=(option,),
            change="add" if added else "remove",
        )


__all__ = ["NativePolls", "fits", "hours"]
