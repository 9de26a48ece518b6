"""Routers: each feature owns one and declares its commands, listeners and button handlers.

No import-time registration: a router is a plain object; ``handlers/__init__.py`` lists the
features and the app builds one ``CommandTable`` from their routers.
"""

from __future__ import annotations

import inspect
import re
import shlex
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import TYPE_CHECKING, Literal

from bot.host import CommandInfo, OptionInfo
from bot.params import Param, usage_words
from bot.roles import Role

if TYPE_CHECKING:
    from bot.context import Context

Handler = Callable[["Context"], Awaitable[None]]
#: A command handler: the context, then one keyword argument per declared parameter.
CommandHandler = Callable[..., Awaitable[None]]
Where = Literal["group", "private", "any"]
Alias = str | tuple[str, str]


class Band(IntEnum):
    """Order inside one event: moderation, then commands, then listeners."""

    MODERATION = 0
    COMMANDS = 10
    LISTENER = 20


@dataclass(frozen=True)
class Subcommand:
    """One word-led form of a command (``/kw add …``): its own arguments, handler and role."""

    name: str
    handler: CommandHandler
    aliases: tuple[str, ...] = ()
    args: tuple[Param, ...] = ()
    #: None: the command's own ``min_role``.
    min_role: Role | None = None
    #: A translation key for this form's usage line; generated from ``args`` when None.
    usage: str | None = None
    #: ``group``: only in a group, even when the command itself works anywhere.
    where: Where = "any"

    def words(self) -> tuple[str, ...]:
        """Every word that selects this form."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Command:
    """A command a member can type, with its declared arguments (or subcommands)."""

    name: str
    #: Runs when no subcommand word leads (None: such a call is a usage error).
    handler: CommandHandler | None
    feature: str
    aliases: tuple[Alias, ...] = ()
    min_role: Role = Role.MEMBER
    usage: str | None = None
    help: str | None = None
    where: Where = "group"
    hidden: bool = False
    args: tuple[Param, ...] = ()
    subcommands: tuple[Subcommand, ...] = ()
    #: Translation key answered for a leading word that names no subcommand (gets ``part``);
    #: None: the word goes to ``handler``'s arguments (or, without a handler, a usage error).
    unknown_sub: str | None = None
    #: Translation key answered when a member may not use the subcommand they named.
    denied: str = "core.denied"
    #: Translation key answered for a group-only subcommand typed in a private chat.
    group_needed: str = "core.group_only"
    #: Words after the declared arguments are ignored rather than answered with the usage line.
    ignore_extra: bool = False

    def subcommand(self, word: str) -> Subcommand | None:
        """The subcommand ``word`` selects, if any."""
        folded = unicodedata.normalize("NFKC", word).lower()
        for sub in self.subcommands:
            if folded in sub.words():
                return sub
        return None

    def role_for(self, sub: Subcommand | None) -> Role:
        """The role a call needs: the subcommand's own, else the command's."""
        return sub.min_role if sub is not None and sub.min_role is not None else self.min_role

    def declared_usage(self, sub: Subcommand | None, t: Callable[[str], str]) -> str:
        """``/give <@member> <amount>``, ``/kw add <level> <term>``: from the declaration only."""
        head = f"/{self.name}" if sub is None else f"/{self.name} {sub.name}"
        words = usage_words(self.args if sub is None else sub.args, t)
        return f"{head} {words}" if words else head

    def usage_line(self, sub: Subcommand | None, t: Callable[[str], str]) -> str:
        """The line a usage error shows: the subcommand's own, the command's own, else generated."""
        if sub is not None and sub.usage:
            return t(sub.usage)
        if self.usage:
            return t(self.usage)
        return self.declared_usage(sub, t)

    def forms(self, role: Role | None, t: Callable[[str], str]) -> list[str]:
        """Every form a member of ``role`` may use (all when ``role`` is None), one usage line
        each; empty when they may use none."""
        if role is not None and role < self.min_role:
            return []
        lines = [self.declared_usage(None, t)] if self.handler is not None else []
        for sub in self.subcommands:
            if role is None or role >= self.role_for(sub):
                lines.append(t(sub.usage) if sub.usage else self.declared_usage(sub, t))
        return lines


@dataclass
class CommandGroup:
    """A command made of subcommands; ``sub`` declares each, ``default`` the bare form."""

    router: Router
    name: str

    def _replace(self, **changes: object) -> None:
        commands = self.router.commands
        for index, command in enumerate(commands):
            if command.name == self.name:
                commands[index] = replace(command, **changes)  # type: ignore[arg-type]
                return
        raise KeyError(self.name)

    def _command(self) -> Command:
        return next(c for c in self.router.commands if c.name == self.name)

    def sub(
        self,
        name: str,
        *,
        aliases: Sequence[str] = (),
        args: Sequence[Param] = (),
        min_role: Role | None = None,
        usage: str | None = None,
        where: Where = "any",
    ) -> Callable[[CommandHandler], CommandHandler]:
        """Declare ``/<command> <name> …``."""

        def register(handler: CommandHandler) -> CommandHandler:
            _check_signature(handler, args)
            words = tuple(a.lower() for a in aliases)
            sub = Subcommand(name.lower(), handler, words, tuple(args), min_role, usage, where)
            self._replace(subcommands=(*self._command().subcommands, sub))
            return handler

        return register

    def default(self, *, args: Sequence[Param] = ()) -> Callable[[CommandHandler], CommandHandler]:
        """Declare what the command does when no subcommand word leads."""

        def register(handler: CommandHandler) -> CommandHandler:
            _check_signature(handler, args)
            self._replace(handler=handler, args=tuple(args))
            return handler

        return register


def _check_signature(handler: CommandHandler, params: Sequence[Param]) -> None:
    """Refuse, at start, a handler whose keyword parameters are not its declared arguments."""
    signature = inspect.signature(handler)
    names = [p.name for p in signature.parameters.values()][1:]
    declared = [p.name for p in params]
    if sorted(names) != sorted(declared):
        raise TypeError(
            f"{handler.__qualname__} takes {names} but declares {declared}: "
            "give the handler one keyword parameter per declared argument"
        )


@dataclass(frozen=True)
class Listener:
    """A handler for every message in a band."""

    band: Band
    handler: Handler
    feature: str
    #: Also run for the bot's private chats.
    private: bool = False


@dataclass(frozen=True)
class ButtonRoute:
    """A handler for button presses whose data starts with ``prefix``."""

    prefix: str
    handler: Handler
    feature: str


@dataclass
class Router:
    """The commands and listeners of one feature."""

    feature: str
    commands: list[Command] = field(default_factory=list)
    listeners: list[Listener] = field(default_factory=list)
    buttons: list[ButtonRoute] = field(default_factory=list)
    on_join: list[Handler] = field(default_factory=list)
    on_leave: list[Handler] = field(default_factory=list)
    on_join_request: list[Handler] = field(default_factory=list)
    on_poll_answer: list[Handler] = field(default_factory=list)

    def command(
        self,
        name: str,
        *,
        aliases: Sequence[Alias] = (),
        min_role: Role = Role.MEMBER,
        usage: str | None = None,
        help: str | None = None,
        where: Where = "group",
        hidden: bool = False,
        args: Sequence[Param] = (),
        ignore_extra: bool = False,
    ) -> Callable[[CommandHandler], CommandHandler]:
        """Declare a command and its arguments; ``usage`` and ``help`` are translation keys.

        The handler is called as ``handler(ctx, **values)``, one keyword per declared argument,
        converted before it runs (``bot.params``).
        """

        def register(handler: CommandHandler) -> CommandHandler:
            _check_signature(handler, args)
            self.commands.append(
                Command(
                    name=name.lower(),
                    handler=handler,
                    feature=self.feature,
                    aliases=tuple(aliases),
                    min_role=min_role,
                    usage=usage,
                    help=help,
                    where=where,
                    hidden=hidden,
                    args=tuple(args),
                    ignore_extra=ignore_extra,
                )
            )
            return handler

        return register

    def group(
        self,
        name: str,
        *,
        aliases: Sequence[Alias] = (),
        min_role: Role = Role.MEMBER,
        usage: str | None = None,
        help: str | None = None,
        where: Where = "group",
        hidden: bool = False,
        unknown_sub: str | None = None,
        denied: str = "core.denied",
        group_needed: str = "core.group_only",
    ) -> CommandGroup:
        """Declare a command made of subcommands (``/kw add …``, ``/kw list``)."""
        self.commands.append(
            Command(
                name=name.lower(),
                handler=None,
                feature=self.feature,
                aliases=tuple(aliases),
                min_role=min_role,
                usage=usage,
                help=help,
                where=where,
                hidden=hidden,
                unknown_sub=unknown_sub,
                denied=denied,
                group_needed=group_needed,
            )
        )
        return CommandGroup(self, name.lower())

    def message(self, band: Band = Band.LISTENER, *, private: bool = False) -> Callable[[Handler], Handler]:
        """Run ``handler`` for every group message (and private ones when ``private``)."""
        if band == Band.COMMANDS:
            raise ValueError("the commands band is for commands")

        def register(handler: Handler) -> Handler:
            self.listeners.append(Listener(band, handler, self.feature, private))
            return handler

        return register

    def join(self) -> Callable[[Handler], Handler]:
        """Run ``handler`` when a member joins."""

        def register(handler: Handler) -> Handler:
            self.on_join.append(handler)
            return handler

        return register

    def join_request(self) -> Callable[[Handler], Handler]:
        """Run ``handler`` when someone asks to join (``JoinRequested``)."""

        def register(handler: Handler) -> Handler:
            self.on_join_request.append(handler)
            return handler

        return register

    def leave(self) -> Callable[[Handler], Handler]:
        """Run ``handler`` when a member leaves."""

        def register(handler: Handler) -> Handler:
            self.on_leave.append(handler)
            return handler

        return register

    def poll_answer(self) -> Callable[[Handler], Handler]:
        """Run ``handler`` when a member answers a platform's native poll (``PollAnswered``)."""

        def register(handler: Handler) -> Handler:
            self.on_poll_answer.append(handler)
            return handler

        return register

    def button(self, prefix: str) -> Callable[[Handler], Handler]:
        """Run ``handler`` for button data starting with ``prefix``."""

        def register(handler: Handler) -> Handler:
            self.buttons.append(ButtonRoute(prefix, handler, self.feature))
            return handler

        return register


@dataclass(frozen=True)
class Invocation:
    """A parsed command call."""

    command: Command
    name: str
    args: list[str]
    arg_text: str


@dataclass(frozen=True)
class Unknown:
    """A prefixed word that names no command."""

    name: str


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"'})


def split_args(text: str) -> list[str]:
    """Split arguments on whitespace, respecting quotes (also Chinese quotes)."""
    normalized = text.translate(_QUOTES)
    try:
        return shlex.split(normalized)
    except ValueError:
        return normalized.split()


class CommandTable:
    """Every command of every feature, with prefixes and plain-word aliases resolved."""

    def __init__(self, routers: Sequence[Router], prefixes: Sequence[str]) -> None:
        self.prefixes = tuple(prefixes)
        self.by_name: dict[str, Command] = {}
        self.plain: dict[str, tuple[Command, str]] = {}
        for router in routers:
            for command in router.commands:
                self._add(command)

    def _add(self, command: Command) -> None:
        if command.name in self.by_name:
            raise ValueError(f"command {command.name} defined twice")
        self.by_name[command.name] = command
        for alias in command.aliases:
            word, sub = (alias, "") if isinstance(alias, str) else alias
            word = word.lower()
            if word in self.plain:
                raise ValueError(f"alias {word} defined twice")
            self.plain[word] = (command, sub)

    def all(self) -> list[Command]:
        """Every command, by name."""
        return sorted(self.by_name.values(), key=lambda c: c.name)

    def describe(self) -> list[CommandInfo]:
        """Every command as adapters see it (``AdapterHost.commands``): no handlers, by name."""
        return [
            CommandInfo(
                name=c.name,
                aliases=tuple(a for a in c.aliases if isinstance(a, str)),
                min_role=c.min_role,
                usage=c.usage,
                help=c.help,
                where=c.where,
                hidden=c.hidden,
                options=tuple(
                    OptionInfo(p.name, p.option, p.required, p.hint or p.placeholder, p.offered())
                    for p in c.args
                ),
                subcommands=tuple(s.name for s in c.subcommands),
            )
            for c in self.all()
        ]

    def parse(self, text: str, bot_username: str | None) -> Invocation | Unknown | None:
        """Read a command from a message, or None when it is not one."""
        stripped = text.strip()
        if not stripped:
            return None
        head, _, rest = stripped.partition(" ")
        rest = rest.strip()
        # Full-width forms (！ ／) fold to ASCII so `！签到` works like `!签到`.
        folded_head = unicodedata.normalize("NFKC", head)
        for prefix in self.prefixes:
            if folded_head.startswith(prefix) and len(folded_head) > len(prefix):
                name = folded_head[len(prefix) :]
                name, _, target = name.partition("@")
                if target and bot_username and target.lower() != bot_username.lower():
                    return None  # addressed to another bot
                return self._invoke(name.lower(), rest)
        word = folded_head.lower()
        found = self.plain.get(word)
        if found is None:
            return None
        command, sub = found
        if not _CJK.search(word) and rest:
            # English plain words ("help") only count as a whole message, so chat is not hijacked.
            return None
        arg_text = f"{sub} {rest}".strip() if sub else rest
        return Invocation(command, word, split_args(arg_text), arg_text)

    def _invoke(self, name: str, rest: str) -> Invocation | Unknown:
        command = self.by_name.get(name)
        if command is None:
            plain = self.plain.get(name)
            if plain is None:
                return Unknown(name)
            command, sub = plain
            rest = f"{sub} {rest}".strip() if sub else rest
        return Invocation(command, name, split_args(rest), rest)
