"""Posts with pictures on Discord: a moderator replies to a member's attached picture; the
scheduled post is uploaded with those bytes as a file (the real app, adapter and discord.py,
faked only at the transport)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import VirtualClock
from tests.adapters.test_discord_app import ALICE, MOD, channel_posts, start_bot
from tests.fakes import discord_api as fx
from tests.media.pictures import png

CDN = "https://cdn.discordapp.com/attachments/1/2/cat.png"


async def test_a_replied_attachment_goes_out_with_the_post_as_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await start_bot(tmp_path, monkeypatch)
    try:
        bot.fake.cdn[CDN] = png(seed=21)
        photo = fx.message("我家猫", author=ALICE["user"], author_member=ALICE)
        photo["attachments"] = [fx.attachment(CDN)]
        fx.FakeDiscord.feed(bot.adapter.client, "MESSAGE_CREATE", photo)
        await bot.settle()
        command = fx.message(
            "!schedule add daily 09:30 早安", author=MOD["user"], author_member=MOD, reply_to=photo
        )
        fx.FakeDiscord.feed(bot.adapter.client, "MESSAGE_CREATE", command)
        await bot.settle()
        (added,) = channel_posts(bot.fake)
        assert added.content is not None and added.content.endswith("已附上图片。")
        assert bot.fake.find("GET", CDN)
        services = bot.app.services
        assert services is not None
        clock = services.clock
        assert isinstance(clock, VirtualClock)
        await services.scheduler.run_due(clock.now() + timedelta(minutes=31))
        await bot.settle()
        post = channel_posts(bot.fake)[-1]
    finally:
        await bot.app.stop()
    assert post.content == "早安"
    assert len(post.files) == 1 and post.files[0].endswith(".png")
    assert post.uploads == [png(seed=21)]


async def test_an_attachment_the_cdn_no_longer_has_is_a_clear_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await start_bot(tmp_path, monkeypatch)
    try:
        photo = fx.message("旧图", author=ALICE["user"], author_member=ALICE)
        photo["attachments"] = [fx.attachment(CDN)]  # not in the fake CDN: a 404
        fx.FakeDiscord.feed(bot.adapter.client, "MESSAGE_CREATE", photo)
        command = fx.message(
            "!schedule add daily 09:30 x", author=MOD["user"], author_member=MOD, reply_to=photo
        )
        fx.FakeDiscord.feed(bot.adapter.client, "MESSAGE_CREATE", command)
        await bot.settle()
        (answer,) = channel_posts(bot.fake)
    finally:
        await bot.app.stop()
    assert answer.content is not None
    assert answer.content.startswith("无法从平台获取这张图片；请重试，或用 image:文件名 指定图片。")
