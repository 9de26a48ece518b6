"""A circle bound to a Discord role: joining grants it, leaving takes it back, a refused grant
is told to the member (the membership stays), all on the real app with Discord faked at its
transport (``tests/fakes/discord_api.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.i18n import I18n
from tests.adapters.test_discord_app import ALICE, MOD, channel_posts, start_bot
from tests.fakes import discord_api as fx

I18N = I18n.load()
ROLE = fx.LEVEL_ROLE_ID
ROLE_PATH = rf"/guilds/{fx.GUILD_ID}/members/{fx.ALICE_ID}/roles/{ROLE}"


async def test_joining_a_bound_circle_grants_the_role_and_leaving_takes_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await start_bot(tmp_path, monkeypatch)
    try:
        await bot.say(MOD, "!circle add games")
        await bot.say(MOD, f"!circle role games <@&{ROLE}>")
        assert channel_posts(bot.fake)[-1].content == I18N.t(
            "zh-CN", "circles.role_bound", name="games", role=ROLE
        )
        await bot.say(ALICE, "!circle join games")
        (grant,) = bot.fake.find("PUT", ROLE_PATH)
        assert grant.reason == "Qunyou: joined a circle"
        assert channel_posts(bot.fake)[-1].content == I18N.t("zh-CN", "circles.joined", name="games")
        await bot.say(ALICE, "!circle leave games")
        (revoke,) = bot.fake.find("DELETE", ROLE_PATH)
        assert revoke.reason == "Qunyou: left a circle"
        # Unbound: joining again grants nothing more.
        await bot.say(MOD, "!circle role games off")
        await bot.say(ALICE, "!circle join games")
        assert len(bot.fake.find("PUT", ROLE_PATH)) == 1
    finally:
        await bot.app.stop()


async def test_the_circles_button_grants_the_role_and_a_refusal_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await start_bot(tmp_path, monkeypatch)
    try:
        await bot.say(MOD, "!circle add games")
        await bot.say(MOD, f"!circle role games {ROLE}")
        await bot.say(ALICE, "!circles")
        card = channel_posts(bot.fake)[-1]
        (button,) = card.json["components"][0]["components"]
        assert button["custom_id"] == "qy:cc:t:1" and button["label"] == "games"
        bot.fake.fail("PUT", ROLE_PATH, fx.forbidden())
        await bot.interact(fx.button_press(button["custom_id"], ALICE, message_data=card.response))
        answers = [c.content for c in bot.fake.sent()]
        expected = (
            I18N.t("zh-CN", "circles.joined", name="games") + "\n" + I18N.t("zh-CN", "circles.role_failed")
        )
        assert expected in answers, answers
        # The membership stands; pressing again leaves (and takes the role back, harmlessly).
        await bot.interact(fx.button_press(button["custom_id"], ALICE, message_data=card.response))
        assert I18N.t("zh-CN", "circles.left", name="games") in [c.content for c in bot.fake.sent()]
        assert len(bot.fake.find("DELETE", ROLE_PATH)) == 1
    finally:
        await bot.app.stop()


async def test_circle_by_slash_command_grants_the_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await start_bot(tmp_path, monkeypatch)
    try:
        await bot.say(MOD, "!circle add games")
        await bot.say(MOD, f"!circle role games <@&{ROLE}>")
        payload = fx.slash(
            "circle", ALICE, options=[{"name": "args", "type": 3, "value": "join games"}], locale="zh-CN"
        )
        await bot.interact(payload)
        (answer,) = bot.fake.find("POST", rf"/webhooks/{fx.APP_ID}/{payload['token']}")
        assert answer.content == I18N.t("zh-CN", "circles.joined", name="games")
        assert len(bot.fake.find("PUT", ROLE_PATH)) == 1
    finally:
        await bot.app.stop()
