"""Property: whatever members do, every balance equals the sum of its ledger and is never negative."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.checkin.rules import CheckinRules, itemize
from storage.checkin import Entry, InsufficientPoints
from tests.checkin.conftest import BACKENDS, T0, close_db, make_world, open_db

NAMES = ["alice", "bob", "carol"]
member = st.sampled_from(NAMES)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("checkin"), member),
        st.tuples(st.just("day"), st.integers(1, 3)),
        st.tuples(st.just("transfer"), member, member, st.integers(1, 150)),
        st.tuples(st.just("grant"), member, st.integers(-80, 120)),
        st.tuples(st.just("redeem"), member, st.integers(0, 1)),
        st.tuples(st.just("makeup"), member),
    ),
    min_size=1,
    max_size=40,
)


def items(streak: int, rank: int) -> list[tuple[str, int]]:
    return [(i.kind, i.amount) for i in itemize(streak, rank, CheckinRules())]


async def run(kind: str, script: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db, schema = await open_db(kind, Path(tmp))
        try:
            w = await make_world(db, NAMES)
            r, gid = w.repo, w.group.id
            shop = [
                await r.shop.add_item(gid, "cheap", 20, 3, 2, at=T0),
                await r.shop.add_item(gid, "dear", 90, 10, None, at=T0),
            ]
            day = date(2026, 3, 2)
            for op in script:
                at = T0 + (day - date(2026, 3, 2))
                if op[0] == "checkin":
                    await r.checkins.checkin(gid, w.id(op[1]), day=day, at=at, itemize=items)
                elif op[0] == "day":
                    day += timedelta(days=op[1])
                elif op[0] == "transfer" and op[1] != op[2]:
                    await r.ledger.transfer(
                        gid, w.id(op[1]), w.id(op[2]), op[3], at=at, day=day, daily_cap=200
                    )
                elif op[0] == "grant" and op[2] != 0:
                    try:
                        await r.ledger.post(gid, w.id(op[1]), [Entry(op[2], "admin", True)], at=at, day=day)
                    except InsufficientPoints:
                        pass
                elif op[0] == "redeem":
                    await r.shop.redeem(gid, w.id(op[1]), shop[op[2]].id, at=at, day=day)
                elif op[0] == "makeup":
                    await r.checkins.makeup(gid, w.id(op[1]), today=day, at=at, cost=50, monthly_limit=2)
                for _, _, balance, total in await r.ledger.all_balances(gid):
                    assert balance >= 0
                    assert balance == total
        finally:
            await close_db(db, schema)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=ops)
def test_balance_is_sum_of_ledger_and_never_negative(script: list[tuple]) -> None:
    for kind in BACKENDS:
        asyncio.run(run(kind, script))
