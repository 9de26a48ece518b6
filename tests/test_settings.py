"""Typed settings through the real core: snapshots, invalidation by /set, validation replies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.errors import ConfigError
from bot.settings import SettingsService
from handlers.moderation.settings import ModerationSettings
from handlers.onboarding.settings import WelcomeSettings
from handlers.stats.settings import StatsSettings
from storage import Database, GroupRepo, SettingsRepo
from tests.harness import Harness, texts


async def _group_id(h: Harness, chat: str) -> int:
    group = await h.services.groups.find("console", chat)
    assert group is not None
    return group.id


async def test_set_replaces_the_cached_snapshot(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        assert texts(await h.say("demo", "alice", "/rules")) == ["本群还没有写群规。"]
        gid = await _group_id(h, "demo")
        before = await h.services.settings.of(gid, WelcomeSettings)
        # Read twice, resolved once: the same frozen object until something changes the group.
        assert await h.services.settings.of(gid, WelcomeSettings) is before
        assert before.rules == ""

        out = texts(await h.say("demo", "max", "/set welcome.rules 友善交流", role="moderator"))
        assert out == ["已将 welcome.rules 设为 友善交流。"]
        after = await h.services.settings.of(gid, WelcomeSettings)
        assert after is not before and after.rules == "友善交流"
        assert texts(await h.say("demo", "alice", "/rules")) == ["📜 群规：\n友善交流"]

        # A bool typed the way members type it arrives as a bool, and changes behaviour at once.
        denied = ["抱歉，这个只有管理可以查看。"]
        assert texts(await h.say("demo", "alice", "/stats")) == denied
        await h.say("demo", "olivia", "/set stats.public 开", role="owner")
        assert (await h.services.settings.of(gid, StatsSettings)).public is True
        assert texts(await h.say("demo", "alice", "/stats")) != denied


async def test_a_snapshot_never_leaks_into_another_group(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "hi")
        await h.say("other", "bob", "hi")
        demo, other = await _group_id(h, "demo"), await _group_id(h, "other")
        # Both groups cached before the change: only the changed group's snapshot is replaced.
        other_before = await h.services.settings.of(other, ModerationSettings)
        await h.services.settings.of(demo, ModerationSettings)

        out = texts(await h.say("demo", "max", "/set moderation.red_action ban", role="moderator"))
        assert out == ["已将 moderation.red_action 设为 ban。"]
        await h.say("demo", "max", "/set welcome.rules 只在 demo", role="moderator")

        assert (await h.services.settings.of(demo, ModerationSettings)).red_action == "ban"
        assert await h.services.settings.of(other, ModerationSettings) is other_before
        assert other_before.red_action == "mute"
        assert texts(await h.say("other", "bob", "/rules")) == ["本群还没有写群规。"]
        # Private chats see the defaults, never a group's overrides.
        assert (await h.services.settings.of(None, ModerationSettings)).red_action == "mute"


@pytest.mark.parametrize(
    ("command", "zh", "en"),
    [
        (
            "/set moderation.red_mute_minutes 0",
            "“moderation.red_mute_minutes” 的值不对，可以是：1..525600",
            "That value doesn't fit “moderation.red_mute_minutes”. Allowed: 1..525600",
        ),
        (
            "/set red_mute_minutes lots",
            "“moderation.red_mute_minutes” 的值不对，可以是：an integer",
            "That value doesn't fit “moderation.red_mute_minutes”. Allowed: an integer",
        ),
        (
            "/set stats.recall_day someday",
            "“stats.recall_day” 的值不对，可以是：mon | tue | wed | thu | fri | sat | sun",
            "That value doesn't fit “stats.recall_day”. Allowed: mon | tue | wed | thu | fri | sat | sun",
        ),
        (
            "/set moderation.enabled maybe",
            "“moderation.enabled” 的值不对，可以是：on / off",
            "That value doesn't fit “moderation.enabled”. Allowed: on / off",
        ),
        (
            "/set checkin.day_start 25:00",
            "“checkin.day_start” 的值不对，可以是：00:00..23:59",
            "That value doesn't fit “checkin.day_start”. Allowed: 00:00..23:59",
        ),
    ],
)
async def test_a_bad_value_names_the_key_and_the_reason(
    tmp_path: Path, db_url: str, command: str, zh: str, en: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        # The reason, then the command's usage line.
        (answer,) = texts(await h.say("demo", "max", command, role="moderator"))
        assert answer.split("\n") == [zh, "用法：/set 键 值 — 修改本群设置（管理）"]
        await h.say("demo", "max", "/lang en", role="moderator")
        (answer,) = texts(await h.say("demo", "max", command, role="moderator"))
        assert answer.split("\n")[0] == en
        # Nothing was stored: the group still has the model's defaults.
        assert await h.services.settings.overrides(await _group_id(h, "demo")) == {}


async def test_full_width_digits_and_blanks_are_read(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        out = texts(await h.say("demo", "max", "/set moderation.red_mute_minutes ３０", role="moderator"))
        assert out == ["已将 moderation.red_mute_minutes 设为 30。"]
        await h.say("demo", "max", "/set moderation.red_action  ban ", role="moderator")
        rules = await h.services.settings.of(await _group_id(h, "demo"), ModerationSettings)
        assert (rules.red_mute_minutes, rules.red_action) == (30, "ban")
        # The override survives a restart: it is read back from the database, typed.
        await h.restart()
        rules = await h.services.settings.of(await _group_id(h, "demo"), ModerationSettings)
        assert (rules.red_mute_minutes, rules.red_action) == (30, "ban")


async def test_config_defaults_feed_the_snapshot_and_bad_ones_stop_the_start(tmp_path: Path) -> None:
    config = {"moderation": {"red_mute_minutes": 90}, "stats": {"recall_day": "mon"}}
    async with Harness(tmp_path, config=config) as h:
        await h.say("demo", "alice", "hi")
        gid = await _group_id(h, "demo")
        assert (await h.services.settings.of(gid, ModerationSettings)).red_mute_minutes == 90
        assert (await h.services.settings.of(gid, StatsSettings)).recall_day == "mon"
    with pytest.raises(ConfigError, match=r"moderation\.red_mute_minutes: 1\.\.525600"):
        async with Harness(tmp_path / "bad", config={"moderation": {"red_mute_minutes": 0}}):
            pass


async def test_an_override_stored_under_older_rules_falls_back_to_the_default(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "hi")
        gid = await _group_id(h, "demo")
        # As if a release had narrowed the bounds after the value was stored.
        await SettingsRepo(h.services.db).put(gid, "moderation.red_mute_minutes", 0, "old", h.now)
        await h.restart()
        rules = await h.services.settings.of(gid, ModerationSettings)
        assert rules.red_mute_minutes == 1440
        assert texts(await h.say("demo", "alice", "/ping")) == ["pong 🏓 我在。"]


class _SlowRepo(SettingsRepo):
    """The real repository, but a read waits until the test lets it finish."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.reading = asyncio.Event()
        self.release = asyncio.Event()

    async def all_for(self, group_id: int) -> dict[str, Any]:
        found = await super().all_for(group_id)
        self.reading.set()
        await self.release.wait()
        return found


async def test_a_read_that_races_a_set_is_not_cached(database: Database) -> None:
    now = datetime(2026, 3, 2, tzinfo=UTC)
    group = await GroupRepo(database).get_or_create(
        platform="console", adapter="console", scope_id="g", title="g", timezone="UTC", language="en", now=now
    )
    repo = _SlowRepo(database)
    service = SettingsService(repo)
    service.register(ModerationSettings)
    # A message reads the settings: its query returns the old values and is held there…
    read = asyncio.create_task(service.of(group.id, ModerationSettings))
    await repo.reading.wait()
    # …while /set stores a new value; then the held read finishes.
    await service.set(group.id, "moderation.red_action", "ban", "mod", now)
    repo.release.set()
    assert (await read).red_action == "mute"  # that message saw the values of its start
    assert (await service.of(group.id, ModerationSettings)).red_action == "ban"  # nothing stale kept


async def test_handlers_write_through_the_model(tmp_path: Path, db_url: str) -> None:
    """``settings.write`` validates against the model: a field the model lacks fails at once,
    a bad value names the key path and the reason, a good one replaces the snapshot."""
    from bot.settings import SettingError
    from handlers.schedules.settings import ScheduleSettings

    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "alice", "hi")
        gid = await _group_id(h, "demo")
        settings, now = h.services.settings, h.now
        with pytest.raises(KeyError, match="WelcomeSettings has no setting 'rulez'"):
            await settings.write(gid, WelcomeSettings, "max", now, rulez="x")
        with pytest.raises(SettingError) as bad:
            await settings.write(gid, ScheduleSettings, "max", now, quiet_hours="tea time")
        assert (bad.value.key, bad.value.reason) == ("schedule.quiet_hours", "HH:MM-HH:MM | off")
        before = await settings.of(gid, ScheduleSettings)
        await settings.write(gid, ScheduleSettings, "max", now, quiet_hours="22:00-08:00", max_posts=5)
        after = await settings.of(gid, ScheduleSettings)
        assert after is not before and (after.quiet_hours, after.max_posts) == ("22:00-08:00", 5)
        await settings.restore(gid, ScheduleSettings, "max_posts")
        assert (await settings.of(gid, ScheduleSettings)).max_posts == ScheduleSettings().max_posts
