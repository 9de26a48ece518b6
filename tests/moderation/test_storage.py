"""The moderation repository on every backend (PostgreSQL when QUNYOU_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from storage import Database, GroupRepo, MemberRepo
from storage.moderation import ModerationRepos
from storage.rights import MemberData, Subject

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


async def _member(database: Database) -> tuple[int, int]:
    group = await GroupRepo(database).get_or_create(
        platform="console", adapter="console", scope_id="demo", title="demo", timezone="Asia/Shanghai",
        language="zh-CN", now=NOW,
    )  # fmt: skip
    member = await MemberRepo(database).upsert(
        group_id=group.id, user_id="bob", display_name="Bob", username="bob", is_bot=False, now=NOW
    )
    return group.id, member.id


async def test_terms_allow_and_stats(database: Database) -> None:
    repo = ModerationRepos(database)
    gid, _ = await _member(database)
    await repo.lexicon.add_terms(gid, [("Free Money", "freemoney", "yellow", "scam", "text")], "max", NOW)
    await repo.lexicon.add_terms(gid, [("free-money", "freemoney", "red", "scam", "text")], "max", NOW)
    (term,) = await repo.lexicon.terms(gid)
    assert (term.term, term.level) == ("free-money", "red")
    assert await repo.lexicon.delete_term(gid, "freemoney") == 1
    assert await repo.lexicon.add_allow(gid, "江阴毛纺厂", "江阴毛纺厂", "max", NOW)
    assert not await repo.lexicon.add_allow(gid, "江阴毛纺厂", "江阴毛纺厂", "max", NOW)
    await repo.lexicon.count_hit(gid, "赌博")
    await repo.lexicon.count_hit(gid, "赌博")
    await repo.lexicon.count_hit(gid, "赌博", false_positive=True)
    stats = (await repo.lexicon.term_stats(gid))["赌博"]
    assert (stats.hits, stats.false_positives) == (2, 1)


async def test_alerts_reports_and_handling(database: Database) -> None:
    repo = ModerationRepos(database)
    gid, mid = await _member(database)
    first = await repo.alerts.add_alert(group_id=gid, kind="hit", now=NOW, level="yellow", member_id=mid)
    second = await repo.alerts.add_alert(group_id=gid, kind="hit", now=NOW, level="yellow", member_id=mid)
    assert [a.id for a in await repo.alerts.unnotified(gid, "hit", "yellow")] == [first, second]
    assert await repo.alerts.last_notified(gid, "hit", "yellow") is None
    await repo.alerts.mark_notified(
        [first, second], NOW, [["console", "console", "demo-mods", "demo-mods", "group", "b1"]]
    )
    assert await repo.alerts.last_notified(gid, "hit", "yellow") == NOW
    report = await repo.alerts.add_alert(group_id=gid, kind="report", now=NOW, message_id="m7")
    assert await repo.alerts.add_reporter(report, "eve")
    assert not await repo.alerts.add_reporter(report, "eve")
    found = await repo.alerts.report_alert_for(gid, "m7")
    assert found is not None and found.reporters == 1
    assert await repo.alerts.handle_alert(report, "resolved", "max", NOW + timedelta(hours=2))
    assert not await repo.alerts.handle_alert(report, "acked", "olga", NOW + timedelta(hours=3))
    assert await repo.alerts.handled_durations(gid, "report", NOW - timedelta(days=7)) == [7200.0]
    assert await repo.alerts.count_alerts(gid, "report", NOW - timedelta(days=1)) == 1


async def test_warnings_credit_sanctions_and_forgetting(database: Database) -> None:
    repo = ModerationRepos(database)
    gid, mid = await _member(database)
    for days in (1, 30):
        count = await repo.sanctions.add_warning(gid, mid, reason=None, category="ads", by="bot", now=NOW,
                                       expires_at=NOW + timedelta(days=days), alert_id=9)  # fmt: skip
    assert count == 2
    assert len(await repo.sanctions.active_warnings(mid, NOW + timedelta(days=2))) == 1
    assert await repo.sanctions.revoke_warnings_of_alert(9, NOW) == 2
    await repo.sanctions.put_credit(mid, gid, 70, date(2026, 3, 2), NOW)
    credit = await repo.sanctions.credit(mid)
    assert credit is not None and (credit.score, credit.recovered_through) == (70, date(2026, 3, 2))
    sid = await repo.sanctions.add_sanction(
        gid, mid, "bob", "mute", NOW + timedelta(minutes=10), NOW, "flood"
    )
    assert [s.id for s in await repo.sanctions.open_sanctions()] == [sid]
    assert await repo.sanctions.close_sanction(sid, NOW)
    assert not await repo.sanctions.close_sanction(sid, NOW)
    await repo.audit.log(gid, NOW, "max", "warn", "x", member_id=mid)
    who = Subject(mid, gid, "bob")
    exported = await MemberData(database).export(who)
    assert exported["mod_credit"][0]["score"] == 70 and len(exported["mod_warnings"]) == 2
    assert await MemberData(database).forget(who) == 0  # the mute was lifted: nothing kept
    assert await repo.sanctions.credit(mid) is None
    assert (await repo.audit.log_rows(gid))[0].member_id is None
    assert set(await MemberData(database).export(who)) == {"members"}  # the anonymous row alone
