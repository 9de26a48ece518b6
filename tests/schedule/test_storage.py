"""The feature's repositories on a real, migrated database (SQLite; PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest

from storage import Database, GroupRepo, MemberRepo
from storage.activities import ActivitiesRepo
from storage.models import Group, Member
from storage.schedules import ScheduleRepo
from storage.topics import TopicRepo
from storage.topics_views import TopicsViews

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
async def db(database: Database) -> AsyncIterator[Database]:
    """The shared migrated database: SQLite, and PostgreSQL when a DSN is given."""
    yield database


async def group_and_members(db: Database, n: int) -> tuple[Group, list[Member]]:
    group = await GroupRepo(db).get_or_create(
        platform="console",
        adapter="console",
        scope_id="demo",
        title="demo",
        timezone="Asia/Shanghai",
        language="zh-CN",
        now=NOW,
    )
    repo = MemberRepo(db)
    people = [
        await repo.upsert(
            group_id=group.id, user_id=f"u{i}", display_name=f"U{i}", username=None, is_bot=False, now=NOW
        )
        for i in range(n)
    ]
    return group, people


async def test_topic_rotation_is_least_recently_used(db: Database) -> None:
    group, _ = await group_and_members(db, 0)
    repo = TopicRepo(db)
    assert await repo.seed(group.id, ["a", "b", "c"], NOW)
    assert not await repo.seed(group.id, ["a", "b", "c"], NOW)  # only once
    seen = []
    for i in range(6):
        topic = await repo.take_next(group.id, NOW + timedelta(days=i))
        assert topic is not None
        seen.append(topic.text)
    assert seen == ["a", "b", "c", "a", "b", "c"]
    added = await repo.add(group.id, "d", "custom", None, NOW)
    nxt = await repo.take_next(group.id, NOW + timedelta(days=7))
    assert nxt is not None and nxt.id == added.id  # never used comes first
    assert await repo.delete(group.id, added.id)
    assert not await repo.delete(group.id, added.id)


async def test_empty_bank_gives_none(db: Database) -> None:
    group, _ = await group_and_members(db, 0)
    assert await TopicRepo(db).take_next(group.id, NOW) is None


async def test_topic_reply_cap(db: Database) -> None:
    group, people = await group_and_members(db, 1)
    repo = TopicRepo(db)
    topic = await repo.add(group.id, "t", "custom", None, NOW)
    post = await repo.record_post(group.id, topic, "demo", NOW, date(2026, 3, 2))
    await repo.set_post_message(post.id, "m1")
    assert (await repo.post_by_message(group.id, "m1")) == await repo.post_for_day(group.id, date(2026, 3, 2))
    earned = [await repo.count_reply(post.id, people[0].id, 3) for _ in range(5)]
    assert earned == [True, True, True, False, False]
    assert await TopicsViews(db).replies_by(people[0].id) == 3


async def test_suggestion_decided_once(db: Database) -> None:
    group, people = await group_and_members(db, 1)
    repo = TopicRepo(db)
    sug = await repo.suggest(group.id, people[0].id, "idea", NOW)
    first = await repo.decide(sug.id, True, "mod", NOW)
    assert first is not None and first[1] is not None and first[1].text == "idea"
    assert first[0].status == "approved"
    assert await repo.decide(sug.id, False, "mod2", NOW) is None
    assert await repo.count(group.id) == 1


async def test_waitlist_promotes_in_order(db: Database) -> None:
    group, people = await group_and_members(db, 4)
    repo = ActivitiesRepo(db)
    act = await repo.add(
        group_id=group.id,
        channel_id="demo",
        thread_id=None,
        title="t",
        description="",
        start_at=NOW + timedelta(days=1),
        duration_s=7200,
        capacity=2,
        created_by=None,
        now=NOW,
    )
    outcomes = [(await repo.join(act.id, m.id, NOW)) for m in people]
    assert [o.outcome for o in outcomes] == ["going", "going", "waiting", "waiting"]
    assert [o.position for o in outcomes[2:]] == [1, 2]
    again = await repo.join(act.id, people[3].id, NOW)
    assert (again.outcome, again.position) == ("already_waiting", 2)
    left = await repo.leave(act.id, people[0].id)
    assert left.outcome == "left" and left.promoted is not None and left.promoted.id == people[2].id
    statuses = {r.member.id: r.status for r in await repo.rsvps(act.id)}
    assert statuses == {people[1].id: "going", people[2].id: "going", people[3].id: "waiting"}
    assert (await repo.leave(act.id, people[3].id)).outcome == "left_waitlist"
    assert (await repo.leave(act.id, people[3].id)).outcome == "not_joined"
    assert await repo.cancel(group.id, act.id)
    assert (await repo.join(act.id, people[0].id, NOW)).outcome == "closed"


async def test_attendance_and_ratings(db: Database) -> None:
    group, people = await group_and_members(db, 2)
    repo = ActivitiesRepo(db)
    act = await repo.add(
        group_id=group.id,
        channel_id="demo",
        thread_id=None,
        title="t",
        description="",
        start_at=NOW,
        duration_s=3600,
        capacity=None,
        created_by=None,
        now=NOW,
    )
    assert await repo.attend(act.id, people[0].id, NOW)
    assert not await repo.attend(act.id, people[0].id, NOW)
    assert await repo.attended_count(people[0].id) == 1
    assert await repo.rate(act.id, people[0].id, 5, NOW)
    assert not await repo.rate(act.id, people[0].id, 4, NOW)  # changed, not added
    assert await repo.rate(act.id, people[1].id, 2, NOW)
    assert await repo.rating_summary(act.id) == (2, 3.0)


async def test_schedule_duplicates_and_wall_time_guard(db: Database) -> None:
    group, _ = await group_and_members(db, 0)
    repo = ScheduleRepo(db)
    kw = dict(
        group_id=group.id,
        channel_id="demo",
        thread_id=None,
        when_text="daily 09:00",
        spec={"minute": "0"},
        text="hi",
        urgent=False,
        created_by="mod",
        now=NOW,
    )
    post = await repo.add(**kw)  # type: ignore[arg-type]
    assert post is not None
    assert await repo.add(**kw) is None  # type: ignore[arg-type]
    assert await repo.mark_posted(post.id, "2026-10-25T02:30", False)
    assert not await repo.mark_posted(post.id, "2026-10-25T02:30", False)
    assert await repo.mark_posted(post.id, "2026-10-26T02:30", False)
    assert (await repo.get(post.id)).posts == 2  # type: ignore[union-attr]
    assert await repo.set_paused(group.id, post.id, True)
    assert not await repo.set_paused(group.id, post.id + 99, True)
    assert await repo.delete(group.id, post.id)
