"""The Telegram adapter, on python-telegram-bot 22.

PTB's ``Application`` is used only for its transport, polling and webhook plumbing: it gets one
``TypeHandler`` that normalizes every update into core events, its JobQueue is off (the core has
one scheduler) and it never runs the event loop itself (no ``run_polling``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from telegram import (
    ChatPermissions,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram import error as tg_error
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.ext import ContextTypes, TypeHandler
from telegram.request import BaseRequest

from adapters.telegram.config import PRIVACY_TEXT, TelegramConfig
from adapters.telegram.connection import (
    App,
    PollHealth,
    build_application,
    initialize,
    shutdown,
    start_updates,
)
from adapters.telegram.errors import BadRequestError, map_error
from adapters.telegram.keyboards import Keyboards
from adapters.telegram.media import fetch_photo
from adapters.telegram.menu import MenuCommand, menu_from_host, push_menus
from adapters.telegram.normalize import PLATFORM, BotIdentity, chat_ref, update_events, user_ref, with_data
from adapters.telegram.polls import NativePolls
from adapters.telegram.render import CAPTION_LIMIT, TEXT_LIMIT, render_chunks
from bot.adapter import ALL_CAPABILITIES, Adapter, AdapterHost, Capability
from bot.clock import Clock, SystemClock
from bot.events import (
    ButtonPressed,
    ChatMigrated,
    ChatRef,
    MemberJoined,
    MemberLeft,
    PlatformEvent,
    SentMessage,
)
from bot.messages import OutgoingMessage
from bot.outbound import Limit, OutboundQueue
from bot.roles import Role
from bot.text import clean_event

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Telegram's published limits: about 20 messages a minute into one group, 30 a second overall.
PER_CHAT = Limit(20, 60.0)
OVERALL = Limit(30, 1.0)
ROLE_TTL = 300.0
#: Telegram reads an until_date closer than 30 s (or past 366 days) as "forever".
MIN_RESTRICTION = timedelta(seconds=31)
#: A join seen both as a service message and as a chat_member update is reported once.
JOIN_DEDUPE_SECONDS = 60.0
RECENT_UPDATES = 4096
PRIVACY_WARNING = "telegram.privacy_mode"


class TelegramAdapter(Adapter):
    """One Telegram bot account."""

    platform = PLATFORM
    capabilities = ALL_CAPABILITIES | {Capability.NATIVE_POLLS}
    max_text_length = TEXT_LIMIT
    #: The adapter keeps its own per-chat administrator list (one getChatAdministrators call
    #: answers for every member) and drops it the moment Telegram reports a rights change, so
    #: the core should ask every time rather than hold a per-member copy for five more minutes.
    role_cache_ok = False

    def __init__(
        self,
        name: str,
        config: TelegramConfig,
        token: str,
        *,
        secret_token: str | None = None,
        request: BaseRequest | None = None,
        get_updates_request: BaseRequest | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        poll_interval: float = 0.0,
    ) -> None:
        super().__init__(name)
        self.config = config
        #: For instants Telegram does not give us (button presses, restriction floors); tests
        #: inject a virtual clock, production uses the system clock. Message times come from
        #: Telegram's own ``date``, so a message delivered late keeps the time it was sent.
        self.clock: Clock = clock or SystemClock()
        self._secret_token = secret_token
        self._monotonic = monotonic
        self._sleep = sleep
        self._poll_interval = poll_interval
        self.queue = OutboundQueue(per_chat=PER_CHAT, overall=OVERALL, sleep=sleep, monotonic=monotonic)
        self._host: AdapterHost | None = None
        self._identity: BotIdentity | None = None
        self._warnings: list[str] = []
        self._roles: dict[str, tuple[float, dict[str, Role]]] = {}
        self._migrated: dict[str, str] = {}
        self._recent: deque[int] = deque(maxlen=RECENT_UPDATES)
        self._recent_set: set[int] = set()
        self._joins: dict[tuple[str, str, str], float] = {}
        self.keyboards = Keyboards()
        self._chats_seen: set[str] = set()
        self._answers: set[asyncio.Task[None]] = set()
        self.command_menu: tuple[list[MenuCommand], list[MenuCommand]] | None = None
        self._started = False
        self.polling = PollHealth(name)

        self.application: App = build_application(token, config, request, get_updates_request, self.polling)
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.polls = NativePolls(name, self.application.bot, self._call)
        if not config.native_polls:  # the operator keeps polls as posts with buttons
            self.capabilities = ALL_CAPABILITIES

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: AdapterHost) -> None:
        """Check the token, then poll (or listen for webhooks) without blocking."""
        self._host = host
        app = self.application
        await initialize(app, self.name, self.config, self._sleep)
        me = app.bot.bot
        self.me = user_ref(me)
        self._identity = BotIdentity(me.id, me.username or "")
        self._check_privacy(bool(me.can_read_all_group_messages))
        await start_updates(
            app, self.name, self.config, self._poll_interval, self._secret_token, self._on_poll_error
        )
        self._started = True
        if self.command_menu is None:
            self.command_menu = menu_from_host(host)
        if self.command_menu is not None:
            await self.set_command_menu(*self.command_menu)
        log.info("telegram adapter %s started as @%s (%s)", self.name, me.username, self.config.mode)

    async def stop(self) -> None:
        """Stop polling and shut PTB down; calls in flight finish first."""
        if self._answers:
            await asyncio.gather(*self._answers, return_exceptions=True)
        await shutdown(self.application, self.name)
        self._started = False

    def _check_privacy(self, can_read_all: bool) -> None:
        self._warnings = []
        if not can_read_all:
            # /status shows the translated text (key below); the log gets English for operators.
            self._warnings.append(PRIVACY_WARNING)
            log.warning("telegram adapter %s: %s", self.name, PRIVACY_TEXT)

    @property
    def connected(self) -> bool:
        """Up once started, unless getUpdates fails (``PollHealth``)."""
        return self.me is not None and self._started and self.polling.up

    def outbound_backlog(self) -> int:
        """Calls waiting in the outbound queue (the desk's watchdog)."""
        return self.queue.pending

    def warnings(self) -> list[str]:
        """Start-up problems for ``/status``, as i18n keys (``telegram.privacy_mode``)."""
        return list(self._warnings)

    def status_line(self) -> str:
        """``name (telegram @bot, polling)``."""
        who = f" @{self._identity.username}" if self._identity else ""
        return f"{self.name} (telegram{who}, {self.config.mode})"

    # ------------------------------------------------------------------ inbound

    async def _on_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update):
            return
        await self.handle_update(update)

    async def handle_update(self, update: Update) -> list[PlatformEvent]:
        """Normalize one update and hand its events to the host; returns them (for tests)."""
        if update.callback_query is not None:
            # Always answered, even for a duplicate or a button nobody handles: an unanswered
            # query leaves the member's client spinning. In the background, so a burst of
            # presses does not hold up the updates behind it by one round trip each.
            answering = asyncio.create_task(self._answer(update.callback_query.id))
            self._answers.add(answering)
            answering.add_done_callback(self._answers.discard)
        if update.my_chat_member is not None or update.chat_member is not None:
            # Someone's rights changed (perhaps the bot's): ask Telegram again on the next lookup
            # instead of trusting a five-minute-old administrator list.
            change = update.my_chat_member or update.chat_member
            assert change is not None
            self._roles.pop(str(change.chat.id), None)
        if self._seen(update.update_id):
            log.debug("telegram adapter %s: duplicate update %s dropped", self.name, update.update_id)
            return []
        # Made encodable here, once: a lone surrogate from the JSON would fail far inside the core.
        now = self.clock.now()
        events = [clean_event(e) for e in update_events(self.name, update, self._identity, now)]
        events += self.polls.events(update, now)
        delivered: list[PlatformEvent] = []
        for event in events:
            if isinstance(event, ButtonPressed) and event.data.startswith("~"):
                event = with_data(event, self.keyboards.pressed(event.data))
            if isinstance(event, ChatMigrated):
                self._migrated[event.chat.channel_id] = event.new_channel_id
            if isinstance(event, MemberJoined | MemberLeft) and self._repeat_membership(event):
                continue
            delivered.append(event)
            if event.chat.channel_id not in self._chats_seen and not event.chat.is_private:
                # Operators need a group's id for "/set mod_chat"; the log is where they find it.
                self._chats_seen.add(event.chat.channel_id)
                log.info(
                    "telegram adapter %s: chat %s is %r", self.name, event.chat.channel_id, event.chat.title
                )
            if self._host is not None:
                task = self._host.submit(event)
                if isinstance(event, ChatMigrated) and task is not None:
                    # The next update is often the first message in the new supergroup. PTB hands
                    # us updates one at a time, so waiting here makes the group's data move
                    # before anything can be written under the new chat id.
                    await task
        return delivered

    def _seen(self, update_id: int) -> bool:
        if update_id in self._recent_set:
            return True
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(update_id)
        self._recent_set.add(update_id)
        return False

    def _repeat_membership(self, event: MemberJoined | MemberLeft) -> bool:
        kind = "join" if isinstance(event, MemberJoined) else "leave"
        key = (kind, event.chat.scope_id, event.member.user_id)
        now = self._monotonic()
        for stale in [k for k, t in self._joins.items() if now - t > JOIN_DEDUPE_SECONDS]:
            del self._joins[stale]
        if key in self._joins:
            return True
        self._joins[key] = now
        # A leave ends the join it follows (and vice versa): join, leave, join again within the
        # window is three real events, not a repeat.
        opposite = ("leave" if kind == "join" else "join", key[1], key[2])
        self._joins.pop(opposite, None)
        return False

    async def _answer(self, query_id: str) -> None:
        try:
            await self.application.bot.answer_callback_query(query_id)
        except tg_error.TelegramError as exc:
            # An old query (over 15 minutes) can no longer be answered; nothing to do about it.
            log.info("telegram adapter %s: could not answer callback query: %s", self.name, exc)

    def _on_poll_error(self, exc: tg_error.TelegramError) -> None:
        self.polling.failed(exc, self.clock.now())

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram adapter %s: error handling update", self.name, exc_info=context.error)

    # ------------------------------------------------------------------ outbound plumbing

    def _chat_id(self, chat_id: str) -> int | str:
        seen: set[str] = set()
        while chat_id in self._migrated and chat_id not in seen:
            seen.add(chat_id)
            chat_id = self._migrated[chat_id]
        return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id

    async def _call(self, chat_id: str, call: Callable[[int | str], Awaitable[T]], lane: str = "") -> T:
        """Run one Bot API call for a chat through the outbound queue, mapping errors."""

        async def attempt() -> T:
            target = self._chat_id(chat_id)
            try:
                return await call(target)
            except tg_error.ChatMigrated as exc:
                new_id = str(exc.new_chat_id)
                self._note_migration(str(target), new_id)
                try:
                    return await call(int(new_id))
                except tg_error.TelegramError as again:
                    raise map_error(again) from again
            except tg_error.TelegramError as exc:
                raise map_error(exc) from exc

        # Moderation actions use their own lane so a burst of deletions is not queued behind
        # 20-a-minute chat messages; both still share the overall 30-a-second budget.
        return await self.queue.run(f"{chat_id}{lane}", attempt)

    def _note_migration(self, old: str, new: str) -> None:
        if self._migrated.get(old) == new:
            return
        self._migrated[old] = new
        if self._host is not None:
            chat = ChatRef(PLATFORM, self.name, old, old, "group")
            self._host.submit(
                ChatMigrated(
                    event_id=f"{self.name}:migrate:{old}",
                    at=self.clock.now(),
                    chat=chat,
                    new_scope_id=new,
                    new_channel_id=new,
                )
            )

    # ------------------------------------------------------------------ outbound actions

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> SentMessage:
        """Post ``message``; text over 4,096 characters goes as several messages."""
        bot = self.application.bot
        thread = int(chat.thread_id) if chat.thread_id and chat.thread_id.isdigit() else None
        reply = (
            ReplyParameters(message_id=int(message.reply_to), allow_sending_without_reply=True)
            if message.reply_to and message.reply_to.isdigit()
            else None
        )
        # A reply to a message moderation just deleted must still arrive: allow_sending_without_reply.
        markup = self.keyboards.markup(message.buttons)
        chunks = render_chunks(message.parts)
        last: Message | None = None

        if message.image:
            caption_chunks = render_chunks(message.parts, CAPTION_LIMIT)
            caption = caption_chunks[0] if len(caption_chunks) == 1 and caption_chunks[0] else None
            photo = await asyncio.to_thread(Path(message.image).read_bytes)
            only_photo = caption is not None or not chunks[0]
            photo_reply = reply

            async def send_photo(cid: int | str) -> Message:
                return await bot.send_photo(
                    cid,
                    photo=photo,
                    caption=caption,
                    parse_mode=ParseMode.HTML,
                    reply_parameters=photo_reply,
                    reply_markup=markup if only_photo else None,
                    disable_notification=message.silent,
                    message_thread_id=thread,
                )

            sent_photo = await self._call(chat.channel_id, send_photo)
            if only_photo:
                return self._sent(chat, sent_photo)
            reply = None

        for i, text in enumerate(chunks):
            last = await self._call(
                chat.channel_id,
                self._text_sender(
                    text or "\u2063",
                    reply=reply if i == 0 else None,
                    markup=markup if i == len(chunks) - 1 else None,
                    silent=message.silent,
                    thread=thread,
                ),
            )
        if last is None:  # pragma: no cover - render_chunks always yields one chunk
            raise RuntimeError("nothing was sent")
        return self._sent(chat, last)

    def _text_sender(
        self,
        text: str,
        *,
        reply: ReplyParameters | None,
        markup: InlineKeyboardMarkup | None,
        silent: bool,
        thread: int | None,
    ) -> Callable[[int | str], Awaitable[Message]]:
        bot = self.application.bot

        async def call(cid: int | str) -> Message:
            return await bot.send_message(
                cid,
                text,
                parse_mode=ParseMode.HTML,
                reply_parameters=reply,
                reply_markup=markup,
                disable_notification=silent,
                message_thread_id=thread,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )

        return call

    def _sent(self, chat: ChatRef, message: Message) -> SentMessage:
        return SentMessage(chat=chat, message_id=str(message.message_id))

    async def edit(self, chat: ChatRef, message_id: str, message: OutgoingMessage) -> None:
        """Replace the text and buttons of one of the bot's messages (or a photo's caption)."""
        bot = self.application.bot
        markup = self.keyboards.markup(message.buttons)
        text = render_chunks(message.parts)[0]

        async def call(cid: int | str) -> object:
            try:
                try:
                    return await bot.edit_message_text(
                        text,
                        chat_id=cid,
                        message_id=int(message_id),
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                        link_preview_options=LinkPreviewOptions(is_disabled=True),
                    )
                except tg_error.BadRequest as exc:
                    if "no text in the message" not in str(exc).lower():
                        raise
                    # A photo (a chart) has a caption, not a text.
                    return await bot.edit_message_caption(
                        chat_id=cid,
                        message_id=int(message_id),
                        caption=render_chunks(message.parts, CAPTION_LIMIT)[0],
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                    )
            except tg_error.BadRequest as exc:
                # Editing to the same content is a success, not an error (a double press).
                if "message is not modified" in str(exc).lower():
                    return True
                raise

        await self._call(chat.channel_id, call)

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        """Delete a message (needs the delete-messages right in groups)."""
        bot = self.application.bot
        await self._call(chat.channel_id, lambda cid: bot.delete_message(cid, int(message_id)), ":mod")

    def _until(self, until: datetime | None) -> datetime | None:
        if until is None:
            return None
        floor = self.clock.now() + MIN_RESTRICTION
        return until if until >= floor else floor

    async def mute(self, chat: ChatRef, user_id: str, until: datetime | None) -> None:
        """Restrict a member from sending anything until ``until`` (None: until unmuted)."""
        bot = self.application.bot
        end = self._until(until)
        await self._call(
            chat.channel_id,
            lambda cid: bot.restrict_chat_member(
                cid,
                int(user_id),
                ChatPermissions.no_permissions(),
                until_date=end,
                use_independent_chat_permissions=True,
            ),
            ":mod",
        )

    async def unmute(self, chat: ChatRef, user_id: str) -> None:
        """Give a member back the group's default permissions (not more than everyone has)."""
        bot = self.application.bot

        async def call(cid: int | str) -> object:
            permissions = None
            try:
                permissions = (await bot.get_chat(cid)).permissions
            except tg_error.BadRequest:
                permissions = None
            return await bot.restrict_chat_member(
                cid,
                int(user_id),
                permissions or ChatPermissions.all_permissions(),
                use_independent_chat_permissions=True,
            )

        await self._call(chat.channel_id, call, ":mod")

    async def ban(self, chat: ChatRef, user_id: str, until: datetime | None) -> None:
        """Remove a member and keep them out until ``until`` (None: for good)."""
        bot = self.application.bot
        end = self._until(until)
        await self._call(
            chat.channel_id, lambda cid: bot.ban_chat_member(cid, int(user_id), until_date=end), ":mod"
        )

    async def unban(self, chat: ChatRef, user_id: str) -> None:
        """Lift a ban; ``only_if_banned`` so a member who is in the chat is not thrown out."""
        bot = self.application.bot
        await self._call(
            chat.channel_id,
            lambda cid: bot.unban_chat_member(cid, int(user_id), only_if_banned=True),
            ":mod",
        )

    async def kick(self, chat: ChatRef, user_id: str) -> None:
        """Remove a member who may come back: Telegram has no kick, so ban then unban.

        The ban is the shortest Telegram allows, so a failed unban cannot leave a member who was
        only kicked banned for good.
        """
        await self.ban(chat, user_id, self.clock.now() + MIN_RESTRICTION)
        await self.unban(chat, user_id)

    async def get_role(self, chat: ChatRef, user_id: str) -> Role:
        """The member's role from ``getChatAdministrators``, cached for five minutes per chat."""
        if chat.is_private:
            return Role.MEMBER
        if user_id == chat.channel_id:
            # Only the group's administrators can post as the group itself (anonymous admins).
            return Role.ADMIN
        now = self._monotonic()
        cached = self._roles.get(chat.channel_id)
        if cached is None or now - cached[0] >= ROLE_TTL:
            bot = self.application.bot
            admins = await self._call(chat.channel_id, lambda cid: bot.get_chat_administrators(cid), ":mod")
            roles: dict[str, Role] = {}
            for admin in admins:
                if admin.status == ChatMemberStatus.OWNER:
                    roles[str(admin.user.id)] = Role.OWNER
                elif getattr(admin, "can_restrict_members", False):
                    roles[str(admin.user.id)] = Role.ADMIN
                else:
                    roles[str(admin.user.id)] = Role.MODERATOR
            cached = (now, roles)
            self._roles[chat.channel_id] = cached
        return cached[1].get(user_id, Role.MEMBER)

    def forget_roles(self, chat: ChatRef | None = None) -> None:
        """Drop cached roles (all chats, or one) so the next lookup asks Telegram again."""
        if chat is None:
            self._roles.clear()
        else:
            self._roles.pop(chat.channel_id, None)

    async def send_private(self, user_id: str, message: OutgoingMessage) -> SentMessage:
        """Message a member one to one (only works once they have started the bot)."""
        chat = ChatRef(PLATFORM, self.name, user_id, user_id, "private")
        return await self.send(chat, message)

    async def fetch_image(self, ref: str, limit: int) -> bytes:
        """A photo members sent (its ``file_id``), for a post's picture."""
        return await fetch_photo(self.application.bot, ref, limit)

    async def send_poll(
        self,
        chat: ChatRef,
        question: str,
        options: tuple[str, ...],
        *,
        multi: bool,
        anonymous: bool,
        closes_at: datetime | None = None,
    ) -> SentMessage:
        """``sendPoll`` (non-anonymous, so answers reach the bot); see ``adapters.telegram.polls``."""
        return await self.polls.send(chat, question, options, multi=multi, anonymous=anonymous)

    async def stop_poll(self, chat: ChatRef, message_id: str) -> None:
        """``stopPoll``: the poll closes and shows its final counts."""
        await self.polls.stop(chat, message_id)

    def track_poll(self, chat: ChatRef, message_id: str, poll_id: str) -> None:
        """Remember an open poll's place after a restart (``poll_answer`` names no chat)."""
        self.polls.track(chat, message_id, poll_id)

    # ------------------------------------------------------------------ command menu

    async def set_command_menu(self, members: Sequence[MenuCommand], admins: Sequence[MenuCommand]) -> None:
        """Register the ``/`` menu: one list for members, a longer one for group administrators.

        Each list is set without a language (the fallback, in the first language given) and for
        ``zh`` and ``en`` clients, so members see descriptions in their own language.
        """
        self.command_menu = (list(members), list(admins))
        if not self._started:
            return
        await push_menus(self.application.bot, self.name, members, admins)


__all__ = ["BadRequestError", "MenuCommand", "TelegramAdapter", "chat_ref"]
