"""The whole bot on Telegram: the real App, built from config, talking HTTP to a loopback Bot API.

Nothing of ours is faked: config → ``build_adapters`` → ``TelegramAdapter`` → PTB's httpx
transport → a Bot API server on 127.0.0.1 → back through the dispatcher, the built-in commands
and a real SQLite file.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.telegram import TelegramAdapter
from bot.app import App
from bot.clock import VirtualClock, parse_instant
from bot.config import parse_settings
from bot.events import ChatRef
from tests.fakes import telegram_api as tg
from tests.fakes.telegram_api import ALICE, BOB, GROUP, BotApiState, LoopbackBotApi

START = parse_instant("2026-03-02T09:00:00+08:00")


@pytest.fixture
async def server() -> AsyncIterator[LoopbackBotApi]:
    async with LoopbackBotApi(BotApiState(privacy_off=False)) as api:
        yield api


def _app(tmp_path: Path, server: LoopbackBotApi, **bot: Any) -> App:
    settings = parse_settings(
        {
            "bot": bot,
            "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
            "adapters": {"tg": {"type": "telegram", "api_base_url": server.base_url}},
        }
    )
    return App(settings, clock=VirtualClock(START), env={"TELEGRAM_BOT_TOKEN": tg.TOKEN}, flush_interval=0.05)


async def _replies(app: App, state: BotApiState, count: int) -> list[dict[str, Any]]:
    """Wait until the bot has sent ``count`` messages in all, and every event is handled."""
    await state.wait_calls("sendMessage", count)
    assert app.dispatcher is not None
    await app.dispatcher.drain()
    return state.called("sendMessage")


async def _quiet(app: App, rounds: int = 20) -> None:
    """Let polling run a while so anything that should not happen has the chance to."""
    for _ in range(rounds):
        await asyncio.sleep(0.01)
    assert app.dispatcher is not None
    await app.dispatcher.drain()


async def test_builtin_commands_answer_on_telegram(tmp_path: Path, server: LoopbackBotApi) -> None:
    state = server.state
    app = _app(tmp_path, server)
    await app.start()
    try:
        assert app.services is not None
        assert isinstance(app.services.adapters["tg"], TelegramAdapter)
        state.push(tg.text_update(1, "/ping", message_id=11))
        (pong,) = await _replies(app, state, 1)
        assert pong["chat_id"] == GROUP and pong["text"] == "pong 🏓 我在。"
        assert pong["reply_parameters"]["message_id"] == 11

        state.push(
            tg.text_update(2, "/ping@OtherBot", message_id=12),  # another bot's: not ours to answer
            tg.text_update(3, "/help@QunyouBot", message_id=13),
            tg.text_update(4, "/nosuch <b>", message_id=14),
        )
        sent = await _replies(app, state, 3)
        await _quiet(app)
        assert len(state.called("sendMessage")) == 3
        help_reply, unknown = sent[1:]
        assert help_reply["reply_parameters"]["message_id"] == 13 and "/ping" in help_reply["text"]
        assert unknown["reply_parameters"]["message_id"] == 14
        assert "没有 /nosuch" in unknown["text"] and "<b>" not in unknown["text"]

        # The command menu was registered from the command table, in both languages.
        menus = {(c["scope"]["type"], c.get("language_code")) for c in state.called("setMyCommands")}
        assert {
            ("all_group_chats", "zh"),
            ("all_group_chats", "en"),
            ("all_chat_administrators", "en"),
        } <= menus
    finally:
        await app.stop()


async def test_status_shows_the_privacy_warning_translated(tmp_path: Path, server: LoopbackBotApi) -> None:
    state = server.state
    app = _app(tmp_path, server, superusers={"telegram": [str(ALICE["id"])]})
    await app.start()
    try:
        state.push(tg.text_update(1, "/status", message_id=5))
        (status,) = await _replies(app, state, 1)
        assert "隐私模式已开启" in status["text"] and "BotFather" in status["text"]
        # A member without rights is refused politely, in the group's language.
        state.push(tg.text_update(2, "/status", message_id=6, sender=BOB))
        _, refused = await _replies(app, state, 2)
        assert refused["reply_parameters"]["message_id"] == 6 and "隐私" not in refused["text"]
        # Made an admin in Telegram: the next command sees it at once, not five minutes later.
        state.admins[GROUP] = [tg.admin(BOB, can_restrict=True)]
        state.push(tg.chat_member_update(3, BOB, "member", "administrator", actor=ALICE))
        state.push(tg.text_update(4, "/status", message_id=7, sender=BOB))
        *_, allowed = await _replies(app, state, 3)
        assert allowed["reply_parameters"]["message_id"] == 7 and "隐私模式已开启" in allowed["text"]
    finally:
        await app.stop()


async def test_redelivered_updates_after_a_restart_are_handled_once(
    tmp_path: Path, server: LoopbackBotApi
) -> None:
    state = server.state
    state.push(tg.text_update(500, "/ping", message_id=1))
    app = _app(tmp_path, server)
    await app.start()
    await _replies(app, state, 1)
    await app.stop()

    # A crash before Telegram heard the offset: the same update comes again, plus a new one.
    state.push(tg.text_update(501, "/ping", message_id=2))
    app = _app(tmp_path, server)
    await app.start()
    try:
        sent = await _replies(app, state, 2)
        await _quiet(app)
        assert [s["reply_parameters"]["message_id"] for s in state.called("sendMessage")] == [1, 2]
        assert len(sent) == 2
    finally:
        await app.stop()


async def test_update_ids_restarting_lower_after_a_quiet_week_are_not_dropped(
    tmp_path: Path, server: LoopbackBotApi
) -> None:
    state = server.state
    state.push(tg.text_update(900_000, "/ping", message_id=1))
    app = _app(tmp_path, server)
    await app.start()
    await _replies(app, state, 1)
    await app.stop()

    # "If there are no new updates for at least a week, then identifier of the next update will
    # be chosen randomly instead of sequentially" (Bot API). The bot must not go deaf.
    state.updates.clear()
    state.push(tg.text_update(17, "/ping", message_id=2))
    app = _app(tmp_path, server)
    await app.start()
    try:
        await _replies(app, state, 2)
        assert state.called("sendMessage")[1]["reply_parameters"]["message_id"] == 2
    finally:
        await app.stop()


async def test_migration_moves_the_group_and_multi_member_joins_all_count(
    tmp_path: Path, server: LoopbackBotApi
) -> None:
    state = server.state
    old_id, new_id = -4242, GROUP
    app = _app(tmp_path, server)
    await app.start()
    try:
        assert app.services is not None
        state.push(tg.text_update(1, "/ping", chat_id=old_id, message_id=1))
        await _replies(app, state, 1)
        old_chat = ChatRef("telegram", "tg", str(old_id), str(old_id), "group")
        before = await app.services.directory.group_for(old_chat)

        carol, dave = tg.user(103, "Carol"), tg.user(104, "Dave")
        state.push(tg.service_update(2, chat_id=old_id, new_chat_members=[carol, dave]))
        state.push(tg.service_update(3, chat_id=old_id, migrate_to_chat_id=new_id))
        await _quiet(app)
        new_chat = ChatRef("telegram", "tg", str(new_id), str(new_id), "group")
        after = await app.services.directory.group_for(new_chat)
        assert after.id == before.id, "the group's data followed it to the new chat id"
        for uid in ("103", "104"):
            assert await app.services.members.find(after.id, uid) is not None
    finally:
        await app.stop()


async def test_private_chat_answers_in_the_members_language(tmp_path: Path, server: LoopbackBotApi) -> None:
    state = server.state
    app = _app(tmp_path, server)
    await app.start()
    try:
        english = {**tg.user(201, "Erin", "erin"), "language_code": "en-US"}
        state.push(tg.text_update(1, "/ping", chat_id=201, sender=english, message_id=3))
        (pong,) = await _replies(app, state, 1)
        assert pong["chat_id"] == 201 and pong["text"] == "pong 🏓 I'm here."
    finally:
        await app.stop()


async def test_button_flow_forgetme_confirmed_by_inline_button(
    tmp_path: Path, server: LoopbackBotApi
) -> None:
    state = server.state
    app = _app(tmp_path, server)
    await app.start()
    try:
        assert app.services is not None
        state.push(tg.text_update(1, "/forgetme", message_id=8, sender=BOB))
        (confirm,) = await _replies(app, state, 1)
        rows = confirm["reply_markup"]["inline_keyboard"]
        yes, no = rows[0]
        assert no["callback_data"].startswith("core:forget:no:")
        assert yes["callback_data"].startswith("core:forget:yes:")
        bot_message = max(mid for (cid, mid) in state.sent if cid == GROUP)

        # Someone else pressing Bob's button is told it is not theirs; Bob's data stays.
        state.push(tg.callback_update(2, yes["callback_data"], message_id=bot_message, sender=ALICE))
        await _replies(app, state, 2)
        group = await app.services.directory.group_for(ChatRef("telegram", "tg", str(GROUP), str(GROUP)))
        assert (await app.services.members.find(group.id, "102")) is not None

        state.push(tg.callback_update(3, yes["callback_data"], message_id=bot_message, sender=BOB))
        edits = await state.wait_calls("editMessageText", 1)
        assert edits[0]["message_id"] == bot_message and "reply_markup" not in edits[0]
        answered = [c["callback_query_id"] for c in await state.wait_calls("answerCallbackQuery", 2)]
        assert answered == ["cq2", "cq3"], "every press is answered so no client keeps spinning"
    finally:
        await app.stop()


async def test_first_message_in_the_new_supergroup_does_not_race_the_migration(
    tmp_path: Path, server: LoopbackBotApi
) -> None:
    state = server.state
    old_id, new_id = -4343, GROUP
    app = _app(tmp_path, server)
    await app.start()
    try:
        assert app.services is not None
        state.push(tg.text_update(1, "/ping", chat_id=old_id, message_id=1))
        await _replies(app, state, 1)
        before = await app.services.directory.group_for(ChatRef("telegram", "tg", str(old_id), str(old_id)))
        # Telegram sends both service messages and the next message in one batch.
        state.push(
            tg.service_update(2, chat_id=old_id, migrate_to_chat_id=new_id),
            tg.service_update(3, chat_id=new_id, migrate_from_chat_id=old_id),
            tg.text_update(4, "/ping", chat_id=new_id, message_id=2),
        )
        await _replies(app, state, 2)
        after = await app.services.directory.group_for(ChatRef("telegram", "tg", str(new_id), str(new_id)))
        assert after.id == before.id
    finally:
        await app.stop()


async def test_a_message_edited_into_a_red_hit_is_deleted_and_the_author_muted(
    tmp_path: Path, server: LoopbackBotApi
) -> None:
    state = server.state
    app = _app(tmp_path, server, superusers={"telegram": [str(ALICE["id"])]})
    await app.start()
    try:
        state.push(tg.text_update(1, "/kw add red 代刷流水 gambling", message_id=1))
        await _replies(app, state, 1)
        state.push(tg.text_update(2, "hello all", message_id=30, sender=BOB))
        await _quiet(app)
        # (The /kw command itself is taken down: it spelled the blocked word out in the group.)
        assert [d["message_id"] for d in state.called("deleteMessage")] == [1]

        # Telegram sends the edit as edited_message; moderation looks again.
        state.push(tg.edited_update(3, "专业代 刷 流水，私聊", message_id=30, sender=BOB))
        deletions = await state.wait_calls("deleteMessage", 2)
        assert deletions[1] == {"chat_id": GROUP, "message_id": 30}
        (mute,) = await state.wait_calls("restrictChatMember", 1)
        assert mute["user_id"] == BOB["id"] and not any(mute["permissions"].values())
        await _quiet(app)
        assert all("代刷流水" not in c["text"] for c in state.called("sendMessage")[1:]), "never echoed"
    finally:
        await app.stop()


async def test_join_verification_on_telegram_restricts_challenges_and_removes_on_timeout(
    tmp_path: Path, server: LoopbackBotApi
) -> None:
    """Join verification over the Bot API: restrictChatMember at once, the challenge with inline
    buttons, a pass lifts the restriction; no answer in time bans then unbans (a kick) and
    deletes both the challenge and the "X joined" service message."""
    state = server.state
    app = _app(tmp_path, server)
    await app.start()
    try:
        services = app.services
        assert services is not None and app.dispatcher is not None
        state.push(tg.text_update(1, "hello", message_id=1))
        await _quiet(app)
        group = await services.directory.group_for(ChatRef("telegram", "tg", str(GROUP), str(GROUP)))
        await services.settings.set(group.id, "antispam.verification", "always", None, START)
        carol, dave = tg.user(103, "Carol"), tg.user(104, "Dave")
        state.push(tg.service_update(2, sender=carol, new_chat_members=[carol], message_id=60))
        (challenge,) = await _replies(app, state, 1)
        (restrict,) = await state.wait_calls("restrictChatMember", 1)
        assert restrict["user_id"] == 103 and restrict["permissions"]["can_send_messages"] is False
        buttons = challenge["reply_markup"]["inline_keyboard"][0]
        assert len(buttons) == 4 and all(b["callback_data"].startswith("as:v:") for b in buttons)
        job_id = "antispam-verify:{}:{}".format(*buttons[0]["callback_data"].split(":")[2:4])
        job = await services.scheduler.get(job_id)
        assert job is not None and job.payload["join_message_id"] == "60"
        bot_message = max(mid for (cid, mid) in state.sent if cid == GROUP)
        right = buttons[int(job.payload["answer"])]["callback_data"]
        state.push(tg.callback_update(3, right, message_id=bot_message, sender=carol))
        lifted = await state.wait_calls("restrictChatMember", 2)
        assert lifted[1]["user_id"] == 103 and lifted[1]["permissions"]["can_send_messages"] is True
        deleted = await state.wait_calls("deleteMessage", 1)
        assert deleted[0]["message_id"] == bot_message
        welcome = (await _replies(app, state, 2))[1]
        assert "Carol" in welcome["text"]

        state.push(tg.service_update(4, sender=dave, new_chat_members=[dave], message_id=61))
        await _replies(app, state, 3)
        dave_challenge = max(mid for (cid, mid) in state.sent if cid == GROUP)
        await services.scheduler.run_due(START + timedelta(minutes=4))
        await app.dispatcher.drain()
        bans = await state.wait_calls("banChatMember", 1)
        unbans = await state.wait_calls("unbanChatMember", 1)
        assert bans[0]["user_id"] == 104 and unbans[0]["user_id"] == 104
        gone = {c["message_id"] for c in await state.wait_calls("deleteMessage", 3)}
        assert {dave_challenge, 61} <= gone
    finally:
        await app.stop()
