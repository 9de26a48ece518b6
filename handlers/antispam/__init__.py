"""Spam bots and raids: newcomer probation, near-duplicate spam across accounts, spam samples
moderators teach with ``/spam``, and a training mode that only detects.

* ``detect``: what a probation member may not post (links, invites, contacts, forwards, emoji,
  mentions) and the probation boundary — pure functions;
* ``similar``: MinHash sketches and the sliding window of near-duplicates;
* ``state``: caches in front of the tables, kept in ``services.state``;
* ``challenge``, ``verify``: join verification (a newcomer's own challenge, or the raid's
  standing one) — see ``verify``'s docstring;
* ``raid``: raid mode (surges, held announcements, the one notice and the one edited alert);
* ``commands`` (the router): ``/approve``, ``/spam``; ``raid_commands``: ``/raid``, ``/purge`` and
  the alert's buttons; ``listeners``: the band-0 screen and joins.

It screens before keyword moderation (it is listed before it in ``handlers/__init__.py``) and
reaches moderation only through ports: ``TextFolding`` to compare text the way the lexicon
does, ``AuditTrail`` to log what it did. It provides ``NewcomerGate``: welcomes and badge
announcements wait while a raid is on.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.feature import Feature
from bot.ports import AuditTrail, Greeter, NewcomerGate, TextFolding
from bot.services import Services
from handlers.antispam import listeners, raid, raid_commands, raid_restart, raid_sync, similar, told, verify
from handlers.antispam.commands import router
from handlers.antispam.settings import AntispamSettings
from handlers.antispam.state import get_state
from storage.models import Member

#: Imported for their registrations on ``router``.
HANDLER_MODULES = (listeners, raid_commands, verify)


#: Warm-up tasks in flight (a reference, or a task may be collected mid-run).
_WARMING: set[asyncio.Task[None]] = set()


async def _startup(services: Services) -> None:
    if services.clock.moves_on_its_own:
        # A running bot imports datasketch (and SciPy, about a second) in a worker thread after
        # start; the console and tests, on a virtual clock, when a message first needs a sketch.
        warm = asyncio.create_task(asyncio.to_thread(similar.warm), name="datasketch warm-up")
        _WARMING.add(warm)
        warm.add_done_callback(_WARMING.discard)
    state = get_state(services)
    state.approvals = await state.repos.probation.approvals()
    services.batcher.register("antispam.probation", state.flush)
    services.scheduler.register(raid.JOB_END, raid.run_end_job)
    services.scheduler.register(raid.JOB_WELCOME, raid.run_welcome_job)
    services.scheduler.register(verify.JOB_VERIFY, verify.run_timeout)
    await raid.load(services)
    await raid_restart.rejoin(services)  # newcomers a crash kept from the book
    services.batcher.register("antispam.raids", lambda: raid.flush(services))
    raid_sync.install(services)  # after the flush: it tells the other workers what was written
    told.install(services)
    await verify.load(services)


def _ports(services: Services) -> dict[type[Any], Any]:
    gate: NewcomerGate = raid.Gate(services)
    return {NewcomerGate: gate}


async def _forget(services: Services, member: Member) -> None:
    state = get_state(services)
    await state.flush()  # the table rows go by their data-rights declaration (storage/antispam)
    state.forget_rows(member.id)
    for job in await services.scheduler.list(f"{verify.JOB_VERIFY}:"):
        if job.id.endswith(f":{member.id}"):
            await services.scheduler.cancel(job.id)  # the challenge's payload names them


FEATURE = Feature(
    name="antispam",
    router=router,
    settings=AntispamSettings,
    startup=_startup,
    provides=_ports,
    delete_member_data=_forget,
    uses=(TextFolding, AuditTrail, Greeter),  # Greeter: the welcome after join verification
)
