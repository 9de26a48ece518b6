"""Native Telegram polls, end to end: the real App on Telegram through the loopback Bot API.

``sendPoll`` replaces the post with buttons where Telegram's rules fit; ``poll_answer`` updates
(first vote, change, retract) become the stored votes, so ``/poll results`` says what members
see in Telegram; ``/poll close`` stops the poll. Anonymous polls stay buttons (a native
anonymous poll would not tell the bot who voted). On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import App
from bot.clock import VirtualClock, parse_instant
from bot.config import parse_settings
from tests.fakes import telegram_api as tg
from tests.fakes.telegram_api import ALICE, BOB, GROUP, BotApiState, LoopbackBotApi

START = parse_instant("2026-03-02T09:00:00+08:00")
CAROL = tg.user(103, "Carol", "carol")
COUNT = re.compile(r"^(\d+)\. .*? (\d+) 票", re.M)


@pytest.fixture
async def server() -> AsyncIterator[LoopbackBotApi]:
    async with LoopbackBotApi(BotApiState()) as api:
        yield api


def _app(db_url: str, server: LoopbackBotApi) -> App:
    settings = parse_settings(
        {
            "storage": {"url": db_url},
            "adapters": {"tg": {"type": "telegram", "api_base_url": server.base_url}},
        }
    )
    return App(settings, clock=VirtualClock(START), env={"TELEGRAM_BOT_TOKEN": tg.TOKEN}, flush_interval=0.05)


async def _settle(app: App, rounds: int = 15) -> None:
    """Let polling deliver what was pushed and the dispatcher handle all of it."""
    for _ in range(rounds):
        await asyncio.sleep(0.01)
    assert app.dispatcher is not None
    await app.dispatcher.drain()


async def _say(
    app: App, state: BotApiState, update_id: int, text: str, sender: dict[str, Any] = ALICE
) -> None:
    state.push(tg.text_update(update_id, text, message_id=update_id, sender=sender))
    await _settle(app)


def _counts(text: str) -> list[int]:
    """The per-option counts in a ``/poll results`` text, in option order."""
    return [int(count) for _, count in COUNT.findall(text)]


def _last_text(state: BotApiState) -> str:
    """The latest text the bot sent: a message, or a photo's caption (results come with their
    chart where the platform takes images)."""
    last = [c.params for c in state.calls if c.method in ("sendMessage", "sendPhoto")][-1]
    return str(last.get("text") or last.get("caption") or "")


def _platform_counts(state: BotApiState, poll_id: str) -> list[int]:
    return [o["voter_count"] for o in state.poll_dict(poll_id)["options"]]


async def test_a_native_poll_counts_answers_changes_and_retracts_as_telegram_shows(
    db_url: str, server: LoopbackBotApi
) -> None:
    state = server.state
    app = _app(db_url, server)
    await app.start()
    try:
        await _say(app, state, 1, "/poll 周六哪天有空？| 6号 | 13号 | 20号")
        (sent,) = state.called("sendPoll")
        assert sent["chat_id"] == GROUP and sent["question"] == "周六哪天有空？"
        assert [o["text"] for o in sent["options"]] == ["6号", "13号", "20号"]
        assert sent["is_anonymous"] is False and sent["allows_multiple_answers"] is False
        # The native poll is the post: no second post with buttons.
        assert not [m for m in state.called("sendMessage") if m.get("reply_markup")]
        (poll_id,) = state.polls

        state.answer_poll(10, poll_id, ALICE, [0])
        state.answer_poll(11, poll_id, BOB, [1])
        state.answer_poll(12, poll_id, BOB, [2])  # Bob changes his mind
        state.answer_poll(13, poll_id, CAROL, [0])
        state.answer_poll(14, poll_id, CAROL, [])  # and Carol takes hers back
        await _settle(app)
        assert _platform_counts(state, poll_id) == [1, 0, 1]

        await _say(app, state, 20, "/poll results")
        text = _last_text(state)
        assert _counts(text) == _platform_counts(state, poll_id) == [1, 0, 1]
        assert "2 人已投票" in text and "Alice" in text and "Bob" in text and "Carol" not in text

        # The buttons' typed form would count a vote Telegram does not show: refused, clearly.
        await _say(app, state, 21, "/poll vote 1 2", sender=BOB)
        assert "直接在投票里选择" in _last_text(state)

        await _say(app, state, 22, "/poll close")
        (stop,) = state.called("stopPoll")
        assert state.poll_messages[(int(stop["chat_id"]), int(stop["message_id"]))] == poll_id
        assert state.polls[poll_id]["is_closed"] is True
        final = _last_text(state)
        assert "最终结果" in final and _counts(final) == [1, 0, 1]
        assert not state.called("editMessageText")  # a native poll is never edited as text
    finally:
        await app.stop()


async def test_multiple_choice_answers_count_every_option(db_url: str, server: LoopbackBotApi) -> None:
    state = server.state
    app = _app(db_url, server)
    await app.start()
    try:
        await _say(app, state, 1, "/poll multi 带什么？| 水 | 零食 | 伞")
        (sent,) = state.called("sendPoll")
        assert sent["allows_multiple_answers"] is True
        (poll_id,) = state.polls
        state.answer_poll(10, poll_id, ALICE, [0, 2])
        state.answer_poll(11, poll_id, BOB, [1, 2])
        state.answer_poll(12, poll_id, BOB, [2])
        await _settle(app)
        await _say(app, state, 20, "/poll results")
        text = _last_text(state)
        assert _counts(text) == _platform_counts(state, poll_id) == [1, 0, 2]
        assert "2 人已投票" in text
    finally:
        await app.stop()


async def test_anonymous_polls_stay_buttons_and_stray_answers_are_ignored(
    db_url: str, server: LoopbackBotApi
) -> None:
    state = server.state
    app = _app(db_url, server)
    await app.start()
    try:
        await _say(app, state, 1, "/poll anon 满意吗？| 是 | 否")
        assert state.called("sendPoll") == []
        (card,) = [m for m in state.called("sendMessage") if m.get("reply_markup")]
        assert "匿名" in card["text"]
        before = len(state.calls)
        # An answer to a poll this bot never sent (or lost track of): nothing happens.
        state.push(tg.poll_answer_update(30, "5999", ALICE, [0]))
        await _settle(app)
        assert [c.method for c in state.calls[before:]] == []
    finally:
        await app.stop()


async def test_answers_after_a_restart_still_count(db_url: str, server: LoopbackBotApi) -> None:
    state = server.state
    app = _app(db_url, server)
    await app.start()
    try:
        await _say(app, state, 1, "/poll 去哪？| 山 | 海")
        (poll_id,) = state.polls
        state.answer_poll(10, poll_id, ALICE, [1])
        await _settle(app)
    finally:
        await app.stop()
    # A new process knows nothing of the poll's chat but what the database says.
    again = _app(db_url, server)
    await again.start()
    try:
        state.answer_poll(11, poll_id, BOB, [1])
        state.answer_poll(12, poll_id, ALICE, [0])
        await _settle(again)
        await _say(again, state, 20, "/poll results")
        text = _last_text(state)
        assert _counts(text) == _platform_counts(state, poll_id) == [1, 1]
    finally:
        await again.stop()


async def test_a_poll_that_closes_by_itself_stops_the_native_poll(
    db_url: str, server: LoopbackBotApi
) -> None:
    state = server.state
    app = _app(db_url, server)
    await app.start()
    try:
        await _say(app, state, 1, "/poll for 1h 几点开始？| 8点 | 9点")
        (poll_id,) = state.polls
        state.answer_poll(10, poll_id, BOB, [1])
        await _settle(app)
        assert app.services is not None and app.dispatcher is not None
        await app.services.scheduler.run_due(START + timedelta(hours=1, minutes=1))
        await app.dispatcher.drain()
        (stop,) = state.called("stopPoll")
        assert state.poll_messages[(int(stop["chat_id"]), int(stop["message_id"]))] == poll_id
        final = _last_text(state)
        assert "最终结果" in final and _counts(final) == _platform_counts(state, poll_id) == [0, 1]
        # Telegram refuses answers to a stopped poll; one arriving late changes nothing here either.
        state.push(tg.poll_answer_update(11, poll_id, ALICE, [0]))
        await _settle(app)
        await _say(app, state, 20, "/poll results")
        assert _counts(_last_text(state)) == [0, 1]
    finally:
        await app.stop()


async def test_an_older_answer_handled_late_does_not_undo_a_newer_one(
    db_url: str, server: LoopbackBotApi
) -> None:
    state = server.state
    app = _app(db_url, server)
    await app.start()
    try:
        await _say(app, state, 1, "/poll 喝什么？| 茶 | 咖啡")
        (poll_id,) = state.polls
        # One getUpdates batch, handled concurrently: Bob's later answer (update 41) must win
        # over his earlier one (update 40) whichever is handled first; an option index the
        # stored poll does not have (a member-added option) is not counted.
        state.push(
            tg.poll_answer_update(41, poll_id, BOB, [1]),
            tg.poll_answer_update(40, poll_id, BOB, [0]),
            tg.poll_answer_update(42, poll_id, ALICE, [5]),
        )
        await _settle(app)
        await _say(app, state, 50, "/poll results")
        text = _last_text(state)
        assert _counts(text) == [0, 1] and "1 人已投票" in text
    finally:
        await app.stop()
