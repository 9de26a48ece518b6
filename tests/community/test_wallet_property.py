"""Property: for any sequence of link, unlink, credit, spend, transfer and check-in across a
community's chats, every balance equals the sum of its ledger, never goes below zero, merges
and splits create or destroy nothing, and a person's linked accounts show one balance.

Driven through the real core (console protocol with ``platform``) on SQLite; a handful of
examples also on PostgreSQL when a DSN is given.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from handlers.checkin.state import state
from storage.checkin.tables import points_ledger
from tests.community.test_communities import EN, code_in, said, say
from tests.conftest import POSTGRES_ENV, _create_pg_database, _drop_pg_database
from tests.harness import Harness

#: (platform, chat, user): three accounts of Ann's on three platforms, and two other people.
ACCOUNTS = [
    ("telegram", "tg", "ann"),
    ("discord", "dc", "ann_d"),
    ("onebot", "qq", "ann_q"),
    ("telegram", "tg", "bob"),
    ("discord", "dc", "cat"),
]
MODERATOR = {"tg": ("telegram", "mod_t"), "dc": ("discord", "mod_d"), "qq": ("onebot", "mod_q")}
#: Ledger kinds that only move points between balances.
MOVES = ("merge_in", "merge_out", "split_in", "split_out", "transfer")
#: Pairs of accounts sharing a chat, for /give.
SAME_CHAT = [(0, 3), (3, 0), (1, 4), (4, 1)]

account = st.integers(0, len(ACCOUNTS) - 1)
amount = st.integers(1, 60)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("link"), account, account),
        st.tuples(st.just("unlink"), account),
        st.tuples(st.just("credit"), account, amount),
        st.tuples(st.just("spend"), account, amount),
        st.tuples(st.just("transfer"), st.sampled_from(SAME_CHAT), amount),
        st.tuples(st.just("checkin"), account),
        st.tuples(st.just("day")),
    ),
    min_size=1,
    max_size=12,
)


async def points_of(h: Harness, i: int) -> int:
    platform, chat, user = ACCOUNTS[i]
    text = said(await say(h, platform, chat, user, "/points"))[0]
    found = re.search(r"balance (\d+)", text)
    assert found, text
    return int(found.group(1))


async def check(h: Harness, credited: int) -> None:
    repos = state(h.services).repos
    rows = await repos.ledger.all_balances()
    for _g, _m, held, total in rows:
        assert held == total >= 0
    async with h.services.db.begin() as conn:
        # Merges, splits and transfers only move points: each kind nets to zero.
        for kinds in (MOVES[:2], MOVES[2:4], MOVES[4:]):
            moved = (
                await conn.execute(
                    select(func.coalesce(func.sum(points_ledger.c.delta), 0)).where(
                        points_ledger.c.kind.in_(kinds)
                    )
                )
            ).scalar_one()
            assert moved == 0, kinds
        made = (
            await conn.execute(
                select(func.coalesce(func.sum(points_ledger.c.delta), 0)).where(
                    points_ledger.c.kind.not_in(MOVES)
                )
            )
        ).scalar_one()
        adjusted = (
            await conn.execute(
                select(func.coalesce(func.sum(points_ledger.c.delta), 0)).where(
                    points_ledger.c.kind == "admin"
                )
            )
        ).scalar_one()
    # Nothing lost, nothing made: the balances hold exactly what was earned and spent, and the
    # moderators' adjustments are exactly the ones that were answered as done.
    assert sum(r[2] for r in rows) == made
    assert adjusted == credited
    # Ann's linked accounts show one balance.
    links = [said(await h.line(type="dm", platform=p, user=u, text="/link"))[1] for p, _c, u in ACCOUNTS[:3]]
    seen = [await points_of(h, i) for i in range(3)]
    held = {(g, m): b for g, m, b, _t in await repos.ledger.all_balances()}
    for i in range(3):
        together = [j for j in range(3) if j == i or f"{ACCOUNTS[j][0]}:{ACCOUNTS[j][2]}" in links[i]]
        # Every account of the person shows the same balance, and it is all they hold: no
        # membership keeps points the others cannot see.
        assert {seen[j] for j in together} == {seen[i]}, (links, seen)
        members = [
            m
            for j in together
            for m in await h.services.members.for_account(
                ACCOUNTS[j][0], f"{ACCOUNTS[j][0]}:{ACCOUNTS[j][2]}"
            )
        ]
        assert sum(held.get((m.group_id, m.id), 0) for m in members) == seen[i], (links, seen)


async def run(script: list[tuple], db_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with Harness(Path(tmp), db_url=db_url, config=EN) as h:
            created = said(await say(h, "telegram", "tg", "mod_t", "/community create C", role="owner"))
            await say(h, "discord", "dc", "mod_d", "/community join " + code_in(created, "C"), role="owner")
            invite = said(await say(h, "telegram", "tg", "mod_t", "/community invite"))
            await say(h, "onebot", "qq", "mod_q", "/community join " + code_in(invite, "C"), role="owner")
            for platform, chat, user in ACCOUNTS:
                await say(h, platform, chat, user, "hello")
            credited = 0
            for op in script:
                if op[0] == "link" and op[1] != op[2]:
                    a, b = ACCOUNTS[op[1]], ACCOUNTS[op[2]]
                    sent = await h.line(type="dm", platform=a[0], user=a[2], text="/link")
                    code = code_in(said(sent), "L")
                    await h.line(type="dm", platform=b[0], user=b[2], text=f"/link {code}")
                elif op[0] == "unlink":
                    platform, _chat, user = ACCOUNTS[op[1]]
                    await h.line(type="dm", platform=platform, user=user, text="/unlink")
                elif op[0] in ("credit", "spend"):
                    platform, chat, user = ACCOUNTS[op[1]]
                    verb = "give" if op[0] == "credit" else "take"
                    mod_platform, mod = MODERATOR[chat]
                    reply = said(await say(h, mod_platform, chat, mod, f"/points {verb} @{user} {op[2]}"))[0]
                    if op[0] == "credit":
                        credited += op[2]
                    elif "cannot take" not in reply:
                        credited -= op[2]
                elif op[0] == "transfer":
                    (i, j), n = op[1], op[2]
                    platform, chat, user = ACCOUNTS[i]
                    await say(h, platform, chat, user, f"/give @{ACCOUNTS[j][2]} {n}")
                elif op[0] == "checkin":
                    platform, chat, user = ACCOUNTS[op[1]]
                    await say(h, platform, chat, user, "/checkin")
                elif op[0] == "day":
                    await h.advance(24 * 3600)
                await check(h, credited)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=ops)
def test_every_balance_is_the_sum_of_its_ledger_on_sqlite(script: list[tuple]) -> None:
    asyncio.run(run(script, None))


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=ops)
def test_every_balance_is_the_sum_of_its_ledger_on_postgresql(script: list[tuple]) -> None:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        return  # the SQLite property above still runs; CI gives a DSN

    async def on_a_fresh_database() -> None:
        # A throwaway database per example, as the db_url fixture makes one per test.
        url, name = await _create_pg_database(base)
        try:
            await run(script, url)
        finally:
            await _drop_pg_database(base, name)

    asyncio.run(on_a_fresh_database())
