"""Declared command arguments: the converters, the usage errors they produce, and /help by role,
through the real core and the console adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.args import BadArgument, UsageError
from bot.params import (
    Amount,
    Choice,
    Date,
    Duration,
    Id,
    Int,
    OnOff,
    Param,
    Rest,
    TimeOfDay,
    Word,
    Words,
    bind,
    parse_switch,
)
from tests.harness import Harness, texts


@dataclass
class _NoMembers:
    """An ``ArgContext`` for converters that never look a member up (no reply, no mentions)."""

    services: Any = None
    group: Any = None
    reply_target: Any = None
    mentions: tuple[Any, ...] = field(default_factory=tuple)
    today: date = date(2026, 3, 2)


async def _bind(params: list[Param], text: str) -> dict[str, Any]:
    return await bind(_NoMembers(), params, text.split(), text)


# ---------------------------------------------------------------- converters


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("10m", timedelta(minutes=10)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("3天", timedelta(days=3)),
        ("2小时", timedelta(hours=2)),
        ("30分钟", timedelta(minutes=30)),
        ("１天２小时", timedelta(days=1, hours=2)),  # full-width digits
        ("1周", timedelta(weeks=1)),
    ],
)
async def test_durations_in_english_chinese_and_full_width(typed: str, expected: timedelta) -> None:
    assert (await _bind([Duration("d")], typed)) == {"d": expected}


@pytest.mark.parametrize("typed", ["3", "天", "3x", "1h30", "0m", "400天", "9" * 500 + "d"])
async def test_bad_durations_give_a_reason(typed: str) -> None:
    with pytest.raises(BadArgument) as err:
        await _bind([Duration("d")], typed)
    assert err.value.key in ("core.args.bad_duration", "core.args.duration_too_long")


async def test_integers_full_width_bounds_and_huge_input() -> None:
    spec = [Int("n", low=1, high=100)]
    assert await _bind(spec, "４２") == {"n": 42}
    for typed, key in [
        ("0", "core.args.too_small"),
        ("101", "core.args.too_large"),
        ("abc", "core.args.not_integer"),
        ("9" * 10_000, "core.args.not_integer"),
    ]:
        with pytest.raises(BadArgument) as err:
            await _bind(spec, typed)
        assert err.value.key == key
        assert len(str(err.value.values.get("value", ""))) <= 24  # never echo a whole message


async def test_amounts_take_commas_and_a_feature_wording() -> None:
    spec = [Amount("amount", error="checkin.bad_amount")]
    assert await _bind(spec, "1,000") == {"amount": 1000}
    assert await _bind(spec, "１０") == {"amount": 10}
    for typed in ("0", "-5", "1000001", "lots"):
        with pytest.raises(BadArgument) as err:
            await _bind(spec, typed)
        assert err.value.key == "checkin.bad_amount" and err.value.values["max"] == 1_000_000


async def test_ids_times_and_choices() -> None:
    assert await _bind([Id("i")], "#１２") == {"i": 12}
    with pytest.raises(BadArgument):
        await _bind([Id("i")], "99999999999")
    assert str((await _bind([TimeOfDay("t")], "20点30"))["t"]) == "20:30:00"
    # a month-day already past this year means next year's (today is 2026-03-02)
    assert (await _bind([Date("d")], "０１-１５"))["d"] == date(2027, 1, 15)
    assert (await _bind([Date("d")], "12/01"))["d"] == date(2026, 12, 1)
    with pytest.raises(BadArgument):
        await _bind([Date("d")], "02-30")
    week = Choice("p", words={"week": "week", "周": "week"})
    assert await _bind([week], "ＷＥＥＫ") == {"p": "week"}
    with pytest.raises(BadArgument) as err:
        await _bind([week], "year")
    assert err.value.key == "core.args.bad_choice" and err.value.values["options"] == "week"


@pytest.mark.parametrize(("typed", "value"), [("on", True), ("开", True), ("开启", True), ("TRUE", True)])
async def test_one_on_off_vocabulary(typed: str, value: bool) -> None:
    assert await _bind([OnOff("on")], typed) == {"on": value}
    assert parse_switch(typed) is value
    off = {"on": "off", "开": "关", "开启": "关闭", "TRUE": "false"}[typed]
    assert await _bind([OnOff("on")], off) == {"on": not value}


async def test_missing_leftover_optional_and_rest() -> None:
    spec: list[Param] = [Word("a"), Int("n", optional=True, default=7), Rest("tail", optional=True)]
    assert await _bind(spec, "x") == {"a": "x", "n": 7, "tail": None}
    assert await _bind(spec, "x 3 and  the rest") == {"a": "x", "n": 3, "tail": "and  the rest"}
    with pytest.raises(UsageError):
        await _bind(spec, "")
    with pytest.raises(UsageError):
        await _bind([Word("a")], "x y")  # words left over
    assert await _bind([Words("w")], '"quoted words" two'.replace('"', "")) == {"w": "quoted words two"}


# ---------------------------------------------------------------- through the core


async def test_full_width_and_swapped_arguments_through_the_console(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "bob", "hi")
        await h.say("demo", "alice", "签到")
        # a number first, then the member; full-width digits
        assert texts(await h.say("demo", "alice", "/give １ @bob")) == ["💸 已转给 @bob 1 分，你的余额 14。"]
        assert texts(await h.say("demo", "alice", "/give @bob 1")) == ["💸 已转给 @bob 1 分，你的余额 13。"]


async def test_garbled_input_gets_a_localised_reason_and_the_usage(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "bob", "hi")
        zh = texts(await h.say("demo", "max", "/mute @bob 3x", role="moderator"))
        assert zh == [
            "看不懂时长 “3x”，请写成 10m、2h、3d、1天、2小时 这样。\n用法：" + _usage(h, "zh-CN", "mute")
        ]
        muted = texts(await h.say("demo", "max", "/mute @bob 2小时", role="moderator"))[0]
        assert "2 小时" in muted or "2小时" in muted
        rank = texts(await h.say("demo", "alice", "/rank forever"))
        assert rank == ["用法：" + _usage(h, "zh-CN", "rank")]
        await h.say("demo", "max", "/set language en", role="moderator")
        huge = texts(await h.say("demo", "max", "/topic del " + "9" * 5000, role="moderator"))
        assert huge[0].startswith("“99999999999999999999999…” is not a valid number")


def _usage(h: Harness, lang: str, name: str) -> str:
    command = h.services.commands.by_name[name]  # type: ignore[union-attr]
    assert command.usage is not None
    return h.services.i18n.t(lang, command.usage)


async def test_help_lists_what_each_role_may_use_and_help_all_lists_everything(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        member = texts(await h.say("demo", "alice", "/help"))[0]
        moderator = texts(await h.say("demo", "max", "/help", role="moderator"))[0]
        everything = texts(await h.say("demo", "alice", "/help all"))[0]
        # whole moderator commands
        assert "/set " not in member and "/set " in moderator and "/set " in everything
        assert "/mute" not in member and "/mute" in moderator
        # moderator forms of commands members use too (a moderator's list is long enough to come
        # one line per feature, so the forms are in /help all and /help NAME)
        assert moderator.startswith("你可以使用的命令（按功能）：") and "• 群管：" in moderator
        for form in ("/points give", "/kw add", "/topic add", "/shop add", "/event add", "/nps start"):
            assert form not in member, form
            assert form in everything, form
        # what a member may do is still there, generated from the declaration where needed
        assert "/points — 查看积分余额和最近记录" in member
        assert "/topic · /topic suggest [内容]" in member
        assert "/kw test <内容>" in member
        assert "/help all" in member  # the hint, since some commands are left out
        assert everything.startswith("全部命令：") and "/promote" in everything


async def test_help_for_one_command_shows_the_declared_forms(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        give = texts(await h.say("demo", "alice", "/help give"))[0]
        assert "写法：\n  /give <@成员> <数量>" in give
        kw = texts(await h.say("demo", "alice", "/help kw"))[0]
        assert "/kw add <red|yellow|blue> <词> [类别]" in kw and "/kw import <内容>" in kw
        await h.say("demo", "max", "/set language en", role="moderator")
        points = texts(await h.say("demo", "alice", "/help points"))[0]
        assert "/points give <@member> <amount> [reason]" in points


async def test_a_member_naming_a_moderator_form_is_refused_before_anything_is_parsed(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        assert texts(await h.say("demo", "alice", "/points give @bob lots")) == [
            "抱歉，这个命令只有管理员可以使用。"
        ]
        assert texts(await h.say("demo", "alice", "/nps close")) == [
            h.services.i18n.t("zh-CN", "stats.moderators_only")
        ]
