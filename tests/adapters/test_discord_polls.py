"""Discord's native polls: the adapter with the real discord.py faked at REST and gateway, and
the real App (core, engage feature, storage on SQLite and PostgreSQL) on it.

A ``/poll … for DURATION`` within Discord's limits is Discord's own poll; the gateway's vote
add / remove events become the stored votes, so ``/poll results`` counts what members see in
Discord; closing ends the poll (``expire``). Open-ended, anonymous or over-long polls stay the
post with buttons.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from adapters.discord import DiscordAdapter
from bot.app import App, build_adapters, default_features
from bot.capability import Capability
from bot.clock import VirtualClock
from bot.config import parse_settings
from bot.errors import CapabilityNotSupported
from bot.events import PollAnswered
from bot.i18n import I18n
from tests.adapters.test_discord import CHAT, START, Rig, make_rig
from tests.adapters.test_discord_app import Bot
from tests.fakes import discord_api as fx

ALICE = fx.member(fx.ALICE_ID, "alice")
BOB = fx.member(fx.BOB_ID, "bob")
MOD = fx.member(fx.MOD_ID, "mod", roles=[fx.MOD_ROLE_ID])
COUNT = re.compile(r"^(\d+)\. .*? (\d+) 票", re.M)
I18N = I18n.load()


@pytest.fixture
async def rig(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    r = await make_rig(monkeypatch)
    yield r
    await r.adapter.stop()


def _polls_posted(fake: fx.FakeDiscord) -> list[fx.Call]:
    return [c for c in fake.find("POST", rf"/channels/{fx.CHANNEL_ID}/messages") if "poll" in (c.json or {})]


# ---------------------------------------------------------------- the adapter


async def test_send_poll_posts_discord_poll_within_its_limits(rig: Rig) -> None:
    sent = await rig.adapter.send_poll(
        CHAT,
        "周六哪天？",
        ("6号", "13号"),
        multi=True,
        anonymous=False,
        closes_at=START + timedelta(minutes=90),
    )
    (call,) = _polls_posted(rig.fake)
    poll = call.json["poll"]
    assert poll["question"] == {"text": "周六哪天？"}
    assert [a["poll_media"]["text"] for a in poll["answers"]] == ["6号", "13号"]
    assert poll["duration"] == 2  # whole hours, rounded up: the core ends it at 90 minutes
    assert poll["allow_multiselect"] is True
    assert sent.extra["poll_id"] == sent.message_id == str(call.response["id"])


@pytest.mark.parametrize(
    ("options", "closes_in", "anonymous"),
    [
        (("a" * 56, "b"), timedelta(hours=1), False),  # an answer past Discord's 55 characters
        (tuple(str(i) for i in range(11)), timedelta(hours=1), False),  # 11 answers
        (("a", "b"), None, False),  # open-ended: a Discord poll must end
        (("a", "b"), timedelta(days=33), False),  # past Discord's 32 days
        (("a", "b"), timedelta(hours=1), True),  # anonymous: Discord would not say who voted
    ],
)
async def test_polls_past_discord_limits_are_refused_without_a_request(
    rig: Rig, options: tuple[str, ...], closes_in: timedelta | None, anonymous: bool
) -> None:
    closes_at = START + closes_in if closes_in is not None else None
    with pytest.raises(CapabilityNotSupported):
        await rig.adapter.send_poll(CHAT, "Q", options, multi=False, anonymous=anonymous, closes_at=closes_at)
    assert _polls_posted(rig.fake) == []


async def test_votes_added_and_removed_become_poll_answered(rig: Rig) -> None:
    sent = await rig.adapter.send_poll(
        CHAT, "Q", ("a", "b", "c"), multi=False, anonymous=False, closes_at=START + timedelta(hours=1)
    )
    mid = int(sent.message_id)
    rig.feed("MESSAGE_POLL_VOTE_ADD", fx.poll_vote(mid, fx.ALICE_ID, 3))
    rig.feed("MESSAGE_POLL_VOTE_REMOVE", fx.poll_vote(mid, fx.ALICE_ID, 3))
    rig.feed("MESSAGE_POLL_VOTE_ADD", fx.poll_vote(mid + 1, fx.ALICE_ID, 1))  # not our poll
    rig.feed("MESSAGE_POLL_VOTE_ADD", fx.poll_vote(mid, fx.ALICE_ID, 9))  # no such answer
    await rig.settle()
    events = [e for e in rig.sink.events if isinstance(e, PollAnswered)]
    assert [(e.change, e.option_ids, e.user.user_id, e.poll_id) for e in events] == [
        ("add", (2,), str(fx.ALICE_ID), sent.message_id),
        ("remove", (2,), str(fx.ALICE_ID), sent.message_id),
    ]
    assert events[0].chat.scope_id == str(fx.GUILD_ID) and events[0].message_id == sent.message_id
    assert events[0].event_id != events[1].event_id


async def test_stop_poll_expires_it_and_tracked_polls_count_after_a_restart(rig: Rig) -> None:
    await rig.adapter.stop_poll(CHAT, "123456789012345678")
    (expire,) = rig.fake.find("POST", rf"/channels/{fx.CHANNEL_ID}/polls/123456789012345678/expire")
    assert expire.method == "POST"
    rig.adapter.track_poll(CHAT, "223456789012345678", "223456789012345678")
    rig.feed("MESSAGE_POLL_VOTE_ADD", fx.poll_vote(223456789012345678, fx.BOB_ID, 2))
    await rig.settle()
    (event,) = [e for e in rig.sink.events if isinstance(e, PollAnswered)]
    assert event.option_ids == (1,) and event.change == "add"


async def test_native_polls_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    r = await make_rig(monkeypatch, native_polls=False)
    try:
        assert not r.adapter.supports(Capability.NATIVE_POLLS)
    finally:
        await r.adapter.stop()


# ---------------------------------------------------------------- the real App on it


async def _start(db_url: str, monkeypatch: pytest.MonkeyPatch, fake: fx.FakeDiscord | None = None) -> Bot:
    fake = fake or fx.FakeDiscord()
    fake.install_webhooks(monkeypatch)
    settings = parse_settings(
        {"storage": {"url": db_url}, "adapters": {"dc": {"type": "discord", "token_env": "QY_DISCORD_TOKEN"}}}
    )
    (adapter,) = build_adapters(settings, {"QY_DISCORD_TOKEN": "test-token"})
    assert isinstance(adapter, DiscordAdapter)
    adapter.clock = VirtualClock(START)
    adapter.client_setup = fake.install
    fake.install(adapter.client)
    app = App(
        settings, clock=adapter.clock, adapters=[adapter], flush_interval=3600, features=default_features()
    )
    await app.start()
    fx.FakeDiscord.add_guild(adapter.client)
    return Bot(app, adapter, fake)


async def _vote(bot: Bot, event: str, mid: int, who: int, answer: int) -> None:
    fx.FakeDiscord.feed(bot.adapter.client, event, fx.poll_vote(mid, who, answer))
    await bot.settle()


def _last_text(bot: Bot) -> str:
    return bot.fake.find("POST", rf"/channels/{fx.CHANNEL_ID}/messages")[-1].content or ""


def _counts(text: str) -> list[int]:
    return [int(count) for _, count in COUNT.findall(text)]


@pytest.fixture
async def app_bot(db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bot]:
    b = await _start(db_url, monkeypatch)
    yield b
    await b.app.stop()


async def test_a_native_discord_poll_counts_what_members_see(app_bot: Bot) -> None:
    bot = app_bot
    await bot.say(ALICE, "!poll for 2h 周六哪天有空？| 6号 | 13号 | 20号")
    (posted,) = _polls_posted(bot.fake)
    assert posted.json["poll"]["duration"] == 2 and not posted.json["components"]
    mid = int(posted.response["id"])
    await _vote(bot, "MESSAGE_POLL_VOTE_ADD", mid, fx.ALICE_ID, 1)
    await _vote(bot, "MESSAGE_POLL_VOTE_ADD", mid, fx.BOB_ID, 2)
    # Bob changes his mind the Discord way: the new answer may arrive before the removal.
    await _vote(bot, "MESSAGE_POLL_VOTE_ADD", mid, fx.BOB_ID, 3)
    await _vote(bot, "MESSAGE_POLL_VOTE_REMOVE", mid, fx.BOB_ID, 2)
    # A repeated event counts once; a removal of a vote never cast changes nothing.
    await _vote(bot, "MESSAGE_POLL_VOTE_ADD", mid, fx.ALICE_ID, 1)
    await _vote(bot, "MESSAGE_POLL_VOTE_REMOVE", mid, fx.MOD_ID, 1)
    await bot.say(ALICE, "!poll results")
    assert _counts(_last_text(bot)) == [1, 0, 1]
    # The typed vote is refused for a native poll: the count is Discord's own.
    await bot.say(ALICE, "!poll vote 1 2")
    await bot.say(MOD, "!poll close")
    assert bot.fake.find("POST", rf"/channels/{fx.CHANNEL_ID}/polls/{mid}/expire")
    assert _counts(_last_text(bot)) == [1, 0, 1]
    await _vote(bot, "MESSAGE_POLL_VOTE_ADD", mid, fx.MOD_ID, 1)  # after the close: not counted
    await bot.say(ALICE, "!poll results")
    assert _counts(_last_text(bot)) == [1, 0, 1]


async def test_multiple_choice_votes_add_and_remove_each_option(app_bot: Bot) -> None:
    bot = app_bot
    await bot.say(ALICE, "!poll multi for 1d 吃什么 | 面 | 饭 | 粥")
    (posted,) = _polls_posted(bot.fake)
    assert posted.json["poll"]["allow_multiselect"] is True and posted.json["poll"]["duration"] == 24
    mid = int(posted.response["id"])
    for answer in (1, 2, 3):
        await _vote(bot, "MESSAGE_POLL_VOTE_ADD", mid, fx.ALICE_ID, answer)
    await _vote(bot, "MESSAGE_POLL_VOTE_REMOVE", mid, fx.ALICE_ID, 2)
    await _vote(bot, "MESSAGE_POLL_VOTE_ADD", mid, fx.BOB_ID, 2)
    await bot.say(ALICE, "!poll results")
    assert _counts(_last_text(bot)) == [1, 1, 1]


async def test_polls_discord_cannot_take_stay_buttons(app_bot: Bot) -> None:
    bot = app_bot
    await bot.say(ALICE, "!poll 没有期限 | 是 | 否")  # open-ended
    await bot.say(ALICE, "!poll anon for 1h 谁去 | 是 | 否")
    await bot.say(ALICE, "!poll for 1h 长选项 | " + "长" * 56 + " | 否")
    assert _polls_posted(bot.fake) == []
    posts = bot.fake.find("POST", rf"/channels/{fx.CHANNEL_ID}/messages")
    assert sum(1 for p in posts if (p.json or {}).get("components")) == 3


async def test_votes_after_a_restart_still_count(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    first = await _start(db_url, monkeypatch)
    await first.say(ALICE, "!poll for 3h 去哪 | 山 | 海")
    (posted,) = _polls_posted(first.fake)
    mid = int(posted.response["id"])
    await _vote(first, "MESSAGE_POLL_VOTE_ADD", mid, fx.ALICE_ID, 2)
    await first.app.stop()
    second = await _start(db_url, monkeypatch)
    try:
        await _vote(second, "MESSAGE_POLL_VOTE_ADD", mid, fx.BOB_ID, 2)
        await second.say(ALICE, "!poll results")
        assert _counts(_last_text(second)) == [0, 2]
    finally:
        await second.app.stop()
