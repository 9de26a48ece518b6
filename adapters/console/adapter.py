"""The console adapter: the embedded default platform, and the in-process test harness.

It turns script lines (or typed lines) into events and every bot action into an output record
of the console script protocol (``shared/CONSOLE_PROTOCOL.md``). Platform state a real chat
service would keep (roles, names, who wrote which message, message ids) lives here, so it
survives a bot ``restart`` within one run just as a real platform's would.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import re
import uuid
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from bot.adapter import ALL_CAPABILITIES, Adapter, AdapterConfig, AdapterHost, Capability
from bot.clock import Clock
from bot.errors import TargetNotFound, TransportError
from bot.events import (
    ButtonPressed,
    ChatRef,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MessageEvent,
    PlatformEvent,
    Segment,
    SentMessage,
    UserRef,
)
from bot.messages import OutgoingMessage, render_plain
from bot.roles import Role
from bot.text import clean, clean_opt

PLATFORM = "console"
#: The platforms a script line may name with ``platform`` besides the console's own.
OTHER_PLATFORMS = ("telegram", "discord", "onebot")
Record = dict[str, Any]
_MENTION = re.compile(r"@([^\s@]+)")


class ConsoleConfig(AdapterConfig):
    """``[adapters.<name>] type = "console"``: no keys of its own."""


class ConsoleAdapter(Adapter):
    """A chat platform that lives in this process."""

    platform = PLATFORM
    capabilities = ALL_CAPABILITIES | {Capability.JOIN_REQUESTS}
    max_text_length = 1_000_000
    #: Roles change by script line at any moment, so the core must not cache them.
    role_cache_ok = False

    def __init__(
        self,
        name: str = "console",
        *,
        clock: Clock,
        emit: Callable[[Record], None] | None = None,
        out_tz: tzinfo | None = None,
        bot_name: str = "Qunyou",
        capabilities: frozenset[Capability] | None = None,
    ) -> None:
        super().__init__(name)
        self.clock = clock
        self.out_tz = out_tz
        self.records: list[Record] = []
        self._stamp: tuple[datetime, tzinfo | None, str] | None = None
        self._emit_fn = emit
        if capabilities is not None:
            self.capabilities = capabilities
        self.me = UserRef(PLATFORM, "qunyou", bot_name, is_bot=True, username="qunyou")
        self.host: AdapterHost | None = None
        self.roles: dict[tuple[str, str], Role] = {}
        self.users: dict[str, UserRef] = {}
        self.members: dict[str, set[str]] = {}
        self.authors: dict[tuple[str, str], UserRef] = {}
        #: The picture sent with a message (member's or bot's), by (chat, message id): a reply
        #: to it names it (``MessageEvent.reply_to_image``), as a platform's reply would.
        self.images: dict[tuple[str, str], str] = {}
        # Event ids must not repeat across runs on one --db file (the core dedupes by them), but
        # they never appear in the output, so a random per-run prefix keeps output deterministic.
        self._run = uuid.uuid4().hex[:8]
        self._bot_ids = itertools.count(1)
        self._msg_ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        self.role_lookups = 0
        self.muted: dict[tuple[str, str], datetime | None] = {}
        self.banned: dict[tuple[str, str], datetime | None] = {}

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self, host: AdapterHost) -> None:
        """Start delivering injected events to ``host``."""
        self.host = host

    async def stop(self) -> None:
        """Stop delivering; platform state stays (it is the platform's, not the bot's)."""
        self.host = None

    def status_line(self) -> str:
        """For ``/status``."""
        return f"{self.name} (console)"

    def default_moderator_chat(self, chat: ChatRef) -> ChatRef | None:
        """The console's moderator chat for group X is the chat named ``X-mods``."""
        scope = f"{chat.scope_id}-mods"
        return ChatRef(PLATFORM, self.name, scope, scope, "group")

    def moderated_scope(self, chat: ChatRef) -> str | None:
        """Chat ``X-mods`` is, by the console's convention, the moderator chat of ``X``."""
        scope, suffix, rest = chat.scope_id.rpartition("-mods")
        return scope if suffix and not rest and scope else None

    # -- output --------------------------------------------------------------------------
    def _at(self) -> str:
        # Every record is stamped, and under the virtual clock thousands share one instant (a
        # raid through the console): the text of the last instant is kept.
        now = self.clock.now()
        if self._stamp is None or self._stamp[0] != now or self._stamp[1] is not self.out_tz:
            text = (now.astimezone(self.out_tz) if self.out_tz else now).isoformat()
            self._stamp = (now, self.out_tz, text)
        return self._stamp[2]

    def emit(self, action: str, **fields: Any) -> Record:
        """Write one output record."""
        record: Record = {"at": self._at(), "action": action}
        # ``until`` is meaningful as null (indefinitely); other absent fields are left out.
        record.update({k: v for k, v in fields.items() if v is not None or k == "until"})
        platform = PLATFORM
        for key in ("chat", "user"):
            if isinstance(record.get(key), str):
                record[key], named = outside(record[key])
                platform = named if named != PLATFORM else platform
        if platform != PLATFORM:
            record["platform"] = platform
        self.records.append(record)
        if self._emit_fn is not None:
            self._emit_fn(record)
        return record

    def take(self) -> list[Record]:
        """The records written since the last call (for in-process tests)."""
        out, self.records = self.records, []
        return out

    # -- platform directory ----------------------------------------------------------------
    def user(self, user_id: str, name: str | None = None) -> UserRef:
        """The account ``user_id`` (its display name changes when ``name`` is given).

        ``user_id`` is the console's own id (see :func:`local`): an account on another platform
        is ``platform:user``, and its username stays the plain ``user`` for mentions.
        """
        known = self.users.get(user_id)
        if known is None or (name and known.display_name != name):
            plain, platform = outside(user_id)
            known = UserRef(
                platform, user_id, name or (known.display_name if known else plain), username=plain
            )
            self.users[user_id] = known
        return known

    def group_chat(self, chat: str) -> ChatRef:
        """The ``ChatRef`` of console group ``chat`` (its console id, see :func:`local`)."""
        plain, platform = outside(chat)
        return ChatRef(platform, self.name, chat, chat, "group", title=plain)

    def private_chat(self, user_id: str) -> ChatRef:
        """The ``ChatRef`` of the bot's private chat with ``user_id``."""
        return ChatRef(outside(user_id)[1], self.name, user_id, user_id, "private")

    def set_role(self, chat: str, user_id: str, role: str | Role) -> None:
        """Give a member a platform role in a chat."""
        self.roles[(chat, user_id)] = role if isinstance(role, Role) else Role.parse(role)

    # -- inbound -------------------------------------------------------------------------
    def _submit(self, event: PlatformEvent) -> Any:
        if self.host is None:
            raise RuntimeError("console adapter is not started")
        return self.host.submit(event)

    def message(
        self,
        chat: str,
        user: str,
        text: str,
        *,
        id: str | None = None,
        reply_to: str | None = None,
        role: str | None = None,
        name: str | None = None,
        lang: str | None = None,
        update: str | None = None,
        image: str | None = None,
    ) -> Any:
        """A member says ``text`` in group ``chat``; returns the dispatcher's task.

        ``image`` is a path to a picture sent with the text (a photo with a caption).

        ``update`` plays a platform's own update id: the same ``update`` given to two console
        workers is one platform update delivered twice (without it every run's ids are its own).
        """
        # The console's edge: everything here came from outside (a script line, a typed line);
        # made encodable once, so neither the core nor the echo of this line can fail on it.
        chat, user, text = clean(chat), clean(user), clean(text)
        id, reply_to, role, name, lang, update = map(clean_opt, (id, reply_to, role, name, lang, update))
        image = clean_opt(image)
        sender = self.user(user, name)
        if role:
            self.set_role(chat, user, role)
        self.members.setdefault(chat, set()).add(user)
        message_id = id or f"m{next(self._msg_ids)}"
        self.emit("seen", chat=chat, user=user, id=message_id)
        ref = self.group_chat(chat)
        self.authors[(chat, message_id)] = sender
        if image:
            self.images[(chat, message_id)] = image
        mentions = self._mentions(chat, text)
        event = MessageEvent(
            event_id=f"update:{update}" if update else f"{self._run}:{chat}:{message_id}",
            at=self.clock.now(),
            chat=ref,
            sender=sender,
            message_id=message_id,
            text=text,
            segments=(Segment("text", text), *((Segment("image", data=image),) if image else ())),
            reply_to=reply_to,
            reply_to_user=self.authors.get((chat, reply_to)) if reply_to else None,
            mentions=tuple(mentions),
            mentions_bot=any(m.user_id == self.me.user_id for m in mentions if self.me),
            language=lang,
            reply_to_image=self.images.get((chat, reply_to)) if reply_to else None,
        )
        return self._submit(event)

    def _mentions(self, chat: str, text: str) -> list[UserRef]:
        found: list[UserRef] = []
        known = self.members.get(chat, set())
        platform = outside(chat)[1]
        for plain in _MENTION.findall(text):
            token = local(platform, plain)  # ``@bob`` in a Telegram chat is Telegram's bob
            if token in known and token in self.users and self.users[token] not in found:
                found.append(self.users[token])
            elif self.me is not None and plain == self.me.username:
                found.append(self.me)
        return found

    def dm(self, user: str, text: str, *, id: str | None = None, lang: str | None = None) -> Any:
        """A private message to the bot."""
        user, text, id, lang = clean(user), clean(text), clean_opt(id), clean_opt(lang)
        sender = self.user(user)
        message_id = id or f"m{next(self._msg_ids)}"
        self.emit("seen", user=user, id=message_id)
        ref = self.private_chat(user)
        self.authors[(user, message_id)] = sender
        event = MessageEvent(
            event_id=f"{self._run}:dm:{user}:{message_id}",
            at=self.clock.now(),
            chat=ref,
            sender=sender,
            message_id=message_id,
            text=text,
            segments=(Segment("text", text),),
            language=lang,
        )
        return self._submit(event)

    def join(self, chat: str, user: str, *, invited_by: str | None = None, name: str | None = None) -> Any:
        """A member joins group ``chat``."""
        chat, user, invited_by, name = clean(chat), clean(user), clean_opt(invited_by), clean_opt(name)
        member = self.user(user, name)
        self.members.setdefault(chat, set()).add(user)
        inviter = self.user(invited_by) if invited_by else None
        event = MemberJoined(
            event_id=f"{self._run}:join:{chat}:{user}:{next(self._event_ids)}",
            at=self.clock.now(),
            chat=self.group_chat(chat),
            member=member,
            invited_by=inviter,
        )
        return self._submit(event)

    def request(self, chat: str, user: str, answer: str) -> Any:
        """``user`` asks to join group ``chat``, answering its question with ``answer``."""
        chat, user, answer = clean(chat), clean(user), clean(answer)
        event = JoinRequested(
            event_id=f"{self._run}:request:{chat}:{user}:{next(self._event_ids)}",
            at=self.clock.now(),
            chat=self.group_chat(chat),
            member=self.user(user),
            answer=answer,
            request_id=f"{chat}:{user}",
        )
        return self._submit(event)

    def leave(self, chat: str, user: str) -> Any:
        """A member leaves group ``chat``."""
        chat, user = clean(chat), clean(user)
        member = self.user(user)
        self.members.setdefault(chat, set()).discard(user)
        event = MemberLeft(
            event_id=f"{self._run}:leave:{chat}:{user}:{next(self._event_ids)}",
            at=self.clock.now(),
            chat=self.group_chat(chat),
            member=member,
        )
        return self._submit(event)

    def button(self, chat: str, user: str, message: str, data: str) -> Any:
        """A member presses the button ``data`` under bot message ``message``."""
        chat, user, message, data = clean(chat), clean(user), clean(message), clean(data)
        presser = self.user(user)
        ref = self.private_chat(user) if chat == user and chat not in self.members else self.group_chat(chat)
        event = ButtonPressed(
            event_id=f"{self._run}:button:{chat}:{message}:{user}:{next(self._event_ids)}",
            at=self.clock.now(),
            chat=ref,
            user=presser,
            message_id=message,
            data=data,
        )
        return self._submit(event)

    # -- outbound ------------------------------------------------------------------------
    def _require(self, capability: Capability) -> None:
        # Tests reduce the console's capabilities to play a poorer platform: then it must refuse
        # exactly as that platform's adapter would.
        if capability not in self.capabilities:
            raise self._unsupported(capability)

    def _target(self, chat: ChatRef) -> dict[str, str]:
        return {"user": chat.channel_id} if chat.is_private else {"chat": chat.channel_id}

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> SentMessage:
        """Post a message: a ``send`` record."""
        self._require(Capability.SEND)
        message_id = f"b{next(self._bot_ids)}"
        buttons = (
            [[{"text": b.text, "data": b.data} for b in row] for row in message.buttons]
            if message.buttons
            else None
        )
        self.emit(
            "send",
            **self._target(chat),
            id=message_id,
            text=render_plain(message.parts),
            reply_to=message.reply_to,
            buttons=buttons,
            image=message.image,
        )
        if self.me is not None:
            self.authors[(chat.channel_id, message_id)] = self.me
        if message.image:
            self.images[(chat.channel_id, message_id)] = message.image
        return SentMessage(chat, message_id)

    async def fetch_image(self, ref: str, limit: int) -> bytes:
        """A picture a script line sent: the file at its path (at most ``limit + 1`` bytes)."""
        self._require(Capability.IMAGES)

        def read() -> bytes:
            with open(ref, "rb") as handle:
                return handle.read(limit + 1)

        try:
            return await asyncio.to_thread(read)
        except OSError as exc:
            raise TransportError(f"cannot read picture {ref}: {exc.strerror}") from None

    async def send_private(self, user_id: str, message: OutgoingMessage) -> SentMessage:
        """A private message: a ``send`` record with ``user``."""
        self._require(Capability.PRIVATE)
        return await self.send(self.private_chat(user_id), message)

    async def edit(self, chat: ChatRef, message_id: str, message: OutgoingMessage) -> None:
        """An ``edit`` record."""
        self._require(Capability.EDIT)
        if (chat.channel_id, message_id) not in self.authors:
            raise TargetNotFound(f"no message {message_id} in {chat.channel_id}")
        buttons = (
            [[{"text": b.text, "data": b.data} for b in row] for row in message.buttons]
            if message.buttons
            else None
        )
        self.emit(
            "edit", chat=chat.channel_id, id=message_id, text=render_plain(message.parts), buttons=buttons
        )

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        """A ``delete`` record."""
        self._require(Capability.DELETE)
        self.emit("delete", chat=chat.channel_id, message=message_id)

    def _until(self, until: datetime | None) -> str | None:
        if until is None:
            return None
        return (until.astimezone(self.out_tz) if self.out_tz else until).isoformat()

    async def mute(self, chat: ChatRef, user_id: str, until: datetime | None) -> None:
        """A ``mute`` record (``until`` null means indefinitely)."""
        self._require(Capability.MUTE)
        self.muted[(chat.scope_id, user_id)] = until
        self.emit("mute", chat=chat.channel_id, user=user_id, until=self._until(until))

    async def unmute(self, chat: ChatRef, user_id: str) -> None:
        """An ``unmute`` record."""
        self._require(Capability.UNMUTE)
        self.muted.pop((chat.scope_id, user_id), None)
        self.emit("unmute", chat=chat.channel_id, user=user_id)

    async def ban(self, chat: ChatRef, user_id: str, until: datetime | None) -> None:
        """A ``ban`` record."""
        self._require(Capability.BAN)
        self.banned[(chat.scope_id, user_id)] = until
        self.emit("ban", chat=chat.channel_id, user=user_id, until=self._until(until))

    async def unban(self, chat: ChatRef, user_id: str) -> None:
        """An ``unban`` record."""
        self._require(Capability.UNBAN)
        self.banned.pop((chat.scope_id, user_id), None)
        self.emit("unban", chat=chat.channel_id, user=user_id)

    async def answer_join_request(self, chat: ChatRef, request_id: str, approve: bool, reason: str) -> None:
        """An ``approve`` or ``reject`` record."""
        self._require(Capability.JOIN_REQUESTS)
        self.emit("approve" if approve else "reject", chat=chat.channel_id, request=request_id, reason=reason)

    async def kick(self, chat: ChatRef, user_id: str) -> None:
        """A ``kick`` record."""
        self._require(Capability.KICK)
        self.members.setdefault(chat.scope_id, set()).discard(user_id)
        self.emit("kick", chat=chat.channel_id, user=user_id)

    async def get_role(self, chat: ChatRef, user_id: str) -> Role:
        """The role a script gave this member in this chat (member by default)."""
        self._require(Capability.ROLE_LOOKUP)
        self.role_lookups += 1
        return self.roles.get((chat.scope_id, user_id), Role.MEMBER)


def local(platform: str | None, name: str) -> str:
    """The console's own id of chat or user ``name`` on ``platform``.

    A console name stays as it is (old scripts and their output are unchanged); a name on another
    platform becomes ``platform:name``, so the same ``bob`` on Telegram and on Discord are two
    accounts and a ``demo`` chat is named per platform.
    """
    return name if platform in (None, PLATFORM) else f"{platform}:{name}"


@functools.lru_cache(maxsize=4096)
def outside(console_id: str) -> tuple[str, str]:
    """``(name, platform)`` of a console id: the inverse of :func:`local`, for output records
    (cached: every record names a chat and a user, thousands of them in a raid)."""
    head, sep, rest = console_id.partition(":")
    if sep and rest and head in OTHER_PLATFORMS:
        return rest, head
    return console_id, PLATFORM
