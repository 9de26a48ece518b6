"""Telegram's native polls: ``sendPoll``, ``stopPoll``, and ``poll_answer`` updates.

A ``poll_answer`` update names the poll, the voter and their whole choice (empty: taken back),
but not the chat: Telegram sends it only to the bot that sent the poll, and the chat is ours to
remember. ``NativePolls`` keeps poll id → (chat, message) for every poll this adapter sent (and
those the core tells it about after a restart, ``track``) and turns answers into ``PollAnswered``.

Only non-anonymous polls report who voted what, so the core asks for anonymous polls with
buttons instead (see docs/engagement.md); ``send`` refuses an anonymous one all the same.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from telegram import Bot, Message, Update
from telegram.constants import PollLimit

from adapters.telegram.normalize import user_ref
from bot.capability import Capability
from bot.errors import CapabilityNotSupported
from bot.events import ChatRef, PollAnswered, SentMessage

T = TypeVar("T")
Caller = Callable[[str, Callable[[int | str], Awaitable[T]]], Awaitable[T]]
#: How many polls' places are remembered (the oldest are forgotten first).
REMEMBERED = 10_000


def fits(question: str, options: tuple[str, ...]) -> bool:
    """True when Telegram takes this poll as it is (Bot API limits, as PTB publishes them)."""
    return (
        1 <= len(question) <= PollLimit.MAX_QUESTION_LENGTH
        and 2 <= len(options) <= PollLimit.MAX_OPTION_NUMBER
        and all(1 <= len(o) <= PollLimit.MAX_OPTION_LENGTH for o in options)
    )


class NativePolls:
    """Where each native poll lives, and the Bot API calls for them."""

    def __init__(self, adapter: str, bot: Bot, call: Caller[Any]) -> None:
        self.adapter = adapter
        self.bot = bot
        #: The adapter's ``_call``: the outbound queue, chat migrations and error mapping.
        self.call = call
        self.places: OrderedDict[str, tuple[ChatRef, str]] = OrderedDict()

    def track(self, chat: ChatRef, message_id: str, poll_id: str) -> None:
        """Remember the poll's chat and message."""
        self.places[poll_id] = (chat, message_id)
        self.places.move_to_end(poll_id)
        while len(self.places) > REMEMBERED:
            self.places.popitem(last=False)

    async def send(
        self,
        chat: ChatRef,
        question: str,
        options: tuple[str, ...],
        *,
        multi: bool,
        anonymous: bool,
    ) -> SentMessage:
        """``sendPoll``; a poll Telegram would refuse (or could not report) is not sent."""
        if anonymous or chat.is_private or not fits(question, options):
            raise CapabilityNotSupported(Capability.NATIVE_POLLS, self.adapter)
        thread = int(chat.thread_id) if chat.thread_id and chat.thread_id.isdigit() else None

        async def send_poll(cid: int | str) -> Message:
            return await self.bot.send_poll(
                cid,
                question,
                list(options),
                is_anonymous=False,
                allows_multiple_answers=multi,
                # Votes change until the close (the rule), and nobody adds options the
                # core's stored poll does not have.
                allows_revoting=True,
                allow_adding_options=False,
                message_thread_id=thread,
            )

        message: Message = await self.call(chat.channel_id, send_poll)
        message_id = str(message.message_id)
        poll_id = message.poll.id if message.poll is not None else ""
        if poll_id:
            self.track(chat, message_id, poll_id)
        return SentMessage(chat=chat, message_id=message_id, extra={"poll_id": poll_id})

    async def stop(self, chat: ChatRef, message_id: str) -> None:
        """``stopPoll``: Telegram closes it and shows the final counts."""
        await self.call(chat.channel_id, lambda cid: self.bot.stop_poll(cid, int(message_id)))

    def events(self, update: Update, at: datetime) -> list[PollAnswered]:
        """A ``poll_answer`` as ``PollAnswered``; answers to polls not ours (or given on behalf of
        a chat, which has no member to count) are dropped."""
        answer = update.poll_answer
        if answer is None or answer.user is None:
            return []
        place = self.places.get(answer.poll_id)
        if place is None:
            return []
        chat, message_id = place
        return [
            PollAnswered(
                event_id=f"{self.adapter}:{update.update_id}",
                at=at,
                chat=chat,
                user=user_ref(answer.user),
                message_id=message_id,
                poll_id=answer.poll_id,
                option_ids=tuple(answer.option_ids),
                order=update.update_id,
            )
        ]


__all__ = ["NativePolls", "fits"]
