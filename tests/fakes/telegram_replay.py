"""Play a console script (CONSOLE_PROTOCOL.md) against the bot running on Telegram.

``ScriptSession`` reads the script exactly as ``python -m bot console --script`` does; instead of
the console adapter, a ``TelegramBridge`` turns each input line into the Telegram update a real
client would cause and hands it to a real ``TelegramAdapter`` (python-telegram-bot, faked only at
``do_request``). The Bot API calls the bot makes are turned back into console records, so a
golden ``.expected.jsonl`` written for the console can be compared line by line: the same
scenario must behave the same on Telegram.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Awaitable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from telegram import Update

from adapters.console.adapter import Record
from adapters.console.script import ScriptSession
from adapters.telegram import TelegramAdapter, TelegramConfig
from bot.app import App
from bot.clock import Clock
from bot.config import Settings
from bot.events import ChatRef, SentMessage
from bot.messages import OutgoingMessage
from bot.roles import Role
from tests.fakes import telegram_api as tg
from tests.fakes.telegram_api import BOT_ID, TOKEN, BotApiState, Call, FakeBotApi
from tests.fakes.telegram_support import FakeTime

_USER_LINK = re.compile(r'<a href="tg://user\?id=\d+">(.*?)</a>', re.S)
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.S)
_TAGS = re.compile(r"</?(?:b|i|u|s|code|pre)>")


def plain_text(markup: str) -> str:
    """What a member sees of Telegram HTML, spelled the way the console spells it."""

    def link(match: re.Match[str]) -> str:
        url, label = html.unescape(match.group(1)), html.unescape(match.group(2))
        return url if label == url else f"{label} ({url})"

    text = _USER_LINK.sub(lambda m: "@" + m.group(1), markup)
    text = _LINK.sub(link, text)
    return html.unescape(_TAGS.sub("", text))


class TelegramBridge:
    """Looks like the console adapter to ``ScriptSession``; speaks Telegram to the bot."""

    def __init__(self, state: BotApiState) -> None:
        self.state = state
        self.clock: Clock | None = None
        self.out_tz: tzinfo | None = None
        self.telegram: TelegramAdapter | None = None
        self.records: list[Record] = []
        self._calls_seen = 0
        self._update_ids = itertools.count(1)
        self._member_ids = itertools.count(1_000_000)
        self._auto_ids = itertools.count(1)
        self._bot_ids = itertools.count(1)
        self.chats: dict[str, int] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.members: dict[str, set[str]] = {}
        self.roles: dict[int, dict[str, Role]] = {}
        #: console message id → (Telegram chat id, message id, the Telegram message dict)
        self.messages: dict[str, tuple[int, int, dict[str, Any]]] = {}
        #: (Telegram chat id, message id) → console message id
        self.console_ids: dict[tuple[int, int], str] = {}
        #: Paths of images the bot sent, in order (noted by the replay adapter).
        self.images: list[str] = []

    # -- names ---------------------------------------------------------------------------
    def _chat_id(self, chat: str) -> int:
        if chat not in self.chats:
            self.chats[chat] = -1_001_000_000_000 - len(self.chats)
        return self.chats[chat]

    def _user(self, user: str, name: str | None = None, lang: str | None = None) -> dict[str, Any]:
        known = self.users.get(user)
        if known is None:
            known = tg.user(10_000 + len(self.users), name or user, user)
            known.pop("language_code", None)
            self.users[user] = known
        elif name:
            known["first_name"] = name
        out = dict(known)
        if lang:
            out["language_code"] = lang
        return out

    def _chat_name(self, chat_id: int) -> dict[str, str]:
        for name, cid in self.chats.items():
            if cid == chat_id:
                return {"chat": name}
        for name, user in self.users.items():
            if user["id"] == chat_id:
                return {"user": name}
        return {"chat": str(chat_id)}

    def _user_name(self, user_id: int) -> str:
        return next((n for n, u in self.users.items() if u["id"] == user_id), str(user_id))

    # -- records -------------------------------------------------------------------------
    def _at(self, instant: datetime | None = None) -> str:
        assert self.clock is not None
        now = instant or self.clock.now()
        return (now.astimezone(self.out_tz) if self.out_tz else now).isoformat()

    def emit(self, action: str, **fields: Any) -> Record:
        """Write one record (``seen`` and ``error`` come from here, the rest from Bot API calls)."""
        self._collect()
        record: Record = {"at": self._at(), "action": action}
        record.update({k: v for k, v in fields.items() if v is not None or k == "until"})
        self.records.append(record)
        return record

    def take(self) -> list[Record]:
        """Every record so far, Bot API calls included."""
        self._collect()
        out, self.records = self.records, []
        return out

    def _collect(self) -> None:
        calls = self.state.calls[self._calls_seen :]
        self._calls_seen = len(self.state.calls)
        i = 0
        while i < len(calls):
            call = calls[i]
            following = calls[i + 1] if i + 1 < len(calls) else None
            if (
                call.method == "banChatMember"
                and following is not None
                and following.method == "unbanChatMember"
                and following.params["user_id"] == call.params["user_id"]
            ):
                self._record(call, "kick", {})
                i += 2
                continue
            self._convert(call)
            i += 1

    def _record(self, call: Call, action: str, fields: dict[str, Any]) -> None:
        record: Record = {"at": self._at(call.at), "action": action}
        if action in ("kick", "ban", "unban", "mute", "unmute"):
            record.update(self._chat_name(int(call.params["chat_id"])))
            record["user"] = self._user_name(int(call.params["user_id"]))
        record.update(fields)
        self.records.append(record)

    def _as_console(self, text: str) -> str:
        """Telegram mentions a member with a username as ``@username`` (the form that always
        notifies); the console writes ``@display name``. Same mention, two spellings."""
        for user in self.users.values():
            if user["first_name"] != user["username"]:
                text = re.sub(rf"@{re.escape(user['username'])}\b", "@" + user["first_name"], text)
        return text

    def _console_id(self, chat_id: int, message_id: int) -> str:
        return self.console_ids.get((chat_id, message_id), str(message_id))

    @staticmethod
    def _buttons(params: dict[str, Any]) -> list[list[dict[str, str]]] | None:
        markup = params.get("reply_markup")
        if not markup:
            return None
        return [
            [{"text": b["text"], "data": b["callback_data"]} for b in row]
            for row in markup["inline_keyboard"]
        ]

    def _until(self, params: dict[str, Any]) -> str | None:
        until = params.get("until_date")
        return None if until is None else self._at(datetime.fromtimestamp(int(until), UTC))

    def _convert(self, call: Call) -> None:
        p = call.params
        method = call.method
        if method in ("sendMessage", "sendPhoto"):
            chat_id = int(p["chat_id"])
            sent_id = max(mid for (cid, mid) in self.state.sent if cid == chat_id)
            console_id = f"b{next(self._bot_ids)}"
            self.console_ids[(chat_id, sent_id)] = console_id
            self.messages[console_id] = (chat_id, sent_id, self.state.sent[(chat_id, sent_id)])
            reply = p.get("reply_parameters")
            record: dict[str, Any] = {**self._chat_name(chat_id), "id": console_id}
            record["text"] = self._as_console(plain_text(p.get("text") or p.get("caption") or ""))
            if reply:
                record["reply_to"] = self._console_id(chat_id, int(reply["message_id"]))
            buttons = self._buttons(p)
            if buttons:
                record["buttons"] = buttons
            if method == "sendPhoto":
                # The console prints the chart's path; Telegram only ever sees the bytes.
                record["image"] = self.images.pop(0) if self.images else True
            self._record(call, "send", record)
        elif method == "editMessageText":
            chat_id = int(p["chat_id"])
            fields: dict[str, Any] = {
                "chat": self._chat_name(chat_id).get("chat") or self._chat_name(chat_id).get("user"),
                "id": self._console_id(chat_id, int(p["message_id"])),
                "text": self._as_console(plain_text(p["text"])),
            }
            buttons = self._buttons(p)
            if buttons:
                fields["buttons"] = buttons
            self._record(call, "edit", fields)
        elif method == "deleteMessage":
            chat_id = int(p["chat_id"])
            self._record(
                call,
                "delete",
                {**self._chat_name(chat_id), "message": self._console_id(chat_id, int(p["message_id"]))},
            )
        elif method == "restrictChatMember":
            muted = not any(p["permissions"].values())
            self._record(call, "mute" if muted else "unmute", {"until": self._until(p)} if muted else {})
        elif method == "banChatMember":
            self._record(call, "ban", {"until": self._until(p)} if p.get("until_date") else {})
        elif method == "unbanChatMember":
            self._record(call, "unban", {})
        # getMe, getChat, getChatAdministrators, answerCallbackQuery, setMyCommands: no record.

    # -- input (the console adapter's methods, as ScriptSession calls them) ----------------
    def _deliver(self, payload: dict[str, Any]) -> Awaitable[Any]:
        assert self.telegram is not None
        # A console group is titled by its name; so is its Telegram stand-in.
        for kind in ("message", "callback_query"):
            body = payload.get(kind)
            message = body.get("message") if kind == "callback_query" and body else body
            if message and message["chat"]["type"] != "private":
                message["chat"]["title"] = self._chat_name(message["chat"]["id"]).get("chat")
        update = Update.de_json(payload, self.telegram.application.bot)
        return self.telegram.handle_update(update)

    def _date(self) -> int:
        assert self.clock is not None
        return int(self.clock.now().timestamp())

    def _set_role(self, chat_id: int, user: str, role: str) -> None:
        roles = self.roles.setdefault(chat_id, {})
        roles[user] = Role.parse(role)
        admins = []
        for name, value in roles.items():
            if value >= Role.OWNER:
                admins.append(tg.admin(self.users[name], "creator"))
            elif value >= Role.MODERATOR:
                admins.append(tg.admin(self.users[name], can_restrict=value >= Role.ADMIN))
        self.state.admins[chat_id] = admins
        assert self.telegram is not None
        self.telegram.forget_roles()

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
        image: str | None = None,
    ) -> Awaitable[Any]:
        """A member says ``text`` in group ``chat`` (with ``image``: a photo with that caption)."""
        chat_id = self._chat_id(chat)
        sender = self._user(user, name, lang)
        if role:
            self._set_role(chat_id, user, role)
        self.members.setdefault(chat, set()).add(user)
        console_id = id or f"m{next(self._auto_ids)}"
        self.emit("seen", chat=chat, user=user, id=console_id)
        return self._say(chat_id, sender, text, console_id, reply_to, image)

    def dm(self, user: str, text: str, *, id: str | None = None, lang: str | None = None) -> Awaitable[Any]:
        """A private message to the bot."""
        sender = self._user(user, lang=lang)
        console_id = id or f"m{next(self._auto_ids)}"
        self.emit("seen", user=user, id=console_id)
        return self._say(int(sender["id"]), sender, text, console_id, None)

    def _say(
        self,
        chat_id: int,
        sender: dict[str, Any],
        text: str,
        console_id: str,
        reply_to: str | None,
        image: str | None = None,
    ) -> Awaitable[Any]:
        self._collect()
        message_id = next(self._member_ids)
        msg = tg.message(text, message_id=message_id, sender=sender, chat_id=chat_id, date=self._date())
        if image is not None:
            # A photo with a caption: Telegram keeps the bytes and gives the bot a file_id.
            file_id = f"photo-{message_id}"
            self.state.files[file_id] = Path(image).read_bytes()
            msg["caption"] = msg.pop("text")
            if "entities" in msg:
                msg["caption_entities"] = msg.pop("entities")
            msg["photo"] = [{"file_id": file_id, "file_unique_id": f"u-{file_id}", "width": 2, "height": 2}]
        if reply_to is not None and reply_to in self.messages:
            msg["reply_to_message"] = self.messages[reply_to][2]
        self.messages[console_id] = (chat_id, message_id, msg)
        self.console_ids[(chat_id, message_id)] = console_id
        return self._deliver({"update_id": next(self._update_ids), "message": msg})

    def join(
        self, chat: str, user: str, *, invited_by: str | None = None, name: str | None = None
    ) -> Awaitable[Any]:
        """A member joins group ``chat`` (added by ``invited_by``, or by themselves)."""
        member = self._user(user, name)
        self.members.setdefault(chat, set()).add(user)
        actor = self._user(invited_by) if invited_by else member
        update = tg.service_update(
            next(self._update_ids),
            sender=actor,
            chat_id=self._chat_id(chat),
            message_id=next(self._member_ids),
            new_chat_members=[member],
        )
        update["message"]["date"] = self._date()
        return self._deliver(update)

    def leave(self, chat: str, user: str) -> Awaitable[Any]:
        """A member leaves group ``chat``."""
        member = self._user(user)
        self.members.setdefault(chat, set()).discard(user)
        update = tg.service_update(
            next(self._update_ids),
            sender=member,
            chat_id=self._chat_id(chat),
            message_id=next(self._member_ids),
            left_chat_member=member,
        )
        update["message"]["date"] = self._date()
        return self._deliver(update)

    def button(self, chat: str, user: str, message: str, data: str) -> Awaitable[Any]:
        """A member presses the button ``data`` under bot message ``message``."""
        assert self.telegram is not None
        self._collect()  # the bot's latest messages must have console ids before a press names one
        presser = self._user(user)
        private = chat == user and chat not in self.members
        chat_id = int(presser["id"]) if private else self._chat_id(chat)
        found = self.messages.get(message)
        message_id = found[1] if found else 0
        wire = self.telegram.keyboards.callback_data(data)
        return self._deliver(
            tg.callback_update(
                next(self._update_ids), wire, message_id=message_id, sender=presser, chat_id=chat_id
            )
        )


class _ReplayTelegramAdapter(TelegramAdapter):
    """The real adapter, plus the console's convention for where moderator alerts go.

    The console invents a moderator chat "<chat>-mods" for every group; on Telegram an operator
    sets one with ``/set mod_chat``. Mirroring the console's default here (instead of writing
    the setting, which ``/settings`` would show) keeps alert lines comparable.
    """

    bridge: TelegramBridge

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> SentMessage:
        """Send as the real adapter does, noting an image's path for the console record."""
        if message.image:
            self.bridge.images.append(message.image)
        return await super().send(chat, message)

    def default_moderator_chat(self, chat: ChatRef) -> ChatRef | None:
        """The Telegram chat standing in for the console's "<chat>-mods"."""
        if chat.is_private:
            return None
        name = self.bridge._chat_name(int(chat.channel_id)).get("chat", chat.channel_id)
        mods = str(self.bridge._chat_id(f"{name}-mods"))
        return ChatRef("telegram", self.name, mods, mods, "group")

    def moderated_scope(self, chat: ChatRef) -> str | None:
        """The reverse: the Telegram chat standing in for "<chat>-mods" moderates "<chat>"."""
        if chat.is_private:
            return None
        name = str(self.bridge._chat_name(int(chat.channel_id)).get("chat", ""))
        group, suffix, rest = name.rpartition("-mods")
        found = self.bridge.chats.get(group) if suffix and not rest and group else None
        return str(found) if found is not None else None


class TelegramScriptSession(ScriptSession):
    """A scripted run whose platform is Telegram (through the bridge) instead of the console."""

    def __init__(self, settings: Settings, *, start: datetime | None, features: Any = None) -> None:
        self.state = BotApiState()
        self.bridge = TelegramBridge(self.state)
        self._time = FakeTime()
        super().__init__(settings, start=start, write=lambda _r: None, features=features, make_app=App)
        self.bridge.clock = self.clock
        self.bridge.out_tz = start.tzinfo if start is not None else None
        self.state.clock = self.clock
        self.adapter = self.bridge  # type: ignore[assignment]

    def _new_app(self) -> App:
        # Every (re)start builds a fresh adapter, as a restarted process would.
        telegram = _ReplayTelegramAdapter(
            "tg",
            # The console has no native polls, so the records compare polls with buttons; native
            # polls have their own tests (tests/engage/test_native_polls.py).
            TelegramConfig(type="telegram", native_polls=False),
            TOKEN,
            request=FakeBotApi(self.state),
            get_updates_request=FakeBotApi(self.state, poll_delay=0.05),
            clock=self.clock,
            sleep=self._time.sleep,
            monotonic=self._time.monotonic,
        )
        telegram.bridge = self.bridge
        self.bridge.telegram = telegram
        return App(self.settings, clock=self.clock, adapters=[telegram], features=self._features)


__all__ = ["BOT_ID", "TelegramBridge", "TelegramScriptSession", "plain_text"]
