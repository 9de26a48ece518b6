"""Timezone names are checked against the tz database's list, with the closest names suggested."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.clock import UnknownTimezone, check_timezone, suggest_timezones, zone
from bot.config import parse_settings
from bot.errors import ConfigError
from tests.harness import Harness, texts


def test_check_timezone_refuses_what_is_not_a_name() -> None:
    assert check_timezone("Asia/Shanghai") == "Asia/Shanghai"
    assert check_timezone(" UTC ") == "UTC"
    assert check_timezone("asia/shanghai") == "Asia/Shanghai"  # only the case differs
    for bad in ("Asia", "A" * 300, "../../etc/passwd", "Asia/Shang\x00hai", "", "/etc/localtime", "Asia/"):
        with pytest.raises(UnknownTimezone):
            check_timezone(bad)
        with pytest.raises(ValueError):
            zone(bad)
    assert suggest_timezones("Asia/Shanghia")[0] == "Asia/Shanghai"
    assert "Asia/Shanghai" in suggest_timezones("Asia")


def test_config_names_the_closest_timezone() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"bot": {"timezone": "Europe/Berlim"}})
    assert "Europe/Berlin" in str(caught.value)
    with pytest.raises(ConfigError):
        parse_settings({"bot": {"timezone": "Asia"}})


async def test_set_timezone_refuses_and_suggests(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    async with Harness(tmp_path) as h:
        await h.say("demo", "alice", "hi", role="owner")

        async def answer(value: str) -> str:
            replies = texts(await h.say("demo", "alice", f"/set timezone {value}"))
            assert len(replies) == 1
            return replies[0]

        assert (await answer("Asia")).startswith("“Asia” 不是时区名称。你是不是想写 Asia/Shanghai")
        assert (await answer("Asia/Shanghia")).startswith(
            "“Asia/Shanghia” 不是时区名称。你是不是想写 Asia/Shanghai"
        )
        long_reply = await answer("B" * 300)
        assert "不是时区名称" in long_reply and len(long_reply) < 200
        assert "不是时区名称" in await answer("../../etc/passwd")
        assert "不是时区名称" in await answer("Asia/Shang\x00hai")
        group = await h.services.groups.find("console", "demo")
        assert group is not None and group.timezone == "Asia/Shanghai"  # nothing was stored
        assert (await answer("europe/berlin")) == "已将 timezone 设为 Europe/Berlin。"

        await h.say("demo", "alice", "/set language en")
        reply = await answer("Asia/Shanghia")
        assert reply.startswith("“Asia/Shanghia” is not a timezone name. Did you mean Asia/Shanghai")
        assert "Usage:" in reply
        assert h.app.dispatcher is not None and h.app.dispatcher.failures == 0
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
