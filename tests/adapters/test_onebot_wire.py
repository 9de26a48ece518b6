"""The OneBot 11 adapter against a bridge played over a real WebSocket on loopback."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from adapters.onebot.adapter import OneBotAdapter
from adapters.onebot.config import OneBotConfig
from adapters.onebot.protocol import group_chat, private_chat
from bot.adapter import Capability
from bot.clock import VirtualClock
from bot.errors import BotLacksPermission, CapabilityNotSupported, TargetNotFound, TransportError
from bot.events import MemberJoined, MemberLeft, MessageEvent, UserRef
from bot.messages import Bold, Button, Link, Mention, OutgoingMessage, Text
from bot.outbound import OutboundQueue
from bot.roles import Role
from tests.adapters import contract
from tests.fakes.onebot_bridge import (
    GROUP,
    SELF_ID,
    BridgeClient,
    BridgeServer,
    Sink,
    failed,
    free_port,
)

TOKEN = "s3cret"
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def make_adapter(config: OneBotConfig, token: str = TOKEN, **kw: object) -> OneBotAdapter:
    # No rate limits and quick retries: the queue's pacing has its own tests in the core.
    queue = OutboundQueue(max_retries=2, backoff=0.02)
    return OneBotAdapter(
        "qq",
        config,
        token,
        clock=VirtualClock(START),
        action_timeout=1.0,
        queue=queue,
        reconnect_delay=0.05,
        reconnect_max=0.2,
        **kw,  # type: ignore[arg-type]
    )


Reverse = tuple[OneBotAdapter, Sink, str]
Linked = tuple[OneBotAdapter, Sink, BridgeClient]


@pytest.fixture
async def reverse() -> AsyncIterator[Reverse]:
    port = free_port()
    adapter = make_adapter(OneBotConfig(type="onebot", listen=f"127.0.0.1:{port}"))
    sink = Sink()
    await adapter.start(sink)
    yield adapter, sink, f"ws://127.0.0.1:{port}/onebot/v11/ws"
    await adapter.stop()


@pytest.fixture
async def linked(reverse: Reverse) -> AsyncIterator[Linked]:
    adapter, sink, url = reverse
    bridge = BridgeClient(url, TOKEN)
    await bridge.connect()
    assert await adapter.wait_connected(5)
    await bridge.wait_action("get_login_info")
    yield adapter, sink, bridge
    await bridge.drop()


CHAT = group_chat("qq", GROUP)


# -- reverse mode: handshake ------------------------------------------------------------------


async def test_reverse_accepts_token_in_header_and_learns_the_account(linked: Linked) -> None:
    adapter, _, _ = linked
    assert adapter.connected
    assert adapter.me is not None and adapter.me.user_id == SELF_ID and adapter.me.is_bot
    for _ in range(50):
        if adapter.me.display_name == "群友Bot":
            break
        await asyncio.sleep(0.01)
    assert adapter.me.display_name == "群友Bot"
    assert "connected as 10000" in adapter.status_line()


async def test_reverse_accepts_token_in_query(reverse: Reverse) -> None:
    adapter, _, url = reverse
    bridge = BridgeClient(url, TOKEN, token_in_query=True)
    await bridge.connect()
    assert await adapter.wait_connected(5)
    await bridge.drop()


@pytest.mark.parametrize(
    ("token", "kwargs", "status"),
    [
        ("wrong", {}, 401),
        (None, {}, 401),
        ("wrong", {"token_in_query": True}, 401),
        (TOKEN, {"role": "Event"}, 400),
    ],
)
async def test_reverse_refuses_bad_handshakes(
    reverse: Reverse, token: str | None, kwargs: dict[str, Any], status: int
) -> None:
    adapter, _, url = reverse
    bridge = BridgeClient(url, token, **kwargs)
    with pytest.raises(InvalidStatus) as info:
        await bridge.connect()
    assert info.value.response.status_code == status
    assert not adapter.connected


async def test_reverse_refuses_wrong_path_and_other_accounts() -> None:
    port = free_port()
    adapter = make_adapter(OneBotConfig(type="onebot", listen=f"127.0.0.1:{port}", self_id=SELF_ID))
    await adapter.start(Sink())
    try:
        with pytest.raises(InvalidStatus) as info:
            await BridgeClient(f"ws://127.0.0.1:{port}/other", TOKEN).connect()
        assert info.value.response.status_code == 404
        with pytest.raises(InvalidStatus) as info:
            await BridgeClient(f"ws://127.0.0.1:{port}/onebot/v11/ws", TOKEN, self_id="99999").connect()
        assert info.value.response.status_code == 403
        ok_bridge = BridgeClient(f"ws://127.0.0.1:{port}/onebot/v11/ws/", TOKEN)
        await ok_bridge.connect()
        assert await adapter.wait_connected(5)
        await ok_bridge.drop()
    finally:
        await adapter.stop()


# -- inbound ----------------------------------------------------------------------------------


async def test_group_checkin_goes_in_and_a_group_message_comes_out(linked: Linked) -> None:
    adapter, sink, bridge = linked
    await bridge.push(bridge.group_message("签到", message_id=11))
    (event,) = await sink.wait(1)
    contract.check_inbound_text(event, chat=CHAT, user_id="20001", text="签到")
    sent = await adapter.send(event.chat, OutgoingMessage.of("签到成功", reply_to=event.message_id))
    (call,) = await bridge.wait_action("send_group_msg")
    assert call["params"] == {
        "group_id": int(GROUP),
        "message": [
            {"type": "reply", "data": {"id": "11"}},
            {"type": "text", "data": {"text": "签到成功"}},
        ],
    }
    assert isinstance(call["echo"], str) and call["echo"]
    assert sent.message_id.isdigit() and sent.chat == CHAT


async def test_join_with_operator_credits_the_inviter_and_leave_is_seen(linked: Linked) -> None:
    _, sink, bridge = linked
    await bridge.push(bridge.notice("group_increase", sub_type="invite", user_id=20002, operator_id=20001))
    await bridge.push(bridge.notice("group_decrease", sub_type="leave", user_id=20003, operator_id=20003))
    joined, left = await sink.wait(2)
    assert isinstance(joined, MemberJoined) and joined.invited_by is not None
    assert joined.invited_by.user_id == "20001" and joined.member.user_id == "20002"
    assert isinstance(left, MemberLeft) and left.member.user_id == "20003"


async def test_own_messages_and_meta_events_reach_no_handler(linked: Linked) -> None:
    adapter, sink, bridge = linked
    await bridge.push(bridge.group_message("我自己说的", user=SELF_ID))
    await bridge.push(bridge.heartbeat(online=False))
    await bridge.push(bridge.lifecycle("enable"))
    await bridge.push(bridge.heartbeat(online=True))
    await bridge.push(bridge.group_message("after", message_id=2))
    events = await sink.wait(1)
    await asyncio.sleep(0.05)
    assert [e.text for e in events] == ["after"]
    assert adapter.heartbeat_interval == 5.0 and adapter.bridge_online is True


async def test_garbled_frames_are_survived(linked: Linked, caplog: pytest.LogCaptureFixture) -> None:
    adapter, sink, bridge = linked
    with caplog.at_level("WARNING", logger="adapters.onebot.adapter"):
        for junk in (
            "this is not json",
            '{"post_type": ',
            "[1, 2, 3]",
            json.dumps({"post_type": "message", "message_type": "group", "message": 5}),
            json.dumps(
                {
                    "post_type": "message",
                    "message_type": "group",
                    "group_id": 1,
                    "user_id": 2,
                    "message_id": 3,
                    "message": [{"type": 5}],
                }
            ),
            json.dumps({"echo": "nobody-asked", "status": "ok", "data": None}),
            "\x00\x01garbage\x7f",
        ):
            await bridge.push(junk)
        await bridge.push(bridge.group_message("/ping", message_id=3))
        (event,) = await sink.wait(1)
    assert isinstance(event, MessageEvent) and event.text == "/ping"
    assert adapter.connected
    assert sum("ignored" in r.getMessage() for r in caplog.records) >= 5


async def test_huge_message_is_handled(linked: Linked) -> None:
    _, sink, bridge = linked
    text = "签" * 200_000
    await bridge.push(bridge.group_message(text, message_id=4))
    (event,) = await sink.wait(1)
    assert len(event.text) == 200_000


# -- actions ----------------------------------------------------------------------------------


async def test_recall_mute_unmute_kick_ban(linked: Linked) -> None:
    adapter, _, bridge = linked
    await adapter.delete(CHAT, "41")
    await adapter.mute(CHAT, "20001", START + timedelta(minutes=10))
    await adapter.mute(CHAT, "20001", START + timedelta(seconds=5))
    await adapter.mute(CHAT, "20001", None)
    await adapter.unmute(CHAT, "20001")
    await adapter.kick(CHAT, "20002")
    await adapter.ban(CHAT, "20003", None)
    assert [c["params"] for c in bridge.calls("delete_msg")] == [{"message_id": 41}]
    bans = [c["params"]["duration"] for c in bridge.calls("set_group_ban")]
    assert bans == [600, 60, 30 * 24 * 3600, 0]
    assert bridge.calls("set_group_ban")[0]["params"]["group_id"] == int(GROUP)
    kicks = [
        (c["params"]["user_id"], c["params"]["reject_add_request"]) for c in bridge.calls("set_group_kick")
    ]
    assert kicks == [(20002, False), (20003, True)]


async def test_failed_responses_map_to_core_errors(linked: Linked) -> None:
    adapter, _, bridge = linked
    bridge.responders["delete_msg"] = lambda f: failed(200, "消息不存在")
    bridge.responders["set_group_ban"] = lambda f: failed(200, "权限不足")
    bridge.responders["set_group_kick"] = lambda f: failed(1404, "API不存在") | {"message": "", "wording": ""}
    with pytest.raises(TargetNotFound):
        await adapter.delete(CHAT, "41")
    with pytest.raises(BotLacksPermission):
        await adapter.mute(CHAT, "20001", None)
    with pytest.raises(TransportError, match="does not implement set_group_kick"):
        await adapter.kick(CHAT, "20001")
    # A refusal is an answer, not a network fault: it is not retried.
    assert len(bridge.calls("delete_msg")) == 1


async def test_unanswered_action_times_out_as_transport_error(linked: Linked) -> None:
    adapter, _, bridge = linked
    bridge.responders["delete_msg"] = lambda f: None
    with pytest.raises(TransportError, match="no response"):
        await adapter.delete(CHAT, "41")
    assert len(bridge.calls("delete_msg")) == 3  # the first try and two retries
    assert not adapter._pending


async def test_roles_are_looked_up_cached_and_invalidated(linked: Linked) -> None:
    adapter, sink, bridge = linked
    bridge.responders["get_group_member_info"] = lambda f: {
        "status": "ok",
        "retcode": 0,
        "data": {"role": "owner" if f["params"]["user_id"] == 1 else "member"},
    }
    assert await adapter.get_role(CHAT, "1") == Role.OWNER
    assert await adapter.get_role(CHAT, "1") == Role.OWNER
    assert len(bridge.calls("get_group_member_info")) == 1
    # A group message carries the sender's role: no lookup needed afterwards.
    await bridge.push(bridge.group_message("hi", user="20005", role="admin"))
    await sink.wait(1)
    assert await adapter.get_role(CHAT, "20005") == Role.ADMIN
    assert len(bridge.calls("get_group_member_info")) == 1
    # Made or unmade admin: the cache forgets them and asks again.
    await bridge.push(bridge.notice("group_admin", sub_type="unset", user_id=20005))
    await asyncio.sleep(0.05)
    assert await adapter.get_role(CHAT, "20005") == Role.MEMBER
    assert len(bridge.calls("get_group_member_info")) == 2
    assert await adapter.get_role(private_chat("qq", "20005"), "20005") == Role.MEMBER


async def test_rendering_keeps_member_text_out_of_cq_codes(linked: Linked, tmp_path: Path) -> None:
    adapter, _, bridge = linked
    picture = tmp_path / "chart.png"
    picture.write_bytes(b"\x89PNG fake")
    bob = UserRef("onebot", "30003", "Bob")
    message = OutgoingMessage(
        parts=(
            Text("欢迎 "),
            Mention(bob),
            Text(" [CQ:at,qq=all] &#91;"),
            Bold("!"),
            Link("docs", "https://x.example"),
        ),
        image=str(picture),
    )
    await adapter.send(CHAT, message)
    (call,) = await bridge.wait_action("send_group_msg")
    assert call["params"]["message"] == [
        {"type": "text", "data": {"text": "欢迎 "}},
        {"type": "at", "data": {"qq": "30003"}},
        {"type": "text", "data": {"text": " [CQ:at,qq=all] &#91;"}},
        {"type": "text", "data": {"text": "!"}},
        {"type": "text", "data": {"text": "docs (https://x.example)"}},
        {"type": "image", "data": {"file": "base64://" + base64.b64encode(b"\x89PNG fake").decode()}},
    ]


async def test_long_text_is_split_and_buttons_become_numbered_commands(linked: Linked) -> None:
    adapter, _, bridge = linked
    long = "\n".join(f"第{i}行 " + "字" * 50 for i in range(200))
    await adapter.send(CHAT, OutgoingMessage.of(long))
    calls = await bridge.wait_action("send_group_msg", 2)
    texts = ["".join(s["data"]["text"] for s in c["params"]["message"]) for c in calls]
    assert all(len(t) <= adapter.max_text_length for t in texts)
    assert "\n".join(texts).replace("\n", "") == long.replace("\n", "")
    buttons = ((Button("参加", "events:join:12", "/join 12"), Button("不去", "events:no:12")),)
    await adapter.send(CHAT, OutgoingMessage.of("周五聚餐", buttons=buttons))
    last = (await bridge.wait_action("send_group_msg", len(calls) + 1))[-1]
    text = "".join(s["data"]["text"] for s in last["params"]["message"])
    assert text == "周五聚餐\n1. 参加: /join 12\n2. 不去"


async def test_private_message_goes_to_the_member(linked: Linked) -> None:
    adapter, _, bridge = linked
    await adapter.send_private("20001", OutgoingMessage.of("hi"))
    (call,) = await bridge.wait_action("send_private_msg")
    assert call["params"]["user_id"] == 20001


async def test_bot_muted_shows_in_warnings(linked: Linked) -> None:
    adapter, _, bridge = linked
    await bridge.push(
        bridge.notice("group_ban", sub_type="ban", user_id=int(SELF_ID), operator_id=1, duration=600)
    )
    await asyncio.sleep(0.05)
    assert any("muted in group" in w for w in adapter.warnings())


# -- contract ---------------------------------------------------------------------------------


async def test_shared_adapter_contract(linked: Linked) -> None:
    adapter, _, bridge = linked
    assert not adapter.supports(Capability.BUTTONS) and not adapter.supports(Capability.EDIT)
    assert await contract.check_undeclared_raise(adapter, CHAT, "20001", "41") == 2  # edit, unban
    seen = [len(bridge.actions)]

    def platform_called() -> bool:
        now = len(bridge.actions)
        changed = now != seen[0]
        seen[0] = now
        return changed

    assert await contract.check_declared_reach_platform(adapter, CHAT, "20001", "41", platform_called) == 8
    with pytest.raises(CapabilityNotSupported):
        await adapter.edit(CHAT, "41", OutgoingMessage.of("x"))


# -- reconnects -------------------------------------------------------------------------------


async def test_reverse_bridge_drops_and_comes_back(reverse: Reverse) -> None:
    adapter, sink, url = reverse
    first = BridgeClient(url, TOKEN)
    await first.connect()
    assert await adapter.wait_connected(5)
    await first.drop()
    for _ in range(100):
        if not adapter.connected:
            break
        await asyncio.sleep(0.01)
    assert not adapter.connected and any("no OneBot bridge" in w for w in adapter.warnings())
    # A reply queued while the bridge is away waits for it instead of being lost.
    pending = asyncio.create_task(adapter.send(CHAT, OutgoingMessage.of("still here")))
    await asyncio.sleep(0.1)
    second = BridgeClient(url, TOKEN)
    await second.connect()
    await asyncio.wait_for(pending, 5)
    (call,) = await second.wait_action("send_group_msg")
    assert call["params"]["message"][0]["data"]["text"] == "still here"
    await second.push(second.group_message("签到", message_id=77))
    (event,) = await sink.wait(1)
    assert event.message_id == "77"
    assert adapter.connections == 2
    await second.drop()


async def test_a_new_connection_replaces_a_stale_one(reverse: Reverse) -> None:
    adapter, _, url = reverse
    old, new = BridgeClient(url, TOKEN), BridgeClient(url, TOKEN)
    await old.connect()
    assert await adapter.wait_connected(5)
    await new.connect()
    await new.wait_action("get_login_info")
    await adapter.send(CHAT, OutgoingMessage.of("x"))
    assert len(new.calls("send_group_msg")) == 1 and not old.calls("send_group_msg")
    await new.drop()
    await old.drop()


# -- forward mode -----------------------------------------------------------------------------


async def test_forward_mode_round_trip_and_reconnect() -> None:
    bridge = BridgeServer(TOKEN)
    await bridge.start()
    adapter = make_adapter(OneBotConfig(type="onebot", mode="forward", url=bridge.url))
    sink = Sink()
    await adapter.start(sink)
    try:
        await bridge.wait_connected()
        assert await adapter.wait_connected(5)
        await bridge.push(bridge.group_message("/ping", message_id=5))
        (event,) = await sink.wait(1)
        assert isinstance(event, MessageEvent) and event.text == "/ping"
        await adapter.send(event.chat, OutgoingMessage.of("pong"))
        (call,) = await bridge.wait_action("send_group_msg")
        assert call["params"]["message"] == [{"type": "text", "data": {"text": "pong"}}]

        # The bridge goes away; the adapter keeps dialling with backoff until it is back.
        await bridge.stop()
        for _ in range(100):
            if not adapter.connected:
                break
            await asyncio.sleep(0.01)
        assert not adapter.connected
        await asyncio.sleep(0.3)  # a few failed dials
        await bridge.start()
        await bridge.wait_connected()
        assert await adapter.wait_connected(5)
        await bridge.push(bridge.group_message("签到", message_id=6))
        await sink.wait(2)
        assert sink.events[1].message_id == "6"
        assert bridge.connects == 2
    finally:
        await adapter.stop()
        await bridge.stop()


async def test_forward_mode_with_a_wrong_token_keeps_trying(caplog: pytest.LogCaptureFixture) -> None:
    bridge = BridgeServer("the-right-one")
    await bridge.start()
    adapter = make_adapter(OneBotConfig(type="onebot", mode="forward", url=bridge.url), token="wrong")
    with caplog.at_level("ERROR", logger="adapters.onebot.adapter"):
        await adapter.start(Sink())
        try:
            for _ in range(200):
                if bridge.refused >= 2:
                    break
                await asyncio.sleep(0.01)
        finally:
            await adapter.stop()
            await bridge.stop()
    assert bridge.refused >= 2 and not adapter.connected
    assert any("HTTP 401" in r.getMessage() and "access_token_env" in r.getMessage() for r in caplog.records)


async def test_send_without_any_bridge_is_a_transport_error() -> None:
    adapter = OneBotAdapter(
        "qq",
        OneBotConfig(type="onebot", listen=f"127.0.0.1:{free_port()}"),
        "",
        action_timeout=0.05,
        queue=OutboundQueue(max_retries=1, backoff=0.01),
    )
    await adapter.start(Sink())
    try:
        with pytest.raises(TransportError, match="no OneBot bridge"):
            await adapter.send(CHAT, OutgoingMessage.of("x"))
    finally:
        await adapter.stop()


async def test_a_reply_names_the_author_of_a_message_seen_before(linked: Linked) -> None:
    adapter, sink, bridge = linked
    await bridge.push(bridge.group_message("spam spam", user="20009", message_id=50))
    await bridge.push(
        bridge.group_message(
            [
                {"type": "reply", "data": {"id": "50"}},
                {"type": "text", "data": {"text": "/mute 10m"}},
            ],
            user="20001",
            message_id=51,
            role="admin",
        )
    )
    await bridge.push(bridge.group_message("[CQ:reply,id=999]/warn", user="20001", message_id=52))
    _, reply, unknown = await sink.wait(3)
    assert reply.reply_to == "50" and reply.reply_to_user is not None
    assert reply.reply_to_user.user_id == "20009" and reply.text == "/mute 10m"
    assert unknown.reply_to == "999" and unknown.reply_to_user is None
    sent = await adapter.send(CHAT, OutgoingMessage.of("公告"))
    await bridge.push(bridge.group_message(f"[CQ:reply,id={sent.message_id}]收到", message_id=53))
    (*_, to_bot) = await sink.wait(4)
    assert to_bot.reply_to_user is not None and to_bot.reply_to_user.user_id == SELF_ID


async def test_a_failure_while_handling_one_frame_keeps_the_connection(linked: Linked) -> None:
    adapter, sink, bridge = linked

    class Exploding:
        def submit(self, event: object) -> None:
            raise RuntimeError("dispatcher bug")

    adapter._host = Exploding()
    await bridge.push(bridge.group_message("boom", message_id=60))
    await asyncio.sleep(0.05)
    adapter._host = sink
    await bridge.push(bridge.group_message("after", message_id=61))
    (event,) = await sink.wait(1)
    assert event.text == "after" and adapter.connected


async def test_a_bridge_whose_heartbeats_stop_is_hung_up_on(linked: Linked) -> None:
    adapter, _, bridge = linked
    beat = bridge.heartbeat()
    beat["interval"] = 50  # milliseconds: a fast bridge, so the test is quick
    await bridge.push(beat)
    for _ in range(200):
        if not adapter.connected:
            break
        await asyncio.sleep(0.01)
    assert not adapter.connected


async def test_a_bridge_that_keeps_beating_stays_connected(linked: Linked) -> None:
    adapter, _, bridge = linked
    beat = bridge.heartbeat()
    beat["interval"] = 50
    for _ in range(12):
        await bridge.push(beat)
        await asyncio.sleep(0.03)
    assert adapter.connected


async def test_a_stopped_adapter_refuses_at_once_instead_of_retrying() -> None:
    adapter = OneBotAdapter(
        "qq",
        OneBotConfig(type="onebot", listen=f"127.0.0.1:{free_port()}"),
        "",
        action_timeout=30.0,  # were it to wait for a bridge, the test would hang, not pass
        queue=OutboundQueue(max_retries=5, backoff=30.0),
    )
    await adapter.start(Sink())
    await adapter.stop()
    with pytest.raises(TransportError, match="is stopped"):
        await adapter.send(CHAT, OutgoingMessage.of("x"))
