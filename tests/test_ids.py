"""Ids from buttons and commands go through one decoder: what no row can have never reaches a query."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.args import MAX_ID, BadArgument, UsageError, button_fields, decode_id, parse_id
from tests.harness import Harness, texts

#: Values no row can have: past 64 bits, past 32 bits (PostgreSQL ``int4``), signs, zero, absurdly
#: long, digits ``int()`` refuses ("²", "①"), non-ASCII digits, blanks, separators.
HOSTILE = [
    str(2**63),
    str(2**64),
    str(2**31),
    "-1",
    "0",
    "9" * 400,
    "²",
    "①",
    "١٢",
    "12abc",
    "",
    " 1",
    "1:2",
    "0x10",
    "1e3",
    "\x00",
]

#: Every button route that carries a row id, with ``{}`` where the id goes.
BUTTONS = [
    "mod:ack:{}",
    "mod:undo:{}",
    "ev:join:{}",
    "ev:leave:{}",
    "ev:rate:{}:3",
    "topics:ok:{}",
    "topics:no:{}",
    "core:forget:yes:{}",
    "core:forget:no:{}",
    "nps:{}:5",
    "nps:1:{}",
]

#: Every command that takes a row id, with ``{}`` where the id goes.
COMMANDS = [
    "/ack {}",
    "/redemptions done {}",
    "/event info {}",
    "/event cancel {}",
    "/join {}",
    "/leave {}",
    "/rate {} 3",
    "/topic del {}",
    "/schedule del {}",
    "/schedule pause {}",
    "/schedule resume {}",
]


def test_decode_id_accepts_exactly_what_the_bot_writes() -> None:
    assert decode_id("1") == 1
    assert decode_id(str(MAX_ID)) == MAX_ID
    for bad in (*HOSTILE, str(MAX_ID + 1), "01", "+1", "1 ", None):
        assert decode_id(bad) is None, bad


def test_parse_id_folds_what_members_type() -> None:
    assert parse_id("#12") == 12
    assert parse_id("１２") == 12
    assert parse_id("007") == 7
    with pytest.raises(UsageError):
        parse_id("  ")
    for bad in (str(2**63), str(2**64), "-1", "0", "9" * 400, "abc", "#", "1.5"):
        with pytest.raises(BadArgument) as caught:
            parse_id(bad)
        assert caught.value.key == "core.args.bad_id"
        assert len(caught.value.values["value"]) <= 24  # never echoes 400 digits


def test_button_fields_checks_the_shape() -> None:
    assert button_fields("mod:ack:1", 3) == ["mod", "ack", "1"]
    assert button_fields("mod:ack", 3) is None
    assert button_fields("mod:ack:1:2", 3) is None
    assert button_fields("mod:ack:" + "1" * 1000, 3) is None


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_forged_ids_in_buttons_are_ignored_quietly(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "hi", role="owner")
        for template in BUTTONS:
            for value in HOSTILE:
                if template == "nps:1:{}" and value == "0":
                    continue  # a real score: poll 1 just does not exist
                out = await h.press("demo", "alice", "m1", template.format(value))
                assert texts(out) == [], (template, value)
        for data in ("core:forget:yes", "core:forget:", "mod:", "ev:", "nps:", "topics:ok:1:2", "ev:" * 100):
            assert texts(await h.press("demo", "alice", "m1", data)) == [], data
        assert h.app.dispatcher is not None and h.app.dispatcher.failures == 0
    assert _errors(caplog) == []


async def test_bad_ids_in_commands_get_the_usage_line(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "hi", role="owner")
        for template in COMMANDS:
            for value in (str(2**63), str(2**64), str(2**31), "-1", "0", "9" * 400, "abc"):
                replies = texts(await h.say("demo", "alice", template.format(value), role="owner"))
                assert len(replies) == 1, (template, value, replies)
                assert "\n用法：" in replies[0], (template, value, replies)
                assert len(replies[0]) < 400
        assert h.app.dispatcher is not None and h.app.dispatcher.failures == 0
    assert _errors(caplog) == []


async def test_real_ids_still_work(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "alice", "hi", role="owner")
        await h.say("demo", "alice", "/event add Party | 2026-03-10 20:00", role="owner")
        assert "Party" in texts(await h.say("demo", "alice", "/event info ＃１"))[0]
        out = await h.press("demo", "bob", "m1", "ev:join:1")
        assert len(texts(out)) == 1 and "Party" in texts(out)[0]
        out = await h.say("demo", "bob", "/forgetme")
        data = out[-1]["buttons"][0][1]["data"]
        assert data.startswith("core:forget:no:")
        edited = await h.press("demo", "bob", out[-1]["id"], data)
        assert [r["action"] for r in edited] == ["edit"]  # cancelled: the question is answered in place
