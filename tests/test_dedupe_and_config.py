"""Inbound dedupe across restarts, config validation, argument parsing, the outbound queue."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.args import (
    BadArgument,
    UsageError,
    parse_duration,
    parse_int,
    parse_local_datetime,
    parse_time_of_day,
)
from bot.config import load_settings, parse_settings
from bot.errors import ConfigError, RateLimited, TransportError
from bot.events import ChatRef, MessageEvent, UserRef
from bot.outbound import Limit, OutboundQueue
from tests.harness import Harness, texts

ROOT = Path(__file__).resolve().parent.parent


async def test_same_event_twice_is_handled_once_even_after_restart(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        chat = h.adapter.group_chat("demo")
        event = MessageEvent(
            event_id="tg-update-7",
            at=h.now,
            chat=chat,
            sender=UserRef("console", "alice", "alice"),
            message_id="7",
            text="/ping",
            seq=7,
        )
        assert h.app.dispatcher is not None
        task = h.app.dispatcher.submit(event)
        assert task is not None
        await task
        assert h.app.dispatcher.submit(event) is None
        assert texts(h.adapter.take()) == ["pong 🏓 我在。"]
        await h.flush()
        await h.restart()
        assert h.app.dispatcher.submit(event) is None
        older = MessageEvent(
            event_id="tg-update-6",
            at=h.now,
            chat=chat,
            sender=UserRef("console", "alice", "alice"),
            message_id="6",
            text="/ping",
            seq=6,
        )
        assert h.app.dispatcher.submit(older) is None  # below the high-water mark
        assert texts(h.adapter.take()) == []


def test_config_errors_name_the_key_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"bot\.timezone"):
        parse_settings({"bot": {"timezone": "Mars/Olympus"}})
    with pytest.raises(ConfigError, match=r"bot\.colour"):
        parse_settings({"bot": {"colour": "red"}})
    with pytest.raises(ConfigError, match=r"storage\.url"):
        parse_settings({"storage": {"url": "mysql://x"}})
    with pytest.raises(ConfigError, match=r"adapters\.tg\.type"):
        parse_settings({"adapters": {"tg": {"token_env": "X"}}})
    bad = tmp_path / "bad.toml"
    bad.write_text("[bot\nname=1", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
    example = load_settings(ROOT / "config.example.toml")
    assert example.bot.timezone == "Asia/Shanghai"


async def test_unknown_feature_section_and_bad_setting_default(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nosuchfeature"):
        async with Harness(tmp_path, config={"nosuchfeature": {"x": 1}}):
            pass
    with pytest.raises(ConfigError, match=r"core\.whatever"):
        async with Harness(tmp_path, config={"core": {"whatever": 1}}):
            pass


def test_bad_config_stops_the_start_with_a_non_zero_exit(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('[bot]\nlanguage = "fr"\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "bot.language" in result.stderr and "Traceback" not in result.stderr


def test_durations() -> None:
    assert parse_duration("10m") == timedelta(minutes=10)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("3d") == timedelta(days=3)
    assert parse_duration("1天") == timedelta(days=1)
    assert parse_duration("2小时") == timedelta(hours=2)
    assert parse_duration("30分钟") == timedelta(minutes=30)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("１０ｍ") == timedelta(minutes=10)
    for bad in ("10", "abc", "0m", "-5m", "10x", "m10", "999d"):
        with pytest.raises(BadArgument):
            parse_duration(bad)
    with pytest.raises(UsageError):
        parse_duration("")


def test_integers_and_times() -> None:
    assert parse_int("42") == 42 and parse_int("－3") == -3
    for bad, key in (("abc", "core.args.not_integer"), ("1e5", "core.args.not_integer")):
        with pytest.raises(BadArgument) as info:
            parse_int(bad)
        assert info.value.key == key
    with pytest.raises(BadArgument) as info:
        parse_int("0", min_value=1)
    assert info.value.key == "core.args.too_small"
    with pytest.raises(BadArgument):
        parse_int("2000000", max_value=1_000_000)
    assert parse_time_of_day("9:30").minute == 30 and parse_time_of_day("20点").hour == 20
    with pytest.raises(BadArgument):
        parse_time_of_day("25:00")
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    at = parse_local_datetime("2026-12-01 20:00", "Asia/Shanghai", now)
    assert at == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert parse_local_datetime("01-05 08:00", "Asia/Shanghai", now).year == 2027  # already past this year


async def test_member_argument_errors(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "a1", "hi", name="Sam")
        await h.say("demo", "a2", "hi", name="Sam")
        out = texts(await h.say("demo", "boss", "/promote Sam moderator", role="owner"))[0]
        assert "2 位成员" in out
        assert texts(await h.say("demo", "boss", "/promote"))[0].startswith("用法：/promote")


async def test_outbound_queue_limits_and_retry_after() -> None:
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    queue = OutboundQueue(
        per_chat=Limit(2, 60), overall=Limit(30, 1), sleep=fake_sleep, monotonic=lambda: now[0]
    )
    calls: list[int] = []

    async def call() -> int:
        calls.append(1)
        return len(calls)

    for _ in range(3):
        await queue.run("chat", call)
    assert slept == [60.0]  # the third message into one chat waits for the window
    attempts = iter([RateLimited(7), None])

    async def limited() -> str:
        exc = next(attempts)
        if exc:
            raise exc
        return "ok"

    assert await queue.run("other", limited) == "ok"
    assert slept[-1] == 7  # exactly retry_after
    failures = iter([TransportError("502"), TransportError("reset"), None])

    async def flaky() -> str:
        exc = next(failures)
        if exc:
            raise exc
        return "ok"

    assert await queue.run("third", flaky) == "ok"
    assert 0.5 in slept and 1.0 in slept  # backoff doubles between transport retries


def test_chat_ref_private() -> None:
    assert ChatRef("x", "x", "1", "1", "private").is_private


async def test_the_example_config_starts_the_whole_bot(tmp_path: Path) -> None:
    """Every feature section of config.example.toml is accepted by the feature that owns it."""
    import tomllib

    data = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    data.pop("storage", None)
    async with Harness(tmp_path, config=data) as h:
        assert texts(await h.say("demo", "alice", "/ping")) == ["pong 🏓 我在。"]
        assert {"moderation", "checkin", "stats", "topics"} <= {f.name for f in h.services.features}
    commented = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for adapter_type in ("telegram", "discord", "onebot", "wecom_robot"):
        assert f'type = "{adapter_type}"' in commented
