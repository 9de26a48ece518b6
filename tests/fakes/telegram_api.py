"""A fake Telegram Bot API for tests: real python-telegram-bot, no network.

``BotApiState`` answers Bot API methods the way Telegram does (same JSON shapes, same status
codes). Two transports expose it to PTB:

* ``FakeBotApi``: a ``telegram.request.BaseRequest`` (PTB's own transport seam, ``do_request``);
* ``LoopbackBotApi``: a real HTTP server on 127.0.0.1, reached through ``api_base_url``, so the
  whole httpx encoding path runs too.

Payload builders (``text_update`` …) produce the update dicts Telegram sends.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from telegram.request import BaseRequest, RequestData

from bot.clock import Clock

BOT_ID = 999
BOT_USERNAME = "QunyouBot"
TOKEN = "123456:TEST-token"
DATE = 1_772_413_200  # 2026-03-02T01:00:00Z, i.e. 09:00 in Shanghai

#: Parameters PTB sends as raw strings; everything else is JSON-encoded on the wire.
_RAW_STRING_KEYS = {"text", "caption", "callback_query_id", "url", "secret_token", "language_code", "query"}


@dataclass
class Call:
    """One Bot API call the fake received (``at``: the bot's clock then, when one is attached)."""

    method: str
    params: dict[str, Any]
    at: datetime | None = None


@dataclass
class Failure:
    """A canned error for the next call(s) of a method; ``drop`` closes the connection instead."""

    status: int = 400
    body: dict[str, Any] = field(default_factory=dict)
    drop: bool = False


class BotApiState:
    """What the fake Telegram knows and has been asked."""

    def __init__(self, *, privacy_off: bool = True) -> None:
        self.privacy_off = privacy_off
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.admins: dict[int, list[dict[str, Any]]] = {}
        self.failures: dict[str, deque[Failure]] = defaultdict(deque)
        self.sent: dict[tuple[int, int], dict[str, Any]] = {}
        self._ids: Iterator[int] = itertools.count(1000)
        self._probe = 0
        self._activity = asyncio.Event()
        #: When set, every call is stamped with this clock's time (for console-style records).
        self.clock: Clock | None = None
        #: Files members sent, by ``file_id``: what ``getFile`` and the download URL give.
        self.files: dict[str, bytes] = {}
        #: Native polls sent (``sendPoll``), by poll id, and each voter's current choice in them:
        #: the counts Telegram would show members.
        self.polls: dict[str, dict[str, Any]] = {}
        self.poll_votes: dict[str, dict[int, list[int]]] = defaultdict(dict)
        self.poll_messages: dict[tuple[int, int], str] = {}

    # -- test helpers --------------------------------------------------------

    def fail(self, method: str, failure: Failure, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``failure``."""
        for _ in range(times):
            self.failures[method].append(failure)

    def push(self, *updates: dict[str, Any]) -> None:
        """Queue updates for the next ``getUpdates``."""
        self.updates.extend(updates)

    def called(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call of ``method``, in order."""
        return [c.params for c in self.calls if c.method == method]

    async def wait_calls(self, method: str, count: int, within: float = 10.0) -> list[dict[str, Any]]:
        """Wait until ``method`` has been called ``count`` times; returns every call's parameters."""
        async with asyncio.timeout(within):
            while len(self.called(method)) < count:
                self._activity.clear()
                await self._activity.wait()
        return self.called(method)

    def probe(self) -> bool:
        """True when a non-housekeeping call arrived since the last probe (for the contract)."""
        real = [c for c in self.calls if c.method not in {"getUpdates", "getMe", "deleteWebhook"}]
        fresh = len(real) > self._probe
        self._probe = len(real)
        return fresh

    # -- the API ---------------------------------------------------------------

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """The (status, JSON body) Telegram would give, or None to drop the connection."""
        if method != "getUpdates":
            self.calls.append(Call(method, params, self.clock.now() if self.clock else None))
            self._activity.set()
        queued = self.failures.get(method)
        if queued:
            failure = queued.popleft()
            if failure.drop:
                return None
            body = {"ok": False, "error_code": failure.status, **failure.body}
            return failure.status, body
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": f"Not Found: method {method}"}
        result = handler(params)
        return 200, {"ok": True, "result": result}

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Qunyou",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": self.privacy_off,
            "supports_inline_queries": False,
        }

    def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        ready = [u for u in self.updates if u["update_id"] >= offset]
        return ready

    def _message(self, chat_id: Any, extra: dict[str, Any]) -> dict[str, Any]:
        cid = int(chat_id)
        message = {
            "message_id": next(self._ids),
            "date": DATE,
            "chat": {"id": cid, "type": "private" if cid > 0 else "supergroup", "title": "group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Qunyou", "username": BOT_USERNAME},
            **extra,
        }
        if cid > 0:
            message["chat"] = {"id": cid, "type": "private", "first_name": "member"}
        self.sent[(cid, message["message_id"])] = message
        return message

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params["chat_id"], {"text": params["text"]})

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        extra: dict[str, Any] = {
            "photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 1, "height": 1}]
        }
        if params.get("caption"):
            extra["caption"] = params["caption"]
        return self._message(params["chat_id"], extra)

    def _api_sendPoll(self, params: dict[str, Any]) -> dict[str, Any]:
        options = [o["text"] if isinstance(o, dict) else str(o) for o in params["options"]]
        if not 2 <= len(options) <= 12 or len(str(params["question"])) > 300:
            raise ValueError("sendPoll: Telegram would answer 400 POLL_OPTIONS_INVALID")
        poll_id = f"5{len(self.polls) + 1:018d}"
        self.polls[poll_id] = {
            "id": poll_id,
            "question": params["question"],
            "options": options,
            "is_closed": False,
            "is_anonymous": bool(params.get("is_anonymous", True)),
            "type": params.get("type", "regular"),
            "allows_multiple_answers": bool(params.get("allows_multiple_answers", False)),
            "allows_revoting": bool(params.get("allows_revoting", True)),
            "members_only": bool(params.get("members_only", False)),
        }
        message = self._message(params["chat_id"], {"poll": self.poll_dict(poll_id)})
        self.poll_messages[(int(params["chat_id"]), message["message_id"])] = poll_id
        return message

    def _api_stopPoll(self, params: dict[str, Any]) -> dict[str, Any]:
        poll_id = self.poll_messages[(int(params["chat_id"]), int(params["message_id"]))]
        self.polls[poll_id]["is_closed"] = True
        return self.poll_dict(poll_id)

    def poll_dict(self, poll_id: str) -> dict[str, Any]:
        """The ``Poll`` object as Telegram shows it now (counts from the answers given)."""
        poll = self.polls[poll_id]
        votes = self.poll_votes[poll_id].values()
        return {
            **{k: v for k, v in poll.items() if k != "options"},
            "options": [
                {"text": text, "voter_count": sum(1 for v in votes if i in v), "persistent_id": f"o{i}"}
                for i, text in enumerate(poll["options"])
            ],
            "total_voter_count": sum(1 for v in votes if v),
        }

    def answer_poll(self, update_id: int, poll_id: str, voter: dict[str, Any], option_ids: list[int]) -> None:
        """A member answers (``[]``: retracts) in a native poll: Telegram counts it and, unless the
        poll is closed or anonymous, sends the bot a ``poll_answer`` update."""
        poll = self.polls[poll_id]
        if poll["is_closed"]:
            return
        self.poll_votes[poll_id][int(voter["id"])] = list(option_ids)
        if not poll["is_anonymous"]:
            self.push(poll_answer_update(update_id, poll_id, voter, option_ids))

    def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params["file_id"])
        data = self.files.get(file_id, b"")
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": len(data),
            "file_path": f"photos/{file_id}.jpg",
        }

    def download(self, file_path: str) -> bytes | None:
        """The bytes at a ``getFile`` path (``photos/<file_id>.jpg``), as Telegram's file server."""
        file_id = file_path.removeprefix("photos/").removesuffix(".jpg")
        return self.files.get(file_id)

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = dict(self.sent.get(key) or self._message(params["chat_id"], {}))
        message["text"] = params["text"]
        self.sent[key] = message
        return message

    def _api_getChatAdministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.admins.get(int(params["chat_id"]), [])

    def _api_getChat(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = int(params["chat_id"])
        return {
            "id": cid,
            "type": "supergroup",
            "title": "group",
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
            "permissions": {"can_send_messages": True, "can_send_photos": True, "can_invite_users": False},
        }

    def _true(self, params: dict[str, Any]) -> bool:
        return True

    _api_deleteMessage = _true
    _api_restrictChatMember = _true
    _api_banChatMember = _true
    _api_unbanChatMember = _true
    _api_answerCallbackQuery = _true
    _api_setMyCommands = _true
    _api_deleteWebhook = _true
    _api_setWebhook = _true
    _api_close = _true


class FakeBotApi(BaseRequest):
    """PTB's transport, answered by a ``BotApiState`` instead of the network."""

    def __init__(self, state: BotApiState, *, poll_delay: float = 0.005) -> None:
        self.state = state
        self._poll_delay = poll_delay

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float:
        """PTB asks for it when computing long-poll timeouts."""
        return 1.0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        """Answer one Bot API call."""
        if "/file/bot" in url:
            # Telegram's file server: https://api.telegram.org/file/bot<token>/<file_path>.
            data = self.state.download(url.split("/file/bot", 1)[1].split("/", 1)[1])
            return (200, data) if data is not None else (404, b"Not Found")
        api = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data is not None else {}
        if request_data is not None:
            # Uploaded files (a sendPhoto's photo): their bytes, as the loopback server reads them.
            for part, upload in request_data.multipart_data.items():
                content = upload[1] if isinstance(upload, tuple) else upload
                params[part] = content if isinstance(content, bytes) else content.read()
        if api == "getUpdates":
            # Long polling: give the loop a moment instead of spinning on an empty queue.
            await asyncio.sleep(self._poll_delay)
        reply = self.state.answer(api, params)
        if reply is None:
            raise ConnectionResetError("connection dropped by the fake server")
        status, body = reply
        return status, json.dumps(body).encode()


class LoopbackBotApi:
    """A Bot API server on 127.0.0.1 (``http://127.0.0.1:PORT/bot``) backed by a ``BotApiState``."""

    def __init__(self, state: BotApiState) -> None:
        self.state = state
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.requests = 0

    @property
    def base_url(self) -> str:
        """What goes in ``api_base_url``."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def __aenter__(self) -> LoopbackBotApi:
        app = web.Application()
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        if request.match_info["token"] != TOKEN:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params: dict[str, Any] = {}
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = value.file.read()
            elif key in _RAW_STRING_KEYS:
                params[key] = value
            else:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
        if method == "getUpdates":
            await asyncio.sleep(0.01)
        reply = self.state.answer(method, params)
        if reply is None:
            # Drop the connection mid-request, as a flaky proxy would.
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)
        status, body = reply
        return web.json_response(body, status=status)


# -- payload builders -------------------------------------------------------------------------------


def user(uid: int, first: str, username: str | None = None, *, is_bot: bool = False) -> dict[str, Any]:
    """A Telegram User dict."""
    out: dict[str, Any] = {"id": uid, "is_bot": is_bot, "first_name": first, "language_code": "zh-hans"}
    if username:
        out["username"] = username
    return out


ALICE = user(101, "Alice", "alice")
BOB = user(102, "Bob")  # no username: mentions must use a tg://user link
GROUP = -1001234567890


def chat(chat_id: int = GROUP, *, title: str = "Demo group", forum: bool = False) -> dict[str, Any]:
    """A Chat dict; negative ids are supergroups, positive ones private chats."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "member"}
    out: dict[str, Any] = {"id": chat_id, "type": "supergroup", "title": title}
    if forum:
        out["is_forum"] = True
    return out


def _entities(text: str) -> list[dict[str, Any]]:
    entities = []
    if text.startswith("/"):
        head = text.split()[0]
        entities.append({"type": "bot_command", "offset": 0, "length": len(head)})
    pos = 0
    for word in text.split(" "):
        if word.startswith("@") and len(word) > 1:
            entities.append({"type": "mention", "offset": pos, "length": len(word)})
        pos += len(word) + 1
    return entities


def message(
    text: str,
    *,
    message_id: int = 1,
    sender: dict[str, Any] = ALICE,
    chat_id: int = GROUP,
    date: int = DATE,
    reply_to: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Message dict with the entities Telegram would add for commands and @mentions."""
    out: dict[str, Any] = {
        "message_id": message_id,
        "date": date,
        "chat": chat(chat_id),
        "from": sender,
        "text": text,
    }
    ents = entities if entities is not None else _entities(text)
    if ents:
        out["entities"] = ents
    if reply_to is not None:
        out["reply_to_message"] = reply_to
    out.update(extra)
    return out


def text_update(update_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
    """An update carrying a new text message."""
    return {"update_id": update_id, "message": message(text, **kwargs)}


def edited_update(update_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
    """An update carrying an edited message."""
    msg = message(text, **kwargs)
    msg["edit_date"] = msg["date"] + 60
    return {"update_id": update_id, "edited_message": msg}


def service_update(
    update_id: int,
    *,
    sender: dict[str, Any] = ALICE,
    chat_id: int = GROUP,
    message_id: int = 50,
    **service: Any,
) -> dict[str, Any]:
    """An update with a service message (``new_chat_members``, ``migrate_to_chat_id`` …)."""
    msg: dict[str, Any] = {"message_id": message_id, "date": DATE, "chat": chat(chat_id), "from": sender}
    msg.update(service)
    return {"update_id": update_id, "message": msg}


def callback_update(
    update_id: int, data: str, *, message_id: int, sender: dict[str, Any] = ALICE, chat_id: int = GROUP
) -> dict[str, Any]:
    """A button press under one of the bot's messages."""
    bot_message = {
        "message_id": message_id,
        "date": DATE,
        "chat": chat(chat_id),
        "from": user(BOT_ID, "Qunyou", BOT_USERNAME, is_bot=True),
        "text": "pick one",
    }
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cq{update_id}",
            "from": sender,
            "chat_instance": "ci1",
            "message": bot_message,
            "data": data,
        },
    }


def poll_answer_update(
    update_id: int, poll_id: str, voter: dict[str, Any], option_ids: list[int]
) -> dict[str, Any]:
    """A ``poll_answer`` update: no chat, only the poll id, the voter and their whole choice."""
    return {
        "update_id": update_id,
        "poll_answer": {
            "poll_id": poll_id,
            "user": voter,
            "option_ids": list(option_ids),
            "option_persistent_ids": [f"o{i}" for i in option_ids],
        },
    }


def chat_member_update(
    update_id: int,
    member: dict[str, Any],
    old: str,
    new: str,
    *,
    actor: dict[str, Any] | None = None,
    chat_id: int = GROUP,
) -> dict[str, Any]:
    """A ``chat_member`` update (status change) for ``member``."""

    def cm(status: str) -> dict[str, Any]:
        if status in ("administrator", "creator"):
            return admin(member, status)
        out: dict[str, Any] = {"status": status, "user": member}
        if status == "kicked":
            out["until_date"] = 0
        return out

    return {
        "update_id": update_id,
        "my_chat_member" if member.get("id") == BOT_ID else "chat_member": {
            "chat": chat(chat_id),
            "from": actor or member,
            "date": DATE,
            "old_chat_member": cm(old),
            "new_chat_member": cm(new),
        },
    }


def admin(
    member: dict[str, Any], status: str = "administrator", *, can_restrict: bool = False
) -> dict[str, Any]:
    """A ChatMember dict for ``getChatAdministrators``."""
    if status == "creator":
        return {"status": "creator", "user": member, "is_anonymous": False}
    rights = {
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": False,
        "can_restrict_members": can_restrict,
        "can_promote_members": False,
        "can_change_info": False,
        "can_invite_users": True,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
    }
    return {"status": "administrator", "user": member, **rights}
