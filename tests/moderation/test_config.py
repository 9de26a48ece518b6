"""The documented config section is valid, lexicon files load, and a bad one stops the start."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.errors import ConfigError
from tests.harness import Harness
from tests.moderation.helpers import actions

ROOT = Path(__file__).resolve().parents[2]


async def test_documented_config_is_accepted_with_its_defaults(tmp_path: Path) -> None:
    full = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    data = {"moderation": full["moderation"]}
    async with Harness(tmp_path, config=data) as h:
        settings = h.services.settings
        for key, value in data["moderation"].items():
            if f"moderation.{key}" in settings.specs:
                assert settings.default(f"moderation.{key}") == value, key


async def test_extra_lexicon_file_without_the_starter(tmp_path: Path) -> None:
    lexicon = tmp_path / "mine.tsv"
    lexicon.write_text("# ours\nred\tscam\t刷单群\nblue\tads\tpromo\texact\n", encoding="utf-8")
    config = {"moderation": {"lexicon_files": [str(lexicon)], "starter_lexicon": False}}
    async with Harness(tmp_path, config=config) as h:
        assert actions(await h.say("demo", "bob", "进刷单群赚钱"), "mute")
        assert actions(await h.say("demo", "carl", "来玩百家乐"), "delete") == []  # starter is off
        assert actions(await h.say("demo", "dan", "PROMO!"), "delete") == []  # blue: recorded only
        assert (
            await h.services.state["moderation"].repos.alerts.count_alerts(1, "hit", h.now.replace(year=2000))
            == 2
        )


async def test_bad_lexicon_file_stops_the_start_with_the_key(tmp_path: Path) -> None:
    lexicon = tmp_path / "bad.tsv"
    lexicon.write_text("purple\tads\tx\n", encoding="utf-8")
    for files in ([str(lexicon)], [str(tmp_path / "missing.tsv")]):
        harness = Harness(tmp_path / str(len(files[0])), config={"moderation": {"lexicon_files": files}})
        with pytest.raises(ConfigError, match=r"moderation\.lexicon_files"):
            await harness.__aenter__()
        await harness.session.stop()
