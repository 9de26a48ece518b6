"""The OneBot 11 adapter: one universal WebSocket to a QQ or WeChat bridge, in either direction.

Reverse mode runs a WebSocket server the bridge dials (``ws://HOST:PORT/onebot/v11/ws``); forward
mode dials the bridge and redials with exponential backoff. Either way one connection carries
events in and action calls out; each call has an ``echo`` that its response carries back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import http
import itertools
import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.http11 import Request, Response

from adapters.onebot.config import WS_PATH, OneBotConfig
from adapters.onebot.media import RecentImages, download
from adapters.onebot.protocol import (
    PLATFORM,
    BotMuted,
    Meta,
    RoleChanged,
    failure_error,
    parse_frame,
    role_of,
)
from adapters.onebot.render import render
from bot.adapter import Adapter, AdapterHost, Capability
from bot.clock import Clock, SystemClock
from bot.errors import TransportError
from bot.events import ChatRef, MessageEvent, SentMessage, UserRef
from bot.messages import OutgoingMessage
from bot.outbound import Limit, OutboundQueue
from bot.roles import Role
from bot.text import clean_event

log = logging.getLogger(__name__)

Connection = ServerConnection | ClientConnection

#: QQ mutes run in whole minutes and for at most 30 days; an indefinite mute becomes the maximum.
MIN_MUTE_SECONDS = 60
MAX_MUTE_SECONDS = 30 * 24 * 3600
#: A bridge that misses this many heartbeats in a row is treated as gone.
HEARTBEAT_MISSES = 3
#: How many recent message authors to remember, so a reply can name whom it answers.
RECENT_AUTHORS = 4096


def _wire_id(value: str) -> int | str:
    """QQ bridges want numeric ids as numbers; WeChat bridges use strings such as wxid_…"""
    return int(value) if value.isdigit() else value


class OneBotAdapter(Adapter):
    """A OneBot 11 bridge. No buttons and no edits: the bridge protocol has neither."""

    platform = PLATFORM
    capabilities = frozenset(
        {
            Capability.SEND,
            Capability.REPLY,
            Capability.DELETE,
            Capability.MUTE,
            Capability.UNMUTE,
            Capability.BAN,
            Capability.KICK,
            Capability.ROLE_LOOKUP,
            Capability.PRIVATE,
            Capability.IMAGES,
            Capability.MENTIONS,
            Capability.INBOUND,
            Capability.JOIN_REQUESTS,
        }
    )
    # QQ refuses very long messages (around 4500 characters); split well below that.
    max_text_length = 3000

    def __init__(
        self,
        name: str,
        config: OneBotConfig,
        access_token: str = "",
        *,
        clock: Clock | None = None,
        action_timeout: float = 10.0,
        role_ttl: float = 300.0,
        reconnect_delay: float = 1.0,
        reconnect_max: float = 60.0,
        queue: OutboundQueue | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name)
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self._token = access_token
        self._action_timeout = action_timeout
        self._role_ttl = role_ttl
        self._reconnect_delay = reconnect_delay
        self._reconnect_max = reconnect_max
        self._monotonic = monotonic
        # The bridge account is an ordinary QQ/WeChat account, and their risk control flags
        # accounts that post in sustained bursts. About one message a second per group (bursts of
        # ten, so a morning check-in rush still gets quick replies) and five a second overall stay
        # within what bridge communities run safely; the queue delays, it never drops.
        self._queue = queue or OutboundQueue(per_chat=Limit(10, 10.0), overall=Limit(5, 1.0))
        self._host: AdapterHost | None = None
        self._server: Server | None = None
        self._forward_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ws: Connection | None = None
        self._connected = asyncio.Event()
        self._pending: dict[str, tuple[asyncio.Future[dict[str, Any]], Connection]] = {}
        self._echo = itertools.count(1)
        self._roles: dict[tuple[str, str], tuple[Role, float]] = {}
        self._authors: OrderedDict[str, UserRef] = OrderedDict()
        self._images = RecentImages()
        self._muted_until: dict[str, float] = {}
        self._stopping = False
        self.self_id: str | None = config.self_id or None
        #: Seconds between the bridge's heartbeats, when it sends them.
        self.heartbeat_interval: float | None = None
        self.last_heartbeat: float | None = None
        self.bridge_online: bool | None = None
        #: How many connections have been made, for ``/status`` and the reconnect tests.
        self.connections = 0
        self.bound_port: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: AdapterHost) -> None:
        """Listen for the bridge (reverse) or start dialling it (forward); returns at once."""
        self._host = host
        self._stopping = False
        if self.config.mode == "reverse":
            address, port = self.config.host_port
            self._server = await serve(
                self._serve_reverse,
                address,
                port,
                process_request=self._check_handshake,
                max_size=16 * 1024 * 1024,
            )
            sockets = list(self._server.sockets)
            self.bound_port = sockets[0].getsockname()[1] if sockets else port
            log.info("%s: waiting for a OneBot bridge on ws://%s:%s%s", self.name, address, port, WS_PATH)
        else:
            self._forward_task = asyncio.create_task(self._forward_loop(), name=f"onebot-{self.name}")

    async def stop(self) -> None:
        """Close the connection and the server; pending calls fail as transport errors."""
        self._stopping = True
        if self._forward_task is not None:
            self._forward_task.cancel()
            try:
                await self._forward_task
            except asyncio.CancelledError:
                pass
            self._forward_task = None
        if self._ws is not None:
            await self._ws.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        self._fail_pending(None, "adapter stopped")

    @property
    def connected(self) -> bool:
        """True while a bridge connection is up."""
        return self._ws is not None

    async def wait_connected(self, seconds: float) -> bool:
        """Wait until a bridge is connected; False when ``seconds`` pass first."""
        try:
            await asyncio.wait_for(self._connected.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def status_line(self) -> str:
        """Mode and connection state for ``/status``."""
        state = f"connected as {self.self_id}" if self.connected else "waiting for the bridge"
        return f"{self.name} (onebot {self.config.mode}, {state})"

    def outbound_backlog(self) -> int:
        """Calls waiting in the outbound queue (the desk's watchdog)."""
        return self._queue.pending

    def warnings(self) -> list[str]:
        """Missing bridge, an offline account, or groups where the bot itself is muted."""
        out: list[str] = []
        if not self.connected:
            out.append(f"{self.name}: no OneBot bridge connected")
        if self.bridge_online is False:
            out.append(f"{self.name}: the bridge reports its account offline")
        now = self._monotonic()
        for group, until in sorted(self._muted_until.items()):
            if until > now:
                out.append(f"{self.name}: the bot is muted in group {group}")
        return out

    # -- connections -------------------------------------------------------------------------

    def _check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse a bridge with the wrong path, token, account or role before upgrading."""
        parts = urlsplit(request.path)
        if parts.path.rstrip("/") != WS_PATH:
            return connection.respond(http.HTTPStatus.NOT_FOUND, f"OneBot endpoint is {WS_PATH}\n")
        if self._token:
            offered = _bearer(request.headers)
            if offered is None:
                tokens = parse_qs(parts.query).get("access_token")
                offered = tokens[0] if tokens else None
            if offered is None or not hmac.compare_digest(offered.encode(), self._token.encode()):
                log.warning("%s: refused a bridge connection with a wrong or missing token", self.name)
                return connection.respond(http.HTTPStatus.UNAUTHORIZED, "wrong or missing access token\n")
        role = request.headers.get("X-Client-Role", "Universal")
        if role.lower() != "universal":
            log.warning("%s: refused a %r connection; set the bridge to Universal", self.name, role)
            return connection.respond(
                http.HTTPStatus.BAD_REQUEST, "only X-Client-Role: Universal connections are supported\n"
            )
        self_id = request.headers.get("X-Self-ID", "").strip()
        if not self_id:
            return connection.respond(http.HTTPStatus.BAD_REQUEST, "missing X-Self-ID header\n")
        if self.config.self_id and self_id != self.config.self_id:
            log.warning("%s: refused bot account %s (configured %s)", self.name, self_id, self.config.self_id)
            return connection.respond(http.HTTPStatus.FORBIDDEN, "this bot account is not accepted here\n")
        return None

    async def _serve_reverse(self, ws: ServerConnection) -> None:
        self_id = ws.request.headers.get("X-Self-ID", "").strip() if ws.request else ""
        await self._run_connection(ws, self_id or None)

    async def _forward_loop(self) -> None:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else None
        delay = self._reconnect_delay
        while not self._stopping:
            try:
                async with connect(
                    self.config.url, additional_headers=headers, open_timeout=10, max_size=16 * 1024 * 1024
                ) as ws:
                    delay = self._reconnect_delay
                    await self._run_connection(ws, self.config.self_id or None)
            except InvalidStatus as exc:
                status = exc.response.status_code
                hint = " (check access_token_env)" if status in (401, 403) else ""
                log.error("%s: the bridge refused us with HTTP %s%s", self.name, status, hint)
            except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
                log.warning("%s: cannot reach the bridge at %s: %s", self.name, self.config.url, exc)
            if self._stopping:
                return
            log.info("%s: reconnecting in %.1fs", self.name, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._reconnect_max)

    async def _run_connection(self, ws: Connection, self_id: str | None) -> None:
        """Serve one connection until it closes: frames in, responses matched to calls."""
        previous = self._ws
        if previous is not None and previous is not ws:
            # A bridge that reconnects before we noticed the old socket die replaces it.
            await previous.close(1000, "replaced by a new connection")
        self._ws = ws
        self.connections += 1
        if self_id:
            self._set_self(self_id)
        self._connected.set()
        log.info("%s: bridge connected (account %s)", self.name, self_id or "unknown yet")
        self._spawn(self._load_login_info())
        watchdog = asyncio.ensure_future(self._watch_heartbeats(ws))
        try:
            async for frame in ws:
                try:
                    self._handle_frame(frame)
                except Exception:
                    # A bug in handling one frame must not take the whole group offline.
                    log.exception("%s: failed to handle a frame: %.300r", self.name, frame)
        except ConnectionClosed:
            pass
        finally:
            watchdog.cancel()
            if self._ws is ws:
                self._ws = None
                self._connected.clear()
                if not self._stopping:
                    log.warning("%s: bridge disconnected", self.name)
            self._fail_pending(ws, "the bridge disconnected")

    async def _watch_heartbeats(self, ws: Connection) -> None:
        """Hang up on a bridge whose heartbeats stopped, so it (or we) reconnect cleanly.

        WebSocket pings only prove the socket is alive; a bridge whose QQ client froze keeps
        answering them but stops its heartbeat events. Only bridges that announced an interval
        are watched; three missed beats count as gone.
        """
        self.last_heartbeat = None
        self.heartbeat_interval = None
        while True:
            interval = self.heartbeat_interval
            await asyncio.sleep(interval if interval else 1.0)
            if interval is None or self.last_heartbeat is None:
                continue
            silent = self._monotonic() - self.last_heartbeat
            if silent > HEARTBEAT_MISSES * interval:
                log.warning("%s: no heartbeat from the bridge for %.0fs; reconnecting", self.name, silent)
                await ws.close(1011, "heartbeat timeout")
                return

    def _set_self(self, self_id: str) -> None:
        if self.self_id != self_id:
            self.self_id = self_id
        name = self.me.display_name if self.me and self.me.user_id == self_id else self_id
        self.me = UserRef(PLATFORM, self_id, name, is_bot=True)

    async def _load_login_info(self) -> None:
        try:
            data = await self._call("get_login_info", {})
        except Exception as exc:  # a bridge without it still works; the account id came in the headers
            log.warning("%s: get_login_info failed: %s", self.name, exc)
            return
        if isinstance(data, dict) and data.get("user_id") is not None:
            user_id = str(data["user_id"])
            if self.config.self_id and user_id != self.config.self_id:
                log.error(
                    "%s: the bridge is logged in as %s, not %s", self.name, user_id, self.config.self_id
                )
                if self._ws is not None:
                    await self._ws.close(1008, "unexpected bot account")
                return
            self.self_id = user_id
            self.me = UserRef(PLATFORM, user_id, str(data.get("nickname") or user_id), is_bot=True)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _fail_pending(self, ws: Connection | None, reason: str) -> None:
        for echo, (future, owner) in list(self._pending.items()):
            if ws is None or owner is ws:
                self._pending.pop(echo, None)
                if not future.done():
                    future.set_exception(TransportError(reason))

    # -- inbound -----------------------------------------------------------------------------

    def _handle_frame(self, raw: str | bytes) -> None:
        """Route one frame; anything malformed is logged and dropped, never fatal."""
        try:
            frame = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            log.warning("%s: ignored a frame that is not JSON: %.200r", self.name, raw)
            return
        if isinstance(frame, dict) and "echo" in frame and "post_type" not in frame:
            self._resolve(frame)
            return
        if isinstance(frame, dict) and self.config.self_id:
            sender_account = frame.get("self_id")
            if sender_account is not None and str(sender_account) != self.config.self_id:
                return  # a multi-account bridge: this event belongs to another bot
        try:
            parsed = parse_frame(frame, adapter=self.name, self_id=self.self_id, now=self.clock.now())
            # Made encodable here, once: a lone surrogate from the JSON would fail in the core.
            parsed = clean_event(parsed)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("%s: ignored a malformed frame (%s): %.300r", self.name, exc, raw)
            return
        if parsed is None:
            return
        if isinstance(parsed, Meta):
            self._on_meta(parsed)
        elif isinstance(parsed, BotMuted):
            self._muted_until[parsed.group_id] = self._monotonic() + parsed.duration
            log.warning(
                "%s: the bot was muted in group %s for %ss", self.name, parsed.group_id, parsed.duration
            )
        elif isinstance(parsed, RoleChanged):
            self._roles.pop((parsed.group_id, parsed.user_id), None)
        else:
            if isinstance(parsed, MessageEvent):
                parsed = self._note_message(parsed, frame)
            if self._host is not None:
                self._host.submit(parsed)

    def _note_message(self, event: MessageEvent, frame: dict[str, Any]) -> MessageEvent:
        """Remember who wrote what, and fill in who a reply answers when we saw the original."""
        if not event.chat.is_private:
            # The sender's role rides along with every group message: cache it for free.
            sender = frame.get("sender")
            if isinstance(sender, dict) and sender.get("role"):
                self._cache_role(event.chat.scope_id, event.sender.user_id, role_of(sender))
        self._remember_author(event.message_id, event.sender)
        event = self._images.note(event)  # a reply to a picture names it (OneBot gives only the id)
        if event.reply_to is not None and event.reply_to_user is None:
            author = self._authors.get(event.reply_to)
            if author is not None:
                # "Reply to a message with /mute 10m" needs the author; OneBot gives only the id.
                return dataclasses.replace(event, reply_to_user=author)
        return event

    async def fetch_image(self, ref: str, limit: int) -> bytes:
        """A picture a member sent (its URL, as the bridge gave it)."""
        return await download(ref, limit)

    def _remember_author(self, message_id: str, author: UserRef) -> None:
        if not message_id:
            return
        self._authors[message_id] = author
        self._authors.move_to_end(message_id)
        while len(self._authors) > RECENT_AUTHORS:
            self._authors.popitem(last=False)

    def _on_meta(self, meta: Meta) -> None:
        if meta.kind == "heartbeat":
            self.last_heartbeat = self._monotonic()
            if meta.interval_ms:
                self.heartbeat_interval = meta.interval_ms / 1000
            if meta.online is not None:
                self.bridge_online = meta.online
        else:
            log.info("%s: bridge lifecycle %s", self.name, meta.sub_type)
            if meta.sub_type in ("connect", "enable") and meta.self_id and not self.config.self_id:
                self._set_self(meta.self_id)
            self.bridge_online = meta.sub_type != "disable"

    def _resolve(self, frame: dict[str, Any]) -> None:
        echo = frame.get("echo")
        entry = self._pending.pop(str(echo), None) if isinstance(echo, str | int) else None
        if entry is None:
            log.debug("%s: response to an unknown or expired call: %.200r", self.name, frame)
            return
        future, _ = entry
        if not future.done():
            future.set_result(frame)

    # -- outbound plumbing -------------------------------------------------------------------

    async def _request(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one action and wait for its response; only transport problems raise."""
        if self._stopping and self._ws is None:
            # Shutting down with no bridge: answer at once instead of retrying into the void.
            return {"status": "failed", "retcode": -1, "message": f"{self.name} is stopped"}
        if self._ws is None and not await self.wait_connected(self._action_timeout):
            raise TransportError(f"{self.name}: no OneBot bridge connected")
        ws = self._ws
        if ws is None:
            raise TransportError(f"{self.name}: the bridge disconnected")
        echo = f"q{next(self._echo)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[echo] = (future, ws)
        try:
            await ws.send(json.dumps({"action": action, "params": params, "echo": echo}, ensure_ascii=False))
            return await asyncio.wait_for(future, self._action_timeout)
        except ConnectionClosed as exc:
            raise TransportError(f"{action}: the bridge disconnected") from exc
        except TimeoutError as exc:
            raise TransportError(f"{action}: no response within {self._action_timeout:g}s") from exc
        finally:
            self._pending.pop(echo, None)

    async def _call(self, action: str, params: dict[str, Any], lane: str = "api") -> Any:
        """Queue an action and return its ``data``; a refusal becomes a core error (not retried)."""
        response = await self._queue.run(lane, lambda: self._request(action, params))
        status = response.get("status")
        if status in ("ok", "async") and response.get("retcode", 0) in (0, 1, None):
            return response.get("data")
        raise failure_error(action, response)

    # -- actions -----------------------------------------------------------------------------

    async def send(self, chat: ChatRef, message: OutgoingMessage) -> SentMessage:
        """Post to a group or a member as segments; long text goes as several messages."""
        first: SentMessage | None = None
        for segments in await render(message, self.max_text_length):
            params: dict[str, Any] = {"message": segments}
            if chat.is_private:
                action = "send_private_msg"
                params["user_id"] = _wire_id(chat.channel_id)
            else:
                action = "send_group_msg"
                params["group_id"] = _wire_id(chat.channel_id)
            data = await self._call(action, params, lane=f"msg:{chat.channel_id}")
            sent = SentMessage(chat, str((data or {}).get("message_id", "")))
            if self.me is not None:
                self._remember_author(sent.message_id, self.me)
            first = first or sent
        assert first is not None
        return first

    async def send_private(self, user_id: str, message: OutgoingMessage) -> SentMessage:
        """Send a one-to-one message (the bridge account must be able to reach the member)."""
        return await self.send(ChatRef(PLATFORM, self.name, user_id, user_id, "private"), message)

    async def delete(self, chat: ChatRef, message_id: str) -> None:
        """Recall a message (the bot must be a group admin for others' messages)."""
        await self._call("delete_msg", {"message_id": _wire_id(message_id)}, lane=f"mod:{chat.channel_id}")

    async def mute(self, chat: ChatRef, user_id: str, until: datetime | None) -> None:
        """``set_group_ban`` for the time left until ``until`` (QQ: 1 minute to 30 days)."""
        if until is None:
            seconds = MAX_MUTE_SECONDS
        else:
            left = (until - self.clock.now()) / timedelta(seconds=1)
            seconds = min(MAX_MUTE_SECONDS, max(MIN_MUTE_SECONDS, math.ceil(left)))
        await self._ban(chat, user_id, seconds)

    async def unmute(self, chat: ChatRef, user_id: str) -> None:
        """A ``set_group_ban`` of 0 seconds lifts a mute."""
        await self._ban(chat, user_id, 0)

    async def _ban(self, chat: ChatRef, user_id: str, seconds: int) -> None:
        params = {"group_id": _wire_id(chat.scope_id), "user_id": _wire_id(user_id), "duration": seconds}
        await self._call("set_group_ban", params, lane=f"mod:{chat.channel_id}")

    async def kick(self, chat: ChatRef, user_id: str) -> None:
        """Remove a member who may join again."""
        await self._kick(chat, user_id, reject=False)

    async def ban(self, chat: ChatRef, user_id: str, until: datetime | None) -> None:
        """Remove a member and refuse their join requests.

        OneBot 11 has no timed ban and no way to lift the refusal, so ``until`` cannot be kept:
        the ban lasts until a group admin lets them back in by hand, and UNBAN is not declared.
        """
        if until is not None:
            log.warning(
                "%s: OneBot cannot time a ban; %s stays out until an admin lets them in", self.name, user_id
            )
        await self._kick(chat, user_id, reject=True)

    async def answer_join_request(self, chat: ChatRef, request_id: str, approve: bool, reason: str) -> None:
        """``set_group_add_request``: let the applicant in, or refuse them with ``reason``."""
        params: dict[str, Any] = {"flag": request_id, "sub_type": "add", "approve": approve}
        if not approve and reason:
            params["reason"] = reason
        await self._call("set_group_add_request", params, lane=f"mod:{chat.channel_id}")

    async def _kick(self, chat: ChatRef, user_id: str, *, reject: bool) -> None:
        params = {
            "group_id": _wire_id(chat.scope_id),
            "user_id": _wire_id(user_id),
            "reject_add_request": reject,
        }
        await self._call("set_group_kick", params, lane=f"mod:{chat.channel_id}")
        self._roles.pop((chat.scope_id, user_id), None)

    async def get_role(self, chat: ChatRef, user_id: str) -> Role:
        """owner/admin/member from the bridge, cached for ``role_ttl`` seconds."""
        if chat.is_private:
            return Role.MEMBER
        key = (chat.scope_id, user_id)
        cached = self._roles.get(key)
        if cached is not None and cached[1] > self._monotonic():
            return cached[0]
        data = await self._call(
            "get_group_member_info",
            {"group_id": _wire_id(chat.scope_id), "user_id": _wire_id(user_id), "no_cache": False},
            lane=f"info:{chat.scope_id}",
        )
        role = role_of(data)
        self._cache_role(chat.scope_id, user_id, role)
        return role

    def _cache_role(self, group_id: str, user_id: str, role: Role) -> None:
        self._roles[(group_id, user_id)] = (role, self._monotonic() + self._role_ttl)


def _bearer(headers: Headers) -> str | None:
    value = headers.get("Authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() in ("bearer", "token") and token:
        return token.strip()
    return None
