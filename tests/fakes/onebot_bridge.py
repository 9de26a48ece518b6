"""A OneBot 11 bridge played by the tests, over a real WebSocket on loopback.

It is the other end of the wire only: it pushes event frames the way NapCat or LLOneBot would
and answers each action frame, echo and all, from a table the test controls. Reverse mode dials
the adapter (``BridgeClient``); forward mode is dialled by it (``BridgeServer``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve

SELF_ID = "10000"
GROUP = "123456"
T0 = 1_772_413_200  # 2026-03-02T09:00:00+08:00

Responder = Callable[[dict[str, Any]], dict[str, Any] | None]


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Bridge:
    """What both modes share: the action log, the response table and event builders."""

    def __init__(self, self_id: str = SELF_ID) -> None:
        self.self_id = self_id
        self.actions: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self._ids = itertools.count(5001)
        #: Per-action overrides: return a response body (without echo), or None for no reply.
        self.responders: dict[str, Responder] = {}
        self.ws: ServerConnection | ClientConnection | None = None
        self.time = T0

    # -- answering actions --

    def default_response(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        action = frame.get("action")
        if action in ("send_group_msg", "send_private_msg"):
            return ok({"message_id": next(self._ids)})
        if action == "get_login_info":
            return ok({"user_id": int(self.self_id), "nickname": "群友Bot"})
        if action == "get_group_member_info":
            params = frame["params"]
            return ok({"group_id": params["group_id"], "user_id": params["user_id"], "role": "member"})
        return ok(None)

    async def serve_frames(self, ws: ServerConnection | ClientConnection) -> None:
        """Answer every action on ``ws`` until it closes."""
        self.ws = ws
        try:
            async for raw in ws:
                frame = json.loads(raw)
                async with self._arrived:
                    self.actions.append(frame)
                    self._arrived.notify_all()
                responder = self.responders.get(frame.get("action", ""), self.default_response)
                body = responder(frame)
                if body is not None:
                    await ws.send(json.dumps({**body, "echo": frame.get("echo")}))
        except Exception:  # the adapter hanging up is part of the tests
            pass

    async def wait_action(
        self,
        action: str,
        count: int = 1,
        within: float = 5.0,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` calls of ``action`` (those ``where`` accepts, when given) arrived;
        returns them all. ``where`` lets a test wait for one particular send when other sends
        (a batched badge notice, say) may arrive before or after it."""

        def matching() -> list[dict[str, Any]]:
            return [a for a in self.actions if a.get("action") == action and (where is None or where(a))]

        async with asyncio.timeout(within):
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(matching()) >= count)
        return matching()

    def calls(self, action: str) -> list[dict[str, Any]]:
        """Calls of ``action`` so far."""
        return [a for a in self.actions if a.get("action") == action]

    # -- pushing events --

    async def push(self, frame: dict[str, Any] | str) -> None:
        """Send one frame (a dict as JSON, a str verbatim, for garbled input)."""
        assert self.ws is not None, "no connection"
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False))

    def group_message(
        self,
        text: Any,
        *,
        user: str = "20001",
        message_id: int = 1,
        role: str = "member",
        group: str = GROUP,
        nickname: str = "Alice",
        card: str = "",
    ) -> dict[str, Any]:
        """A group message frame; ``text`` is a CQ string or a segment array."""
        self.time += 1
        return {
            "time": self.time,
            "self_id": int(self.self_id),
            "post_type": "message",
            "message_type": "group",
            "sub_type": "normal",
            "message_id": message_id,
            "group_id": int(group),
            "user_id": int(user),
            "message": text,
            "raw_message": text if isinstance(text, str) else "",
            "font": 0,
            "sender": {"user_id": int(user), "nickname": nickname, "card": card, "role": role},
        }

    def notice(self, notice_type: str, **fields: Any) -> dict[str, Any]:
        """A notice frame."""
        self.time += 1
        return {
            "time": self.time,
            "self_id": int(self.self_id),
            "post_type": "notice",
            "notice_type": notice_type,
            "group_id": int(GROUP),
            **fields,
        }

    def lifecycle(self, sub_type: str = "connect") -> dict[str, Any]:
        """A lifecycle meta event."""
        return {
            "time": self.time,
            "self_id": int(self.self_id),
            "post_type": "meta_event",
            "meta_event_type": "lifecycle",
            "sub_type": sub_type,
        }

    def heartbeat(self, online: bool = True) -> dict[str, Any]:
        """A heartbeat meta event."""
        return {
            "time": self.time,
            "self_id": int(self.self_id),
            "post_type": "meta_event",
            "meta_event_type": "heartbeat",
            "interval": 5000,
            "status": {"online": online, "good": True},
        }


def ok(data: Any) -> dict[str, Any]:
    """A successful action response."""
    return {"status": "ok", "retcode": 0, "data": data}


def failed(retcode: int, message: str) -> dict[str, Any]:
    """A failed action response as NapCat words them."""
    return {"status": "failed", "retcode": retcode, "data": None, "message": message, "wording": message}


class BridgeClient(Bridge):
    """Reverse mode: the bridge dials the adapter's WebSocket server."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        self_id: str = SELF_ID,
        role: str = "Universal",
        token_in_query: bool = False,
    ) -> None:
        super().__init__(self_id)
        self.url = url + (f"?access_token={token}" if token and token_in_query else "")
        self.headers = {"X-Self-ID": self_id, "X-Client-Role": role, "User-Agent": "OneBot/11 test-bridge"}
        if token and not token_in_query:
            self.headers["Authorization"] = f"Bearer {token}"
        self._task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        """Dial the adapter and start answering actions in the background."""
        ws = await connect(self.url, additional_headers=self.headers, open_timeout=5)
        self.ws = ws
        self._task = asyncio.create_task(self.serve_frames(ws))

    async def drop(self) -> None:
        """Hang up, as a bridge does when the QQ client restarts."""
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            await self._task
            self._task = None


class BridgeServer(Bridge):
    """Forward mode: the bridge listens and the adapter dials it."""

    def __init__(self, token: str | None = None, *, self_id: str = SELF_ID) -> None:
        super().__init__(self_id)
        self.token = token
        self.port = free_port()
        self.server: Server | None = None
        self.connected = asyncio.Event()
        self.refused = 0
        self.connects = 0

    @property
    def url(self) -> str:
        """Where the adapter should dial."""
        return f"ws://127.0.0.1:{self.port}/"

    async def start(self) -> None:
        """Listen on loopback."""
        self.server = await serve(self._handler, "127.0.0.1", self.port, process_request=self._auth)

    def _auth(self, connection: ServerConnection, request: Any) -> Any:
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            self.refused += 1
            return connection.respond(401, "bad token\n")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        self.connects += 1
        self.ws = ws
        await ws.send(json.dumps(self.lifecycle("connect")))
        self.connected.set()
        await self.serve_frames(ws)
        self.connected.clear()

    async def wait_connected(self, within: float = 5.0) -> None:
        """Wait until the adapter has dialled in."""
        async with asyncio.timeout(within):
            await self.connected.wait()

    async def stop(self) -> None:
        """Go away entirely, closing the adapter's connection."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        self.connected.clear()


class Sink:
    """Collects what the adapter submits, the way the dispatcher would receive it."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._cond = asyncio.Condition()

    def submit(self, event: Any) -> None:
        self.events.append(event)
        asyncio.get_running_loop().create_task(self._notify())
        return None

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def wait(self, count: int = 1, within: float = 5.0) -> list[Any]:
        """Wait until ``count`` events arrived."""
        async with asyncio.timeout(within):
            async with self._cond:
                await self._cond.wait_for(lambda: len(self.events) >= count)
        return self.events
