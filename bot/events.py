"""The common event model: plain frozen dataclasses, no platform types.

A *scope* is the community that owns points, check-ins and settings (a Telegram chat, a Discord
guild, a OneBot group, a console group); a *channel* is where a reply goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

ChatKind = Literal["group", "private"]


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where an event happened and where a reply goes."""

    platform: str
    adapter: str
    scope_id: str
    channel_id: str
    kind: ChatKind = "group"
    thread_id: str | None = None
    title: str | None = None

    @property
    def is_private(self) -> bool:
        """True for a one-to-one chat with the bot."""
        return self.kind == "private"


@dataclass(frozen=True, slots=True)
class UserRef:
    """A platform account."""

    platform: str
    user_id: str
    display_name: str
    is_bot: bool = False
    username: str | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of an inbound message: ``text``, ``mention``, ``image``, ``reply``, ``face``…"""

    kind: str
    text: str = ""
    user: UserRef | None = None
    data: str | None = None


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """A member (or the bot's private correspondent) said something."""

    event_id: str
    at: datetime
    chat: ChatRef
    sender: UserRef
    message_id: str
    text: str
    segments: tuple[Segment, ...] = ()
    reply_to: str | None = None
    reply_to_user: UserRef | None = None
    mentions: tuple[UserRef, ...] = ()
    mentions_bot: bool = False
    edited: bool = False
    language: str | None = None
    #: A platform sequence number that only grows (Telegram's update_id); used for restart dedupe.
    seq: int | None = None
    #: The platform's handle of the picture in the message this one replies to (a Telegram
    #: ``file_id``, a URL, a console file path), for ``Adapter.fetch_image``: a moderator replies
    #: to a picture with a command to attach it to a post.
    reply_to_image: str | None = None

    @property
    def image(self) -> str | None:
        """The platform's handle of the first picture sent with this message, if any."""
        return next((s.data for s in self.segments if s.kind == "image" and s.data), None)


@dataclass(frozen=True, slots=True)
class MemberJoined:
    """A member joined a group, possibly invited by someone else."""

    event_id: str
    at: datetime
    chat: ChatRef
    member: UserRef
    invited_by: UserRef | None = None
    seq: int | None = None
    #: The platform's "X joined" service message, where there is one (Telegram), so it can go
    #: with a newcomer who never passed join verification.
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class JoinRequested:
    """Someone asked to join a group that screens requests (OneBot/QQ: ``request`` events with
    the applicant's answer to the group's question). Answered with ``Adapter.answer_join_request``."""

    event_id: str
    at: datetime
    chat: ChatRef
    member: UserRef
    #: What the applicant wrote (QQ: "问题：…\n答案：…").
    answer: str
    #: The platform's handle for the request (OneBot's ``flag``).
    request_id: str
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class MemberLeft:
    """A member left or was removed from a group."""

    event_id: str
    at: datetime
    chat: ChatRef
    member: UserRef
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class ButtonPressed:
    """A member pressed a button the bot posted under message ``message_id``."""

    event_id: str
    at: datetime
    chat: ChatRef
    user: UserRef
    message_id: str
    data: str
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class ChatMigrated:
    """The platform gave a chat a new id (Telegram group → supergroup); its data follows."""

    event_id: str
    at: datetime
    chat: ChatRef
    new_scope_id: str
    new_channel_id: str
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class PollAnswered:
    """A member answered (or changed, or took back) their vote in a platform's native poll.

    ``poll_id`` is the platform's id for the poll (``SentMessage.extra["poll_id"]`` when it was
    sent), ``option_ids`` the member's whole choice now (0-based; empty: the vote was retracted).
    ``chat`` and ``message_id`` are where the poll was posted, as the adapter remembers it.

    Platforms that report one answer at a time (Discord: a vote added to or removed from one
    answer) say so with ``change``: ``"add"`` or ``"remove"`` of the single option in
    ``option_ids``; ``"set"`` (Telegram) is the whole choice.
    """

    event_id: str
    at: datetime
    chat: ChatRef
    user: UserRef
    message_id: str
    poll_id: str
    option_ids: tuple[int, ...]
    #: Orders one member's answers when they are handled concurrently: with ``at``, the later
    #: answer wins (Telegram: the update_id; not ``seq``, see adapters/telegram/normalize.py).
    order: int = 0
    change: Literal["set", "add", "remove"] = "set"
    seq: int | None = None


#: What an adapter delivers to the core. "Platform" because the word event alone also names the
#: activities members sign up for (the ``events`` feature, ``handlers/activities``).
PlatformEvent = (
    MessageEvent | MemberJoined | MemberLeft | ButtonPressed | ChatMigrated | JoinRequested | PollAnswered
)


@dataclass(frozen=True, slots=True)
class SentMessage:
    """What an adapter returns after posting: the platform's id for the new message."""

    chat: ChatRef
    message_id: str
    extra: dict[str, str] = field(default_factory=dict)
