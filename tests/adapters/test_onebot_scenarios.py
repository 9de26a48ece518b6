"""The golden console scenarios, played again through a OneBot bridge: the bot must say the same.

Each ``tests/scenarios/NAME.jsonl`` is translated line by line into what a bridge would deliver
(group and private messages, join and leave notices, the sender's role, replies), while the real
App runs behind a real loopback WebSocket. What the bot does (send, delete, mute, kick…) is read
back from the bridge's action log and compared with ``NAME.expected.jsonl``, allowing only for
what OneBot cannot do the console's way:

- buttons arrive as numbered text after the message, and a button press is a numbered reply;
- an edit arrives as a new message, or not at all (OneBot cannot edit; a feature may instead
  say what changed in a message of its own);
- the console's ``moderator`` platform role is a QQ group ``admin``;
- a text longer than one QQ message arrives as several, split at line breaks;
- console-protocol errors (lines that are not valid script) have no bridge equivalent.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.onebot import OneBotAdapter
from adapters.onebot.adapter import MAX_MUTE_SECONDS, MIN_MUTE_SECONDS
from adapters.onebot.config import OneBotConfig
from adapters.onebot.protocol import group_chat
from bot.app import App
from bot.clock import VirtualClock, parse_instant
from bot.config import Settings, load_settings
from bot.events import ChatRef, PlatformEvent
from bot.outbound import OutboundQueue
from tests.fakes.onebot_bridge import SELF_ID, BridgeClient, free_port

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
CASES = sorted(p for p in SCENARIOS.glob("*.jsonl") if not p.name.endswith(".expected.jsonl"))
TOKEN = "scenario-token"
ROLES = {"member": "member", "moderator": "admin", "admin": "admin", "owner": "owner"}


class ScenarioAdapter(OneBotAdapter):
    """The OneBot adapter configured as a console group is by default.

    The console sends moderator alerts to ``<chat>-mods`` unless a group sets ``mod_chat``; a
    OneBot group has no such default, and an operator would ``/set mod_chat`` to their
    moderators' QQ group. This stands for that one setting, so the replay can stay strict.
    """

    def default_moderator_chat(self, chat: ChatRef) -> ChatRef | None:
        return group_chat(self.name, chat.scope_id + "-mods")

    def moderated_scope(self, chat: ChatRef) -> str | None:
        """The reverse, so moderator commands typed in "<chat>-mods" act on the group."""
        scope, suffix, rest = chat.scope_id.rpartition("-mods")
        return scope if suffix and not rest and scope else None


class CountingSink:
    """Stands between the adapter and the dispatcher to know when a frame became an event."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.count = 0

    def submit(self, event: PlatformEvent) -> Any:
        self.count += 1
        return self.inner.submit(event)


class Player:
    """Runs one scenario through a OneBot bridge and records the bot's actions."""

    def __init__(self, settings: Settings, start: datetime, expected: list[dict[str, Any]]) -> None:
        self.settings = settings
        self.clock = VirtualClock(start)
        self.port = free_port()
        self.app: App | None = None
        self.adapter: OneBotAdapter | None = None
        self.sink: CountingSink | None = None
        self.bridge: BridgeClient | None = None
        self.names: dict[str, str] = {}
        self.roles: dict[tuple[str, str], str] = {}
        self.generated = 0
        self.presses = 0
        self.bot_ids = 0
        self.records: list[dict[str, Any]] = []
        self.seen_actions = 0
        self.sent_ids: dict[str, str] = {}
        self.expected = expected
        #: The console's bot message ids (b1, b2…) and the ids the bridge gave the same messages.
        self.ids: dict[str, str] = {}
        self.position = 0
        self.partial: dict[str, Any] | None = None
        self.mismatches: list[tuple[dict[str, Any] | None, dict[str, Any]]] = []

    # -- the bot and the bridge --

    async def start(self) -> None:
        self.adapter = ScenarioAdapter(
            "qq",
            OneBotConfig(type="onebot", listen=f"127.0.0.1:{self.port}"),
            TOKEN,
            clock=self.clock,
            action_timeout=5.0,
            # Pacing is policy, not behaviour: without limits a long scenario runs at full speed.
            queue=OutboundQueue(),
        )
        self.app = App(self.settings, clock=self.clock, adapters=[self.adapter])
        await self.app.start()
        self.sink = CountingSink(self.adapter._host)
        self.adapter._host = self.sink
        bridge = BridgeClient(f"ws://127.0.0.1:{self.port}/onebot/v11/ws", TOKEN, self_id=SELF_ID)
        # Console bot messages are b1, b2…; the bridge numbers the bot's messages the same way.
        bridge.default_response = self._respond(bridge.default_response)  # type: ignore[method-assign]
        self.bridge = bridge
        await bridge.connect()
        await bridge.wait_action("get_login_info", len(bridge.calls("get_login_info")) + 1)
        self.seen_actions = len(bridge.actions)

    def _respond(self, fallback: Any) -> Any:
        def respond(frame: dict[str, Any]) -> dict[str, Any] | None:
            action = frame.get("action")
            if action in ("send_group_msg", "send_private_msg"):
                self.bot_ids += 1
                self.sent_ids[frame["echo"]] = f"ob{self.bot_ids}"
                return {"status": "ok", "retcode": 0, "data": {"message_id": f"ob{self.bot_ids}"}}
            if action == "get_group_member_info":
                params = frame["params"]
                role = self.roles.get((str(params["group_id"]), str(params["user_id"])), "member")
                return {"status": "ok", "retcode": 0, "data": {"role": role}}
            return fallback(frame)

        return respond

    async def stop(self) -> None:
        # As in a real restart the bridge stays up while the bot stops, so whatever the bot says
        # on its way down (the final flush) still reaches the group.
        if self.app is not None:
            await self.app.stop()
        self._collect()
        if self.bridge is not None:
            await self.bridge.drop()

    async def _deliver(self, frame: dict[str, Any]) -> None:
        assert self.bridge is not None and self.sink is not None and self.app is not None
        before = self.sink.count
        await self.bridge.push(frame)
        for _ in range(500):
            if self.sink.count > before:
                break
            await _tick()
        assert self.app.dispatcher is not None
        await self.app.dispatcher.drain()
        self._collect()

    # -- translating script lines into bridge frames --

    def _segments(self, text: str, reply_to: str | None) -> list[dict[str, Any]]:
        segments: list[dict[str, Any]] = []
        if reply_to:
            segments.append({"type": "reply", "data": {"id": self.ids.get(reply_to, reply_to)}})
        pos = 0
        for match in re.finditer(r"@(\w+)", text):
            if match.group(1) not in self.names:
                continue
            if match.start() > pos:
                segments.append({"type": "text", "data": {"text": text[pos : match.start()]}})
            segments.append({"type": "at", "data": {"qq": match.group(1)}})
            pos = match.end()
        if pos < len(text) or not segments:
            segments.append({"type": "text", "data": {"text": text[pos:]}})
        return segments

    def _name(self, user: str, name: str | None) -> None:
        # As on the console, a later line may give a member their display name.
        if name:
            self.names[user] = name
        else:
            self.names.setdefault(user, user)

    def _base(self) -> dict[str, Any]:
        return {"time": int(self.clock.now().timestamp()), "self_id": int(SELF_ID)}

    async def feed(self, obj: dict[str, Any]) -> None:
        kind = obj.get("type")
        if kind in ("message", "dm"):
            if not isinstance(obj.get("text"), str) or not obj.get("user"):
                return  # the console answers these with a protocol error; a bridge never sends them
            user = obj["user"]
            self._name(user, obj.get("name"))
            message_id = obj.get("id")
            if message_id is None:
                self.generated += 1
                message_id = f"m{self.generated}"
            sender: dict[str, Any] = {"user_id": user, "nickname": self.names[user], "card": ""}
            frame = {
                **self._base(),
                "post_type": "message",
                "message_id": message_id,
                "user_id": user,
                "message": self._segments(obj["text"], obj.get("reply_to")),
            }
            if kind == "message":
                chat = obj["chat"]
                if obj.get("role"):
                    self.roles[(chat, user)] = ROLES[obj["role"]]
                if (chat, user) in self.roles:
                    sender["role"] = self.roles[(chat, user)]
                frame.update(message_type="group", sub_type="normal", group_id=chat)
            else:
                frame.update(message_type="private", sub_type="friend")
            frame["sender"] = sender
            await self._deliver(frame)
        elif kind in ("join", "leave"):
            user = obj["user"]
            self._name(user, obj.get("name"))
            notice = "group_increase" if kind == "join" else "group_decrease"
            operator = obj.get("invited_by") or user
            sub_type = "invite" if kind == "join" else "leave"
            await self._deliver(
                {
                    **self._base(),
                    "post_type": "notice",
                    "notice_type": notice,
                    "sub_type": sub_type,
                    "group_id": obj["chat"],
                    "user_id": user,
                    "operator_id": operator,
                }
            )
        elif kind == "button":
            # No buttons here: the member replies to the bot's message with the option's number.
            assert self.app is not None and self.app.services is not None
            message = self.ids.get(obj["message"], obj["message"])
            number = next(
                (
                    n
                    for n in range(1, 30)
                    if (b := self.app.services.buttons.lookup("qq", obj["chat"], message, str(n)))
                    and b.data == obj["data"]
                ),
                None,
            )
            assert number is not None, f"no numbered option for {obj['data']} under {obj['message']}"
            self.presses += 1  # its own ids, so the console's m1, m2… numbering stays aligned
            await self.feed(
                {"type": "message", "chat": obj["chat"], "user": obj["user"], "text": str(number),
                 "reply_to": obj["message"], "id": f"press{self.presses}"}
            )  # fmt: skip
        elif kind == "advance":
            target = (
                parse_instant(obj["to"])
                if "to" in obj
                else self.clock.now() + timedelta(seconds=obj["seconds"])
            )
            assert self.app is not None and self.app.services is not None and self.app.dispatcher
            await self.app.services.scheduler.run_due(target)
            self.clock.set(target)
            await self.app.dispatcher.drain()
            self._collect()
        elif kind == "restart":
            await self.stop()
            await self.start()

    # -- reading the bot's actions back --

    def _collect(self) -> None:
        assert self.bridge is not None
        for call in self.bridge.actions[self.seen_actions :]:
            record = self._normalize(call)
            if record is not None:
                self.records.append(record)
                self._align(record)
        self.seen_actions = len(self.bridge.actions)

    def _align(self, got: dict[str, Any]) -> None:
        """Match one action against the next expected one, learning message ids as we go."""
        if self.partial is not None:
            # The rest of a text too long for one QQ message, split at a line break.
            got = {**self.partial, "text": self.partial["text"] + "\n" + got["text"]}
            self.partial = None
        if self.position < len(self.expected):
            want = self.expected[self.position]
            if (
                want["action"] == got["action"] == "send"
                and want["where"] == got["where"]
                and len(got["text"]) < len(want["text"])
                and want["text"].startswith(got["text"] + "\n")
            ):
                self.partial = got
                return
        # An edit may have no OneBot counterpart: a feature may say it anew or leave it out.
        while (
            self.position < len(self.expected)
            and self.expected[self.position].get("optional")
            and not matches(self.expected[self.position], got)
        ):
            self.position += 1
        if self.position >= len(self.expected):
            self.mismatches.append((None, got))
            return
        want = self.expected[self.position]
        self.position += 1
        if not matches(want, got):
            self.mismatches.append((want, got))
            return
        if want.get("id") and got.get("id"):
            self.ids[want["id"]] = got["id"]

    def _normalize(self, call: dict[str, Any]) -> dict[str, Any] | None:
        action, params = call["action"], call["params"]
        if action in ("send_group_msg", "send_private_msg"):
            where = params.get("group_id") or f"dm:{params.get('user_id')}"
            text, reply_to = "", None
            for seg in params["message"]:
                if seg["type"] == "text":
                    text += seg["data"]["text"]
                elif seg["type"] == "at":
                    qq = seg["data"]["qq"]
                    text += "@" + self.names.get(qq, qq)
                elif seg["type"] == "reply":
                    reply_to = seg["data"]["id"]
            return {
                "action": "send",
                "where": str(where),
                "text": text,
                "reply_to": self._console_id(reply_to),
                "id": self.sent_ids.get(call.get("echo", "")),
            }
        if action == "delete_msg":
            return {"action": "delete", "message": self._console_id(str(params["message_id"]))}
        if action == "set_group_ban":
            if params["duration"] == 0:
                return {"action": "unmute", "where": str(params["group_id"]), "user": str(params["user_id"])}
            return {
                "action": "mute",
                "where": str(params["group_id"]),
                "user": str(params["user_id"]),
                "seconds": params["duration"],
            }
        if action == "set_group_kick":
            kind = "ban" if params.get("reject_add_request") else "kick"
            return {"action": kind, "where": str(params["group_id"]), "user": str(params["user_id"])}
        return None  # lookups (login info, member roles) are not the bot's visible behaviour

    def _console_id(self, message_id: str | None) -> str | None:
        for console, ours in self.ids.items():
            if ours == message_id:
                return console
        return message_id


def expected_records(path: Path) -> list[dict[str, Any]]:
    """The console's golden output in the normalized form, with OneBot's allowances."""
    out: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        action = rec["action"]
        where = rec.get("chat") or f"dm:{rec.get('user')}"
        if action == "send":
            out.append(
                {"action": "send", "where": where, "text": rec["text"], "reply_to": rec.get("reply_to"),
                 "buttons": bool(rec.get("buttons")), "id": rec.get("id")}
            )  # fmt: skip
        elif action == "edit":
            out.append(
                {"action": "send", "where": where, "text": rec["text"], "reply_to": None, "buttons": False,
                 "optional": True}
            )  # fmt: skip
        elif action == "delete":
            out.append({"action": "delete", "message": rec["message"]})
        elif action == "mute":
            # QQ mutes last whole seconds from now, one minute to thirty days.
            until = rec.get("until")
            left = (
                (parse_instant(until) - parse_instant(rec["at"])).total_seconds()
                if until
                else MAX_MUTE_SECONDS
            )
            seconds = min(MAX_MUTE_SECONDS, max(MIN_MUTE_SECONDS, math.ceil(left)))
            out.append({"action": "mute", "where": where, "user": rec["user"], "seconds": seconds})
        elif action in ("unmute", "ban", "kick"):
            out.append({"action": action, "where": where, "user": rec["user"]})
    return out


def matches(expected: dict[str, Any], got: dict[str, Any]) -> bool:
    if expected["action"] != got["action"]:
        return False
    if expected["action"] != "send":
        return expected == got
    if (expected["where"], expected["reply_to"]) != (got["where"], got["reply_to"]):
        return False
    if expected["buttons"]:
        # The core's numbered options follow the text on a new line; a feature may instead word
        # a buttonless prompt itself ("reply with a number from 0 to 10"), keeping the first line.
        if got["text"].startswith(expected["text"] + "\n"):
            return True
        return bool(got["text"].split("\n", 1)[0] == expected["text"].split("\n", 1)[0])
    return bool(expected["text"] == got["text"])


async def _tick() -> None:
    await asyncio.sleep(0.002)


def _clock_of(lines: list[str]) -> datetime:
    for line in lines:
        if line.startswith("# clock:"):
            return datetime.fromisoformat(line.split(":", 1)[1].strip())
    return datetime.fromisoformat("2026-03-02T09:00:00+08:00")


@pytest.mark.parametrize("path", CASES, ids=[c.stem for c in CASES])
async def test_console_scenario_behaves_the_same_through_onebot(path: Path, tmp_path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    config = path.with_suffix(".toml")
    settings = load_settings(config) if config.exists() else Settings()
    settings = settings.model_copy(
        update={
            "storage": settings.storage.model_copy(update={"url": f"sqlite+aiosqlite:///{tmp_path / 'b.db'}"})
        }
    )
    expected = expected_records(path.with_name(path.stem + ".expected.jsonl"))
    player = Player(settings, _clock_of(lines), expected)
    await player.start()
    try:
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue  # a console-protocol error line; nothing a bridge could deliver
            if isinstance(obj, dict):
                await player.feed(obj)
    finally:
        await player.stop()
    assert player.mismatches == []
    missing = [r for r in expected[player.position :] if not r.get("optional")]
    assert missing == [], f"the bot never did: {missing}"
