"""Posts with pictures through a OneBot bridge (QQ/WeChat): a moderator replies to a member's
picture; the scheduled post goes out with an ``image`` segment carrying those bytes. The
picture is served by a loopback HTTP server standing in for QQ's picture server."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from bot.clock import VirtualClock
from tests.adapters.test_onebot_app import running, text_of
from tests.media.pictures import png


@pytest.fixture
async def picture_server() -> AsyncIterator[str]:
    """``http://127.0.0.1:PORT``: ``/cat.png`` is a picture, anything else a 404."""

    async def cat(_request: web.Request) -> web.Response:
        return web.Response(body=png(seed=31), content_type="image/png")

    app = web.Application()
    app.router.add_get("/cat.png", cat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _picture(url: str, caption: str) -> list[dict[str, object]]:
    return [
        {"type": "image", "data": {"file": "cat.image", "url": url}},
        {"type": "text", "data": {"text": caption}},
    ]


async def test_a_replied_picture_goes_out_with_the_post_as_an_image_segment(
    tmp_path: Path, picture_server: str
) -> None:
    async with running(tmp_path) as (app, _, bridge):
        await bridge.push(
            bridge.group_message(_picture(f"{picture_server}/cat.png", "我家猫"), message_id=201)
        )
        await bridge.push(
            bridge.group_message(
                "[CQ:reply,id=201]/schedule add daily 09:30 早安", message_id=202, user="20009", role="owner"
            )
        )
        (added,) = await bridge.wait_action("send_group_msg")
        assert text_of(added).endswith("已附上图片。")
        services = app.services
        assert services is not None and isinstance(services.clock, VirtualClock)
        await services.scheduler.run_due(services.clock.now() + timedelta(minutes=31))
        # The member's first message also earns a badge whose notice is batched; it may go out
        # before or after the post, so wait for the post itself.
        (posted,) = await bridge.wait_action("send_group_msg", where=lambda c: text_of(c) == "早安")
    post = posted["params"]["message"]
    (image,) = [s for s in post if s["type"] == "image"]
    assert base64.b64decode(image["data"]["file"].removeprefix("base64://")) == png(seed=31)


async def test_a_picture_the_server_no_longer_has_is_a_clear_refusal(
    tmp_path: Path, picture_server: str
) -> None:
    async with running(tmp_path) as (_, _, bridge):
        await bridge.push(
            bridge.group_message(_picture(f"{picture_server}/gone.png", "旧图"), message_id=301)
        )
        await bridge.push(
            bridge.group_message(
                "[CQ:reply,id=301]/schedule add daily 09:30 x", message_id=302, user="20009", role="owner"
            )
        )
        (answer,) = await bridge.wait_action("send_group_msg")
    assert text_of(answer).startswith("无法从平台获取这张图片；请重试，或用 image:文件名 指定图片。")
