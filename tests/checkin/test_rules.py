"""The pure reward arithmetic: itemization, level curve, tiers, folding, activity limits, badges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.checkin.badges import (
    DEFAULT_BADGES,
    BadgeConfig,
    build_badges,
    find_badge,
    newly_earned,
    parse_rule,
)
from handlers.checkin.rules import (
    DEFAULT_TIERS,
    ActivityRules,
    ActivityState,
    CheckinRules,
    activity_award,
    fold_text,
    format_tiers,
    itemize,
    level_for,
    level_threshold,
    parse_milestones,
    parse_tiers,
    progress,
    tier_for,
)

RULES = CheckinRules()


def total(streak: int, rank: int) -> int:
    return sum(i.amount for i in itemize(streak, rank, RULES))


def test_first_checkin_of_the_day_gets_base_and_rank_bonus() -> None:
    assert [(i.kind, i.amount) for i in itemize(1, 1, RULES)] == [("checkin", 10), ("rank_bonus", 5)]
    assert total(1, 2) == 13
    assert total(1, 3) == 11
    assert total(1, 4) == 10


def test_streak_bonus_grows_by_two_and_caps_at_twenty() -> None:
    assert total(2, 9) == 12
    assert total(6, 9) == 20
    assert total(11, 9) == 30
    assert total(12, 9) == 30
    assert total(50, 9) == 30


def test_milestones_at_7_30_100() -> None:
    assert dict((i.kind, i.amount) for i in itemize(7, 9, RULES))["milestone"] == 50
    assert total(7, 9) == 10 + 12 + 50
    assert total(30, 1) == 10 + 20 + 200 + 5
    assert total(100, 9) == 10 + 20 + 1000
    assert "milestone" not in {i.kind for i in itemize(8, 9, RULES)}


def test_itemize_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        itemize(0, 1, RULES)


def test_settings_strings_parse() -> None:
    assert parse_milestones("7:50, 30:200，100:1000") == {7: 50, 30: 200, 100: 1000}
    tiers = parse_tiers("5:成长会员/Rising,0:基础会员/Member,15:VIP会员/VIP")
    assert tiers == DEFAULT_TIERS
    assert parse_tiers(format_tiers(DEFAULT_TIERS)) == DEFAULT_TIERS
    for bad in ("", "5:成长会员/Rising", "x:名/Name"):
        with pytest.raises(ValueError):
            parse_tiers(bad)


def test_level_curve_is_fifty_n_squared() -> None:
    assert [level_threshold(n) for n in range(5)] == [0, 50, 200, 450, 800]
    assert level_for(0) == 0
    assert level_for(49) == 0
    assert level_for(50) == 1
    assert level_for(199) == 1
    assert level_for(200) == 2
    assert level_for(11250) == 15
    p = progress(260)
    assert (p.level, p.floor, p.next_at, p.to_next) == (2, 200, 450, 190)
    assert p.percent == 24


@given(st.integers(min_value=0, max_value=10**12))
def test_level_for_is_exact(earned: int) -> None:
    n = level_for(earned)
    assert level_threshold(n) <= earned < level_threshold(n + 1)


def test_tiers_by_level() -> None:
    assert tier_for(0).name("zh-CN") == "基础会员"
    assert tier_for(4).name("en") == "Member"
    assert tier_for(5).name("en") == "Rising"
    assert tier_for(15).name("zh-CN") == "VIP会员"
    assert tier_for(99).name("en") == "VIP"


def test_folding_drops_spaces_symbols_and_case() -> None:
    assert fold_text("哈 哈 哈!!!") == "哈哈哈"
    assert fold_text("Hello,   WORLD 👋") == "helloworld"
    assert fold_text("ＡＢＣ１２") == "abc12"
    assert fold_text("\u200b\u200b...   ") == ""


def test_activity_minimum_repeat_cooldown_and_cap() -> None:
    rules = ActivityRules()
    state = ActivityState()
    assert activity_award(state, fold_text("hi!!!!!!"), 0, 1, rules) == 0  # too short once folded
    assert activity_award(state, fold_text("hello there"), 1, 1, rules) == 1
    assert activity_award(state, fold_text("another one"), 30, 1, rules) == 0  # cooldown
    assert activity_award(state, fold_text("another one"), 100, 1, rules) == 0  # repeat
    assert activity_award(state, fold_text("something new"), 100, 1, rules) == 1
    ts = 200.0
    for i in range(40):
        activity_award(state, f"message number {i}", ts, 1, rules)
        ts += 61
    assert state.awarded_today == 20
    assert activity_award(state, fold_text("next day text"), ts, 2, rules) == 1


def test_badge_rules_parse_and_evaluate() -> None:
    rule = parse_rule("checkin_streak >= 7")
    assert rule.met({"checkin_streak": 7})
    assert not rule.met({"checkin_streak": 6})
    assert parse_rule("manual").manual
    for bad in ("streak > 7", "unknown >= 3", "messages >= -1", "messages >= x", ""):
        with pytest.raises(ValueError):
            parse_rule(bad)


def test_default_badges_and_lookup() -> None:
    badges = build_badges(DEFAULT_BADGES)
    assert len(badges) == 7
    earned = newly_earned(badges, {"messages": 1, "checkin_streak": 7}, owned={"first_message"})
    assert [b.key for b in earned] == ["streak_7"]
    assert find_badge(badges, "七日之约") is badges[1]
    assert find_badge(badges, "STREAK_7") is badges[1]
    assert find_badge(badges, "nope") is None
    with pytest.raises(ValueError):
        build_badges([DEFAULT_BADGES[0], DEFAULT_BADGES[0]])
    with pytest.raises(ValueError):
        BadgeConfig(key="x", name_zh="x", name_en="x", rule="bogus >= 1")
