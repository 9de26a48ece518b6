"""The real app (core, storage on SQLite, features) on the Discord adapter, faked only at transport.

These are the console scenarios replayed on Discord: a typed command and a slash command get
their replies, a button posted by a feature is pressed and handled, permissions come from
Discord roles, and ``/status`` explains a missing intent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.discord import DiscordAdapter, build
from bot.app import App, build_adapters, default_features
from bot.clock import VirtualClock
from bot.config import parse_settings
from bot.context import Context
from bot.errors import BotLacksPermission
from bot.events import MessageEvent
from bot.feature import Feature
from bot.i18n import I18n
from bot.messages import OutgoingMessage
from bot.router import Band, Router
from tests.fakes import discord_api as fx

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
ALICE = fx.member(fx.ALICE_ID, "alice")
MOD = fx.member(fx.MOD_ID, "mod", roles=[fx.MOD_ROLE_ID])
I18N = I18n.load()


class Bot:
    """A running App with one Discord adapter and its fake Discord."""

    def __init__(self, app: App, adapter: DiscordAdapter, fake: fx.FakeDiscord) -> None:
        self.app = app
        self.adapter = adapter
        self.fake = fake

    async def settle(self) -> None:
        """Let discord.py's listener tasks and the dispatcher finish."""
        for _ in range(3):
            for _ in range(10):
                await asyncio.sleep(0)
            pending = [
                t
                for t in asyncio.all_tasks()
                if t.get_name().startswith(("discord.py", "CommandTree", "event-"))
            ]
            if pending:
                await asyncio.wait(pending, timeout=5)
            assert self.app.dispatcher is not None
            await self.app.dispatcher.drain()

    async def say(self, who: dict[str, Any], text: str) -> dict[str, Any]:
        payload = fx.message(text, author=who["user"], author_member=who)
        fx.FakeDiscord.feed(self.adapter.client, "MESSAGE_CREATE", payload)
        await self.settle()
        return payload

    async def interact(self, payload: dict[str, Any]) -> None:
        fx.FakeDiscord.feed(self.adapter.client, "INTERACTION_CREATE", payload)
        await self.settle()


async def start_bot(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    message_content: bool = True,
    db_name: str = "bot.db",
    features: list[Feature] | None = None,
    adapter_config: dict[str, Any] | None = None,
) -> Bot:
    fake = fx.FakeDiscord(message_content=message_content)
    fake.install_webhooks(monkeypatch)
    settings = parse_settings(
        {
            "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / db_name}"},
            "adapters": {
                "dc": {"type": "discord", "token_env": "QY_DISCORD_TOKEN", **(adapter_config or {})}
            },
        }
    )
    # Built the way the app builds it from config: ADAPTER_TYPES → adapters.discord.build.
    (adapter,) = build_adapters(settings, {"QY_DISCORD_TOKEN": "test-token"})
    assert isinstance(adapter, DiscordAdapter)
    clock = VirtualClock(START)
    adapter.clock = clock
    adapter.client_setup = fake.install
    fake.install(adapter.client)
    app = App(
        settings,
        clock=clock,
        adapters=[adapter],
        flush_interval=3600,
        features=[*default_features(), *(features or [])],
    )
    await app.start()
    fx.FakeDiscord.add_guild(adapter.client)
    return Bot(app, adapter, fake)


@pytest.fixture
async def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    b = await start_bot(tmp_path, monkeypatch)
    yield b
    await b.app.stop()


def channel_posts(fake: fx.FakeDiscord) -> list[fx.Call]:
    return fake.find("POST", rf"/channels/{fx.CHANNEL_ID}/messages")


async def test_typed_ping_gets_a_reply_in_the_channel(bot: Bot) -> None:
    said = await bot.say(ALICE, "!ping")
    (reply,) = channel_posts(bot.fake)
    assert reply.content == I18N.t("zh-CN", "core.ping.reply")
    assert reply.json["message_reference"]["message_id"] == int(said["id"])


async def test_typed_help_lists_commands(bot: Bot) -> None:
    await bot.say(ALICE, "!help")
    (reply,) = channel_posts(bot.fake)
    assert (reply.content or "").startswith(I18N.t("zh-CN", "core.help.header"))
    assert "/ping" in (reply.content or "")


async def test_slash_help_is_answered_as_the_interaction_followup(bot: Bot) -> None:
    payload = fx.slash("help", ALICE, locale="en-US")
    await bot.interact(payload)
    (answer,) = bot.fake.find("POST", rf"/webhooks/{fx.APP_ID}/{payload['token']}")
    assert "/ping" in (answer.content or "")
    assert channel_posts(bot.fake) == []
    (ack,) = bot.fake.find("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
    assert ack.json["type"] == 5


async def test_button_from_a_feature_pressed_end_to_end(bot: Bot) -> None:
    await bot.say(ALICE, "!forgetme")
    (confirm,) = channel_posts(bot.fake)
    assert confirm.content == I18N.t("zh-CN", "core.forgetme.confirm")
    buttons = confirm.json["components"][0]["components"]
    no = next(b for b in buttons if ":no:" in b["custom_id"])
    assert no["custom_id"].startswith("qy:core:forget:no:")
    posted = fx.message(confirm.content or "", author=fx.user(fx.BOT_ID, "qunyou", bot=True))
    press = fx.button_press(no["custom_id"], ALICE, message_data=posted)
    await bot.interact(press)
    (ack,) = bot.fake.find("POST", rf"/interactions/{press['id']}/[^/]+/callback")
    assert ack.json["type"] == 6
    (edit,) = bot.fake.find("PATCH", rf"/channels/{fx.CHANNEL_ID}/messages/{posted['id']}")
    assert edit.content == I18N.t("zh-CN", "core.forgetme.cancelled")


async def test_moderator_commands_follow_discord_roles(bot: Bot) -> None:
    await bot.say(ALICE, "!status")
    (refusal,) = channel_posts(bot.fake)
    await bot.say(MOD, "!status")
    status = channel_posts(bot.fake)[1]
    assert refusal.content == I18N.t("zh-CN", "core.denied")
    assert "Discord" in (status.content or "") and "dc" in (status.content or "")


async def test_status_explains_a_missing_intent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b = await start_bot(tmp_path, monkeypatch, message_content=False)
    try:
        # Typed commands cannot be read without the intent, but a slash command still works.
        payload = fx.slash("help", MOD)
        await b.interact(payload)
        assert b.fake.find("POST", rf"/webhooks/{fx.APP_ID}/{payload['token']}")
        await b.say(MOD, "!status")
        (status,) = channel_posts(b.fake)
        assert "Message Content" in (status.content or "")
        assert "Developer Portal" in (status.content or "")
    finally:
        await b.app.stop()


async def test_buttons_survive_an_app_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = await start_bot(tmp_path, monkeypatch)
    await first.say(ALICE, "!forgetme")
    confirm = channel_posts(first.fake)[0]
    row = confirm.json["components"][0]["components"]
    no_id = next(b["custom_id"] for b in row if ":no:" in b["custom_id"])
    await first.app.stop()
    second = await start_bot(tmp_path, monkeypatch)
    try:
        posted = fx.message(confirm.content or "", author=fx.user(fx.BOT_ID, "qunyou", bot=True))
        await second.interact(fx.button_press(no_id, ALICE, message_data=posted))
        (edit,) = second.fake.find("PATCH", rf"/channels/{fx.CHANNEL_ID}/messages/{posted['id']}")
        assert edit.content == I18N.t("zh-CN", "core.forgetme.cancelled")
    finally:
        await second.app.stop()


async def test_missing_token_fails_at_start_with_the_key_path(tmp_path: Path) -> None:
    from bot.errors import ConfigError

    settings = parse_settings({"adapters": {"dc": {"type": "discord"}}})
    with pytest.raises(ConfigError, match=r"adapters\.dc\.token_env"):
        build_adapters(settings, {})
    with pytest.raises(ConfigError, match=r"adapters\.dc"):
        build_adapters(parse_settings({"adapters": {"dc": {"type": "discord", "prefix": "!"}}}), {"X": "y"})
    assert build  # the package's own builder is what ADAPTER_TYPES points at


# A stand-in for the moderation feature (not on main yet): a red hit is deleted and the member
# timed out; when Discord refuses (Missing Permissions), moderators get a manual-action alert.
# It exercises exactly the adapter paths the real feature will use, through the real dispatcher.
red_router = Router("redtest")
RED_WORD = "badword"


@red_router.message(band=Band.MODERATION)
async def red_hit(ctx: Context) -> None:
    event = ctx.event
    assert isinstance(event, MessageEvent)
    if RED_WORD not in event.text:
        return
    ctx.stop()
    try:
        await ctx.adapter.delete(ctx.chat, event.message_id)
        await ctx.adapter.mute(ctx.chat, ctx.user.user_id, ctx.now + timedelta(minutes=10))
    except BotLacksPermission:
        assert ctx.group is not None
        await ctx.services.alerts.notify(ctx.group, OutgoingMessage.of("manual action needed"))


RED_FEATURE = Feature(name="redtest", router=red_router)


async def test_red_hit_is_deleted_and_timed_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b = await start_bot(tmp_path, monkeypatch, features=[RED_FEATURE])
    try:
        said = await b.say(ALICE, f"you are a {RED_WORD}")
        assert b.fake.find("DELETE", rf"/channels/{fx.CHANNEL_ID}/messages/{said['id']}")
        (timeout,) = b.fake.find("PATCH", rf"/guilds/{fx.GUILD_ID}/members/{fx.ALICE_ID}")
        until = datetime.fromisoformat(timeout.json["communication_disabled_until"])
        assert until == START + timedelta(minutes=10)
        assert all(RED_WORD not in (c.content or "") for c in b.fake.sent())  # never echoed
    finally:
        await b.app.stop()


async def test_missing_permission_becomes_a_moderator_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = await start_bot(
        tmp_path, monkeypatch, features=[RED_FEATURE], adapter_config={"moderator_channel": "mods"}
    )
    b.fake.fail("DELETE", r"/channels/\d+/messages/\d+", fx.forbidden())
    try:
        await b.say(ALICE, f"{RED_WORD}!!")
        (alert,) = b.fake.find("POST", rf"/channels/{fx.MODS_CHANNEL_ID}/messages")
        assert alert.content == "manual action needed"
        assert not channel_posts(b.fake)
    finally:
        await b.app.stop()


async def test_direct_message_ping_is_answered_in_the_dm(bot: Bot) -> None:
    payload = fx.message("!ping", author=ALICE["user"], guild_id=None, channel_id=fx.DM_CHANNEL_ID)
    fx.FakeDiscord.feed(bot.adapter.client, "MESSAGE_CREATE", payload)
    await bot.settle()
    (reply,) = bot.fake.find("POST", rf"/channels/{fx.DM_CHANNEL_ID}/messages")
    assert reply.content == I18N.t("zh-CN", "core.ping.reply")


async def test_a_slash_command_the_bot_does_not_offer_is_answered(bot: Bot) -> None:
    # /ping exists as a typed command but not as a slash command (say, left over from an old sync).
    payload = fx.slash("ping", ALICE, locale="en-US")
    await bot.interact(payload)
    assert bot.fake.find("POST", rf"/webhooks/{fx.APP_ID}/{payload['token']}") == []
    (ack,) = bot.fake.find("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
    assert ack.json["type"] == 4  # answered with the outdated-command note, not left failing


async def test_a_chart_from_the_stats_feature_is_uploaded_as_a_file(bot: Bot) -> None:
    await bot.say(MOD, "!stats chart")
    (post,) = channel_posts(bot.fake)
    assert post.content == I18N.t("zh-CN", "stats.chart_caption")
    assert len(post.files) == 1 and post.files[0].endswith(".png")


BOB = fx.member(fx.BOB_ID, "bob")


async def test_console_moderation_demo_on_discord(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The moderation_demo scenario's red hit, replayed on Discord with the real moderation feature:
    the message is deleted, the member timed out for a day, the room told without the word, the
    moderators alerted in #mods with buttons, and the Undo button lifts the timeout."""
    b = await start_bot(tmp_path, monkeypatch, adapter_config={"moderator_channel": "mods"})
    try:
        add = fx.message(
            "!kw add red 代刷流水 gambling",
            author=MOD["user"],
            author_member=MOD,
            channel_id=fx.MODS_CHANNEL_ID,
        )
        fx.FakeDiscord.feed(b.adapter.client, "MESSAGE_CREATE", add)
        await b.settle()
        (added,) = b.fake.find("POST", rf"/channels/{fx.MODS_CHANNEL_ID}/messages")
        assert "1" in (added.content or "")

        hit = await b.say(BOB, "专业代 刷 流水，私聊")
        assert b.fake.find("DELETE", rf"/channels/{fx.CHANNEL_ID}/messages/{hit['id']}")
        (timeout,) = b.fake.find("PATCH", rf"/guilds/{fx.GUILD_ID}/members/{fx.BOB_ID}")
        assert datetime.fromisoformat(timeout.json["communication_disabled_until"]) == START + timedelta(
            days=1
        )
        (notice,) = channel_posts(b.fake)
        assert f"<@{fx.BOB_ID}>" in (notice.content or "")
        assert "流水" not in (notice.content or "")  # never echo a blocked word in public
        assert notice.json["allowed_mentions"]["parse"] == []  # nobody pinged beyond what it meant
        alert = b.fake.find("POST", rf"/channels/{fx.MODS_CHANNEL_ID}/messages")[1]
        assert alert.json["allowed_mentions"]["users"] == []  # named in the alert, not pinged by it
        buttons = {x["custom_id"] for row in alert.json["components"] for x in row["components"]}
        undo = next(c for c in buttons if c.startswith("qy:mod:undo:"))

        alert_message = alert.response  # the alert as Discord stored it, with its id
        await b.interact(
            fx.button_press(undo, MOD, message_data=alert_message, channel_id=fx.MODS_CHANNEL_ID)
        )
        lifted = b.fake.find("PATCH", rf"/guilds/{fx.GUILD_ID}/members/{fx.BOB_ID}")[1]
        assert lifted.json["communication_disabled_until"] is None
        assert b.fake.find("PATCH", rf"/channels/{fx.MODS_CHANNEL_ID}/messages/{alert_message['id']}")
    finally:
        await b.app.stop()


async def test_missing_permissions_on_a_red_hit_reach_the_moderators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = await start_bot(tmp_path, monkeypatch, adapter_config={"moderator_channel": "mods"})
    try:
        b.fake.fail("DELETE", r"/channels/\d+/messages/\d+", fx.forbidden())
        b.fake.fail("PATCH", r"/guilds/\d+/members/\d+", fx.forbidden())
        add = fx.message(
            "!kw add red 代刷流水 gambling",
            author=MOD["user"],
            author_member=MOD,
            channel_id=fx.MODS_CHANNEL_ID,
        )
        fx.FakeDiscord.feed(b.adapter.client, "MESSAGE_CREATE", add)
        await b.settle()
        await b.say(BOB, "专业代刷流水")
        alert = b.fake.find("POST", rf"/channels/{fx.MODS_CHANNEL_ID}/messages")[-1]
        # Forbidden (50013) became BotLacksPermission, which the feature turns into manual steps.
        no_rights = I18N.t("zh-CN", "moderation.why.no_rights")
        assert (alert.content or "").count(no_rights) == 2
        assert "流水" not in "".join(c.content or "" for c in channel_posts(b.fake))
    finally:
        await b.app.stop()


async def test_a_mute_longer_than_discord_allows_is_refused_not_shortened(bot: Bot) -> None:
    await bot.say(MOD, f"!mute <@{fx.BOB_ID}> 60d")
    assert not bot.fake.find("PATCH", rf"/guilds/{fx.GUILD_ID}/members/{fx.BOB_ID}")  # no 28-day cut
    (reply,) = channel_posts(bot.fake)
    assert I18N.t("zh-CN", "moderation.why.unsupported") in (reply.content or "")
    await bot.say(MOD, f"!mute <@{fx.BOB_ID}> 2d")
    (timeout,) = bot.fake.find("PATCH", rf"/guilds/{fx.GUILD_ID}/members/{fx.BOB_ID}")
    assert datetime.fromisoformat(timeout.json["communication_disabled_until"]) == START + timedelta(days=2)


async def test_report_message_menu_reaches_the_moderators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = await start_bot(tmp_path, monkeypatch, adapter_config={"moderator_channel": "mods"})
    try:
        said = await b.say(BOB, "低价出号，懂的来")
        payload = fx.message_menu("Report message", ALICE, said, locale="zh-CN")
        await b.interact(payload)
        (alert,) = b.fake.find("POST", rf"/channels/{fx.MODS_CHANNEL_ID}/messages")
        assert (alert.content or "").startswith(I18N.t("zh-CN", "moderation.alert.report", id=1))
        assert "低价出号" in (alert.content or "")  # the excerpt, for moderators only
        (ack,) = b.fake.find("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
        assert ack.json["data"]["flags"] & 64  # the reporter's answer is private
        (thanks,) = b.fake.find("POST", rf"/webhooks/{fx.APP_ID}/{payload['token']}")
        assert thanks.content == I18N.t("zh-CN", "moderation.report.thanks")
        assert channel_posts(b.fake) == []  # nothing in the room tells who reported
    finally:
        await b.app.stop()


async def test_slash_report_without_a_message_explains_how(bot: Bot) -> None:
    payload = fx.slash("report", ALICE, args="spam", locale="zh-CN")
    await bot.interact(payload)
    (answer,) = bot.fake.find("POST", rf"/webhooks/{fx.APP_ID}/{payload['token']}")
    assert (answer.content or "").startswith(I18N.t("zh-CN", "moderation.report.needs_reply"))


async def test_an_activity_button_pressed_and_join_by_slash(bot: Bot) -> None:
    """week_of_a_group on Discord: an activity is posted with Join/Cancel buttons, a press signs
    one member up, and another joins with the /join slash command."""
    await bot.say(MOD, "!event add Board games | sat 15:00 | 3h | Bring your favourite game | 2")
    (announcement,) = channel_posts(bot.fake)
    row = announcement.json["components"][0]["components"]
    join = next(b["custom_id"] for b in row if b["custom_id"].startswith("qy:ev:join:"))
    await bot.interact(fx.button_press(join, ALICE, message_data=announcement.response))
    joined = channel_posts(bot.fake)[1]
    assert joined.content == I18N.t(
        "zh-CN", "events.joined", user=f"<@{fx.ALICE_ID}>", id=1, title="Board games"
    )
    payload = fx.slash("join", BOB, options=[{"name": "activity_id", "type": 4, "value": 1}], locale="zh-CN")
    await bot.interact(payload)
    (answer,) = bot.fake.find("POST", rf"/webhooks/{fx.APP_ID}/{payload['token']}")
    assert answer.content == I18N.t(
        "zh-CN", "events.joined", user=f"<@{fx.BOB_ID}>", id=1, title="Board games"
    )


async def test_a_newcomer_is_welcomed_in_the_system_channel(bot: Bot) -> None:
    newcomer = fx.member(fx.CAROL_ID, "carol")
    fx.FakeDiscord.feed(bot.adapter.client, "GUILD_MEMBER_ADD", dict(newcomer, guild_id=str(fx.GUILD_ID)))
    await bot.settle()
    (welcome,) = channel_posts(bot.fake)
    assert welcome.content == I18N.t(
        "zh-CN", "welcome.default_template", group="Test Server", name=f"<@{fx.CAROL_ID}>"
    )


async def test_checkin_by_prefix_by_plain_word_and_by_slash_command(bot: Bot) -> None:
    """The console example on Discord: check in by typed command, again by the plain word (already
    done today), and another member by the /checkin slash command."""
    said = await bot.say(ALICE, "!checkin")
    (first,) = channel_posts(bot.fake)
    assert (first.content or "").startswith(I18N.t("zh-CN", "checkin.done", rank=1, streak=1))
    assert first.json["message_reference"]["message_id"] == int(said["id"])
    await bot.say(ALICE, "签到")
    again = channel_posts(bot.fake)[1]
    assert (again.content or "").startswith(I18N.t("zh-CN", "checkin.already", streak=1).split("\n")[0])
    payload = fx.slash("checkin", BOB, locale="zh-CN")
    await bot.interact(payload)
    (answer,) = bot.fake.find("POST", rf"/webhooks/{fx.APP_ID}/{payload['token']}")
    assert (answer.content or "").startswith(I18N.t("zh-CN", "checkin.done", rank=2, streak=1))
    assert len(channel_posts(bot.fake)) == 2  # the slash answer went back through the interaction


@pytest.mark.parametrize("name", ["me", "points", "rank", "badges", "topic", "events", "help"])
async def test_every_member_slash_command_gets_a_real_answer(bot: Bot, name: str) -> None:
    await bot.say(ALICE, "!checkin")  # so there is something to show
    before = len(channel_posts(bot.fake))
    payload = fx.slash(name, ALICE, locale="zh-CN")
    await bot.interact(payload)
    # Usually the interaction's followup; a feature that posts to the room instead (today's topic
    # is a real channel message, so replies to it count) leaves no "thinking…" behind.
    answers = bot.fake.find("POST", rf"/webhooks/{fx.APP_ID}/{payload['token']}")
    answers += channel_posts(bot.fake)[before:]
    assert answers, f"/{name} got no answer"
    if not bot.fake.find("POST", rf"/webhooks/{fx.APP_ID}/{payload['token']}"):
        assert bot.fake.find("DELETE", rf"/webhooks/{fx.APP_ID}/{payload['token']}/messages/@original")
    failures = {I18N.t("zh-CN", k) for k in ("core.error.internal", "core.error.platform")}
    failures.add(I18N.t("zh-CN", "core.unknown_command", name=name))
    assert all(a.content not in failures for a in answers), answers[0].content


async def test_a_level_up_from_points_grants_the_configured_level_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check-ins and grants feed levels; reaching level 1 (50 earned points) applies the role."""
    bot = await start_bot(tmp_path, monkeypatch, adapter_config={"level_roles": {"1": fx.LEVEL_ROLE_ID}})
    try:
        await bot.say(ALICE, "!checkin")
        assert not bot.fake.find("PUT", r".*/roles/\d+")  # 15 points: still level 0
        await bot.say(MOD, f"!points give <@{fx.ALICE_ID}> 100")
        (grant,) = bot.fake.find("PUT", r".*/roles/\d+")
        assert grant.path == f"/guilds/{fx.GUILD_ID}/members/{fx.ALICE_ID}/roles/{fx.LEVEL_ROLE_ID}"
    finally:
        await bot.app.stop()
