"""Raid mode across the workers sharing one PostgreSQL database.

Each worker keeps its raid book in memory (``raid``) and writes it with the batcher, once a
second. With several workers that is not enough: a raid started on one must be on in all (the
next joiner is muted wherever their join arrives), and one ended on one must end in all. So,
on PostgreSQL (``services.changes.across_workers``) and only then:

* right after the book's flush, this worker compares each group's raid with what it last told
  the others (on or off, number, end, last surge, count) and, when it differs, publishes the
  group on the change feed (one ``NOTIFY`` per changed group and flush, never per message);
* a worker told so marks the group stale; before it handles its next event there (a message,
  a join, an alert button, a standing-challenge press, the raid's end job) it reads the raids'
  rows back, once for all the stale groups, and merges them into its book (``refresh``). Not
  stale: a set lookup, no round trip;
* joins are counted across workers (one transaction per join, ``joined``): a surge split over
  the workers starts the raid when their joins together reach the threshold, on the one worker
  that claims the start, which writes and tells it at once.

Merging: a raid the rows no longer have ended on another worker (which posted the closing
notice and the welcome): it is dropped here quietly. A raid this worker did not have is taken
as stored. The same raid (number and start) keeps the later surge, the stored end, and every
joiner either side knows, banned or released when either says so.

One notice per raid: ``raid.start`` claims the group's raid row before it posts (``claim``, set
as the book's ``claim``); the worker whose insert lost reads the other's raid back and joins it
instead of starting its own, so two workers detecting the same surge at once post one notice.
Spam accounts caught count toward a surge across workers as joins do (``caught``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from handlers.antispam import raid
from handlers.antispam.settings import AntispamSettings
from handlers.antispam.state import get_state
from storage.antispam import RaidRow
from storage.models import Group, Job

if TYPE_CHECKING:
    from bot.services import Services

TOPIC = "raid"
STATE_KEY = "antispam.raid-sync"
#: The shared count of a group's joins, and the claim of a raid's start (``bot.cooldowns``).
JOINS = "antispam.joins"
STARTS = "antispam.raid-start"
#: The shared count of a group's spam accounts caught (the other surge that starts a raid).
CAUGHT = "antispam.caught"

#: What the other workers are told of a group's raid: (number, start, end, last surge, removed,
#: joiners), or None for no raid.
Mark = tuple[int, datetime, datetime | None, datetime, int, int] | None


def _mark(current: raid.Raid | None) -> Mark:
    if current is None:
        return None
    return (
        current.number,
        current.started_at,
        current.until,
        current.last_surge,
        current.removed,
        len(current.joiners),
    )


@dataclass
class RaidSync:
    """The groups to read back, and what this worker last told or read of each group."""

    stale: set[int] = field(default_factory=set)
    told: dict[int, Mark] = field(default_factory=dict)
    #: Changes published, notifications received, and rows read back (for tests and the bench).
    told_count: int = 0
    received: int = 0
    reloads: int = 0
    #: Raids this worker was about to start when another worker's claim had won.
    lost: int = 0

    def on_change(self, key: str) -> None:
        """Another worker changed this group's raid: read it back before the next event there."""
        self.received += 1
        self.stale.add(int(key))


def sync_of(services: Services) -> RaidSync | None:
    """The raid sync when several workers may share the database, else None."""
    found = services.state.get(STATE_KEY)
    return found if isinstance(found, RaidSync) else None


def install(services: Services) -> None:
    """Shared database only: publish raid changes after each flush, read others' back on use.

    Call after ``raid.flush`` is registered with the batcher (callbacks run in that order).
    """
    if not services.changes.across_workers:
        return
    sync = RaidSync()
    services.state[STATE_KEY] = sync
    services.changes.subscribe(TOPIC, sync.on_change)
    services.batcher.register("antispam.raid-sync", lambda: announce(services))

    async def claim_start(group: Group, new: raid.Raid) -> raid.Raid | None:
        return await claim(services, group, new)

    raid.book(services).claim = claim_start
    services.scheduler.register(raid.JOB_END, _refreshed(raid.run_end_job))


def _refreshed(
    run: Callable[[Services, Job, datetime], Awaitable[None]],
) -> Callable[[Services, Job, datetime], Awaitable[None]]:
    # The end job decides on the last surge: another worker's must be in the book first.
    async def run_refreshed(services: Services, job: Job, fire: datetime) -> None:
        if job.group_id is not None:
            await refresh(services, job.group_id)
        await run(services, job, fire)

    return run_refreshed


async def announce(services: Services) -> None:
    """Publish every group whose raid changed since it was last told or read."""
    sync = sync_of(services)
    raids = raid.book(services)
    if sync is None or raids.dirty or raids.ended:
        return  # the flush failed (or more came since): the rows are not there yet
    for group_id in sorted(set(raids.raids) | set(sync.told)):
        mark = _mark(raids.raids.get(group_id))
        if sync.told.get(group_id) == mark:
            continue
        if mark is None:
            sync.told.pop(group_id, None)
        else:
            sync.told[group_id] = mark
        await services.changes.publish(TOPIC, group_id)
        sync.told_count += 1


async def joined(services: Services, group: Group) -> None:
    """A join, counted with every worker's (``services.counts``): when together they reach the
    raid's threshold, one worker (the one that claims the start) starts the raid, writes it and
    tells the others at once. Each worker alone would see only its share of the surge.

    Before ``raid.joined``, which then finds the raid on and mutes the joiner. Alone, or while a
    raid is on here: nothing (no round trip).
    """
    raids = raid.book(services)
    if sync_of(services) is None or not services.counts.shared or group.id in raids.raids:
        return
    rules = await services.settings.of(group.id, AntispamSettings)
    now, span = services.clock.now(), timedelta(seconds=rules.raid_seconds)
    count = await services.counts.add(JOINS, str(group.id), now, 1, span)
    if count is None or count < rules.raid_joins:
        return
    if not await services.cooldowns.claim(STARTS, str(group.id), now, span):
        return  # another worker starts it; its notification follows within milliseconds
    if await raid.start(services, group, "joins") is not None:
        await raid.flush(services)
        await announce(services)


async def caught(services: Services, group: Group, accounts: int) -> None:
    """Spam accounts the duplicate detector caught, counted with every worker's (one
    transaction per catch, which is rare): as ``joined``, for the surge of spam accounts.

    Before ``raid.caught``, which then finds the raid on. Alone, or while a raid is on: nothing."""
    raids = raid.book(services)
    if sync_of(services) is None or not services.counts.shared or group.id in raids.raids or accounts <= 0:
        return
    rules = await services.settings.of(group.id, AntispamSettings)
    now, span = services.clock.now(), timedelta(seconds=rules.raid_seconds)
    count = await services.counts.add(CAUGHT, str(group.id), now, accounts, span)
    if count is None or count < rules.raid_spammers:
        return
    if not await services.cooldowns.claim(STARTS, str(group.id), now, span):
        return  # another worker starts it; its notification follows within milliseconds
    if await raid.start(services, group, "spam") is not None:
        await raid.flush(services)
        await announce(services)


async def claim(services: Services, group: Group, new: raid.Raid) -> raid.Raid | None:
    """``raid.start``'s claim: write the new raid's row, unless the group has one. None: this
    worker's raid is the raid, and it posts the notice. Otherwise another worker started one
    at the same moment (or before, and has not told yet): that raid is read back and joined
    here, with the burst this worker was greeting, and no second notice is posted."""
    raids = raid.book(services)
    if group.id in raids.ended:
        await raid.flush(services)  # this worker's last raid there ended: its row goes first
    row = RaidRow(group.id, new.number, new.started_at, new.reason, new.last_surge, new.until, 0, None, "[]")
    if await get_state(services).repos.raids.claim(row):
        return None
    stored = raid.RaidBook()
    await raid.load(services, into=stored)
    other = stored.raids.get(group.id)
    if other is None:
        return None  # ended between the two statements: this worker's raid is the raid
    raids.numbers = max(raids.numbers, other.number)
    for key, joiner in new.joiners.items():
        other.joiners.setdefault(key, joiner)
    if new.until is not None:
        other.until = new.until  # ``/raid on 30m`` on a raid already on: its end, as alone
    raids.raids[group.id] = other
    if new.joiners or new.until is not None:
        raids.touch(other, *new.joiners)
    sync = sync_of(services)
    if sync is not None:
        sync.lost += 1
        sync.told[group.id] = _mark(other)
    return other


async def refresh(services: Services, group_id: int) -> None:
    """Before an event in the group: read the raids back when another worker changed its raid."""
    sync = sync_of(services)
    if sync is None or group_id not in sync.stale:
        return
    stale, sync.stale = sync.stale, set()
    stored = raid.RaidBook()
    await raid.load(services, into=stored)
    sync.reloads += 1
    raids = raid.book(services)
    raids.numbers = max(raids.numbers, stored.numbers)
    for gid in sorted(stale):
        merged = _merge(raids, gid, stored.raids.get(gid), sync.told.get(gid))
        if merged is None or gid in raids.dirty:  # dirty: written with the next flush, then told
            sync.told.pop(gid, None)
        else:
            sync.told[gid] = _mark(merged)


def _same(a: raid.Raid, b: raid.Raid) -> bool:
    return (a.number, a.started_at) == (b.number, b.started_at)


def _merge(raids: raid.RaidBook, group_id: int, stored: raid.Raid | None, told: Mark) -> raid.Raid | None:
    local = raids.raids.get(group_id)
    if stored is None:
        # Ended elsewhere, when this worker's raid is the one it told or read; one started here
        # and not written yet stays.
        if local is not None and told is not None and (local.number, local.started_at) == told[:2]:
            del raids.raids[group_id]
            raids.dirty.discard(group_id)
            return None
        return local
    if local is None:
        # The burst greeted together here joins the raid as released, as ``raid.start`` does.
        for key, joiner in raids.pending.pop(group_id, {}).items():
            joiner.released = True
            stored.joiners.setdefault(key, joiner)
        raids.raids[group_id] = stored
        return stored
    if not _same(local, stored):
        keep, other = (
            (stored, local)
            if (stored.started_at, stored.number) <= (local.started_at, local.number)
            else (local, stored)
        )
        _take_joiners(keep, other)
        raids.raids[group_id] = keep
        raids.touch(keep, *keep.joiners)  # written with the next flush, and told
        return keep
    local.last_surge = max(local.last_surge, stored.last_surge)
    if group_id not in raids.dirty:  # this worker's own change, not yet written, wins
        local.until = stored.until
    local.removed_before = max(local.removed_before, stored.removed - len(local.banned))
    if local.notice is None:
        local.notice, local.challenge = stored.notice, stored.challenge
    local.alerts = local.alerts or stored.alerts
    _take_joiners(local, stored)
    return local


def _take_joiners(into: raid.Raid, other: raid.Raid) -> None:
    for key, joiner in other.joiners.items():
        mine = into.joiners.get(key)
        if mine is None:
            into.joiners[key] = joiner
            continue
        mine.banned = mine.banned or joiner.banned
        mine.released = mine.released or joiner.released
        mine.wrong = max(mine.wrong, joiner.wrong)
