"""The WeCom group robot against a webhook served on loopback by aiohttp."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from adapters.wecom import CONFIG_MODEL, SendOnly, build
from adapters.wecom.adapter import WeComRobotAdapter, render, split_bytes
from bot.adapter import Capability
from bot.app import App
from bot.clock import VirtualClock
from bot.config import parse_settings
from bot.errors import CapabilityNotSupported, ConfigError, TargetNotFound, TransportError
from bot.events import ChatRef, UserRef
from bot.i18n import I18n
from bot.messages import Bold, Button, Link, Mention, OutgoingMessage, Text
from bot.outbound import Limit, OutboundQueue
from tests.adapters import contract


class FakeTime:
    """Monotonic time that only moves when the queue sleeps, so a minute of waiting is instant."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Webhook:
    """The WeCom webhook endpoint: records bodies, answers from a script or with errcode 0."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.queries: list[str] = []
        self.script: list[Callable[[], web.Response]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        self.queries.append(request.query_string)
        if self.script:
            return self.script.pop(0)()
        return web.json_response({"errcode": 0, "errmsg": "ok"})


def answer(errcode: int, errmsg: str = "") -> Callable[[], web.Response]:
    return lambda: web.json_response({"errcode": errcode, "errmsg": errmsg})


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[Webhook, str]]:
    hook = Webhook()
    app = web.Application()
    app.router.add_post("/cgi-bin/webhook/send", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield hook, f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=test-key"
    await runner.cleanup()


@pytest.fixture
async def robot(webhook: tuple[Webhook, str]) -> AsyncIterator[tuple[WeComRobotAdapter, Webhook, FakeTime]]:
    hook, url = webhook
    fake = FakeTime()
    queue = OutboundQueue(
        overall=Limit(20, 60.0), max_retries=2, backoff=0.5, sleep=fake.sleep, monotonic=fake.monotonic
    )
    adapter = build("wecom_ops", {"type": "wecom_robot"}, {"WECOM_WEBHOOK_URL": url})
    adapter._queue = queue  # the same queue type, on fake time
    await adapter.start(_NoSink())
    yield adapter, hook, fake
    await adapter.stop()


class _NoSink:
    def submit(self, event: object) -> None:
        raise AssertionError("a send-only robot delivered an event")


Robot = tuple[WeComRobotAdapter, Webhook, FakeTime]


async def test_text_with_mentions(robot: Robot) -> None:
    adapter, hook, _ = robot
    alice = UserRef("wecom", "zhangsan", "张三")
    sent = await adapter.send(adapter.chat, OutgoingMessage.of("今晚 8 点分享会，", Mention(alice), " 主讲"))
    assert hook.bodies == [
        {
            "msgtype": "text",
            "text": {"content": "今晚 8 点分享会，@张三 主讲", "mentioned_list": ["zhangsan"]},
        }
    ]
    assert hook.queries == ["key=test-key"]
    assert sent.message_id.startswith("wecom-") and sent.chat == adapter.chat


async def test_markdown_for_bold_and_links_keeps_member_text_inert(robot: Robot) -> None:
    adapter, hook, _ = robot
    message = OutgoingMessage(
        parts=(
            Bold("本周之星"),
            Text(' # [点我](http://evil) <font color="warning">x</font>'),
            Link("详情", "https://x.example/a"),
        )
    )
    await adapter.send(adapter.chat, message)
    (body,) = hook.bodies
    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert content.startswith("**本周之星**")
    assert "[详情](https://x.example/a)" in content
    assert "［点我］(http://evil)" in content and "＃" in content and "[点我]" not in content
    assert "<font" not in content and "＜font" in content and "\\" not in content


async def test_image_goes_as_base64_with_md5(robot: Robot, tmp_path: Path) -> None:
    adapter, hook, _ = robot
    png = tmp_path / "report.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    await adapter.send(adapter.chat, OutgoingMessage.of("周报", image=str(png)))
    assert [b["msgtype"] for b in hook.bodies] == ["text", "image"]
    image = hook.bodies[1]["image"]
    assert base64.b64decode(image["base64"]) == png.read_bytes()
    assert image["md5"] == hashlib.md5(png.read_bytes()).hexdigest()


async def test_oversized_image_is_refused_before_sending(robot: Robot, tmp_path: Path) -> None:
    adapter, hook, _ = robot
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (2 * 1024 * 1024 + 1))
    with pytest.raises(TransportError, match="2 MB"):
        await adapter.send(adapter.chat, OutgoingMessage(parts=(), image=str(big)))
    assert hook.bodies == []


async def test_long_text_split_by_bytes(robot: Robot) -> None:
    adapter, hook, _ = robot
    text = "\n".join(f"第{i}条公告：" + "内容" * 40 for i in range(60))
    await adapter.send(adapter.chat, OutgoingMessage.of(text))
    contents = [b["text"]["content"] for b in hook.bodies]
    assert len(contents) > 1
    assert all(len(c.encode()) <= 2048 for c in contents)
    assert "\n".join(contents) == text


def test_split_bytes_never_cuts_a_character() -> None:
    pieces = split_bytes("签" * 1000, 2048)
    assert all(len(p.encode()) <= 2048 for p in pieces) and "".join(pieces) == "签" * 1000


def test_buttons_render_as_numbered_lines() -> None:
    buttons = ((Button("参加", "events:join:3", "/join 3"), Button("不去", "events:no:3")),)
    (body,) = render(OutgoingMessage.of("周五团建", buttons=buttons))
    assert body["text"]["content"] == "周五团建\n1. 参加\n2. 不去"


async def test_45009_waits_a_minute_and_retries(robot: Robot) -> None:
    adapter, hook, fake = robot
    hook.script = [answer(45009, "api freq out of limit")]
    await adapter.send(adapter.chat, OutgoingMessage.of("早安"))
    assert len(hook.bodies) == 2 and hook.bodies[0] == hook.bodies[1]
    assert 60.0 in fake.slept


async def test_twenty_a_minute_is_queued_not_dropped(robot: Robot) -> None:
    adapter, hook, fake = robot
    for i in range(21):
        await adapter.send(adapter.chat, OutgoingMessage.of(f"#{i}"))
    assert len(hook.bodies) == 21
    assert fake.slept and sum(fake.slept) == pytest.approx(60.0)


async def test_dead_webhook_and_bad_content_errors(robot: Robot) -> None:
    adapter, hook, _ = robot
    hook.script = [answer(93000, "invalid webhook url")]
    with pytest.raises(TargetNotFound, match="93000"):
        await adapter.send(adapter.chat, OutgoingMessage.of("x"))
    hook.script = [answer(40008, "invalid message type")]
    with pytest.raises(TransportError, match="40008"):
        await adapter.send(adapter.chat, OutgoingMessage.of("x"))
    assert len(hook.bodies) == 2  # neither was retried: retrying cannot fix them


async def test_server_errors_are_retried(robot: Robot) -> None:
    adapter, hook, fake = robot
    hook.script = [lambda: web.Response(status=502), lambda: web.Response(text="<html>oops</html>")]
    await adapter.send(adapter.chat, OutgoingMessage.of("x"))
    assert len(hook.bodies) == 3 and fake.slept == [0.5, 1.0]


async def test_unreachable_webhook_is_a_transport_error() -> None:
    fake = FakeTime()
    adapter = build("w", {"type": "wecom_robot"}, {"WECOM_WEBHOOK_URL": "http://127.0.0.1:9/x"})
    adapter._queue = OutboundQueue(max_retries=1, backoff=0.1, sleep=fake.sleep, monotonic=fake.monotonic)
    await adapter.start(_NoSink())
    try:
        with pytest.raises(TransportError, match="unreachable"):
            await adapter.send(adapter.chat, OutgoingMessage.of("x"))
    finally:
        await adapter.stop()


async def test_only_its_own_group(robot: Robot) -> None:
    adapter, _, _ = robot
    with pytest.raises(TargetNotFound):
        await adapter.send(ChatRef("wecom", "other", "g", "g"), OutgoingMessage.of("x"))


async def test_inbound_and_moderation_raise_a_clear_send_only_error(robot: Robot) -> None:
    adapter, hook, _ = robot
    with pytest.raises(SendOnly) as info:
        await adapter.get_role(adapter.chat, "zhangsan")
    assert "send-only" in str(info.value) and "get_role" in str(info.value)
    assert isinstance(info.value, CapabilityNotSupported)
    assert not adapter.supports(Capability.INBOUND) and not adapter.supports(Capability.BUTTONS)
    checked = await contract.check_undeclared_raise(adapter, adapter.chat, "zhangsan", "wecom-1")
    assert checked == 9
    count = [0]

    def called() -> bool:
        changed = len(hook.bodies) != count[0]
        count[0] = len(hook.bodies)
        return changed

    assert await contract.check_declared_reach_platform(adapter, adapter.chat, "u", "m", called) == 1


def test_config_and_build_errors() -> None:
    assert CONFIG_MODEL.model_validate({"type": "wecom_robot"}).webhook_url_env == "WECOM_WEBHOOK_URL"
    with pytest.raises(ConfigError, match=r"adapters\.ops\.webhook_url_env"):
        build("ops", {"type": "wecom_robot"}, {})
    with pytest.raises(ConfigError) as info:
        build("ops", {"type": "wecom_robot"}, {"WECOM_WEBHOOK_URL": "qyapi.weixin.qq.com/secret-key"})
    assert "secret-key" not in str(info.value)  # the URL holds the robot's key: never echo it
    with pytest.raises(ValueError):
        CONFIG_MODEL.model_validate({"type": "wecom_robot", "webhook": "x"})


async def test_a_broadcast_from_the_running_app_reaches_the_robot(
    webhook: tuple[Webhook, str], tmp_path: Path
) -> None:
    hook, url = webhook
    settings = parse_settings(
        {
            "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
            "adapters": {"wecom_ops": {"type": "wecom_robot"}},
        }
    )
    clock = VirtualClock(datetime.fromisoformat("2026-03-02T09:00:00+08:00"))
    app = App(settings, clock=clock, env={"WECOM_WEBHOOK_URL": url})
    await app.start()
    try:
        assert app.services is not None
        robot = app.services.adapters["wecom_ops"]
        assert isinstance(robot, WeComRobotAdapter)
        buttons = ((Button("参加", "events:join:3", "/join 3"),),)
        await app.services.send(robot.chat, OutgoingMessage.of("周五团建报名开始", buttons=buttons), "zh-CN")
        i18n = I18n.load()
        (body,) = hook.bodies
        content = body["text"]["content"]
        assert content.startswith("周五团建报名开始\n" + i18n.t("zh-CN", "core.buttons.intro"))
        assert i18n.t("zh-CN", "core.buttons.option_cmd", n=1, text="参加", command="/join 3") in content
        assert "send-only" in robot.status_line()
    finally:
        await app.stop()
