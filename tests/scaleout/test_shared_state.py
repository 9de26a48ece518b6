"""In-memory state that must hold across workers (docs/scale-out.md, "State in memory"): two
apps (two engines, two worker names) on one PostgreSQL database, through the console harness.

* Raid mode started on one worker is on in the other at its next event there, and ended on the
  other is off in the first (LISTEN/NOTIFY after the raid book's flush, rows read back on use).
* Joins are counted across workers: a surge split over two starts one raid.
* An FAQ answer's cooldown is claimed in the database: the second worker, whose memory says
  the cooldown ran out, does not answer again within the first one's.
* Role grants (``/promote``) and a group's language, cached per worker, are dropped from the
  other worker's cache by NOTIFY.
* A topic posted by one worker earns points for replies the other receives; a newcomer
  onboarded by one worker who speaks on the other has spoken.
* One worker on SQLite keeps its own memory: no shared claims, no raid sync, no round trips.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from handlers.antispam.raid_sync import sync_of
from tests.antispam.test_probation import of, public
from tests.desk.test_faq import answers
from tests.harness import Harness, sends, texts


async def _until(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Wall time, bounded: a notification arrives on the listening connection asynchronously."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if check():
            return True
        await asyncio.sleep(0.02)
    return check()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_raid_on_one_worker_is_on_in_the_other_at_its_next_event(tmp_path: Path, db_url: str) -> None:
    async with (
        Harness(tmp_path / "one", db_url=db_url) as one,
        Harness(tmp_path / "two", db_url=db_url) as two,
    ):
        await one.say("demo", "max", "hi", role="moderator")
        await two.say("demo", "reg", "hello everyone")
        sync_two, sync_one = sync_of(two.services), sync_of(one.services)
        assert sync_one is not None and sync_two is not None

        out = await one.say("demo", "max", "/raid on", role="moderator")
        assert len([t for t in public(out) if t.startswith("🛡")]) == 1
        await one.flush()  # the batcher's second: the raid is written, then told
        assert await _until(lambda: sync_two.received >= 1), "the second worker was not told"

        # The very next event on the second worker: a joiner muted, no welcome, no second notice.
        joined = await two.join("demo", "newbie")
        assert [r["user"] for r in of(joined, "mute")] == ["newbie"]
        assert public(joined) == []
        assert texts(await two.say("demo", "max", "/raid", role="moderator")) == [
            "防护模式开启中，已移除 0 个账号。/raid off 可结束。"
        ]

        # Ended on the second worker: the closing notice there once, and off on the first.
        out = await two.say("demo", "max", "/raid off", role="moderator")
        assert len([t for t in public(out) if t.startswith("✅")]) == 1
        await two.flush()
        assert await _until(lambda: sync_one.received >= 1), "the first worker was not told"
        late = await one.join("demo", "late")
        assert of(late, "mute") == []
        assert texts(await one.say("demo", "max", "/raid", role="moderator")) == ["防护模式未开启。"]
        # Nothing left to tell back and forth: each told the other once.
        await one.flush()
        await two.flush()
        assert (sync_one.told_count, sync_two.told_count) == (1, 1)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_surge_split_over_two_workers_starts_one_raid(tmp_path: Path, db_url: str) -> None:
    async with (
        Harness(tmp_path / "one", db_url=db_url) as one,
        Harness(tmp_path / "two", db_url=db_url) as two,
    ):
        await one.say("demo", "max", "hi", role="moderator")
        await two.say("demo", "reg", "hello everyone")
        out: list[dict] = []
        for i in range(10):  # raid_joins = 10 in the minute: five on each worker
            out += await (one if i % 2 == 0 else two).join("demo", f"r{i}")
        assert len([t for t in public(out) if t.startswith("🛡")]) == 1  # started once, by the 10th
        assert [r["user"] for r in of(out, "mute")] == ["r9"]
        sync_one = sync_of(one.services)
        assert sync_one is not None
        assert await _until(lambda: sync_one.received >= 1), "the first worker was not told"
        late = await one.join("demo", "late")
        assert [r["user"] for r in of(late, "mute")] == ["late"]
        assert [t for t in public(late) if t.startswith("🛡")] == []


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_an_faq_cooldown_holds_across_workers(tmp_path: Path, db_url: str) -> None:
    async with (
        Harness(tmp_path / "one", db_url=db_url) as one,
        Harness(tmp_path / "two", db_url=db_url) as two,
    ):
        await one.say("demo", "max", "/faq add 签到 | 发送 /checkin 即可", role="moderator")
        # The second worker answers first, and remembers when (its own cooldown cache).
        assert [r["text"] for r in answers(await two.say("demo", "bob", "怎么签到"))] == [
            "发送 /checkin 即可"
        ]
        assert answers(await one.say("demo", "ann", "签到在哪")) == []  # within two's cooldown
        await one.advance(61)
        await two.advance(61)
        # Past it, the first worker answers and claims the next 60 s for both.
        assert [r["text"] for r in answers(await one.say("demo", "cat", "签到呢"))] == ["发送 /checkin 即可"]
        # The second one's memory says its last answer was 61 s ago: only the claim stops it.
        assert answers(await two.say("demo", "dan", "签到怎么弄")) == []
        assert two.services.cooldowns.lost == 1
        assert answers(await two.say("demo", "eve", "签到？")) == []  # known now: no round trip
        assert two.services.cooldowns.lost == 1
        await one.advance(61)
        await two.advance(61)
        assert [r["text"] for r in answers(await two.say("demo", "fay", "签到要怎么做"))] == [
            "发送 /checkin 即可"
        ]


async def test_one_worker_on_sqlite_shares_nothing(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await h.say("demo", "max", "/faq add 签到 | 发送 /checkin 即可", role="moderator")
        assert answers(await h.say("demo", "bob", "怎么签到"))
        assert answers(await h.say("demo", "ann", "签到在哪")) == []  # its own memory decides
        assert not h.services.cooldowns.shared and h.services.cooldowns.asked == 0
        assert sync_of(h.services) is None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_grants_and_group_language_reach_the_other_workers_cache(tmp_path: Path, db_url: str) -> None:
    async with (
        Harness(tmp_path / "one", db_url=db_url) as one,
        Harness(tmp_path / "two", db_url=db_url) as two,
    ):
        await one.say("demo", "olga", "hello", role="owner")
        # The second worker caches the group (its language) and its grants (none yet).
        assert texts(await two.say("demo", "bob", "/raid")) == ["抱歉，这个命令只有管理员可以使用。"]
        told = two.services.changes.received
        await one.say("demo", "olga", "/promote @bob moderator", role="owner")
        assert await _until(lambda: two.services.changes.received > told), "grants not told"
        assert texts(await two.say("demo", "bob", "/raid")) == ["防护模式未开启。"]
        told = two.services.changes.received
        await one.say("demo", "olga", "/set language en", role="owner")
        assert await _until(lambda: two.services.changes.received > told), "language not told"
        assert texts(await two.say("demo", "bob", "/raid")) == ["Raid mode is off."]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_faq_entries_approvals_and_spam_samples_reach_the_other_worker(
    tmp_path: Path, db_url: str
) -> None:
    async with (
        Harness(tmp_path / "one", db_url=db_url) as one,
        Harness(tmp_path / "two", db_url=db_url) as two,
    ):
        await one.say("demo", "max", "hello", role="moderator")
        # The second worker caches the group's (empty) FAQ and its (no) spam samples.
        assert answers(await two.say("demo", "bob", "怎么签到")) == []
        assert of(await two.say("demo", "bob", "今天的会议改到下午三点"), "delete") == []

        async def told_after(action: Callable[[], object]) -> None:
            before = two.services.changes.received
            await action()  # type: ignore[misc]
            assert await _until(lambda: two.services.changes.received > before), "not told"

        await told_after(
            lambda: one.say("demo", "max", "/faq add 签到 | 发送 /checkin 即可", role="moderator")
        )
        assert [r["text"] for r in answers(await two.say("demo", "ann", "签到在哪"))] == [
            "发送 /checkin 即可"
        ]

        await one.join("demo", "newbie")
        await one.flush()  # the probation row is written with the batcher's second
        assert of(await two.say("demo", "newbie", "see example.com"), "delete")  # on probation there
        await told_after(lambda: one.say("demo", "max", "/approve @newbie", role="moderator"))
        assert of(await two.say("demo", "newbie", "see example.com"), "delete") == []
        # A re-join on the second worker starts probation from its memory of approvals.
        await two.leave("demo", "newbie")
        await two.join("demo", "newbie")
        await two.flush()
        assert of(await two.say("demo", "newbie", "see example.com"), "delete") == []

        spam = await one.say("demo", "s1", "💰日赚500 加V: fuli388 💰 名额有限速来")
        await told_after(lambda: one.say("demo", "max", "/spam", role="moderator", reply_to=spam[0]["id"]))
        again = await two.say("demo", "s9", "💰日赚600 加V: fuli388 💰 名额有限速来")
        assert of(again, "delete") and of(again, "ban")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_topic_posts_and_newcomers_reach_the_other_worker(tmp_path: Path, db_url: str) -> None:
    async with (
        Harness(tmp_path / "one", db_url=db_url) as one,
        Harness(tmp_path / "two", db_url=db_url) as two,
    ):
        await one.say("demo", "max", "/set welcome.onboarding on", role="moderator")
        await two.say("demo", "bob", "a reply to nothing special", reply_to="1")  # caches the post ids
        group = await two.services.groups.find("console", "demo")
        assert group is not None
        posts = two.services.state["topics"].topic_messages
        assert group.id in posts
        topic = sends(await one.say("demo", "alice", "/topic"))[0]["id"]
        assert await _until(lambda: group.id not in posts), "the post was not told"
        await two.say("demo", "bob", "my answer to the topic", reply_to=topic)
        assert texts(await two.say("demo", "bob", "/points"))[0].split("\n")[0].endswith("余额 2，累计获得 2")

        await one.join("demo", "newbie")
        member = await two.services.members.find(group.id, "newbie")
        assert member is not None
        pending = two.services.state["welcome"].pending
        assert await _until(lambda: (group.id, member.id) in pending), "the newcomer was not told"
        await two.say("demo", "newbie", "大家好，我是新来的")
        assert (group.id, member.id) not in pending  # spoke: the "introduce yourself" nudge is skipped
