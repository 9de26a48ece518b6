"""Storage on SQLite always and on PostgreSQL when QUNYOU_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from storage import (
    Database,
    EventLogRepo,
    GroupRepo,
    JobRepo,
    LeaseRepo,
    MemberRepo,
    MessageCountRepo,
    RoleRepo,
    SettingsRepo,
)
from storage.rights import MemberData, Subject

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


async def _group(db: Database, scope: str = "g1") -> int:
    group = await GroupRepo(db).get_or_create(
        platform="console",
        adapter="console",
        scope_id=scope,
        title="G",
        timezone="Asia/Shanghai",
        language="zh-CN",
        now=NOW,
    )
    return group.id


async def test_migrations_are_idempotent(database: Database) -> None:
    await database.migrate()
    await database.migrate()
    assert await JobRepo(database).count() == 0


async def test_groups_and_members_upsert(database: Database) -> None:
    repo = GroupRepo(database)
    gid = await _group(database)
    again = await repo.get_or_create(
        platform="console",
        adapter="console",
        scope_id="g1",
        title="other",
        timezone="UTC",
        language="en",
        now=NOW,
    )
    assert again.id == gid and again.timezone == "Asia/Shanghai"  # first sight wins
    members = MemberRepo(database)
    m = await members.upsert(
        group_id=gid, user_id="u1", display_name="A", username="a", is_bot=False, now=NOW
    )
    m2 = await members.upsert(
        group_id=gid, user_id="u1", display_name="B", username="a", is_bot=False, now=NOW + timedelta(hours=1)
    )
    assert m.id == m2.id and m2.display_name == "B" and m2.first_seen == NOW
    assert m2.last_seen == NOW + timedelta(hours=1)
    assert [x.user_id for x in await members.search(gid, "b")] == ["u1"]
    await members.touch_many([(m.id, NOW + timedelta(days=1))])
    fresh = await members.get(m.id)
    assert fresh is not None and fresh.last_seen == NOW + timedelta(days=1)
    # Forgetting goes through the tables' declarations (storage.rights), the members row too.
    await MemberData(database).forget(Subject(m.id, gid, "u1"))
    gone = await members.get(m.id)
    assert gone is not None and gone.forgotten and gone.display_name == "(forgotten)"
    assert gone.username is None and gone.user_id == f"forgotten:{m.id}"
    assert await members.find(gid, "u1") is None
    await MemberData(database).sweep(m.id, gid)
    assert await members.get(m.id) is None


async def test_chat_migration_keeps_every_row(database: Database) -> None:
    groups = GroupRepo(database)
    gid = await _group(database, "-100")
    await SettingsRepo(database).put(gid, "mod_chat", "x", None, NOW)
    await _group(database, "-200")  # the new id was already seen once, empty
    moved = await groups.migrate_scope("console", "-100", "-200")
    assert moved is not None and moved.id == gid and moved.scope_id == "-200"
    assert await SettingsRepo(database).all_for(gid) == {"mod_chat": "x"}
    assert await groups.find("console", "-100") is None


async def test_settings_and_roles(database: Database) -> None:
    gid = await _group(database)
    settings = SettingsRepo(database)
    await settings.put(gid, "a.b", {"x": [1, "中"]}, "u", NOW)
    await settings.put(gid, "a.b", 5, "u", NOW)
    assert await settings.all_for(gid) == {"a.b": 5}
    await settings.remove(gid, "a.b")
    assert await settings.all_for(gid) == {}
    roles = RoleRepo(database)
    await roles.put(gid, "u1", "moderator", "boss", NOW)
    await roles.put(gid, "u1", "admin", "boss", NOW)
    assert await roles.get(gid, "u1") == "admin"
    assert await roles.remove(gid, "u1") is True
    assert await roles.remove(gid, "u1") is False


async def test_job_claim_is_one_lease_even_when_raced(database: Database) -> None:
    jobs = JobRepo(database)
    at = NOW + timedelta(minutes=5)
    await jobs.put(
        job_id="j1",
        kind="k",
        group_id=None,
        trigger={"type": "at"},
        payload={"n": 1},
        next_run_at=at,
        now=NOW,
    )
    leases = LeaseRepo(database)
    results = await asyncio.gather(
        *(
            leases.claim("j1", at, None, owner=f"w{n}", now=at, lease_until=at + timedelta(minutes=5))
            for n in range(20)
        )
    )
    won = [r for r in results if r is not None]
    assert len(won) == 1
    job = await jobs.get("j1")
    assert job is not None and job.next_run_at is None and job.last_run_at == at and job.payload == {"n": 1}
    # The claim is a lease: open until the run completes, then gone.
    assert await leases.open() == won
    assert await leases.record_sent("j1", at, won[0].owner, "m-1")
    assert [lease.message_id for lease in await leases.open()] == ["m-1"]
    taken = await leases.take_over(won[0], owner="w-next", lease_until=at + timedelta(minutes=10))
    assert taken is not None and taken.attempts == 2 and taken.message_id is None
    # A second taker holding the stale view loses.
    assert await leases.take_over(won[0], owner="w-other", lease_until=at) is None
    assert not await leases.complete("j1", at, won[0].owner)
    assert await leases.complete("j1", at, "w-next")
    assert await leases.open() == []


async def test_activity_counts_add_up(database: Database) -> None:
    gid = await _group(database)
    member = await MemberRepo(database).upsert(
        group_id=gid, user_id="u", display_name="u", username=None, is_bot=False, now=NOW
    )
    repo = MessageCountRepo(database)
    day = date(2026, 3, 2)
    await repo.add([(gid, member.id, day, 3, 1, 0)])
    await repo.add([(gid, member.id, day, 2, 0, 1)])
    assert await repo.for_member(member.id) == [(day, 5, 1, 1)]
    assert await repo.totals(gid, day) == (5, 1)


async def test_event_log_and_high_water(database: Database) -> None:
    log = EventLogRepo(database)
    await log.record(
        [("tg", "1", NOW), ("tg", "1", NOW), ("tg", "2", NOW - timedelta(days=3))], NOW - timedelta(days=1)
    )
    assert await log.recent(NOW - timedelta(hours=1)) == [("tg", "1")]
    await log.set_states([("tg", "high_water", "42")])
    await log.set_states([("tg", "high_water", "43")])
    assert await log.get_state("tg", "high_water") == "43"


async def test_the_whole_bot_runs_on_each_backend(db_url: str, tmp_path: object) -> None:
    from pathlib import Path

    from tests.harness import Harness, texts

    assert isinstance(tmp_path, Path)
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "bob", "hello")
        assert texts(await h.say("demo", "olga", "/promote @bob moderator", role="owner")) == [
            "已将 @bob 设为管理。"
        ]
        await h.say("demo", "bob", "/set language en")
        await h.flush()
        await h.restart()
        assert texts(await h.say("demo", "bob", "/ping")) == ["pong 🏓 I'm here."]
        assert "/status" in texts(await h.say("demo", "bob", "/help"))[0]
