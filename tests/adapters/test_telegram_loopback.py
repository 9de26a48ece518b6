"""End to end over real HTTP: PTB's httpx transport against a Bot API server on 127.0.0.1.

The adapter reaches the server only through ``api_base_url``, exactly as an operator's
self-hosted Bot API server would be configured.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.telegram import TelegramAdapter, TelegramConfig
from bot.clock import VirtualClock
from bot.events import ButtonPressed, ChatRef, MessageEvent
from bot.messages import Button, OutgoingMessage
from tests.fakes import telegram_api as tg
from tests.fakes.telegram_api import GROUP, BotApiState, Failure, LoopbackBotApi
from tests.fakes.telegram_support import FakeTime, RecordingSink

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CHAT = ChatRef("telegram", "tg", str(GROUP), str(GROUP), "group")


@pytest.fixture
async def server() -> AsyncIterator[LoopbackBotApi]:
    async with LoopbackBotApi(BotApiState()) as api:
        yield api


async def test_polling_command_reply_button_delete_mute(server: LoopbackBotApi) -> None:
    state = server.state
    time = FakeTime()
    adapter = TelegramAdapter(
        "tg",
        TelegramConfig(type="telegram", api_base_url=server.base_url),
        tg.TOKEN,
        clock=VirtualClock(NOW),
        sleep=time.sleep,
        monotonic=time.monotonic,
    )
    sink = RecordingSink()
    state.push(tg.text_update(100, "/checkin@QunyouBot", message_id=21))
    await adapter.start(sink)
    try:
        (command,) = await sink.wait_for(1)
        assert isinstance(command, MessageEvent)
        assert (
            command.text == "/checkin"
            and command.event_id == "tg:100"
            and command.chat.scope_id == str(GROUP)
        )

        # The reply goes over the wire as form data and comes back as a real Message.
        reply = OutgoingMessage.of(
            "签到成功 <3", reply_to=command.message_id, buttons=((Button("活动", "events:join:1"),),)
        )
        sent = await adapter.send(command.chat, reply)
        (call,) = state.called("sendMessage")
        assert call["chat_id"] == GROUP and call["text"] == "签到成功 &lt;3"
        assert call["reply_parameters"] == {"message_id": 21, "allow_sending_without_reply": True}
        assert call["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "events:join:1"

        state.push(tg.callback_update(101, "events:join:1", message_id=int(sent.message_id), sender=tg.BOB))
        _, pressed = await sink.wait_for(2)
        assert isinstance(pressed, ButtonPressed) and pressed.data == "events:join:1"
        assert pressed.message_id == sent.message_id
        assert await state.wait_calls("answerCallbackQuery", 1) == [{"callback_query_id": "cq101"}]

        # A dropped connection on the way is retried, not lost.
        state.fail("deleteMessage", Failure(drop=True))
        await adapter.delete(command.chat, command.message_id)
        assert state.called("deleteMessage") == [{"chat_id": GROUP, "message_id": 21}] * 2

        until = NOW + timedelta(minutes=10)
        await adapter.mute(command.chat, command.sender.user_id, until)
        (mute,) = state.called("restrictChatMember")
        assert mute["user_id"] == 101 and mute["until_date"] == int(until.timestamp())
        assert mute["permissions"]["can_send_messages"] is False
    finally:
        await adapter.stop()
    assert server.requests > 5


async def test_429_over_http_waits_retry_after(server: LoopbackBotApi) -> None:
    time = FakeTime()
    adapter = TelegramAdapter(
        "tg",
        TelegramConfig(type="telegram", api_base_url=server.base_url),
        tg.TOKEN,
        sleep=time.sleep,
        monotonic=time.monotonic,
    )
    await adapter.start(RecordingSink())
    try:
        server.state.fail(
            "sendMessage",
            Failure(
                429, {"description": "Too Many Requests: retry after 5", "parameters": {"retry_after": 5}}
            ),
        )
        await adapter.send(CHAT, OutgoingMessage.of("hello"))
        assert 5.0 in time.sleeps
        assert len(server.state.called("sendMessage")) == 2
    finally:
        await adapter.stop()


async def test_wrong_token_stops_the_start_with_a_clear_message(server: LoopbackBotApi) -> None:
    from bot.errors import ConfigError

    adapter = TelegramAdapter(
        "tg", TelegramConfig(type="telegram", api_base_url=server.base_url), "654321:WRONG"
    )
    with pytest.raises(ConfigError, match=r"rejected the token in \$TELEGRAM_BOT_TOKEN"):
        await adapter.start(RecordingSink())
    await adapter.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_checks_the_secret(server: LoopbackBotApi) -> None:
    port = _free_port()
    config = TelegramConfig(
        type="telegram",
        api_base_url=server.base_url,
        mode="webhook",
        listen="127.0.0.1",
        port=port,
        url="https://bot.example.org/tg-hook",
        secret_token_env="TG_SECRET",
    )
    adapter = TelegramAdapter("tg", config, tg.TOKEN, secret_token="s3cret")
    sink = RecordingSink()
    await adapter.start(sink)
    try:
        (hook,) = server.state.called("setWebhook")
        assert hook["url"] == "https://bot.example.org/tg-hook" and hook["secret_token"] == "s3cret"
        assert "chat_member" in hook["allowed_updates"]
        assert "poll_answer" in hook["allowed_updates"]  # votes in native polls
        local = f"http://127.0.0.1:{port}/tg-hook"
        async with httpx.AsyncClient() as client:
            forged = await client.post(
                local, json=tg.text_update(1, "forged"), headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            )
            assert forged.status_code == 403
            real = await client.post(
                local, json=tg.text_update(2, "/ping"), headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            )
            assert real.status_code == 200
        (event,) = await sink.wait_for(1)
        assert isinstance(event, MessageEvent) and event.text == "/ping" and event.event_id == "tg:2"
    finally:
        await adapter.stop()
