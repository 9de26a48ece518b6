"""The mood: sentiment per message (zh, en), hourly sums written by the batched flush, the
negative topics and their retention, ``/stats`` and the weekly report through the ``GroupMood``
port, and complaints counted from strongly negative messages about the group's products."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from handlers.desk.sentiment import MODEL, NEGATIVE, language_of, negative_topics
from handlers.desk.state import get_state
from storage.desk.tables import desk_mood_negative
from tests.harness import Harness, texts

Record = dict[str, Any]
LABELLED = Path(__file__).parents[2] / "bench" / "data" / "desk_mood_labelled.toml"
# A Monday, 09:00 in Shanghai.
START = "2026-03-02T09:00:00+08:00"


# -- the model ----------------------------------------------------------------------------------


def test_language_of_picks_the_model() -> None:
    assert language_of("这个更新太烂了") == "zh"
    assert language_of("这个app太卡了") == "zh"  # a Latin word among Chinese characters
    assert language_of("I love 中国 food, really great") == "en"
    assert language_of("The update is great") == "en"
    assert language_of("😀 123 !!!") is None
    assert MODEL.score("😀 123 !!!") is None


def test_scores_on_one_scale() -> None:
    assert MODEL.score("客服态度恶劣，太让人失望了") <= NEGATIVE  # type: ignore[operator]
    assert MODEL.score("新版本很好用，非常满意") > 0.3  # type: ignore[operator]
    assert MODEL.score("This update is terrible and keeps crashing") <= NEGATIVE  # type: ignore[operator]
    assert MODEL.score("Thanks, the meetup was great!") > 0.3  # type: ignore[operator]
    assert MODEL.score_many(["很好", "", "bad"])[1] is None


def test_accuracy_on_the_labelled_set() -> None:
    """The hand-written set the README reports (bench measures the same): a floor under the
    figures measured when the model was chosen (zh 85 %, en 92 %), so a change of package
    version or of tokenisation that breaks the model shows here."""
    data = tomllib.loads(LABELLED.read_text(encoding="utf-8"))
    for lang, floor in (("zh", 0.80), ("en", 0.88)):
        pos, neg = data[f"{lang}_pos"], data[f"{lang}_neg"]
        assert len(pos) == len(neg) == 50
        right = sum((MODEL.score(t) or 0) > 0 for t in pos) + sum((MODEL.score(t) or 0) <= 0 for t in neg)
        assert right / 100 >= floor, (lang, right)


def test_negative_topics_are_things_not_feelings() -> None:
    texts_ = [
        "客服太差了，根本不回消息",
        "客服态度恶劣",
        "更新以后一直闪退，客服也不理",
        "The battery is awful",
        "Terrible battery, dies by noon",
        "terrible",
    ]
    topics = negative_topics(texts_, 5)
    assert topics[:2] == ["客服", "battery"]
    assert "terrible" not in topics and "恶劣" not in topics
    assert negative_topics(texts_, 5, exclude=lambda w: w == "客服") == ["battery"]
    assert negative_topics([], 5) == []


# -- end to end ---------------------------------------------------------------------------------


async def _negative_count(h: Harness) -> int:
    async with h.services.db.begin() as conn:
        return int((await conn.execute(select(func.count()).select_from(desk_mood_negative))).scalar_one())


async def test_flush_writes_hourly_sums_and_keeps_negative_messages_for_the_window(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url, clock=START, config={"stats": {"weekly_report": False}}) as h:
        await h.say("demo", "a", "今天的活动太棒了，谢谢大家")
        await h.say("demo", "b", "客服态度恶劣，太让人失望了")
        await h.say("demo", "c", "The app keeps crashing, this update is awful and I hate it")
        await h.say("demo", "d", "😀😀")  # no words: not scored
        await h.say("demo", "e", "/complaints")  # a command: not scored
        # Nothing is scored on the message path: it waits for the flush.
        assert len(get_state(h.services).mood.pending) == 3
        await h.flush()
        assert get_state(h.services).mood.pending == []
        repo = get_state(h.services).repos.mood
        [day] = await repo.days(await _group_id(h), date(2026, 3, 2), date(2026, 3, 2))
        assert (day.messages, day.negative) == (3, 2)
        [hour] = await repo.hours(await _group_id(h), date(2026, 3, 2))
        assert hour.hour == 9 and hour.messages == 3
        await h.advance(3600)
        await h.say("demo", "a", "还是很失望，退款一直没人处理")
        await h.flush()
        hours = await repo.hours(await _group_id(h), date(2026, 3, 2))
        assert [(x.hour, x.messages, x.negative) for x in hours] == [(9, 3, 2), (10, 1, 1)]
        assert await _negative_count(h) == 3
        # desk.mood_days (7): eight days on, the hourly purge has dropped the texts; the sums stay.
        await h.advance(8 * 86400)
        await h.flush()
        assert await _negative_count(h) == 0
        assert len(await repo.days(await _group_id(h), date(2026, 3, 2), date(2026, 3, 2))) == 1


async def _group_id(h: Harness) -> int:
    groups = [g for g in await h.services.groups.all() if g.scope_id == "demo"]
    return groups[0].id


async def test_mood_off_scores_nothing(tmp_path: Path) -> None:
    async with Harness(tmp_path, clock=START) as h:
        await h.say("demo", "max", "/set desk.mood off", role="moderator")
        await h.say("demo", "b", "客服态度恶劣，太让人失望了")
        await h.flush()
        assert (
            await get_state(h.services).repos.mood.days(
                await _group_id(h), date(2026, 3, 1), date(2026, 3, 9)
            )
            == []
        )


async def _week_of_chat(h: Harness) -> None:
    """Monday 03-02 … Sunday 03-08: a happy week; then 03-09 … 03-15 a sour one."""
    happy = ["今天的活动太棒了", "谢谢管理员，辛苦了", "新版本好用多了"]
    sour = ["更新以后一直闪退，客服也不理", "客服态度恶劣，太失望了", "退款一直没人处理，客服太差了"]
    for day in range(14):
        await h.advance(to=f"2026-03-{2 + day:02d}T20:00:00+08:00")
        for i, text in enumerate(happy if day < 7 else sour):
            await h.say("demo", f"u{i}", text)


async def test_stats_and_the_weekly_report_show_mood_and_negative_topics(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, clock=START) as h:
        await _week_of_chat(h)
        out = await h.advance(to="2026-03-16T09:00:00+08:00")  # Monday 09:00: the weekly report
        report = [t for t in texts(out) if t.startswith("🗓")]
        assert len(report) == 1
        mood = [s for s in report[0].split("\n\n") if s.startswith("🌡")]
        assert len(mood) == 1
        first, topics = mood[0].split("\n")
        # The sour week against the happy one: every message negative, the average down 1.34.
        assert first == "🌡 群情绪：-0.99（−1 到 +1；21 条消息中 21 条负面），比上一期 -1.34"
        assert topics.startswith("😟 负面话题：客服")
        lines = texts(await h.say("demo", "max", "/stats", role="moderator"))[0].splitlines()
        assert [x for x in lines if x.startswith("🌡")] == [first]
        await h.say("demo", "max", "/lang en", role="moderator")
        lines = texts(await h.say("demo", "max", "/stats"))[0].splitlines()
        mood_en = [x for x in lines if x.startswith(("🌡", "😟"))]
        assert (
            mood_en[0] == "🌡 Mood: -0.99 on −1…+1 (21 of 21 messages negative); -1.34 vs the previous period"
        )
        assert mood_en[1].startswith("😟 Most negative topics: 客服")


async def test_no_mood_line_without_scored_messages(tmp_path: Path) -> None:
    async with Harness(tmp_path, clock=START, config={"stats": {"weekly_report": False}}) as h:
        await h.say("demo", "max", "/set desk.mood off", role="moderator")
        await h.say("demo", "a", "今天的活动太棒了")
        await h.advance(timedelta(days=1).total_seconds())
        lines = texts(await h.say("demo", "max", "/stats"))[0].splitlines()
        assert not any(x.startswith("🌡") for x in lines)


# -- complaints from negative messages about the group's products -------------------------------


async def test_strongly_negative_message_naming_a_product_is_a_complaint(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url, clock=START) as h:
        await h.say("demo", "max", "/set desk.product_words 客服, App", role="moderator")
        await h.say("demo", "max", "/set desk.complaint_threshold 1")
        quiet = await h.say("demo", "a", "客服态度恶劣，太让人失望了")  # counted, nobody is told
        assert texts(quiet) == []
        assert texts(await h.say("demo", "b", "客服很耐心，非常满意")) == []  # positive: not counted
        assert texts(await h.say("demo", "c", "活动规则改来改去，感觉被骗了")) == []  # no product word
        await h.say("demo", "a", "客服半天不回消息，太失望了")  # the same member within 10 min: once
        out = await h.say("demo", "d", "The ａｐｐ is awful, I hate this update")  # folded: ａｐｐ
        # The second complaint of the day is over the threshold of 1: level 1.
        assert any(t.startswith("各位，感谢你的反馈。") for t in texts(out))
        assert any("今日投诉已达 2 条" in t for t in texts(out))
        shown = texts(await h.say("demo", "max", "/complaints"))[0].split("\n")
        assert shown[0] == "今日投诉：2 条（超过 1 条触发一级响应）。最近 7 天："
        assert len(shown) == 3
        # Scored once, at once; the flush adds it to the hour without scoring again.
        await h.flush()
        [day] = await get_state(h.services).repos.mood.days(
            await _group_id(h), date(2026, 3, 2), date(2026, 3, 2)
        )
        assert day.messages == 5  # the five members' messages; /set and /complaints are commands
