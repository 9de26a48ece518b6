"""The points repository on a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from handlers.checkin.rules import CheckinRules, itemize
from storage.checkin import CheckinRepos, Entry, InsufficientPoints
from storage.rights import MemberData, Subject
from tests.checkin.conftest import T0, World

RULES = CheckinRules()
D0 = date(2026, 3, 2)
STREAK_RULES = [
    ("streak_7", "checkin_streak", 7),
    ("first_message", "messages", 1),
    ("recruiter", "invites", 1),
]


def items(streak: int, rank: int) -> list[tuple[str, int]]:
    return [(i.kind, i.amount) for i in itemize(streak, rank, RULES)]


async def assert_ledger_matches(repo: CheckinRepos) -> None:
    for _, _, balance, total in await repo.ledger.all_balances():
        assert balance == total
        assert balance >= 0


async def test_checkin_once_per_day_with_streak_and_rank(world: World) -> None:
    r = world.repo
    first = await r.checkins.checkin(world.group.id, world.id("alice"), day=D0, at=T0, itemize=items)
    assert first.created and first.streak == 1 and first.rank == 1
    assert first.posting is not None and first.posting.balance == 15
    again = await r.checkins.checkin(world.group.id, world.id("alice"), day=D0, at=T0, itemize=items)
    assert not again.created and again.streak == 1 and again.posting is None
    bob = await r.checkins.checkin(world.group.id, world.id("bob"), day=D0, at=T0, itemize=items)
    assert bob.rank == 2 and bob.posting is not None and bob.posting.balance == 13
    second = await r.checkins.checkin(
        world.group.id,
        world.id("alice"),
        day=D0 + timedelta(days=1),
        at=T0 + timedelta(days=1),
        itemize=items,
    )
    assert second.streak == 2 and second.posting is not None and second.posting.balance == 15 + 12 + 5
    gap = await r.checkins.checkin(
        world.group.id,
        world.id("alice"),
        day=D0 + timedelta(days=3),
        at=T0 + timedelta(days=3),
        itemize=items,
    )
    assert gap.streak == 1
    assert (await r.ledger.balance(world.group.id, world.id("alice"))) == (15 + 17 + 15, 47)
    await assert_ledger_matches(r)


async def test_hundred_concurrent_duplicate_checkins_credit_once(world: World) -> None:
    r = world.repo
    results = await asyncio.gather(
        *(
            r.checkins.checkin(world.group.id, world.id("alice"), day=D0, at=T0, itemize=items)
            for _ in range(100)
        )
    )
    assert sum(1 for x in results if x.created) == 1
    assert all(x.streak == 1 for x in results)
    assert await r.ledger.balance(world.group.id, world.id("alice")) == (15, 15)
    assert len(await r.ledger.history(world.group.id, world.id("alice"), limit=100)) == 2
    await assert_ledger_matches(r)


async def test_streak_badge_awarded_exactly_once(world: World) -> None:
    r = world.repo
    gid, mid = world.group.id, world.id("alice")
    got: list[str] = []
    for n in range(10):
        out = await r.checkins.checkin(
            gid,
            mid,
            day=D0 + timedelta(days=n),
            at=T0 + timedelta(days=n),
            itemize=items,
            badge_rules=STREAK_RULES,
        )
        assert out.posting is not None
        got.extend(out.posting.new_badges)
        if n == 6:
            assert out.posting.new_badges == ("streak_7",)
            assert ("milestone", 50) in out.items
    assert got == ["streak_7"]
    assert list(await r.badges.badges_of(gid, mid)) == ["streak_7"]
    assert not await r.badges.grant_badge(gid, mid, "streak_7", at=T0, actor_id=None)
    assert await r.badges.revoke_badge(gid, mid, "streak_7")
    assert not await r.badges.revoke_badge(gid, mid, "streak_7")


async def test_makeup_repairs_yesterday_only_when_it_can(world: World) -> None:
    r = world.repo
    gid, mid = world.group.id, world.id("alice")
    nothing = await r.checkins.makeup(gid, mid, today=D0, at=T0, cost=50, monthly_limit=2)
    assert nothing.status == "nothing_to_repair"
    for n in range(5):
        await r.checkins.checkin(
            gid, mid, day=D0 + timedelta(days=n), at=T0 + timedelta(days=n), itemize=items
        )
    # Day 5 missed; on day 6 the member checks in first, then repairs day 5.
    d6 = D0 + timedelta(days=6)
    await r.checkins.checkin(gid, mid, day=d6, at=T0 + timedelta(days=6), itemize=items)
    bal_before, _ = await r.ledger.balance(gid, mid)
    ok = await r.checkins.makeup(gid, mid, today=d6, at=T0 + timedelta(days=6), cost=50, monthly_limit=2)
    assert ok.ok and ok.detail["streak"] == 7
    assert ok.posting is not None and ok.posting.balance == bal_before - 50
    status = await r.checkins.checkin_status(gid, mid, d6)
    assert status.today and status.streak == 7
    days = await r.checkins.checkin_days(gid, mid, D0, D0 + timedelta(days=30))
    assert days[D0 + timedelta(days=5)] is True and days[d6] is False
    assert (
        await r.checkins.makeup(gid, mid, today=d6, at=T0, cost=50, monthly_limit=2)
    ).status == "nothing_to_repair"
    await assert_ledger_matches(r)


async def test_makeup_monthly_limit_and_not_enough(world: World) -> None:
    r = world.repo
    gid, mid = world.group.id, world.id("alice")

    async def miss_and_repair(start: int) -> str:
        await r.checkins.checkin(gid, mid, day=D0 + timedelta(days=start), at=T0, itemize=items)
        out = await r.checkins.makeup(
            gid, mid, today=D0 + timedelta(days=start + 2), at=T0, cost=50, monthly_limit=2
        )
        return out.status

    await r.ledger.post(gid, mid, [Entry(500, "admin", True)], at=T0, day=D0)
    assert await miss_and_repair(0) == "ok"
    assert await miss_and_repair(5) == "ok"
    assert await miss_and_repair(10) == "limit"
    poor = world.id("bob")
    await r.checkins.checkin(gid, poor, day=D0, at=T0, itemize=items)
    out = await r.checkins.makeup(gid, poor, today=D0 + timedelta(days=2), at=T0, cost=50, monthly_limit=2)
    assert out.status == "not_enough" and out.detail["balance"] == 13
    assert await r.checkins.checkin_days(gid, poor, D0, D0 + timedelta(days=3)) == {D0: False}
    await assert_ledger_matches(r)


async def test_transfer_rules(world: World) -> None:
    r = world.repo
    gid, a, b = world.group.id, world.id("alice"), world.id("bob")
    await r.ledger.post(gid, a, [Entry(300, "admin", True)], at=T0, day=D0)
    assert (await r.ledger.transfer(gid, a, b, 150, at=T0, day=D0, daily_cap=200)).ok
    over = await r.ledger.transfer(gid, a, b, 60, at=T0, day=D0, daily_cap=200)
    assert over.status == "over_cap" and over.detail["sent"] == 150
    assert (await r.ledger.transfer(gid, a, b, 50, at=T0, day=D0, daily_cap=200)).ok
    assert (
        await r.ledger.transfer(gid, a, b, 101, at=T0, day=D0 + timedelta(days=1), daily_cap=200)
    ).status == "not_enough"
    assert await r.ledger.balance(gid, a) == (100, 300)
    # Incoming transfers are not "earned": bob's level and rank do not move.
    assert await r.ledger.balance(gid, b) == (200, 0)
    await assert_ledger_matches(r)


async def test_spend_never_goes_negative(world: World) -> None:
    r = world.repo
    gid, a = world.group.id, world.id("alice")
    await r.ledger.post(gid, a, [Entry(10, "admin", True)], at=T0, day=D0)
    try:
        await r.ledger.post(gid, a, [Entry(-11, "admin", True)], at=T0, day=D0)
    except InsufficientPoints as exc:
        assert exc.balance == 10
    else:
        raise AssertionError("a spend below zero was accepted")
    assert await r.ledger.balance(gid, a) == (10, 10)
    assert len(await r.ledger.history(gid, a)) == 1


async def test_shop_redeem_paths(world: World) -> None:
    r = world.repo
    gid, a, b = world.group.id, world.id("alice"), world.id("bob")
    item = await r.shop.add_item(gid, "贴纸", 30, 2, 1, at=T0)
    await r.ledger.post(gid, a, [Entry(100, "admin", True)], at=T0, day=D0)
    await r.ledger.post(gid, b, [Entry(100, "admin", True)], at=T0, day=D0)
    assert (await r.shop.redeem(gid, a, 9999, at=T0, day=D0)).status == "unknown"
    ok = await r.shop.redeem(gid, a, item.id, at=T0, day=D0)
    assert ok.ok and ok.detail["stock"] == 1 and ok.posting is not None and ok.posting.balance == 70
    assert (await r.shop.redeem(gid, a, item.id, at=T0, day=D0)).status == "over_limit"
    assert (await r.shop.redeem(gid, b, item.id, at=T0, day=D0)).ok
    assert (await r.shop.redeem(gid, b, item.id, at=T0, day=D0)).status == "sold_out"
    pricey = await r.shop.add_item(gid, "T恤", 1000, 5, None, at=T0)
    poor = await r.shop.redeem(gid, a, pricey.id, at=T0, day=D0)
    assert poor.status == "not_enough" and poor.detail == {"cost": 1000, "balance": 70}
    assert [i.stock for i in await r.shop.items(gid)] == [0, 5]
    assert len(await r.shop.redemptions(gid, open_only=True)) == 2
    rid = ok.detail["redemption"]
    done = await r.shop.complete_redemption(gid, rid, at=T0, by=b)
    assert done is not None and done.status == "done"
    assert await r.shop.complete_redemption(gid, rid, at=T0, by=b) is None
    assert len(await r.shop.redemptions(gid, open_only=True)) == 1
    assert await r.shop.remove_item(gid, pricey.id)
    assert (await r.shop.redeem(gid, a, pricey.id, at=T0, day=D0)).status == "unknown"
    await assert_ledger_matches(r)


async def test_referral_credit_and_clawback(world: World) -> None:
    r = world.repo
    gid, inviter, invitee, other = world.group.id, world.id("alice"), world.id("bob"), world.id("carol")
    assert await r.referrals.record_invite(gid, invitee, inviter, at=T0)
    assert not await r.referrals.record_invite(gid, invitee, other, at=T0)  # referred once only
    assert await r.referrals.pending_invitees() == {(gid, invitee)}
    paid = await r.referrals.credit_referral(gid, invitee, 20, at=T0, day=D0, badge_rules=STREAK_RULES)
    assert (
        paid is not None
        and paid.member_id == inviter
        and paid.balance == 20
        and paid.new_badges == ("recruiter",)
    )
    assert await r.referrals.credit_referral(gid, invitee, 20, at=T0, day=D0) is None
    back = await r.referrals.settle_leave(
        gid, invitee, at=T0 + timedelta(days=3), day=D0, window=timedelta(days=7)
    )
    assert back is not None and back.balance == 0
    assert (await r.badges.counters(gid, inviter, D0))["invites"] == 0
    # Leaving after the window keeps the reward.
    assert await r.referrals.record_invite(gid, other, inviter, at=T0)
    await r.referrals.credit_referral(gid, other, 20, at=T0, day=D0)
    assert (
        await r.referrals.settle_leave(
            gid, other, at=T0 + timedelta(days=8), day=D0, window=timedelta(days=7)
        )
        is None
    )
    assert (await r.ledger.balance(gid, inviter))[0] == 20
    await assert_ledger_matches(r)


async def test_activity_flush_respects_daily_cap_and_counts_messages(world: World) -> None:
    from storage.checkin import ActivityCredit

    r = world.repo
    gid, a = world.group.id, world.id("alice")
    out = await r.activity.flush_activity(
        [ActivityCredit(gid, a, D0, 15, 40, T0, 20)], badge_rules=STREAK_RULES
    )
    assert out[0].balance == 15 and out[0].new_badges == ("first_message",)
    out = await r.activity.flush_activity(
        [ActivityCredit(gid, a, D0, 15, 10, T0, 20)], badge_rules=STREAK_RULES
    )
    assert out[0].balance == 20 and out[0].new_badges == ()
    assert (await r.badges.counters(gid, a, D0))["messages"] == 50
    out = await r.activity.flush_activity([ActivityCredit(gid, a, D0 + timedelta(days=1), 3, 1, T0, 20)])
    assert out[0].balance == 23
    await assert_ledger_matches(r)


async def test_leaderboard_counts_earning_and_breaks_ties_by_first_arrival(world: World) -> None:
    r = world.repo
    gid, a, b, c = world.group.id, world.id("alice"), world.id("bob"), world.id("carol")
    await r.ledger.post(gid, b, [Entry(40, "admin", True)], at=T0, day=D0)
    day1 = T0 + timedelta(days=1)
    await r.ledger.post(gid, a, [Entry(40, "admin", True)], at=day1, day=D0 + timedelta(days=1))
    await r.ledger.post(
        gid, c, [Entry(10, "checkin", True)], at=T0 - timedelta(days=10), day=D0 - timedelta(days=10)
    )
    item = await r.shop.add_item(gid, "x", 30, 5, None, at=T0)
    await r.shop.redeem(gid, a, item.id, at=day1, day=D0 + timedelta(days=1))  # spending does not lower rank
    board = await r.ledger.leaderboard(gid, since=D0)
    assert board == [(b, 40), (a, 40)]
    assert await r.ledger.leaderboard(gid, since=None) == [(b, 40), (a, 40), (c, 10)]
    assert await r.ledger.rank_of(gid, a, D0) == (2, 40)
    assert await r.ledger.rank_of(gid, c, D0) is None


async def test_export_and_delete_member(world: World) -> None:
    r = world.repo
    gid, a = world.group.id, world.id("alice")
    await r.checkins.checkin(gid, a, day=D0, at=T0, itemize=items, badge_rules=STREAK_RULES)
    await r.badges.bump_counter(gid, a, "messages", 3, at=T0, day=D0, badge_rules=STREAK_RULES)
    who = Subject(a, gid, "alice")
    data = await MemberData(world.db).export(who)
    assert [(row["balance"], row["earned"]) for row in data["points_balances"]] == [(15, 15)]
    assert len(data["points_ledger"]) == 2 and data["member_badges"][0]["badge_key"] == "first_message"
    assert {"checkins", "member_counters", "members"} <= set(data)
    await MemberData(world.db).forget(who)
    left = await MemberData(world.db).export(Subject(a, gid, None))
    assert set(left) == {"members"} and left["members"][0]["user_id"] == f"forgotten:{a}"


async def test_simultaneous_checkins_of_many_members_get_distinct_ranks(world: World) -> None:
    from tests.checkin.conftest import make_world

    crowd = await make_world(world.db, [f"m{i}" for i in range(20)])
    r = crowd.repo
    results = await asyncio.gather(
        *(
            r.checkins.checkin(crowd.group.id, m.id, day=D0, at=T0, itemize=items)
            for m in crowd.members.values()
        )
    )
    assert sorted(x.rank for x in results if x.rank is not None) == list(range(1, 21))
    assert all(x.created for x in results)
    await assert_ledger_matches(r)


async def test_crossed_transfers_at_once_neither_deadlock_nor_lose_points(world: World) -> None:
    r = world.repo
    gid, a, b = world.group.id, world.id("alice"), world.id("bob")
    await r.ledger.post(gid, a, [Entry(1000, "admin", True)], at=T0, day=D0)
    await r.ledger.post(gid, b, [Entry(1000, "admin", True)], at=T0, day=D0)
    outcomes = await asyncio.gather(
        *(
            r.ledger.transfer(gid, *((a, b) if i % 2 else (b, a)), 5, at=T0, day=D0, daily_cap=10_000)
            for i in range(40)
        )
    )
    assert all(o.ok for o in outcomes)
    assert (await r.ledger.balance(gid, a))[0] + (await r.ledger.balance(gid, b))[0] == 2000
    await assert_ledger_matches(r)
