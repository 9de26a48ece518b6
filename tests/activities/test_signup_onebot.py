"""A sign-up list (接龙) end to end over OneBot (QQ): no buttons, no edits, replies only.

The App runs its real dispatcher, features and SQLite database; the only fake is the bridge at
the far end of a real WebSocket (``tests/fakes/onebot_bridge.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.onebot import OneBotAdapter
from adapters.onebot.config import OneBotConfig
from bot.app import App
from bot.clock import VirtualClock
from bot.config import parse_settings
from tests.fakes.onebot_bridge import SELF_ID, BridgeClient, free_port

TOKEN = "s3cret"
START = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


@asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[tuple[App, VirtualClock, BridgeClient]]:
    port = free_port()
    clock = VirtualClock(START)
    settings = parse_settings({"storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"}})
    adapter = OneBotAdapter(
        "qq", OneBotConfig(type="onebot", listen=f"127.0.0.1:{port}"), TOKEN, clock=clock, action_timeout=2.0
    )
    app = App(settings, clock=clock, adapters=[adapter])
    await app.start()
    bridge = BridgeClient(f"ws://127.0.0.1:{port}/onebot/v11/ws", TOKEN)
    try:
        await bridge.connect()
        await bridge.wait_action("get_login_info")
        yield app, clock, bridge
    finally:
        await app.stop()
        await bridge.drop()


def text_of(call: dict[str, Any]) -> str:
    return "".join(s["data"].get("text", "") for s in call["params"]["message"] if s["type"] == "text")


def sent_id(bridge: BridgeClient, call: dict[str, Any]) -> str:
    """The message id the fake bridge gave ``call``: it numbers every send from 5001 in order."""
    sends = [a for a in bridge.actions if a.get("action") in ("send_group_msg", "send_private_msg")]
    return str(5001 + next(i for i, a in enumerate(sends) if a is call))


def lists(bridge: BridgeClient) -> list[dict[str, Any]]:
    """The list posts so far (other features post in the group too: badges)."""
    return [c for c in bridge.calls("send_group_msg") if text_of(c).startswith("📋 接龙")]


async def _settle(app: App) -> None:
    assert app.dispatcher is not None
    await app.dispatcher.drain()


async def test_a_list_over_qq_by_replies(tmp_path: Path) -> None:
    async with running(tmp_path) as (app, clock, bridge):
        await bridge.push(bridge.group_message("接龙 周六羽毛球 limit 1", message_id=601, nickname="Olga"))
        (post,) = await bridge.wait_action("send_group_msg")
        await _settle(app)
        assert sent_id(bridge, post) == "5001"
        text = text_of(post)
        assert text.startswith("📋 接龙 #1：周六羽毛球\n已接龙 0/1 人")
        assert "1. +1 接龙" in text and "/join 1" in text  # the buttons as numbered lines
        first_post = "5001"
        # QQ puts the quoted author's @ after the reply; "+1 带球拍" still counts, with its note.
        await bridge.push(
            bridge.group_message(
                f"[CQ:reply,id={first_post}][CQ:at,qq={SELF_ID}] +1 带球拍",
                message_id=602,
                user="20002",
                nickname="Bob",
            )
        )
        (answer,) = await bridge.wait_action("send_private_msg")
        assert answer["params"]["user_id"] == 20002 and text_of(answer) == "你已加入接龙 #1 周六羽毛球。"
        # The numbered "button" (2: -1 退出) is not what Cat wants; "1" joins, onto the waiting list.
        await bridge.push(
            bridge.group_message(
                f"[CQ:reply,id={first_post}] 1", message_id=603, user="20003", nickname="Cat"
            )
        )
        answers = await bridge.wait_action("send_private_msg", 2)
        assert "候补第 1 位" in text_of(answers[1])
        await _settle(app)
        # QQ cannot edit: after the interval the list is posted afresh, once.
        clock.set(clock.now() + timedelta(seconds=6))
        assert app.services is not None
        await app.services.batcher.flush()
        # The list afresh, and the same flush's badge post (first sight of three members).
        await bridge.wait_action("send_group_msg", 3)
        await _settle(app)
        first, fresh = lists(bridge)
        assert first is post and "已接龙 1/1 人\n1. Bob（带球拍）\n候补 1 人：\n1. Cat" in text_of(fresh)
        # "-1" to the fresh copy: Bob leaves, Cat moves up and is told privately.
        copy = sent_id(bridge, fresh)
        await bridge.push(
            bridge.group_message(f"[CQ:reply,id={copy}] -1", message_id=604, user="20002", nickname="Bob")
        )
        answers = await bridge.wait_action("send_private_msg", 4)
        told = {a["params"]["user_id"]: text_of(a) for a in answers[2:]}
        assert told == {
            20002: "你已退出接龙 #1 周六羽毛球。",
            20003: "有人退出了接龙 #1 周六羽毛球：你已从候补转为正式名单！",
        }
