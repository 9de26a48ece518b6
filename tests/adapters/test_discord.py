"""The Discord adapter with the real discord.py, faked only at REST, webhook and gateway boundaries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest

from adapters.discord import DiscordAdapter, DiscordConfig, build
from adapters.discord.adapter import TimeoutTooLong
from bot.adapter import Capability
from bot.clock import VirtualClock
from bot.errors import BotLacksPermission, CapabilityNotSupported, ConfigError, QunyouError, TargetNotFound
from bot.events import ButtonPressed, ChatRef, MemberJoined, MemberLeft, MessageEvent, PlatformEvent, UserRef
from bot.messages import Bold, Button, Mention, OutgoingMessage, Text
from bot.outbound import Limit, OutboundQueue
from bot.roles import Role
from tests.adapters import contract
from tests.fakes import discord_api as fx
from tests.fakes.host import RecordingHost, catalogs, core_commands

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CHAT = ChatRef("discord", "dc", str(fx.GUILD_ID), str(fx.CHANNEL_ID), kind="group", title="Test Server")
ALICE = fx.member(fx.ALICE_ID, "alice")
BOB = fx.member(fx.BOB_ID, "bob")


I18N = catalogs()


class Sink(RecordingHost):
    """The adapter's host as the dispatcher would be: keeps events, runs an optional handler per
    event, translates with the shipped catalogs and offers the real command table."""

    def __init__(self) -> None:
        super().__init__(core_commands())

    async def wait(self, count: int = 1) -> list[PlatformEvent]:
        return await self.wait_for(count, within=2)


class Rig:
    """An adapter, its fake Discord, the sink and the clock."""

    def __init__(
        self, adapter: DiscordAdapter, fake: fx.FakeDiscord, sink: Sink, clock: VirtualClock
    ) -> None:
        self.adapter = adapter
        self.fake = fake
        self.sink = sink
        self.clock = clock

    def feed(self, event: str, payload: dict[str, Any]) -> None:
        fx.FakeDiscord.feed(self.adapter.client, event, payload)

    async def settle(self) -> None:
        """Let listener tasks (discord.py schedules one per event) run to completion."""
        for _ in range(20):
            await asyncio.sleep(0)
        pending = [t for t in asyncio.all_tasks() if t.get_name().startswith(("discord.py", "CommandTree"))]
        if pending:
            await asyncio.wait(pending, timeout=2)
        for _ in range(5):
            await asyncio.sleep(0)


ticks = [0.0]


async def clock_sleep(seconds: float) -> None:
    """The outbound queue's waits move a virtual monotonic clock instead of sleeping."""
    ticks[0] += seconds
    await asyncio.sleep(0)


async def make_rig(
    monkeypatch: pytest.MonkeyPatch, *, message_content: bool = True, members: bool = True, **config: Any
) -> Rig:
    fake = fx.FakeDiscord(message_content=message_content, members=members)
    fake.install_webhooks(monkeypatch)
    clock = VirtualClock(START)
    adapter = build("dc", {"type": "discord", **config}, {"DISCORD_BOT_TOKEN": "test-token"})
    adapter.clock = clock
    adapter.queue = OutboundQueue(
        per_chat=Limit(5, 5.0), overall=Limit(50, 1.0), sleep=clock_sleep, monotonic=lambda: ticks[0]
    )
    adapter.client_setup = fake.install
    fake.install(adapter.client)
    sink = Sink()
    await adapter.start(sink)
    fx.FakeDiscord.add_guild(adapter.client)
    return Rig(adapter, fake, sink, clock)


@pytest.fixture
async def rig(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    r = await make_rig(monkeypatch)
    yield r
    await r.adapter.stop()


# ---------------------------------------------------------------- canary and config


def test_private_discord_names_still_exist() -> None:
    """Canary: fails with one clear message when discord.py moves what the fakes rely on."""
    fx.check_private_names()


def test_the_canary_names_what_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    import discord.state

    monkeypatch.delattr(discord.state.ConnectionState, "_add_guild_from_data")
    with pytest.raises(AssertionError, match=r"_add_guild_from_data.*Update that module"):
        fx.check_private_names()


def test_missing_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="DISCORD_BOT_TOKEN"):
        build("dc", {"type": "discord"}, {})
    with pytest.raises(ConfigError, match="MY_TOKEN"):
        build("dc", {"type": "discord", "token_env": "MY_TOKEN"}, {"MY_TOKEN": "   "})


def test_config_validates_keys() -> None:
    cfg = DiscordConfig.model_validate({"type": "discord", "level_roles": {"5": 700000000000000005}})
    assert cfg.level_roles == {5: "700000000000000005"}
    with pytest.raises(ValueError, match="role id"):
        DiscordConfig.model_validate({"type": "discord", "level_roles": {"5": "moderators"}})
    with pytest.raises(ValueError):
        DiscordConfig.model_validate({"type": "discord", "tokn_env": "X"})
    with pytest.raises(ValueError):
        DiscordConfig.model_validate({"type": "discord", "command_prefix": ""})


# ---------------------------------------------------------------- contract


async def test_contract_undeclared_actions_raise(rig: Rig) -> None:
    # Discord declares every action; the check must still run and find none to refuse.
    checked = await contract.check_undeclared_raise(rig.adapter, CHAT, str(fx.ALICE_ID), "600000000000000999")
    assert checked == len(
        [
            c
            for c in Capability
            if c.value
            in {
                "send",
                "edit",
                "delete",
                "mute",
                "unmute",
                "ban",
                "unban",
                "kick",
                "get_role",
                "send_private",
            }
            and c not in rig.adapter.capabilities
        ]
    )


async def test_contract_declared_actions_reach_discord(rig: Rig) -> None:
    # Discord times out for at most 28 days; the contract mutes until its own fixed instant.
    rig.clock.set(contract.UNTIL - timedelta(days=1))
    seen = len(rig.fake.calls)

    def called() -> bool:
        nonlocal seen
        made = len(rig.fake.calls) > seen
        seen = len(rig.fake.calls)
        return made

    # Carol is not in the gateway's member cache, so even the role lookup must ask Discord.
    checked = await contract.check_declared_reach_platform(
        rig.adapter, CHAT, str(fx.CAROL_ID), "600000000000000999", called
    )
    assert checked == 10


async def test_contract_inbound_text(rig: Rig) -> None:
    rig.feed("MESSAGE_CREATE", fx.message("hello there", author=ALICE["user"], author_member=ALICE))
    events = await rig.sink.wait(1)
    contract.check_inbound_text(events[0], chat=CHAT, user_id=str(fx.ALICE_ID), text="hello there")
    event = events[0]
    assert isinstance(event, MessageEvent)
    assert event.at == START
    assert event.chat.kind == "group" and event.chat.title == "Test Server"
    assert event.sender.username == "alice"


# ---------------------------------------------------------------- inbound


async def test_mentions_become_usernames_and_mention_refs(rig: Rig) -> None:
    me = fx.user(fx.BOT_ID, "qunyou", bot=True)
    text = f"!warn <@{fx.BOB_ID}> spam, cc <@!{fx.BOT_ID}>"
    rig.feed(
        "MESSAGE_CREATE",
        fx.message(text, author=ALICE["user"], author_member=ALICE, mentions=[BOB["user"], me]),
    )
    (event,) = await rig.sink.wait(1)
    assert isinstance(event, MessageEvent)
    assert event.text == "!warn @bob spam, cc @qunyou"
    assert [m.user_id for m in event.mentions] == [str(fx.BOB_ID), str(fx.BOT_ID)]
    assert event.mentions_bot is True
    assert [s.kind for s in event.segments] == ["text", "mention", "text", "mention"]


async def test_reply_carries_the_replied_message_and_author(rig: Rig) -> None:
    original = fx.message("first", author=BOB["user"])
    rig.feed(
        "MESSAGE_CREATE", fx.message("answer", author=ALICE["user"], author_member=ALICE, reply_to=original)
    )
    (event,) = await rig.sink.wait(1)
    assert isinstance(event, MessageEvent)
    assert event.reply_to == original["id"]
    assert event.reply_to_user is not None and event.reply_to_user.user_id == str(fx.BOB_ID)


async def test_own_messages_and_system_messages_are_ignored(rig: Rig) -> None:
    me = fx.user(fx.BOT_ID, "qunyou", bot=True)
    rig.feed("MESSAGE_CREATE", fx.message("my own words", author=me))
    pin = fx.message("", author=ALICE["user"], author_member=ALICE)
    pin["type"] = 6  # "pinned a message"
    rig.feed("MESSAGE_CREATE", pin)
    rig.feed("MESSAGE_CREATE", fx.message("real", author=ALICE["user"], author_member=ALICE))
    events = await rig.sink.wait(1)
    await rig.settle()
    assert [e.text for e in events if isinstance(e, MessageEvent)] == ["real"]


async def test_edit_is_an_edited_message_event_and_unfurls_are_not(rig: Rig) -> None:
    original = fx.message("hello", author=ALICE["user"], author_member=ALICE)
    rig.feed("MESSAGE_CREATE", original)
    await rig.sink.wait(1)
    unfurl = dict(original, embeds=[{"type": "link", "url": "https://example.com"}])
    rig.feed("MESSAGE_UPDATE", unfurl)  # no edited_timestamp: not an edit
    edited = dict(original, content="hello again", edited_timestamp="2026-03-02T01:05:00+00:00")
    rig.feed("MESSAGE_UPDATE", edited)
    events = await rig.sink.wait(2)
    await rig.settle()
    assert len(events) == 2
    second = events[1]
    assert isinstance(second, MessageEvent) and second.edited and second.text == "hello again"
    assert second.message_id == original["id"] and second.event_id != events[0].event_id


async def test_join_and_leave(rig: Rig) -> None:
    newcomer = fx.member(fx.CAROL_ID, "carol")
    rig.feed("GUILD_MEMBER_ADD", dict(newcomer, guild_id=str(fx.GUILD_ID)))
    rig.feed("GUILD_MEMBER_REMOVE", {"guild_id": str(fx.GUILD_ID), "user": fx.user(fx.BOB_ID, "bob")})
    joined, left = await rig.sink.wait(2)
    assert isinstance(joined, MemberJoined) and joined.member.user_id == str(fx.CAROL_ID)
    assert joined.chat.scope_id == str(fx.GUILD_ID)
    assert joined.chat.channel_id == str(fx.CHANNEL_ID)  # the server's system channel
    assert isinstance(left, MemberLeft) and left.member.user_id == str(fx.BOB_ID)


async def test_direct_message_is_a_private_chat(rig: Rig) -> None:
    rig.feed(
        "MESSAGE_CREATE",
        fx.message("hi bot", author=ALICE["user"], guild_id=None, channel_id=fx.DM_CHANNEL_ID),
    )
    (event,) = await rig.sink.wait(1)
    assert isinstance(event, MessageEvent)
    assert event.chat.kind == "private"
    assert event.chat.scope_id == str(fx.ALICE_ID) and event.chat.channel_id == str(fx.DM_CHANNEL_ID)


# ---------------------------------------------------------------- outbound


async def test_reply_pings_only_the_members_to_notify_and_escapes_their_text(rig: Rig) -> None:
    bob = UserRef("discord", str(fx.BOB_ID), "bob")
    message = OutgoingMessage.of(
        Mention(bob),
        " said: ",
        Text("**@everyone** _x_"),
        " ",
        Bold("done"),
        reply_to="600000000000000123",
        notify=(bob,),
    )
    sent = await rig.adapter.send(CHAT, message)
    (call,) = rig.fake.sent()
    assert call.path == f"/channels/{fx.CHANNEL_ID}/messages"
    assert call.content == f"<@{fx.BOB_ID}> said: \\*\\*@\u200beveryone\\*\\* \\_x\\_ **done**"
    assert call.json["allowed_mentions"] == {"parse": [], "users": [fx.BOB_ID], "replied_user": True}
    assert call.json["message_reference"]["message_id"] == 600000000000000123
    assert call.json["message_reference"]["fail_if_not_exists"] is False
    assert sent.message_id.isdigit() and sent.chat == CHAT


async def test_long_text_is_split_under_2000_without_breaking_escapes(rig: Rig) -> None:
    line = "a_b*c " * 50  # escaping grows every line
    text = "\n".join([line] * 20)
    await rig.adapter.send(CHAT, OutgoingMessage.of(text, buttons=((Button("OK", "poll:1"),),)))
    calls = rig.fake.sent()
    assert len(calls) > 1
    assert all(len(c.content or "") <= 2000 for c in calls)
    assert all(not (c.content or "").endswith("\\") for c in calls)
    joined = "\n".join(c.content or "" for c in calls)
    assert joined.replace("\\", "") == text
    # buttons ride on the last part only
    assert [bool(c.json.get("components")) for c in calls] == [False] * (len(calls) - 1) + [True]


async def test_buttons_carry_persistent_custom_ids(rig: Rig) -> None:
    buttons = ((Button("Yes", "event:join:7"), Button("No", "event:no:7")),)
    message = OutgoingMessage.of("Join?", buttons=buttons)
    await rig.adapter.send(CHAT, message)
    (call,) = rig.fake.sent()
    row = call.json["components"][0]["components"]
    got = [(b["label"], b["custom_id"]) for b in row]
    assert got == [("Yes", "qy:event:join:7"), ("No", "qy:event:no:7")]
    # not kept in discord.py's view store: presses are handled by custom id, even after a restart
    assert not rig.adapter.client.persistent_views


async def test_image_is_uploaded_as_a_file(rig: Rig, tmp_path: Any) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 32)
    await rig.adapter.send(CHAT, OutgoingMessage.of("weekly chart", image=str(chart)))
    (call,) = rig.fake.sent()
    assert call.files == ["chart.png"] and call.content == "weekly chart"


async def test_edit_delete_and_member_actions_hit_the_right_endpoints(rig: Rig) -> None:
    until = START + timedelta(hours=2)
    await rig.adapter.edit(CHAT, "600000000000000555", OutgoingMessage.of("closed"))
    await rig.adapter.delete(CHAT, "600000000000000556")
    await rig.adapter.mute(CHAT, str(fx.ALICE_ID), until)
    await rig.adapter.unmute(CHAT, str(fx.ALICE_ID))
    await rig.adapter.ban(CHAT, str(fx.BOB_ID), None)
    await rig.adapter.unban(CHAT, str(fx.BOB_ID))
    await rig.adapter.kick(CHAT, str(fx.BOB_ID))
    got = [(c.method, c.path) for c in rig.fake.calls if not c.path.startswith(("/users/@me", "/oauth2"))]
    g, ch = fx.GUILD_ID, fx.CHANNEL_ID
    assert got == [
        ("PATCH", f"/channels/{ch}/messages/600000000000000555"),
        ("DELETE", f"/channels/{ch}/messages/600000000000000556"),
        ("PATCH", f"/guilds/{g}/members/{fx.ALICE_ID}"),
        ("PATCH", f"/guilds/{g}/members/{fx.ALICE_ID}"),
        ("PUT", f"/guilds/{g}/bans/{fx.BOB_ID}"),
        ("DELETE", f"/guilds/{g}/bans/{fx.BOB_ID}"),
        ("DELETE", f"/guilds/{g}/members/{fx.BOB_ID}"),
    ]
    mute, unmute = rig.fake.find("PATCH", rf"/guilds/{g}/members/{fx.ALICE_ID}")
    assert datetime.fromisoformat(mute.json["communication_disabled_until"]) == until
    assert unmute.json["communication_disabled_until"] is None
    edit = rig.fake.find("PATCH", rf"/channels/{ch}/messages/\d+")[0]
    assert edit.json["content"] == "closed" and edit.json["components"] == []


async def test_timeouts_longer_than_28_days_are_refused_with_a_reason(rig: Rig) -> None:
    before = len(rig.fake.calls)
    with pytest.raises(TimeoutTooLong, match="28"):
        await rig.adapter.mute(CHAT, str(fx.ALICE_ID), START + timedelta(days=29))
    with pytest.raises(CapabilityNotSupported):
        await rig.adapter.mute(CHAT, str(fx.ALICE_ID), None)
    assert len(rig.fake.calls) == before  # nothing half-done on Discord
    await rig.adapter.mute(CHAT, str(fx.ALICE_ID), START + timedelta(days=28))
    assert len(rig.fake.calls) == before + 1


async def test_forbidden_50013_becomes_bot_lacks_permission(rig: Rig) -> None:
    rig.fake.fail("DELETE", r"/channels/\d+/messages/\d+", fx.forbidden())
    rig.fake.fail("PUT", r"/guilds/\d+/bans/\d+", fx.forbidden())
    with pytest.raises(BotLacksPermission, match="50013"):
        await rig.adapter.delete(CHAT, "600000000000000556")
    with pytest.raises(BotLacksPermission):
        await rig.adapter.ban(CHAT, str(fx.ALICE_ID), None)


async def test_not_found_becomes_target_not_found(rig: Rig) -> None:
    rig.fake.fail("DELETE", r"/channels/\d+/messages/\d+", fx.not_found())
    with pytest.raises(TargetNotFound):
        await rig.adapter.delete(CHAT, "600000000000000556")
    with pytest.raises(TargetNotFound):  # not in the cache and unknown to Discord
        await rig.adapter.get_role(CHAT, "200000000000000999")
    with pytest.raises(TargetNotFound):  # a garbled id never reaches Discord
        await rig.adapter.kick(CHAT, "alice")


async def test_roles_follow_discord_permissions(rig: Rig) -> None:
    assert await rig.adapter.get_role(CHAT, str(fx.OWNER_ID)) is Role.OWNER
    assert await rig.adapter.get_role(CHAT, str(fx.BOT_ID)) is Role.ADMIN  # Manage Server
    assert await rig.adapter.get_role(CHAT, str(fx.MOD_ID)) is Role.MODERATOR
    assert await rig.adapter.get_role(CHAT, str(fx.ALICE_ID)) is Role.MEMBER
    dm = ChatRef("discord", "dc", str(fx.ALICE_ID), str(fx.DM_CHANNEL_ID), kind="private")
    assert await rig.adapter.get_role(dm, str(fx.ALICE_ID)) is Role.MEMBER


async def test_private_message_opens_a_dm(rig: Rig) -> None:
    sent = await rig.adapter.send_private(str(fx.CAROL_ID), OutgoingMessage.of("psst"))
    assert rig.fake.find("POST", r"/users/@me/channels")[0].json == {"recipient_id": fx.CAROL_ID}
    (call,) = rig.fake.sent()
    assert call.path == f"/channels/{fx.DM_CHANNEL_ID}/messages"
    assert sent.chat.kind == "private" and sent.chat.scope_id == str(fx.CAROL_ID)


async def test_moderator_channel_by_name_or_id_within_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("mods", "#mods", str(fx.MODS_CHANNEL_ID)):
        r = await make_rig(monkeypatch, moderator_channel=value)
        try:
            mods = r.adapter.default_moderator_chat(CHAT)
            assert mods is not None and mods.channel_id == str(fx.MODS_CHANNEL_ID)
            other = ChatRef("discord", "dc", "300000000000000099", "1", kind="group")
            assert r.adapter.default_moderator_chat(other) is None
        finally:
            await r.adapter.stop()


async def test_level_roles_give_the_highest_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    r = await make_rig(monkeypatch, level_roles={"5": fx.LEVEL_ROLE_ID, "10": "700000000000000010"})
    try:
        await r.adapter.level_reached(CHAT, str(fx.ALICE_ID), 3)
        assert not r.fake.find("PUT", r".*/roles/\d+")
        await r.adapter.level_reached(CHAT, str(fx.ALICE_ID), 6)
        (grant,) = r.fake.find("PUT", r".*/roles/\d+")
        assert grant.path == f"/guilds/{fx.GUILD_ID}/members/{fx.ALICE_ID}/roles/{fx.LEVEL_ROLE_ID}"
    finally:
        await r.adapter.stop()


# ---------------------------------------------------------------- slash commands and buttons


async def test_slash_command_runs_as_typed_text_and_answers_as_followup(rig: Rig) -> None:
    async def handler(event: PlatformEvent) -> None:
        assert isinstance(event, MessageEvent)
        await rig.adapter.send(
            event.chat, OutgoingMessage.of(f"checked in: {event.text}", reply_to=event.message_id)
        )

    rig.sink.handler = handler
    payload = fx.slash("checkin", ALICE, args="today", locale="zh-CN")
    rig.feed("INTERACTION_CREATE", payload)
    (event,) = await rig.sink.wait(1)
    await rig.settle()
    assert isinstance(event, MessageEvent)
    assert event.text == "/checkin today"
    assert event.language == "zh-CN"
    assert event.chat.scope_id == str(fx.GUILD_ID) and event.chat.channel_id == str(fx.CHANNEL_ID)
    assert event.sender.user_id == str(fx.ALICE_ID)
    # acknowledged at once (deferred, "thinking"), then answered through the interaction webhook
    (ack,) = rig.fake.find("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
    assert ack.json["type"] == 5
    (answer,) = rig.fake.find("POST", rf"/webhooks/{fx.APP_ID}/{payload['token']}")
    assert answer.content == "checked in: /checkin today"
    assert not rig.fake.find("POST", r"/channels/\d+/messages")
    assert not rig.fake.find("DELETE", r"/webhooks/.*")  # the answer stays


async def test_slash_command_without_an_answer_clears_the_thinking_message(rig: Rig) -> None:
    payload = fx.slash("rank", ALICE)
    rig.feed("INTERACTION_CREATE", payload)
    (event,) = await rig.sink.wait(1)
    await rig.settle()
    assert isinstance(event, MessageEvent) and event.text == "/rank"
    assert rig.fake.find("DELETE", rf"/webhooks/{fx.APP_ID}/{payload['token']}/messages/@original")


async def test_slash_command_in_a_dm(rig: Rig) -> None:
    rig.feed("INTERACTION_CREATE", fx.slash("help", ALICE, guild_id=None, channel_id=fx.DM_CHANNEL_ID))
    (event,) = await rig.sink.wait(1)
    await rig.settle()
    assert isinstance(event, MessageEvent) and event.chat.kind == "private" and event.text == "/help"


async def test_button_press_is_acknowledged_and_becomes_button_pressed(rig: Rig) -> None:
    posted = fx.message("Join the event?", author=fx.user(fx.BOT_ID, "qunyou", bot=True))
    payload = fx.button_press("qy:event:join:7", BOB, message_data=posted)
    rig.feed("INTERACTION_CREATE", payload)
    (event,) = await rig.sink.wait(1)
    await rig.settle()
    assert isinstance(event, ButtonPressed)
    assert event.data == "event:join:7" and event.message_id == posted["id"]
    assert event.user.user_id == str(fx.BOB_ID) and event.chat.scope_id == str(fx.GUILD_ID)
    (ack,) = rig.fake.find("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
    assert ack.json["type"] == 6  # deferred update: no "interaction failed", no extra message


async def test_foreign_buttons_are_left_alone(rig: Rig) -> None:
    posted = fx.message("someone else's", author=fx.user(fx.OWNER_ID, "owner"))
    rig.feed("INTERACTION_CREATE", fx.button_press("other-bot:1", BOB, message_data=posted))
    await rig.settle()
    assert rig.sink.events == []
    assert not rig.fake.find("POST", r"/interactions/.*")


async def test_buttons_posted_before_a_restart_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    first = await make_rig(monkeypatch)
    await first.adapter.send(CHAT, OutgoingMessage.of("Vote", buttons=((Button("A", "poll:3:a"),),)))
    custom_id = first.fake.sent()[0].json["components"][0]["components"][0]["custom_id"]
    await first.adapter.stop()
    second = await make_rig(monkeypatch)  # a new process: nothing remembered
    try:
        posted = fx.message("Vote", author=fx.user(fx.BOT_ID, "qunyou", bot=True))
        second.feed("INTERACTION_CREATE", fx.button_press(custom_id, ALICE, message_data=posted))
        (event,) = await second.sink.wait(1)
        assert isinstance(event, ButtonPressed) and event.data == "poll:3:a"
    finally:
        await second.adapter.stop()


# ---------------------------------------------------------------- command tree


async def test_moderator_syncs_localized_slash_commands(rig: Rig) -> None:
    mod = fx.member(fx.MOD_ID, "mod", roles=[fx.MOD_ROLE_ID])
    rig.feed("MESSAGE_CREATE", fx.message("!synccommands", author=mod["user"], author_member=mod))
    await rig.settle()
    assert rig.sink.events == []  # handled by the adapter, not a core command
    (put,) = rig.fake.find("PUT", rf"/applications/{fx.APP_ID}/guilds/{fx.GUILD_ID}/commands")
    by_name = {c["name"]: c for c in put.json if c.get("type", 1) == 1}
    # Generated from the core's command table: every member command with a help text.
    assert {"checkin", "me", "points", "rank", "badges", "topic", "events", "join", "report", "help"} <= set(
        by_name
    )
    assert "ping" not in by_name and "ban" not in by_name  # no help text / a moderator command
    checkin = by_name["checkin"]
    assert checkin["name_localizations"]["zh-CN"] == "签到"
    assert checkin["description_localizations"]["zh-CN"] == I18N.t("zh-CN", "checkin.help.checkin")
    assert checkin["description"] == I18N.t("en", "checkin.help.checkin")
    assert checkin["name_localizations"]["en-US"] == "checkin"
    option = checkin["options"][0]
    assert option["name"] == "args" and option["name_localizations"]["zh-CN"] == "参数"
    assert option["required"] is False
    (reply,) = rig.fake.sent()
    assert str(len(by_name) + 1) in (reply.content or "")  # the slash commands and the report menu


async def test_member_cannot_sync_commands(rig: Rig) -> None:
    rig.feed("MESSAGE_CREATE", fx.message("!synccommands", author=ALICE["user"], author_member=ALICE))
    await rig.settle()
    assert not rig.fake.find("PUT", r"/applications/.*")
    (reply,) = rig.fake.sent()
    assert reply.content == "只有版主可以同步斜杠命令。"


async def test_sync_refused_by_discord_is_explained(rig: Rig) -> None:
    rig.fake.fail("PUT", r"/applications/.*", fx.forbidden(50001, "Missing Access"))
    rig.feed(
        "MESSAGE_CREATE",
        fx.message(
            "/synccommands",
            author=fx.user(fx.OWNER_ID, "owner"),
            author_member=fx.member(fx.OWNER_ID, "owner"),
        ),
    )
    await rig.settle()
    (reply,) = rig.fake.sent()
    assert "applications.commands" in (reply.content or "")


# ---------------------------------------------------------------- start-up checks


async def test_missing_message_content_intent_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    r = await make_rig(monkeypatch, message_content=False)
    try:
        warnings = r.adapter.warnings()
        assert len(warnings) == 1
        assert "Message Content" in warnings[0] and "Developer Portal" in warnings[0]
        # connected without the intent instead of being refused by the gateway (close code 4014)
        assert r.adapter.client.intents.message_content is False
        assert r.adapter.client.intents.members is True
    finally:
        await r.adapter.stop()


async def test_missing_members_intent_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    r = await make_rig(monkeypatch, members=False)
    try:
        (warning,) = r.adapter.warnings()
        assert "Server Members" in warning
        assert r.adapter.client.intents.members is False
    finally:
        await r.adapter.stop()


async def test_all_intents_enabled_means_no_warning(rig: Rig) -> None:
    assert rig.adapter.warnings() == []
    assert rig.adapter.client.intents.message_content and rig.adapter.client.intents.members
    assert rig.adapter.me is not None and rig.adapter.me.user_id == str(fx.BOT_ID)


async def test_gateway_refusing_privileged_intents_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fx.FakeDiscord()
    # The portal flags can lag behind the portal switch: Discord may still close with 4014.
    fake.gateway_error = discord.PrivilegedIntentsRequired(None)
    fake.install_webhooks(monkeypatch)
    adapter = build("dc", {"type": "discord"}, {"DISCORD_BOT_TOKEN": "test-token"})
    adapter.client_setup = fake.install
    fake.install(adapter.client)
    await adapter.start(Sink())
    try:
        for _ in range(10):
            await asyncio.sleep(0)
        (warning,) = adapter.warnings()
        assert "4014" in warning and "Developer Portal" in warning
    finally:
        await adapter.stop()


async def test_refused_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fx.FakeDiscord()
    fake.fail("GET", r"/users/@me", discord.LoginFailure("Improper token has been passed."))
    adapter = build("dc", {"type": "discord"}, {"DISCORD_BOT_TOKEN": "bad"})
    fake.install(adapter.client)
    with pytest.raises(ConfigError, match="refused the token"):
        await adapter.start(Sink())
    await adapter.stop()


async def test_bad_targets_fail_clearly_without_reaching_discord(rig: Rig) -> None:
    before = len(rig.fake.calls)
    garbled = ChatRef("discord", "dc", "not-a-guild", "#general", kind="group")
    with pytest.raises(TargetNotFound):
        await rig.adapter.send(garbled, OutgoingMessage.of("hi"))
    with pytest.raises(TargetNotFound):
        await rig.adapter.mute(garbled, str(fx.ALICE_ID), START + timedelta(minutes=5))
    with pytest.raises(QunyouError, match="empty"):
        await rig.adapter.send(CHAT, OutgoingMessage.of(""))
    assert len(rig.fake.calls) == before


async def test_huge_inbound_text_passes_whole(rig: Rig) -> None:
    text = "长" * 4000 + " <@" + "9" * 40 + ">"  # Nitro allows 4000; a garbled mention stays text
    rig.feed("MESSAGE_CREATE", fx.message(text, author=ALICE["user"], author_member=ALICE))
    (event,) = await rig.sink.wait(1)
    assert isinstance(event, MessageEvent) and event.text == text and event.mentions == ()


async def test_a_custom_prefix_reads_as_a_command(monkeypatch: pytest.MonkeyPatch) -> None:
    r = await make_rig(monkeypatch, command_prefix="?")
    try:
        r.feed("MESSAGE_CREATE", fx.message("?checkin", author=ALICE["user"], author_member=ALICE))
        r.feed("MESSAGE_CREATE", fx.message("? what", author=ALICE["user"], author_member=ALICE))
        first, second = await r.sink.wait(2)
        assert isinstance(first, MessageEvent) and first.text == "/checkin"
        assert isinstance(second, MessageEvent) and second.text == "? what"
    finally:
        await r.adapter.stop()


async def test_the_same_adapter_starts_again_after_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    r = await make_rig(monkeypatch)
    first_client = r.adapter.client
    await r.adapter.stop()
    sink = Sink()
    await r.adapter.start(sink)
    try:
        assert r.adapter.client is not first_client and not r.adapter.client.is_closed()
        fx.FakeDiscord.add_guild(r.adapter.client)
        r.feed("MESSAGE_CREATE", fx.message("back again", author=ALICE["user"], author_member=ALICE))
        (event,) = await sink.wait(1)
        assert isinstance(event, MessageEvent) and event.text == "back again"
    finally:
        await r.adapter.stop()


async def test_report_from_the_message_menu_reads_as_a_reply_and_answers_privately(rig: Rig) -> None:
    async def handler(event: PlatformEvent) -> None:
        assert isinstance(event, MessageEvent)
        await rig.adapter.send(
            event.chat, OutgoingMessage.of("thanks, sent to the moderators", reply_to=event.message_id)
        )

    rig.sink.handler = handler
    target = fx.message("something rude", author=BOB["user"])
    payload = fx.message_menu("Report message", ALICE, target)
    rig.feed("INTERACTION_CREATE", payload)
    (event,) = await rig.sink.wait(1)
    await rig.settle()
    assert isinstance(event, MessageEvent)
    assert event.text == "/report" and event.reply_to == target["id"]
    assert event.reply_to_user is not None and event.reply_to_user.user_id == str(fx.BOB_ID)
    (ack,) = rig.fake.find("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
    assert ack.json["type"] == 5 and ack.json["data"]["flags"] & 64  # ephemeral: only the reporter sees it
    (answer,) = rig.fake.find("POST", rf"/webhooks/{fx.APP_ID}/{payload['token']}")
    assert answer.content == "thanks, sent to the moderators"


async def test_the_report_menu_is_synced_with_localized_names(rig: Rig) -> None:
    owner = fx.member(fx.OWNER_ID, "owner")
    rig.feed("MESSAGE_CREATE", fx.message("!synccommands", author=owner["user"], author_member=owner))
    await rig.settle()
    (put,) = rig.fake.find("PUT", r"/applications/\d+/guilds/\d+/commands")
    menu = next(c for c in put.json if c["type"] == 3)
    assert menu["name"] == "Report message" and menu["name_localizations"]["zh-CN"] == "举报这条消息"


async def test_a_delete_never_waits_behind_a_burst_of_replies(rig: Rig) -> None:
    for i in range(5):
        await rig.adapter.send(CHAT, OutgoingMessage.of(f"reply {i}"))
    waited = rig.adapter.queue.waited
    await rig.adapter.delete(CHAT, "600000000000000556")
    assert rig.adapter.queue.waited == waited  # the channel's 5-per-5s window is full, deletes are not in it
    await rig.adapter.send(CHAT, OutgoingMessage.of("reply 5"))
    assert rig.adapter.queue.waited > waited  # while a sixth post does wait its turn


async def test_slash_answer_can_be_edited_split_and_outlives_the_token(rig: Rig) -> None:
    async def handler(event: PlatformEvent) -> None:
        assert isinstance(event, MessageEvent)
        long = "\n".join(["line of the answer " * 5] * 40)  # over 2000: two followups
        sent = await rig.adapter.send(event.chat, OutgoingMessage.of(long, reply_to=event.message_id))
        await rig.adapter.edit(event.chat, sent.message_id, OutgoingMessage.of("edited answer"))
        rig.clock.advance(timedelta(minutes=15))  # the interaction token has expired by now
        await rig.adapter.send(event.chat, OutgoingMessage.of("late news", reply_to=event.message_id))

    rig.sink.handler = handler
    payload = fx.slash("events", ALICE)
    rig.feed("INTERACTION_CREATE", payload)
    await rig.sink.wait(1)
    await rig.settle()
    followups = rig.fake.find("POST", rf"/webhooks/{fx.APP_ID}/{payload['token']}")
    assert len(followups) == 2 and all(len(c.content or "") <= 2000 for c in followups)
    (edit,) = rig.fake.find("PATCH", rf"/webhooks/{fx.APP_ID}/{payload['token']}/messages/\d+")
    assert edit.content == "edited answer"
    (late,) = rig.fake.find("POST", rf"/channels/{fx.CHANNEL_ID}/messages")
    assert late.content == "late news" and "message_reference" not in late.json


async def test_deleting_a_slash_command_removes_the_answer(rig: Rig) -> None:
    async def handler(event: PlatformEvent) -> None:
        assert isinstance(event, MessageEvent)
        await rig.adapter.send(event.chat, OutgoingMessage.of("answer", reply_to=event.message_id))
        await rig.adapter.delete(event.chat, event.message_id)  # e.g. moderation on the arguments

    rig.sink.handler = handler
    payload = fx.slash("topic", ALICE, args="something")
    rig.feed("INTERACTION_CREATE", payload)
    await rig.sink.wait(1)
    await rig.settle()
    assert rig.fake.find("DELETE", rf"/webhooks/{fx.APP_ID}/{payload['token']}/messages/@original")


async def test_sync_global_and_clear(rig: Rig) -> None:
    owner = fx.member(fx.OWNER_ID, "owner")
    rig.feed("MESSAGE_CREATE", fx.message("!synccommands global", author=owner["user"], author_member=owner))
    await rig.settle()
    assert rig.fake.find("PUT", rf"/applications/{fx.APP_ID}/commands")
    rig.feed("MESSAGE_CREATE", fx.message("!synccommands clear", author=owner["user"], author_member=owner))
    await rig.settle()
    (cleared,) = rig.fake.find("PUT", rf"/applications/{fx.APP_ID}/guilds/{fx.GUILD_ID}/commands")
    assert cleared.json == []
    first, second = rig.fake.sent()
    assert "所有服务器" in (first.content or "") and "全局命令保留" in (second.content or "")


async def test_sync_rejected_by_discord_is_explained_not_raised(rig: Rig) -> None:
    rig.fake.fail(
        "PUT",
        r"/applications/.*",
        discord.HTTPException(
            fx.SimpleNamespace(status=400, reason="Bad Request"),
            {"code": 50035, "message": "Invalid Form Body"},
        ),
    )
    owner = fx.member(fx.OWNER_ID, "owner")
    rig.feed("MESSAGE_CREATE", fx.message("!synccommands", author=owner["user"], author_member=owner))
    await rig.settle()
    (reply,) = rig.fake.sent()
    assert reply.content == rig.adapter.t("zh-CN", "discord.sync_failed")


async def test_level_rewards_swap_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    high = "700000000000000010"
    member_with_old_role = fx.member(fx.ALICE_ID, "alice", roles=[fx.LEVEL_ROLE_ID])
    r = await make_rig(monkeypatch, level_roles={"5": fx.LEVEL_ROLE_ID, "10": high})
    try:
        guild = fx.guild(members=[fx.member(fx.BOT_ID, "qunyou", bot=True), member_with_old_role])
        guild["roles"].append(fx.role(int(high), "Level 10", 0, 1))
        fx.FakeDiscord.add_guild(r.adapter.client, guild)
        await r.adapter.level_reached(CHAT, str(fx.ALICE_ID), 10)
        (grant,) = r.fake.find("PUT", r".*/roles/\d+")
        (revoke,) = r.fake.find("DELETE", r".*/roles/\d+")
        assert grant.path.endswith(f"/roles/{high}") and revoke.path.endswith(f"/roles/{fx.LEVEL_ROLE_ID}")
    finally:
        await r.adapter.stop()


async def test_an_outdated_slash_command_gets_a_private_explanation(rig: Rig) -> None:
    payload = fx.slash("oldcommand", ALICE, locale="en-US")
    rig.feed("INTERACTION_CREATE", payload)
    await rig.settle()
    assert rig.sink.events == []
    (answer,) = rig.fake.find("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
    assert answer.json["type"] == 4 and answer.json["data"]["flags"] & 64
    assert answer.json["data"]["content"] == rig.adapter.t("en", "discord.stale_command", prefix="!")


async def test_a_thread_is_a_channel_of_the_same_server(rig: Rig) -> None:
    thread_id = 400000000000000077  # a thread the cache has not seen yet
    rig.feed(
        "MESSAGE_CREATE",
        fx.message("in a thread", author=ALICE["user"], author_member=ALICE, channel_id=thread_id),
    )
    (event,) = await rig.sink.wait(1)
    assert isinstance(event, MessageEvent)
    assert event.chat.scope_id == str(fx.GUILD_ID) and event.chat.channel_id == str(thread_id)
    await rig.adapter.send(event.chat, OutgoingMessage.of("answer", reply_to=event.message_id))
    (reply,) = rig.fake.sent()
    assert reply.path == f"/channels/{thread_id}/messages"


async def test_a_mention_outside_notify_shows_but_does_not_ping(rig: Rig) -> None:
    offender = UserRef("discord", str(fx.BOB_ID), "bob")
    await rig.adapter.send(CHAT, OutgoingMessage.of("alert about ", Mention(offender), silent=True))
    (call,) = rig.fake.sent()
    assert f"<@{fx.BOB_ID}>" in (call.content or "")
    assert call.json["allowed_mentions"] == {"parse": [], "users": []}
    assert call.json["flags"] & 4096  # silent: no push notification at all


async def test_slash_options_are_generated_typed_from_the_declared_arguments(rig: Rig) -> None:
    """A member argument is a user option, a number an integer option, anything else a string;
    a command made of subcommands keeps one free-text option. Nothing is hand-listed."""
    mod = fx.member(fx.MOD_ID, "mod", roles=[fx.MOD_ROLE_ID])
    rig.feed("MESSAGE_CREATE", fx.message("!synccommands", author=mod["user"], author_member=mod))
    await rig.settle()
    (put,) = rig.fake.find("PUT", rf"/applications/{fx.APP_ID}/guilds/{fx.GUILD_ID}/commands")
    by_name = {c["name"]: c for c in put.json if c.get("type", 1) == 1}

    def shape(name: str) -> list[tuple[str, int, bool]]:
        return [(o["name"], o["type"], o.get("required", False)) for o in by_name[name].get("options", [])]

    user, integer, string = 6, 4, 3
    assert shape("give") == [("target", user, True), ("amount", integer, True)]
    assert shape("join") == [("activity_id", integer, True)]
    assert shape("credit") == [("who", user, False)]
    assert shape("rank") == [("period", string, False), ("board", string, False)]
    assert shape("report") == [("reason", string, False)]
    assert shape("me") == []  # takes nothing
    assert shape("checkin") == [("args", string, False)]  # subcommands: free text
    # a choice of words is offered as fixed choices
    assert [c["value"] for c in by_name["rank"]["options"][0]["choices"]] == ["week", "month", "all"]
    assert [c["value"] for c in by_name["rank"]["options"][1]["choices"]] == ["chat", "community"]
    assert [c["value"] for c in by_name["nudge"]["options"][0]["choices"]] == ["on", "off"]
    amount = by_name["give"]["options"][1]
    assert amount["description_localizations"]["zh-CN"] == I18N.t("zh-CN", "core.param.amount")


async def test_a_typed_slash_command_runs_as_the_words_a_member_would_type(rig: Rig) -> None:
    options = [
        {"name": "target", "type": 6, "value": str(fx.BOB_ID)},
        {"name": "amount", "type": 4, "value": 5},
    ]
    payload = fx.slash("give", ALICE, options=options, locale="zh-CN")
    payload["data"]["resolved"] = {"users": {str(fx.BOB_ID): BOB["user"]}}
    rig.feed("INTERACTION_CREATE", payload)
    (event,) = await rig.sink.wait(1)
    await rig.settle()
    assert isinstance(event, MessageEvent)
    assert [m.user_id for m in event.mentions] == [str(fx.BOB_ID)]
    assert event.text.startswith("/give ") and event.text.endswith(" 5")
