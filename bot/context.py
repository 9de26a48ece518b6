"""The context a handler receives: the event, who and where, replies, translation, time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from bot.adapter import Adapter
from bot.clock import zone
from bot.events import (
    ButtonPressed,
    ChatRef,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MessageEvent,
    PlatformEvent,
    SentMessage,
    UserRef,
)
from bot.messages import OutgoingMessage, Part, Text
from bot.parsed import ParsedMessage
from bot.roles import Role
from bot.services import Services
from bot.settings import Model

if TYPE_CHECKING:
    from storage.models import Group, Member


class CommandMeta(Protocol):
    """What a context knows of the command it runs (``bot.router.Command``): typed this way
    because the router hands contexts to handlers, so the context must not import the router."""

    @property
    def name(self) -> str:
        """The command's name."""
        ...

    @property
    def feature(self) -> str:
        """The feature that declares it."""
        ...

    @property
    def usage(self) -> str | None:
        """The translation key of its usage line."""
        ...

    def usage_line(self, sub: Any, t: Callable[[str], str]) -> str:
        """The line a usage error shows for this command (and subcommand ``sub``)."""
        ...


class SubcommandMeta(Protocol):
    """What a context knows of the subcommand a call selected (``bot.router.Subcommand``)."""

    @property
    def name(self) -> str:
        """The subcommand's word."""
        ...

    @property
    def usage(self) -> str | None:
        """The translation key of its own usage line, if any."""
        ...


class Context:
    """Everything one handler call needs; built by the dispatcher once per event."""

    def __init__(
        self,
        *,
        event: PlatformEvent,
        services: Services,
        adapter: Adapter,
        group: Group | None,
        member: Member | None,
        lang: str,
        parsed: ParsedMessage | None = None,
    ) -> None:
        self.event = event
        self._parsed = parsed
        self.services = services
        self.adapter = adapter
        self.group = group
        self.member = member
        self.lang = lang
        self.stopped = False
        self.is_command = False
        self.command: CommandMeta | None = None
        #: The subcommand the call selected (``/kw add``), if the command has subcommands.
        self.subcommand: SubcommandMeta | None = None
        self.command_name = ""
        #: The words after the command, for the core only: handlers get their declared
        #: arguments converted (``bot.params``); listeners may read ``params``.
        self.args: list[str] = []
        #: The current command's converted arguments, by declared name (empty before binding).
        self.params: dict[str, Any] = {}
        self.arg_text = ""
        self._role: Role | None = None
        #: Set by ``reply``: the bot's answer to this event (later handlers may edit it).
        self.replies: list[SentMessage] = []

    # -- who and where -------------------------------------------------------------------
    @property
    def chat(self) -> ChatRef:
        """Where the event happened."""
        return self.event.chat

    @property
    def user(self) -> UserRef:
        """Who caused the event."""
        event = self.event
        if isinstance(event, MessageEvent):
            return event.sender
        if isinstance(event, ButtonPressed):
            return event.user
        if isinstance(event, MemberJoined | MemberLeft | JoinRequested):
            return event.member
        raise AttributeError("this event has no user")

    @property
    def message(self) -> MessageEvent | None:
        """The message, for message events."""
        return self.event if isinstance(self.event, MessageEvent) else None

    @property
    def text(self) -> str:
        """The message text ('' for other events)."""
        return self.event.text if isinstance(self.event, MessageEvent) else ""

    @property
    def parsed(self) -> ParsedMessage:
        """The message parsed once (command, folded and case-folded text), shared by every
        handler of this event: read from it rather than deriving your own (message events only)."""
        if self._parsed is None:
            raise AttributeError("this event has no message to parse")
        return self._parsed

    @property
    def mentions(self) -> tuple[UserRef, ...]:
        """Members the message mentions."""
        return self.event.mentions if isinstance(self.event, MessageEvent) else ()

    @property
    def reply_target(self) -> UserRef | None:
        """The author of the message this one replies to."""
        return self.event.reply_to_user if isinstance(self.event, MessageEvent) else None

    # -- time ----------------------------------------------------------------------------
    @property
    def tz(self) -> str:
        """The group's IANA timezone (the default in private chats)."""
        return self.group.timezone if self.group else self.services.directory.default_tz

    @property
    def zone(self) -> ZoneInfo:
        """The group's ``ZoneInfo``."""
        return zone(self.tz)

    @property
    def now(self) -> datetime:
        """The current instant in UTC."""
        return self.services.clock.now()

    @property
    def local_now(self) -> datetime:
        """The current instant in the group's timezone."""
        return self.now.astimezone(self.zone)

    @property
    def today(self) -> date:
        """Today in the group's timezone."""
        return self.local_now.date()

    # -- language ------------------------------------------------------------------------
    def t(self, key: str, /, **values: Any) -> str:
        """A translated string in the group's language."""
        return self.services.i18n.t(self.lang, key, **values)

    def parts(self, key: str, /, **values: Any) -> tuple[Part, ...]:
        """A translated string as message parts; ``UserRef`` values become mentions."""
        return self.services.i18n.parts(self.lang, key, **values)

    # -- answering -----------------------------------------------------------------------
    def _message(self, content: str | OutgoingMessage | tuple[Part, ...], reply: bool) -> OutgoingMessage:
        if isinstance(content, OutgoingMessage):
            message = content
        elif isinstance(content, tuple):
            message = OutgoingMessage(parts=content)
        else:
            message = OutgoingMessage(parts=(Text(content),))
        reply_to = self.event.message_id if reply and isinstance(self.event, MessageEvent) else None
        if reply_to and message.reply_to is None:
            message = OutgoingMessage(
                parts=message.parts,
                reply_to=reply_to,
                buttons=message.buttons,
                image=message.image,
                silent=message.silent,
                notify=message.notify,
            )
        return message

    async def reply(self, content: str | OutgoingMessage | tuple[Part, ...]) -> SentMessage:
        """Answer the event in its chat, as a reply to the message when there is one."""
        sent = await self.services.send(self.chat, self._message(content, reply=True), self.lang)
        self.replies.append(sent)
        return sent

    async def send(self, content: str | OutgoingMessage | tuple[Part, ...]) -> SentMessage:
        """Post in the event's chat without replying."""
        return await self.services.send(self.chat, self._message(content, reply=False), self.lang)

    async def send_private(self, content: str | OutgoingMessage | tuple[Part, ...]) -> SentMessage:
        """Send to the member privately (raises ``CapabilityNotSupported`` where impossible)."""
        message = self._message(content, reply=False)
        return await self.services.send_private(self.chat.adapter, self.user.user_id, message, self.lang)

    async def usage(self) -> SentMessage:
        """Answer with the current command's usage line."""
        return await self.reply(self.t("core.usage", usage=self.usage_line()))

    def usage_line(self) -> str:
        """The current command's usage: its subcommand's or its own line, else generated."""
        command = self.command
        if command is None:
            return f"/{self.command_name}"
        return command.usage_line(self.subcommand, self.t)

    # -- permissions and settings ----------------------------------------------------------
    async def role(self) -> Role:
        """The caller's role here (cached for this event)."""
        if self._role is None:
            self._role = await self.services.permissions.role_of(
                self.adapter, self.chat, self.group.id if self.group else None, self.user.user_id
            )
        return self._role

    async def role_of(self, user_id: str) -> Role:
        """Another member's role here."""
        return await self.services.permissions.role_of(
            self.adapter, self.chat, self.group.id if self.group else None, user_id
        )

    async def role_in(self, group: Group) -> Role:
        """The caller's role in another group (a button pressed in a moderator chat acts on the
        group the alert came from, so check the role there)."""
        chat = self.services.directory.chat_for(group)
        return await self.services.permissions.role_of(
            self.services.adapters[group.adapter], chat, group.id, self.user.user_id
        )

    async def settings(self, model: type[Model]) -> Model:
        """The group's resolved settings of one feature (the defaults in private chats): typed
        attributes, read from a snapshot cached per group until ``/set`` changes it."""
        return await self.services.settings.of(self.group.id if self.group else None, model)

    def stop(self) -> None:
        """End the chain: later bands and handlers do not see this event."""
        self.stopped = True
