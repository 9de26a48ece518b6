"""A member's data rights for the core's ``/mydata`` and ``/forgetme``.

What is stored comes from the tables' own declarations (``storage/rights.py``): no list here to
fall behind. Features add what lives outside their tables through their ``Feature`` hooks:
``export_member_data`` for derived facts (a credit score that has its default), and
``delete_member_data`` for memory and scheduled jobs. ``docs/privacy.md`` is the member-facing
account of what is kept and for how long.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.scheduler import At
from storage.models import Member
from storage.rights import MemberData, Subject

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Job

log = logging.getLogger(__name__)

#: The job kind of the retention sweep that follows a ``/forgetme``.
SWEEP_KIND = "core.forget_sweep"

#: How long after ``/forgetme`` the retention sweep runs: rows written meanwhile for the member
#: (a batched flush already under way) are caught, and the anonymous members row is deleted. A
#: sanction still in force keeps the sweep coming back, this often, until it has been lifted.
SWEEP_AFTER = timedelta(days=1)


def _subject(member: Member) -> Subject:
    return Subject(member.id, member.group_id, member.user_id)


async def export_member(services: Services, member: Member) -> dict[str, Any]:
    """Everything stored about one membership: ``{"stored": {table: rows}, <feature>: facts}``."""
    # Counts still in memory are written first, so the export has them.
    await services.batcher.flush()
    out: dict[str, Any] = {}
    for feature in services.features:
        if feature.export_member_data is not None:
            out[feature.name] = await feature.export_member_data(services, member)
    out["stored"] = await MemberData(services.db).export(_subject(member))
    return out


async def forget_member(services: Services, member: Member) -> None:
    """Delete or anonymise every row about the member now, and plan the retention sweep."""
    # Counts still in memory are written first, so they are forgotten with the rest instead of
    # landing after the delete.
    await services.batcher.flush()
    for feature in services.features:
        if feature.delete_member_data is not None:
            await feature.delete_member_data(services, member)
    kept = await MemberData(services.db).forget(_subject(member))
    services.directory.forget_member(member)
    await _plan_sweep(services, member.id, member.group_id, services.clock.now())
    log.info("member %s forgotten (%d rows kept until the sweep)", member.id, kept)


async def _plan_sweep(services: Services, member_id: int, group_id: int, now: datetime) -> None:
    await services.scheduler.schedule(
        f"core:forget-sweep:{member_id}",
        SWEEP_KIND,
        At(now + SWEEP_AFTER),
        {"member": member_id},
        group_id=group_id,
    )


async def sweep_job(services: Services, job: Job, fire_time: datetime) -> None:
    """The retention sweep of one forgotten member (see ``SWEEP_AFTER``)."""
    member_id = int(job.payload.get("member", 0))
    if job.group_id is None or member_id <= 0:
        return
    kept = await MemberData(services.db).sweep(member_id, job.group_id)
    if kept:
        await _plan_sweep(services, member_id, job.group_id, fire_time)


def register(services: Services) -> None:
    """Register the sweep's job kind (the core feature's start-up)."""
    services.scheduler.register(SWEEP_KIND, sweep_job)
