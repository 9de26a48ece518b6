"""A crash during a raid lets nobody stay muted (issue 15): the raid is written the moment it
starts, and the newcomers who joined after its last flush (the process died within that second)
are found again from their join time, so the raid's end unmutes and welcomes them.

The crash is the process dying: the app is abandoned without its orderly stop (no flush, no
shutdown hook), and a fresh app on the same database plays the restarted process.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from handlers.antispam import raid
from tests.antispam.test_probation import of, public
from tests.harness import Harness
from tests.moderation.test_flood_crash import _abandon


async def test_newcomers_muted_just_before_a_crash_are_let_in_when_the_raid_ends(
    tmp_path: Path, db_url: str
) -> None:
    first = Harness(tmp_path, db_url=db_url)
    await first.__aenter__()
    await first.say("demo", "max", "hi", role="moderator")
    out = []
    for i in range(10):  # the tenth join in a minute starts the raid
        out += await first.join("demo", f"r{i}")
    # Half a second later (within the raid book's one-second flush), two more are muted.
    out += await first.advance(0.5)
    out += await first.join("demo", "alice")
    out += await first.join("demo", "bob")
    assert [t for t in public(out) if t.startswith("🛡")]
    assert {"r9", "alice", "bob"} <= {r["user"] for r in of(out, "mute")}
    crashed_at = first.now
    await _abandon(first.app)  # before the raid book's next flush

    clock = (crashed_at + timedelta(seconds=1)).isoformat()
    async with Harness(tmp_path, db_url=db_url, clock=clock) as second:
        current = raid.book(second.services).raids.get(1)
        assert current is not None  # written when it started
        held = {j.user.user_id for j in raid.waiting(current)}
        # r9 started the raid (written with it); alice and bob are found by their join time. The
        # first two joiners, greeted one by one before it and never muted, are not held.
        assert held == {"r9", "alice", "bob"}
        end = await second.advance(11 * 60)
        assert public(end)[0].startswith("✅")
        assert {"r9", "alice", "bob"} <= {r["user"] for r in of(end, "unmute")}
        welcomes = [t for t in public(end) if t.startswith("👋")]
        assert len(welcomes) == 1 and "@alice" in welcomes[0] and "@bob" in welcomes[0]
        assert raid.book(second.services).raids == {}
    # And the end was written at once: a third start finds no raid to resume.
    async with Harness(
        tmp_path, db_url=db_url, clock=(crashed_at + timedelta(minutes=12)).isoformat()
    ) as third:
        assert raid.book(third.services).raids == {}
