"""The giveaway's draw as a scheduler job (``gw:<id>:draw``, one row: it survives restarts).

The draw is one compare-and-set in storage, so a job that fires after ``/giveaway end`` finds
nothing to do, and the announcement goes out through ``send_once``: a re-run after a crash
between the draw and the post announces the winners already drawn, once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.planned_posts import chat_of, send, send_once
from bot.scheduler import At
from handlers.engage.giveaways import (
    DRAW_KIND,
    announcement,
    draw_job_id,
    edit_post,
    picker,
    tell_winners,
)
from handlers.engage.state import get_state
from storage.engage import DrawResult, Giveaway

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Job

log = logging.getLogger(__name__)

#: A draw the bot was down for is made this long after the start, not skipped.
LATE_DRAW = timedelta(seconds=5)


async def schedule_draw(services: Services, gw: Giveaway, at: datetime | None = None) -> None:
    """Plan (or re-plan) the draw of ``gw`` at its end time."""
    payload = {"giveaway_id": gw.id}
    await services.scheduler.schedule(
        draw_job_id(gw.id), DRAW_KIND, At(at or gw.ends_at), payload, group_id=gw.group_id
    )


async def draw(services: Services, group: Group, gw: Giveaway) -> DrawResult | None:
    """Draw now (None: drawn or cancelled already), then fix the post and tell the winners.

    The caller posts the announcement (``announcement``): from a job through ``send_once``, from
    ``/giveaway end`` as the command's answer."""
    state = get_state(services)
    result = await state.giveaways.draw(gw.id, services.clock.now(), picker(gw.seed))
    state.changed(gw.id)
    if result is None:
        return None
    await services.scheduler.cancel(draw_job_id(gw.id))
    await edit_post(services, group, result.giveaway, closed=True)
    return result


async def run_draw(services: Services, job: Job, fire: datetime) -> None:
    """The job: draw a giveaway that is still open and announce it once."""
    state = get_state(services)
    gw = await state.giveaways.by_id(int(job.payload["giveaway_id"]))
    if gw is None:
        return
    group = await services.directory.group_by_id(gw.group_id)
    if group is None:
        return
    chat = chat_of(services, group, gw.channel_id, gw.thread_id)
    result = None
    if gw.status == "open":
        result = await draw(services, group, gw)
    elif gw.status == "drawn" and gw.drawn_at is not None and gw.drawn_at >= fire:
        # A crash after the draw committed and before its announcement: announce what was drawn
        # (``send_once`` knows when the post already went out).
        entrants = await state.giveaways.entrants(gw.id)
        winners = tuple(e for e in entrants if e.won == 1)
        result = DrawResult(gw, winners, tuple(entrants), 1)
    if result is None:
        return
    sent = await send_once(services, job, fire, chat, announcement(services, group, result), group.language)
    if sent is not None:
        await tell_winners(services, group, result)


async def make_up_missed(services: Services) -> None:
    """At start: giveaways whose draw fell while the bot was down for longer than the scheduler's
    grace are drawn shortly after the start instead of being skipped (a skipped draw would leave
    them open for ever)."""
    now = services.clock.now()
    for gw in await get_state(services).giveaways.open_before(now - services.scheduler.grace):
        log.info("giveaway %s was due at %s while the bot was down; drawing it now", gw.id, gw.ends_at)
        await schedule_draw(services, gw, now + LATE_DRAW)


async def announce_now(services: Services, group: Group, gw: Giveaway, result: DrawResult) -> None:
    """Post a draw or reroll from a command (not a job)."""
    chat = chat_of(services, group, gw.channel_id, gw.thread_id)
    sent = await send(services, chat, announcement(services, group, result), group.language)
    if sent is not None:
        await tell_winners(services, group, result)
