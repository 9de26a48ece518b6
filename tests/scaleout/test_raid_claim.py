"""One notice per raid across two workers on one PostgreSQL database (issue 20).

A raid's row (one per group) is claimed before its notice is posted: two workers that start a
raid in the same group at the same moment, before either has told the other, post one notice
between them, and the one whose claim lost joins the other's raid. The surge of spam accounts
caught is counted across workers, as joins are: a wave split over both starts one raid.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from handlers.antispam import raid
from handlers.antispam.raid_sync import sync_of
from tests.antispam.test_duplicates import WAVE
from tests.antispam.test_probation import of, public
from tests.harness import Harness, texts
from tests.scaleout.test_shared_state import _until


def _notices(records: list[dict]) -> list[str]:
    return [t for t in public(records) if t.startswith("🛡")]


async def _setup(one: Harness, two: Harness) -> None:
    await one.say("demo", "max", "hi", role="moderator")
    await two.say("demo", "reg", "hello everyone")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_workers_starting_the_same_raid_at_once_post_one_notice(
    tmp_path: Path, db_url: str
) -> None:
    async with (
        Harness(tmp_path / "one", db_url=db_url) as one,
        Harness(tmp_path / "two", db_url=db_url) as two,
    ):
        await _setup(one, two)
        group_one = next(g for g in await one.services.groups.all() if g.scope_id == "demo")
        group_two = await two.services.groups.get(group_one.id)
        assert group_two is not None
        # Both detect a surge in the same instant (no flush, no notification in between).
        started = await asyncio.gather(
            raid.start(one.services, group_one, "spam"), raid.start(two.services, group_two, "spam")
        )
        out = one.adapter.take() + two.adapter.take()
        assert len(_notices(out)) == 1
        assert len(public(out, "demo-mods")) == 1  # and one alert to the moderators
        first, second = started
        assert first is not None and second is not None
        assert (first.number, first.started_at) == (second.number, second.started_at)
        syncs = sync_of(one.services), sync_of(two.services)
        assert syncs[0] is not None and syncs[1] is not None
        assert syncs[0].lost + syncs[1].lost == 1
        # Both books hold that raid: the next joiner is muted on either worker, with no notice.
        for worker, name in ((one, "j1"), (two, "j2")):
            joined = await worker.join("demo", name)
            assert [r["user"] for r in of(joined, "mute")] == [name]
            assert _notices(joined) == []
        # Written by both, the row keeps the winner's notice and alerts.
        await one.flush()
        await two.flush()
        stored = raid.RaidBook()
        await raid.load(one.services, into=stored)
        kept = stored.raids[group_one.id]
        assert kept.notice is not None and len(kept.alerts) == 1
        assert {"j1", "j2"} <= set(kept.joiners)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_raid_on_typed_on_both_workers_before_either_is_told(tmp_path: Path, db_url: str) -> None:
    async with (
        Harness(tmp_path / "one", db_url=db_url) as one,
        Harness(tmp_path / "two", db_url=db_url) as two,
    ):
        await _setup(one, two)
        first = await one.say("demo", "max", "/raid on", role="moderator")
        second = await two.say("demo", "max", "/raid on", role="moderator")
        assert len(_notices(first)) == 1 and _notices(second) == []
        assert texts(second) == ["防护模式已经开启。"]
        # Off on the first and on again there at once: its own ended row goes before the claim.
        ended = await one.say("demo", "max", "/raid off", role="moderator")
        assert len([t for t in public(ended) if t.startswith("✅")]) == 1
        again = await one.say("demo", "max", "/raid on", role="moderator")
        assert len(_notices(again)) == 1


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_spam_wave_split_over_two_workers_starts_one_raid(tmp_path: Path, db_url: str) -> None:
    async with (
        Harness(tmp_path / "one", db_url=db_url) as one,
        Harness(tmp_path / "two", db_url=db_url) as two,
    ):
        await _setup(one, two)
        out: list[dict] = []
        # Three accounts caught on each worker (raid_spammers = 5): neither alone reaches it.
        for i, text in enumerate(WAVE):
            out += await one.say("demo", f"s{i}", text)
        assert _notices(out) == []
        for i, text in enumerate(WAVE):
            out += await two.say("demo", f"t{i}", text)
        assert len({r["user"] for r in of(out, "ban")}) == 6
        assert len(_notices(out)) == 1  # started on the second, by the six caught in all
        sync_one = sync_of(one.services)
        assert sync_one is not None
        assert await _until(lambda: sync_one.received >= 1), "the first worker was not told"
        late = await one.join("demo", "late")
        assert [r["user"] for r in of(late, "mute")] == ["late"]
        assert _notices(late) == []
