"""The dispatcher: one task per event; inside an event, bands run in order, deterministically.

moderation (band 0) → commands (band 10) → listeners (band 20). A handler may stop the chain
(``ctx.stop()``). A handler that raises is logged with the event id and traceback, the member
gets a short apology in their language, and the bot goes on with the next event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot import logs, metrics
from bot.adapter import Adapter
from bot.args import BadArgument, UsageError, excerpt
from bot.context import Context
from bot.dedupe import Deduper
from bot.errors import QunyouError
from bot.events import (
    ButtonPressed,
    ChatMigrated,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MessageEvent,
    PlatformEvent,
    PollAnswered,
)
from bot.host import CommandInfo
from bot.i18n import normalize_language
from bot.params import bind, rest_after
from bot.parsed import ParsedMessage
from bot.ports import TextFolding
from bot.router import Band, ButtonRoute, CommandTable, Invocation, Listener, Router, Unknown
from bot.services import Services

log = logging.getLogger(__name__)


class Dispatcher:
    """Turns events into handler calls; the ``AdapterHost`` every adapter is started with."""

    def __init__(
        self, services: Services, commands: CommandTable, deduper: Deduper, routers: Sequence[Router]
    ) -> None:
        self.services = services
        self.command_table = commands
        self.deduper = deduper
        listeners = [listener for r in routers for listener in r.listeners]
        self._moderation: list[Listener] = [x for x in listeners if x.band == Band.MODERATION]
        self._listeners: list[Listener] = [x for x in listeners if x.band == Band.LISTENER]
        self._joins = [h for r in routers for h in r.on_join]
        self._leaves = [h for r in routers for h in r.on_leave]
        self._join_requests = [h for r in routers for h in r.on_join_request]
        self._poll_answers = [h for r in routers for h in r.on_poll_answer]
        self._buttons: list[ButtonRoute] = [b for r in routers for b in r.buttons]
        self._tasks: set[asyncio.Task[None]] = set()
        #: Each platform's message counter and pipeline histogram, looked up once: ``labels()``
        #: validates and locks on every call, twice per event (a raid is thousands of events).
        self._meters: dict[str, tuple[Any, Any]] = {}
        self.handled = 0
        self.failures = 0
        #: Set while the app shuts down: new events are refused so draining ends.
        self.closing = False

    # -- entry points ------------------------------------------------------------------
    def submit(self, event: PlatformEvent) -> asyncio.Task[None] | None:
        """Queue an event (deduplicated by adapter and event id); returns its task."""
        if self.closing:
            log.info("shutting down: event %s not handled", event.event_id)
            return None
        if not self.deduper.is_new(event.chat.adapter, event.event_id, event.seq):
            metrics.DUPLICATES.labels(platform=event.chat.platform).inc()
            return None
        task = asyncio.create_task(self.handle(event), name=f"event-{event.event_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def translate(self, lang: str, key: str, /, **values: Any) -> str:
        """``AdapterHost.translate``: the shared catalogs."""
        return self.services.i18n.t(lang, key, **values)

    def commands(self) -> Sequence[CommandInfo]:
        """``AdapterHost.commands``: the command table, without the handlers."""
        return self.command_table.describe()

    async def drain(self) -> None:
        """Wait until every queued event has been handled."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def handle(self, event: PlatformEvent) -> None:
        """Handle one event now; never raises."""
        platform = event.chat.platform
        started = time.perf_counter()
        logs.UPDATE_ID.set(event.event_id)  # this task's own copy of the context
        try:
            # Several workers may receive the same update (a redelivery after a failover): the
            # database's unique key decides which one handles it (on SQLite, one worker: no-op).
            if not await self.deduper.claim(event.chat.adapter, event.event_id):
                metrics.DUPLICATES.labels(platform=platform).inc()
                return
            self._meters_of(platform)[0].inc()
            await self._dispatch(event)
        except Exception:
            self.failures += 1
            metrics.ERRORS.labels(handler="dispatcher").inc()
            log.exception("event %s failed outside any handler", event.event_id)
        finally:
            self.handled += 1
            self._meters_of(platform)[1].observe(time.perf_counter() - started)

    def _meters_of(self, platform: str) -> tuple[Any, Any]:
        found = self._meters.get(platform)
        if found is None:
            found = self._meters[platform] = (
                metrics.MESSAGES_IN.labels(platform=platform),
                metrics.PIPELINE_SECONDS.labels(platform=platform),
            )
        return found

    # -- routing -------------------------------------------------------------------------
    async def _dispatch(self, event: PlatformEvent) -> None:
        if isinstance(event, ChatMigrated):
            await self.services.directory.migrate(event.chat.adapter, event.chat.scope_id, event.new_scope_id)
            return
        adapter = self.services.adapters.get(event.chat.adapter)
        if adapter is None:
            log.error("event %s from unknown adapter %s", event.event_id, event.chat.adapter)
            return
        if isinstance(event, MessageEvent):
            if adapter.me is not None and event.sender.user_id == adapter.me.user_id:
                return  # our own message echoed back
            pressed = self._numbered_reply(event)
            if pressed is not None:
                event = pressed
        if isinstance(event, MemberJoined | MemberLeft) and adapter.me is not None:
            if event.member.user_id == adapter.me.user_id:
                await self._bot_membership(event)
                return
        ctx = await self._context(event)
        if ctx.group is not None:
            logs.GROUP_ID.set(ctx.group.id)
        if isinstance(event, MessageEvent):
            await self._message(ctx, event)
        elif isinstance(event, ButtonPressed):
            await self._button(ctx, event)
        elif isinstance(event, MemberJoined):
            # The join itself was recorded with the member row (``_context``): one write.
            await self._run_all(ctx, self._joins)
        elif isinstance(event, MemberLeft):
            if ctx.member is not None:
                ctx.member = await self.services.directory.mark_left(ctx.member, event.at)
            await self._run_all(ctx, self._leaves)
        elif isinstance(event, JoinRequested):
            await self._run_all(ctx, self._join_requests)
        elif isinstance(event, PollAnswered):
            await self._run_all(ctx, self._poll_answers)

    async def _bot_membership(self, event: MemberJoined | MemberLeft) -> None:
        """The bot itself was added to or removed from a group: mark the group (in)active, so
        features can skip posting where the bot can no longer speak."""
        directory = self.services.directory
        group = await directory.group_for(event.chat)
        active = isinstance(event, MemberJoined)
        if group.active != active:
            await directory.update_group(group, active=active)
            log.info("group %s (%s) is now %s", group.id, group.scope_id, "active" if active else "inactive")

    def _numbered_reply(self, event: MessageEvent) -> ButtonPressed | None:
        if event.reply_to is None or len(event.text) > 3:
            return None
        button = self.services.buttons.lookup(
            event.chat.adapter, event.chat.channel_id, event.reply_to, event.text
        )
        if button is None:
            return None
        return ButtonPressed(
            event_id=event.event_id,
            at=event.at,
            chat=event.chat,
            user=event.sender,
            message_id=event.reply_to,
            data=button.data,
        )

    async def _context(self, event: PlatformEvent) -> Context:
        services = self.services
        adapter = services.adapters[event.chat.adapter]
        group = member = None
        if not event.chat.is_private:
            group = await services.directory.group_for(event.chat)
            user = (
                event.member
                if isinstance(event, MemberJoined | MemberLeft | JoinRequested)
                else (
                    event.user if isinstance(event, ButtonPressed | PollAnswered) else event.sender  # type: ignore[union-attr]
                )
            )
            joined = event.at if isinstance(event, MemberJoined) else None
            member = await services.directory.member_for(group, user, joined_at=joined)
            services.directory.seen[member.id] = event.at
        if group is not None:
            lang = group.language
        else:
            hint = event.language if isinstance(event, MessageEvent) else None
            lang = normalize_language(hint) or services.config.bot.language
        parsed = self._parse(event, adapter) if isinstance(event, MessageEvent) else None
        return Context(
            event=event,
            services=services,
            adapter=adapter,
            group=group,
            member=member,
            lang=lang,
            parsed=parsed,
        )

    def _parse(self, event: MessageEvent, adapter: Adapter) -> ParsedMessage:
        """The one parsed value every band of this message shares (computed lazily)."""
        me = adapter.me.username if adapter.me else None
        table = self.command_table
        folding = self.services.ports.find(TextFolding)
        return ParsedMessage(
            event.text,
            read_command=lambda text: table.parse(text, me),
            prefixes=self.services.config.bot.command_prefixes,
            fold=folding.fold if folding is not None else None,
        )

    async def _message(self, ctx: Context, event: MessageEvent) -> None:
        private = event.chat.is_private
        for listener in self._moderation:
            if private and not listener.private:
                continue
            await self._run(ctx, listener.handler)
            if ctx.stopped:
                return
        parsed = ctx.parsed.command
        if isinstance(parsed, Invocation):
            ctx.is_command = True
            await self._command(ctx, parsed)
        elif isinstance(parsed, Unknown) and not event.edited:
            await self._safe_reply(ctx, ctx.t("core.unknown_command", name=_short(parsed.name)))
        if ctx.stopped:
            return
        for listener in self._listeners:
            if private and not listener.private:
                continue
            await self._run(ctx, listener.handler)
            if ctx.stopped:
                return

    async def _command(self, ctx: Context, call: Invocation) -> None:
        command = call.command
        ctx.command = command
        ctx.command_name = call.name
        ctx.args = call.args
        ctx.arg_text = call.arg_text
        if ctx.message is not None and ctx.message.edited:
            return  # an edit does not run a command twice
        if command.where == "group" and ctx.group is None:
            await self._safe_reply(ctx, ctx.t("core.group_only"))
            return
        if command.where == "private" and ctx.group is not None:
            await self._safe_reply(ctx, ctx.t("core.private_only"))
            return
        if await ctx.role() < command.min_role:
            await self._safe_reply(ctx, ctx.t("core.denied"))
            return

        async def invoke(c: Context) -> None:
            await self._invoke(c, call)

        # Failures are logged under the command's name, not this wrapper's.
        invoke.__qualname__ = f"/{command.name} ({getattr(command.handler, '__qualname__', 'subcommands')})"
        await self._run(ctx, invoke)

    async def _invoke(self, ctx: Context, call: Invocation) -> None:
        """Pick the subcommand, check its role, convert the declared arguments, run the handler.

        Conversion raises ``UsageError``/``BadArgument`` before the handler runs; ``_run``
        answers both with the command's usage line.
        """
        command = call.command
        words, raw = call.args, call.arg_text
        sub = command.subcommand(words[0]) if words and command.subcommands else None
        if sub is not None and not sub.args and len(words) > 1 and command.handler is not None:
            # A subcommand that takes nothing counts only alone: ``/feedback list is too long``
            # is feedback, not ``list``.
            sub = None
        if sub is not None:
            ctx.subcommand = sub
            if sub.where == "group" and ctx.group is None:
                await ctx.reply(ctx.t(command.group_needed))
                return
            if await ctx.role() < command.role_for(sub):
                await ctx.reply(ctx.t(command.denied))
                return
            ctx.params = await bind(ctx, sub.args, words[1:], rest_after(raw, 1))
            await sub.handler(ctx, **ctx.params)
            return
        if words and command.unknown_sub is not None:
            raise BadArgument(command.unknown_sub, part=excerpt(words[0]))
        if command.handler is None:
            raise UsageError()
        ctx.params = await bind(ctx, command.args, words, raw, ignore_extra=command.ignore_extra)
        await command.handler(ctx, **ctx.params)

    async def _button(self, ctx: Context, event: ButtonPressed) -> None:
        if ctx.group is not None and ctx.member is not None and ctx.member.left_at is not None:
            # Someone who left the group (it still shows them the post) may not enter its
            # giveaways, vote in its polls or sign up: told privately, nothing is counted.
            try:
                await ctx.send_private(ctx.t("core.button.not_member"))
            except Exception:
                log.info("could not tell %s they are no longer in the group", ctx.user.user_id)
            return
        for route in self._buttons:
            if event.data.startswith(route.prefix):
                await self._run(ctx, route.handler)
                return
        log.info("button %r under %s has no handler", event.data, event.message_id)

    async def _run_all(self, ctx: Context, handlers: list[Callable[[Context], Awaitable[None]]]) -> None:
        for handler in handlers:
            await self._run(ctx, handler)
            if ctx.stopped:
                return

    async def _run(self, ctx: Context, handler: Callable[[Context], Awaitable[None]]) -> None:
        try:
            await handler(ctx)
        except UsageError:
            await self._safe_usage(ctx)
        except BadArgument as exc:
            text = ctx.t(exc.key, **exc.values)
            if ctx.command is not None and (ctx.command.usage or (ctx.subcommand and ctx.subcommand.usage)):
                text += "\n" + ctx.t("core.usage", usage=ctx.usage_line())
            await self._safe_reply(ctx, text)
        except QunyouError as exc:
            self.failures += 1
            log.warning("event %s: platform refused an action: %s", ctx.event.event_id, exc)
            await self._safe_reply(ctx, ctx.t("core.error.platform"))
            ctx.stop()
        except Exception:
            self.failures += 1
            name = str(getattr(handler, "__qualname__", handler))
            metrics.ERRORS.labels(handler=name).inc()
            log.exception("handler %s failed on event %s", name, ctx.event.event_id)
            await self._safe_reply(ctx, ctx.t("core.error.internal"))
            ctx.stop()

    async def _safe_usage(self, ctx: Context) -> None:
        try:
            await ctx.usage()
        except Exception:
            log.exception("could not send usage for event %s", ctx.event.event_id)

    async def _safe_reply(self, ctx: Context, text: str) -> None:
        if isinstance(ctx.event, MemberJoined | MemberLeft | JoinRequested):
            return
        try:
            await ctx.reply(text)
        except Exception:
            log.exception("could not reply to event %s", ctx.event.event_id)


def _short(text: str, limit: int = 24) -> str:
    flat = "".join(ch for ch in text if ch.isprintable())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
