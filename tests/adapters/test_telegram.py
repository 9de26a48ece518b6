"""The Telegram adapter against real python-telegram-bot, faked at ``BaseRequest.do_request``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.telegram import CONFIG_MODEL, MenuCommand, TelegramAdapter, build
from bot.adapter import Capability
from bot.clock import VirtualClock
from bot.errors import BotLacksPermission, ConfigError, RateLimited, TargetNotFound, TransportError
from bot.events import ButtonPressed, ChatMigrated, ChatRef, MemberJoined, MemberLeft, MessageEvent, UserRef
from bot.i18n import I18n
from bot.messages import Bold, Button, Link, Mention, OutgoingMessage, Text
from bot.roles import Role
from tests.adapters import contract
from tests.fakes import telegram_api as tg
from tests.fakes.telegram_api import ALICE, BOB, GROUP, BotApiState, Failure
from tests.fakes.telegram_support import FakeTime, RecordingSink, make_adapter

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CHAT = ChatRef("telegram", "tg", str(GROUP), str(GROUP), "group")


@pytest.fixture
def state() -> BotApiState:
    return BotApiState()


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(NOW)


@pytest.fixture
async def running(
    state: BotApiState, time: FakeTime, clock: VirtualClock
) -> AsyncIterator[tuple[TelegramAdapter, RecordingSink]]:
    adapter = make_adapter(state, time=time, clock=clock)
    sink = RecordingSink()
    await adapter.start(sink)
    try:
        yield adapter, sink
    finally:
        await adapter.stop()


# ---------------------------------------------------------------- config and start-up


def test_missing_token_is_a_clear_config_error() -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set"):
        build("tg", {"type": "telegram"}, {})


def test_token_variable_is_configurable_and_checked() -> None:
    with pytest.raises(ConfigError, match="MY_TOKEN does not look like a bot token"):
        build("tg", {"type": "telegram", "token_env": "MY_TOKEN"}, {"MY_TOKEN": "oops"})
    adapter = build("tg", {"type": "telegram", "token_env": "MY_TOKEN"}, {"MY_TOKEN": tg.TOKEN})
    assert isinstance(adapter, TelegramAdapter)
    assert adapter.name == "tg"


def test_config_rejects_unknown_keys_and_webhook_without_url() -> None:
    with pytest.raises(ValidationError, match="tokn"):
        CONFIG_MODEL.model_validate({"type": "telegram", "tokn": "x"})
    with pytest.raises(ValidationError, match="needs url"):
        CONFIG_MODEL.model_validate({"type": "telegram", "mode": "webhook"})
    with pytest.raises(ConfigError, match="HOOK_SECRET is not set"):
        build(
            "tg",
            {
                "type": "telegram",
                "mode": "webhook",
                "url": "https://example.org/tg",
                "secret_token_env": "HOOK_SECRET",
            },
            {"TELEGRAM_BOT_TOKEN": tg.TOKEN},
        )


async def test_start_checks_the_token_and_reports_rejection(state: BotApiState) -> None:
    state.fail("getMe", Failure(401, {"description": "Unauthorized"}))
    adapter = make_adapter(state)
    with pytest.raises(ConfigError, match="rejected the token"):
        await adapter.start(RecordingSink())
    await adapter.stop()


async def test_start_retries_an_unreachable_api_then_says_where(state: BotApiState, time: FakeTime) -> None:
    state.fail("getMe", Failure(drop=True), times=2)
    adapter = make_adapter(state, time=time)
    await adapter.start(RecordingSink())
    await adapter.stop()
    assert time.sleeps == [1.0, 2.0]

    state.fail("getMe", Failure(502, {"description": "Bad Gateway"}), times=4)
    adapter = make_adapter(state, time=FakeTime())
    with pytest.raises(TransportError, match=r"cannot reach the Telegram Bot API at api\.telegram\.org"):
        await adapter.start(RecordingSink())
    await adapter.stop()


async def test_start_knows_who_it_is_and_polls(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, _ = running
    assert adapter.me == UserRef("telegram", str(tg.BOT_ID), "Qunyou", True, tg.BOT_USERNAME)
    assert adapter.warnings() == []
    assert "@QunyouBot" in adapter.status_line()
    assert state.called("getMe")
    assert state.called("deleteWebhook"), "polling clears a stale webhook first"


async def test_privacy_mode_on_is_a_warning_with_the_fix() -> None:
    state = BotApiState(privacy_off=False)
    adapter = make_adapter(state)
    await adapter.start(RecordingSink())
    try:
        assert adapter.warnings() == ["telegram.privacy_mode"]
        i18n = I18n.load()
        for lang in ("zh-CN", "en"):
            assert "BotFather" in i18n.t(lang, "telegram.privacy_mode")
    finally:
        await adapter.stop()


# ---------------------------------------------------------------- inbound


async def test_text_message_becomes_message_event(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    _, sink = running
    state.push(tg.text_update(7, "大家好 <b>", message_id=42))
    (event,) = await sink.wait_for(1)
    contract.check_inbound_text(event, chat=CHAT, user_id="101", text="大家好 <b>")
    assert isinstance(event, MessageEvent)
    assert event.event_id == "tg:7" and event.seq is None  # see normalize.py: update ids can reset
    assert event.message_id == "42"
    assert event.chat.kind == "group" and event.chat.title == "Demo group" and event.chat.adapter == "tg"
    assert event.sender == UserRef("telegram", "101", "Alice", False, "alice")
    assert event.at == NOW
    assert event.language == "zh-hans"
    assert not event.edited and not event.mentions_bot


async def test_a_new_group_is_logged_with_its_id_for_mod_chat(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState, caplog: pytest.LogCaptureFixture
) -> None:
    _, sink = running
    with caplog.at_level("INFO", logger="adapters.telegram.adapter"):
        state.push(tg.text_update(1, "hi"), tg.text_update(2, "again", message_id=2))
        await sink.wait_for(2)
    lines = [r.getMessage() for r in caplog.records if "is 'Demo group'" in r.getMessage()]
    assert lines == [f"telegram adapter tg: chat {GROUP} is 'Demo group'"]


async def test_commands_to_us_are_normalized_and_to_other_bots_left_to_the_router(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    _, sink = running
    state.push(
        tg.text_update(1, "/ping@OtherBot spam"),
        tg.text_update(2, "/checkin@QunyouBot now", message_id=2),
        tg.text_update(3, "/help", message_id=3),
    )
    events = await sink.wait_for(3)
    texts = [e.text for e in events if isinstance(e, MessageEvent)]
    # Another bot's command still reaches moderation; the router declines to run it.
    assert texts == ["/ping@OtherBot spam", "/checkin now", "/help"]


async def test_replies_and_mentions(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    _, sink = running
    original = tg.message("hi", message_id=10, sender=BOB)
    text = "thanks Bob and @QunyouBot"
    state.push(
        tg.text_update(
            1,
            text,
            message_id=11,
            reply_to=original,
            entities=[
                {"type": "text_mention", "offset": 7, "length": 3, "user": BOB},
                {"type": "mention", "offset": 15, "length": 10},
            ],
        )
    )
    (event,) = await sink.wait_for(1)
    assert isinstance(event, MessageEvent)
    assert event.reply_to == "10"
    assert event.reply_to_user is not None and event.reply_to_user.user_id == "102"
    assert [m.user_id for m in event.mentions] == ["102"]
    assert event.mentions_bot
    kinds = [(s.kind, s.text) for s in event.segments]
    assert kinds == [("text", text), ("mention", "Bob"), ("mention", "@QunyouBot")]


async def test_edited_message_and_caption(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    _, sink = running
    state.push(tg.edited_update(1, "now with a bad word", message_id=5))
    photo = tg.message("", message_id=6)
    del photo["text"]
    photo["caption"] = "look at this"
    photo["photo"] = [{"file_id": "f1", "file_unique_id": "u1", "width": 10, "height": 10}]
    state.push({"update_id": 2, "message": photo})
    edited, captioned = await sink.wait_for(2)
    assert isinstance(edited, MessageEvent) and edited.edited and edited.message_id == "5"
    assert edited.at == NOW + timedelta(seconds=60)
    assert isinstance(captioned, MessageEvent) and captioned.text == "look at this"
    assert ("image", "f1") in [(s.kind, s.data) for s in captioned.segments]


async def test_joins_leaves_and_inviter(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    _, sink = running
    carol = tg.user(103, "Carol")
    state.push(
        tg.service_update(1, sender=ALICE, new_chat_members=[carol]),
        tg.service_update(2, sender=BOB, new_chat_members=[BOB]),
        # The same join again as a chat_member update (sent when the bot is an admin): once only.
        tg.chat_member_update(3, carol, "left", "member", actor=ALICE),
        tg.service_update(4, sender=carol, left_chat_member=carol),
    )
    events = await sink.wait_for(3)
    await _settle(state)
    assert len(sink.events) == 3
    invited, self_join, left = events
    assert isinstance(invited, MemberJoined) and invited.member.user_id == "103"
    assert invited.invited_by is not None and invited.invited_by.user_id == "101"
    assert isinstance(self_join, MemberJoined) and self_join.invited_by is None
    assert isinstance(left, MemberLeft) and left.member.user_id == "103"


async def test_join_leave_join_within_a_minute_is_three_events(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    _, sink = running
    erin = tg.user(105, "Erin")
    state.push(
        tg.service_update(1, sender=erin, new_chat_members=[erin]),
        tg.service_update(2, sender=erin, left_chat_member=erin),
        tg.service_update(3, sender=erin, new_chat_members=[erin]),
    )
    events = await sink.wait_for(3)
    assert [type(e).__name__ for e in events] == ["MemberJoined", "MemberLeft", "MemberJoined"]


async def test_chat_member_updates_alone_give_joins_and_leaves(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    _, sink = running
    dave = tg.user(104, "Dave")
    state.push(
        tg.chat_member_update(1, dave, "left", "member"),
        tg.chat_member_update(2, dave, "member", "administrator"),  # a promotion is neither
        tg.chat_member_update(3, dave, "member", "kicked", actor=ALICE),
    )
    joined, left = await sink.wait_for(2)
    await _settle(state)
    assert len(sink.events) == 2
    assert isinstance(joined, MemberJoined) and joined.invited_by is None
    assert isinstance(left, MemberLeft)


async def test_bot_removed_from_a_group_is_reported(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, sink = running
    me = tg.user(tg.BOT_ID, "Qunyou", tg.BOT_USERNAME, is_bot=True)
    state.push(tg.chat_member_update(1, me, "member", "kicked", actor=ALICE))
    (event,) = await sink.wait_for(1)
    assert isinstance(event, MemberLeft) and event.member == adapter.me


async def test_polling_survives_502_and_dropped_connections(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    _, sink = running
    state.fail("getUpdates", Failure(502, {"description": "Bad Gateway"}))
    state.fail("getUpdates", Failure(drop=True))
    state.push(tg.text_update(1, "still listening"))
    (event,) = await sink.wait_for(1, within=15)
    assert isinstance(event, MessageEvent) and event.text == "still listening"


async def test_duplicate_update_is_delivered_once(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    _, sink = running
    update = tg.text_update(5, "/checkin")
    state.push(update, update, tg.text_update(6, "after"))
    await sink.wait_for(2)
    await _settle(state)
    assert [e.event_id for e in sink.events] == ["tg:5", "tg:6"]


async def test_button_press_is_answered_and_delivered(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    _, sink = running
    update = tg.callback_update(9, "activity:join:3", message_id=77, sender=BOB)
    state.push(update, update)
    (event,) = await sink.wait_for(1)
    await _settle(state)
    assert isinstance(event, ButtonPressed)
    assert (event.data, event.message_id, event.user.user_id) == ("activity:join:3", "77", "102")
    assert event.chat.scope_id == str(GROUP)
    # Both deliveries were answered, so no client keeps spinning, but only one event went on.
    answered = await state.wait_calls("answerCallbackQuery", 2)
    assert [c["callback_query_id"] for c in answered] == ["cq9", "cq9"]
    assert len(sink.events) == 1


async def test_long_button_data_survives_the_64_byte_limit(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, sink = running
    data = "topics:vote:" + "话题" * 30
    sent = await adapter.send(CHAT, OutgoingMessage.of("vote", buttons=((Button("yes", data),),)))
    (call,) = state.called("sendMessage")
    wire = call["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert len(wire.encode()) <= 64
    state.push(tg.callback_update(1, wire, message_id=int(sent.message_id)))
    (event,) = await sink.wait_for(1)
    assert isinstance(event, ButtonPressed) and event.data == data


async def test_group_to_supergroup_migration(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, sink = running
    old = ChatRef("telegram", "tg", "-4242", "-4242", "group")
    state.push(tg.service_update(1, chat_id=-4242, migrate_to_chat_id=GROUP))
    state.push(tg.service_update(2, chat_id=GROUP, migrate_from_chat_id=-4242))
    (event,) = await sink.wait_for(1)
    await _settle(state)
    assert len(sink.events) == 1
    assert isinstance(event, ChatMigrated)
    assert (event.chat.scope_id, event.new_scope_id, event.new_channel_id) == (
        "-4242",
        str(GROUP),
        str(GROUP),
    )
    # Anything still addressed to the old id follows the group to its new home.
    await adapter.send(old, OutgoingMessage.of("still here"))
    assert state.called("sendMessage")[-1]["chat_id"] == GROUP


async def test_migration_discovered_on_send_is_followed_and_reported(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, sink = running
    old = ChatRef("telegram", "tg", "-555", "-555", "group")
    state.fail(
        "sendMessage",
        Failure(
            400,
            {
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "parameters": {"migrate_to_chat_id": -100555},
            },
        ),
    )
    await adapter.send(old, OutgoingMessage.of("hello"))
    assert [c["chat_id"] for c in state.called("sendMessage")] == [-555, -100555]
    (event,) = await sink.wait_for(1)
    assert isinstance(event, ChatMigrated) and event.new_scope_id == "-100555"


async def test_private_chat_and_forum_topic(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, sink = running
    state.push(tg.text_update(1, "/start", chat_id=101))
    topic = tg.message("in a topic", message_id=9, message_thread_id=4, is_topic_message=True)
    topic["chat"] = tg.chat(forum=True)
    state.push({"update_id": 2, "message": topic})
    private, in_topic = await sink.wait_for(2)
    assert private.chat.kind == "private" and private.chat.scope_id == "101"
    assert in_topic.chat.thread_id == "4"
    await adapter.send(in_topic.chat, OutgoingMessage.of("answer", reply_to="9"))
    assert state.called("sendMessage")[-1]["message_thread_id"] == 4


# ---------------------------------------------------------------- outbound


async def test_send_renders_escaped_html_and_mentions(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, _ = running
    bob = UserRef("telegram", "102", "Bob <script>", username=None)
    alice = UserRef("telegram", "101", "Alice", username="alice")
    message = OutgoingMessage(
        parts=(
            Text("1 < 2 & "),
            Bold("<b>win</b>"),
            Text(" "),
            Mention(bob),
            Text(" "),
            Mention(alice),
            Text(" "),
            Link("docs", 'https://example.org/?a=1&b="2"'),
        ),
        reply_to="42",
        buttons=((Button("签到", "checkin:do"), Button("Rank", "points:rank")),),
        silent=True,
    )
    sent = await adapter.send(CHAT, message)
    (call,) = state.called("sendMessage")
    assert call["text"] == (
        "1 &lt; 2 &amp; <b>&lt;b&gt;win&lt;/b&gt;</b> "
        '<a href="tg://user?id=102">Bob &lt;script&gt;</a> @alice '
        '<a href="https://example.org/?a=1&amp;b=&quot;2&quot;">docs</a>'
    )
    assert call["parse_mode"] == "HTML"
    assert call["reply_parameters"] == {"message_id": 42, "allow_sending_without_reply": True}
    assert call["disable_notification"] is True
    keyboard = call["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in keyboard] == [["checkin:do", "points:rank"]]
    assert sent.message_id == str(list(state.sent)[-1][1])


async def test_long_text_is_split_at_line_breaks(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, _ = running
    lines = [f"{i:04d} " + "排行榜" * 30 for i in range(120)]  # ~11,000 characters
    text = "\n".join(lines)
    message = OutgoingMessage.of(text, reply_to="5", buttons=((Button("more", "rank:2"),),))
    sent = await adapter.send(CHAT, message)
    calls = state.called("sendMessage")
    assert len(calls) == 3
    assert all(len(c["text"]) <= 4096 for c in calls)
    assert "\n".join(c["text"] for c in calls) == text, "cut only at line breaks, nothing lost"
    assert calls[0]["reply_parameters"]["message_id"] == 5
    assert all(c.get("reply_parameters") is None for c in calls[1:])
    assert [c.get("reply_markup") is not None for c in calls] == [False, False, True]
    assert sent.message_id == str(max(mid for (_, mid) in state.sent))


async def test_photo_with_caption_and_buttons(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState, tmp_path: Path
) -> None:
    adapter, _ = running
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG fake")
    await adapter.send(
        CHAT,
        OutgoingMessage.of("Weekly <stats>", image=str(chart), buttons=((Button("again", "stats:week"),),)),
    )
    (call,) = state.called("sendPhoto")
    assert call["caption"] == "Weekly &lt;stats&gt;"
    assert call["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "stats:week"
    assert not state.called("sendMessage")


async def test_photo_with_a_long_text_sends_the_text_after_it(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState, tmp_path: Path
) -> None:
    adapter, _ = running
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG fake")
    text = "\n".join(f"{i}. member" for i in range(200))  # over the 1,024-character caption limit
    sent = await adapter.send(
        CHAT, OutgoingMessage.of(text, image=str(chart), reply_to="9", buttons=((Button("more", "s:2"),),))
    )
    (photo,) = state.called("sendPhoto")
    assert photo.get("caption") is None and photo["reply_parameters"]["message_id"] == 9
    (follow,) = state.called("sendMessage")
    assert follow["text"] == text and follow.get("reply_parameters") is None
    assert follow["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "s:2"
    assert sent.message_id == str(max(mid for (_, mid) in state.sent))


async def test_editing_a_photo_edits_its_caption(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, _ = running
    state.fail(
        "editMessageText",
        Failure(400, {"description": "Bad Request: there is no text in the message to edit"}),
    )
    state.fail("editMessageCaption", Failure(400, {"description": "Bad Request: message is not modified"}))
    await adapter.edit(CHAT, "5", OutgoingMessage.of("new caption"))
    assert [c["caption"] for c in state.called("editMessageCaption")] == ["new caption"]


async def test_edit_and_not_modified_is_fine(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, _ = running
    await adapter.edit(CHAT, "77", OutgoingMessage.of("3 going", buttons=((Button("join", "ev:1"),),)))
    state.fail("editMessageText", Failure(400, {"description": "Bad Request: message is not modified"}))
    await adapter.edit(CHAT, "77", OutgoingMessage.of("3 going"))
    calls = state.called("editMessageText")
    assert len(calls) == 2 and calls[0]["message_id"] == 77 and calls[0]["text"] == "3 going"


async def test_moderation_actions(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState, clock: VirtualClock
) -> None:
    adapter, _ = running
    until = NOW + timedelta(minutes=10)
    await adapter.delete(CHAT, "42")
    await adapter.mute(CHAT, "101", until)
    await adapter.mute(CHAT, "101", NOW + timedelta(seconds=5))  # Telegram reads <30 s as forever
    await adapter.unmute(CHAT, "101")
    await adapter.ban(CHAT, "102", None)
    await adapter.unban(CHAT, "102")
    await adapter.kick(CHAT, "103")
    assert state.called("deleteMessage") == [{"chat_id": GROUP, "message_id": 42}]
    first, short, unmute = state.called("restrictChatMember")
    assert first["until_date"] == int(until.timestamp())
    assert not any(first["permissions"].values())
    assert short["until_date"] == int((NOW + timedelta(seconds=31)).timestamp())
    # Unmute restores the group's own defaults, not every right there is.
    assert unmute["permissions"]["can_send_messages"] is True
    assert unmute["permissions"]["can_invite_users"] is False
    bans = state.called("banChatMember")
    assert [b["user_id"] for b in bans] == [102, 103] and "until_date" not in bans[0]
    # A kick bans for the shortest time Telegram allows, so a lost unban cannot make it permanent.
    assert bans[1]["until_date"] == int((NOW + timedelta(seconds=31)).timestamp())
    unbans = state.called("unbanChatMember")
    assert [(u["user_id"], u["only_if_banned"]) for u in unbans] == [(102, True), (103, True)]


async def test_roles_from_admins_cached_five_minutes(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState, time: FakeTime
) -> None:
    adapter, _ = running
    carol = tg.user(103, "Carol")
    state.admins[GROUP] = [tg.admin(ALICE, "creator"), tg.admin(BOB, can_restrict=True), tg.admin(carol)]
    roles = [await adapter.get_role(CHAT, uid) for uid in ("101", "102", "103", "104")]
    assert roles == [Role.OWNER, Role.ADMIN, Role.MODERATOR, Role.MEMBER]
    assert len(state.called("getChatAdministrators")) == 1
    time.now += 299
    assert await adapter.get_role(CHAT, "102") == Role.ADMIN
    assert len(state.called("getChatAdministrators")) == 1
    state.admins[GROUP] = [tg.admin(ALICE, "creator")]
    time.now += 2
    assert await adapter.get_role(CHAT, "102") == Role.MEMBER
    assert len(state.called("getChatAdministrators")) == 2
    private = ChatRef("telegram", "tg", "101", "101", "private")
    assert await adapter.get_role(private, "101") == Role.MEMBER


async def test_rights_change_refreshes_roles_at_once(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, sink = running
    state.admins[GROUP] = []
    assert await adapter.get_role(CHAT, "102") == Role.MEMBER
    state.admins[GROUP] = [tg.admin(BOB, can_restrict=True)]
    state.push(tg.chat_member_update(1, BOB, "member", "administrator", actor=ALICE))
    state.push(tg.text_update(2, "marker"))
    await sink.wait_for(1)
    assert await adapter.get_role(CHAT, "102") == Role.ADMIN
    assert len(state.called("getChatAdministrators")) == 2


async def test_anonymous_admin_speaks_as_the_group(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, sink = running
    anonymous = tg.user(1087968824, "Group", "GroupAnonymousBot", is_bot=True)
    state.push(tg.text_update(1, "/warn", sender=anonymous, sender_chat=tg.chat()))
    (event,) = await sink.wait_for(1)
    assert isinstance(event, MessageEvent)
    assert event.sender.user_id == str(GROUP) and not event.sender.is_bot
    assert await adapter.get_role(event.chat, event.sender.user_id) == Role.ADMIN


# ---------------------------------------------------------------- limits and faults


async def test_429_waits_exactly_retry_after(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState, time: FakeTime
) -> None:
    adapter, _ = running
    state.fail(
        "sendMessage",
        Failure(429, {"description": "Too Many Requests: retry after 3", "parameters": {"retry_after": 3}}),
    )
    await adapter.send(CHAT, OutgoingMessage.of("no reply is dropped"))
    assert 3.0 in time.sleeps
    assert [c["text"] for c in state.called("sendMessage")] == ["no reply is dropped"] * 2


async def test_502_and_dropped_connection_retry_with_backoff(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState, time: FakeTime
) -> None:
    adapter, _ = running
    state.fail("sendMessage", Failure(502, {"description": "Bad Gateway"}))
    state.fail("sendMessage", Failure(drop=True))
    await adapter.send(CHAT, OutgoingMessage.of("eventually"))
    assert len(state.called("sendMessage")) == 3
    assert time.sleeps[-2:] == [0.5, 1.0], "exponential back-off between attempts"


async def test_persistent_network_failure_gives_transport_error(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, _ = running
    state.fail("deleteMessage", Failure(503, {"description": "Service Unavailable"}), times=10)
    with pytest.raises(TransportError):
        await adapter.delete(CHAT, "1")


@pytest.mark.parametrize(
    ("status", "description", "expected"),
    [
        (400, "Bad Request: not enough rights to restrict/unrestrict chat member", BotLacksPermission),
        (400, "Bad Request: CHAT_ADMIN_REQUIRED", BotLacksPermission),
        (400, "Bad Request: message can't be deleted", BotLacksPermission),
        (400, "Bad Request: chat not found", TargetNotFound),
        (400, "Bad Request: message to delete not found", TargetNotFound),
        (403, "Forbidden: bot was kicked from the supergroup chat", TargetNotFound),
        (403, "Forbidden: bot can't initiate conversation with a user", BotLacksPermission),
    ],
)
async def test_platform_errors_map_to_core_errors(
    running: tuple[TelegramAdapter, RecordingSink],
    state: BotApiState,
    status: int,
    description: str,
    expected: type[Exception],
) -> None:
    adapter, _ = running
    state.fail("deleteMessage", Failure(status, {"description": description}))
    with pytest.raises(expected):
        await adapter.delete(CHAT, "1")
    assert len(state.called("deleteMessage")) == 1, "a refusal is not retried"


async def test_rate_limits_space_out_a_burst(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState, time: FakeTime
) -> None:
    adapter, _ = running
    for i in range(21):
        await adapter.send(CHAT, OutgoingMessage.of(f"m{i}"))
    assert len(state.called("sendMessage")) == 21
    assert sum(time.sleeps) == pytest.approx(60.0), "the 21st message into one group waits for the window"
    # Moderation actions are not stuck behind chat messages.
    time.sleeps.clear()
    await adapter.delete(CHAT, "5")
    assert time.sleeps == []


def test_retry_after_maps_to_rate_limited() -> None:
    from telegram.error import RetryAfter

    from adapters.telegram.errors import map_error

    error = map_error(RetryAfter(7))
    assert isinstance(error, RateLimited) and error.retry_after == 7.0


# ---------------------------------------------------------------- command menu and contract


async def test_command_menu_in_zh_and_en(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, _ = running
    members = [
        MenuCommand("checkin", {"zh-CN": "每日签到", "en": "Daily check-in"}),
        MenuCommand("签到", {"zh-CN": "invalid name is skipped"}),
    ]
    admins = [*members, MenuCommand("warn", {"zh-CN": "警告成员", "en": "Warn a member"})]
    await adapter.set_command_menu(members, admins)
    calls = state.called("setMyCommands")
    seen = {(c["scope"]["type"], c.get("language_code")): c["commands"] for c in calls}
    assert seen[("all_group_chats", "zh")] == [{"command": "checkin", "description": "每日签到"}]
    assert seen[("all_group_chats", "en")] == [{"command": "checkin", "description": "Daily check-in"}]
    assert seen[("all_private_chats", None)] == [{"command": "checkin", "description": "每日签到"}]
    assert [c["command"] for c in seen[("all_chat_administrators", "en")]] == ["checkin", "warn"]


async def test_shared_adapter_contract(
    running: tuple[TelegramAdapter, RecordingSink], state: BotApiState
) -> None:
    adapter, _ = running
    state.admins[GROUP] = []
    assert await contract.check_undeclared_raise(adapter, CHAT, "101", "5") == 0
    checked = await contract.check_declared_reach_platform(adapter, CHAT, "101", "5", state.probe)
    assert checked == 10
    assert adapter.supports(Capability.BUTTONS) and adapter.supports(Capability.IMAGES)


async def _settle(state: BotApiState) -> None:
    """Let the poller run a few more empty rounds so anything wrongly delivered shows up."""
    import asyncio

    for _ in range(5):
        await asyncio.sleep(0.01)


async def test_forgetting_the_fake_fails_at_once_under_the_network_guard() -> None:
    time = FakeTime()
    adapter = TelegramAdapter("tg", CONFIG_MODEL(type="telegram"), tg.TOKEN, sleep=time.sleep)
    with pytest.raises(TransportError, match="blocked in tests"):
        await adapter.start(RecordingSink())
    await adapter.stop()
