"""The check-in config: the documented reference (config.example.toml), custom badges, and config errors at start."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import SettingSpec
from handlers.checkin.config import CheckinSettings
from tests.harness import Harness, texts

DOC = Path(__file__).resolve().parents[2] / "config.example.toml"


def documented() -> dict[str, object]:
    """The check-in part of the documented config reference."""
    with DOC.open("rb") as fh:
        full = tomllib.load(fh)
    return {"checkin": full["checkin"], "badges": full["badges"]}


def test_documented_defaults_are_the_real_defaults() -> None:
    doc = documented()["checkin"]
    assert isinstance(doc, dict)
    specs = {
        name: SettingSpec.of(CheckinSettings, name, info)
        for name, info in CheckinSettings.model_fields.items()
    }
    assert set(doc) == set(specs), "every setting is documented, and nothing else"
    for key, value in doc.items():
        assert specs[key].parse(value) == specs[key].parse(specs[key].default), key


async def test_documented_file_starts_the_bot(tmp_path: Path) -> None:
    async with Harness(tmp_path, config=documented()) as h:
        assert "签到成功" in texts(await h.say("demo", "alice", "签到"))[0]
        assert texts(await h.say("demo", "alice", "徽章"))[0].startswith("🏅 徽章 0/7")


async def test_config_overrides_defaults_and_badges(tmp_path: Path) -> None:
    config = {
        "checkin": {"base_points": 20, "rank_bonus": "0"},
        "badges": [
            {"key": "helper", "name_zh": "热心群友", "name_en": "Helper", "emoji": "🤝", "rule": "manual"},
            {"key": "regular", "name_zh": "常客", "name_en": "Regular", "rule": "checkin_total >= 2"},
        ],
    }
    async with Harness(tmp_path, config=config) as h:
        assert texts(await h.say("demo", "alice", "签到"))[0].endswith("合计 20 分，余额 20 分")
        listing = texts(await h.say("demo", "alice", "/badges"))[0]
        assert listing.split("\n") == [
            "🏅 徽章 0/2",
            "  🔒 🤝 热心群友 · 由管理员授予",
            "  🔒 🏅 常客 · 累计签到 1/2",
        ]
        await h.advance(86400)
        assert texts(await h.say("demo", "alice", "签到"))[0].endswith("获得徽章 🏅 常客")
        out = texts(await h.say("demo", "max", "/badge grant @alice helper", role="moderator"))
        assert out == ["已授予 @alice 徽章 🤝 热心群友。"]


async def test_per_group_settings_are_validated(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        bad = texts(await h.say("demo", "max", "/set checkin.milestones seven", role="moderator"))[0]
        assert "DAYS:POINTS" in bad
        assert "00:00..23:59" in texts(await h.say("demo", "max", "/set checkin.day_start 25:00"))[0]
        await h.say("demo", "max", "/set checkin.base_points 1")
        assert "合计 6 分" in texts(await h.say("demo", "alice", "签到"))[0]


@pytest.mark.parametrize(
    ("config", "where"),
    [
        ({"badges": [{"key": "x", "name_zh": "x", "name_en": "x", "rule": "streak > 3"}]}, "badges"),
        (
            {"badges": [{"key": "x", "name_zh": "x", "name_en": "x", "rule": "manual", "colour": "red"}]},
            "colour",
        ),
        ({"checkin": {"nonsense": 1}}, "checkin.nonsense"),
        ({"checkin": {"base_points": -5}}, "checkin.base_points"),
    ],
)
async def test_bad_config_fails_at_start_naming_the_key(
    tmp_path: Path, config: dict[str, object], where: str
) -> None:
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        async with Harness(tmp_path, config=config):
            pass
