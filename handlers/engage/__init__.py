"""Engagement tools (issue 23): giveaways (抽奖) with a provably fair draw, and polls (投票).

* ``giveaways``: the post, entering (conditions through the points port, an optional entry
  price), the draw over ``bot.fairdraw``, rerolls and refunds;
* ``jobs``: the draw as a scheduler job (survives restarts, happens once);
* ``commands`` (the router): ``/giveaway start|end|reroll|cancel|list|join|proof``;
  ``listeners``: the Join button;
* ``polls`` and ``poll_commands``: ``/poll`` with a button per option, votes that change until
  the poll closes (by hand or by itself), results as text with bars;
* ``state``: repositories and the coalesced post edits, kept in ``services.state``.

Points belong to the check-in feature and are reached only through the ``PointsLedger`` port
(``uses``): without it giveaways work, and refuse a price or a points condition.
"""

from __future__ import annotations

from datetime import timedelta

from bot import fairdraw
from bot.feature import Feature
from bot.ports import CheckinFacts, CircleMembers, PointsLedger
from bot.services import Services
from handlers.engage import listeners, poll_commands, polls
from handlers.engage.commands import router
from handlers.engage.giveaways import DRAW_KIND, flush_posts
from handlers.engage.jobs import make_up_missed, run_draw, schedule_draw
from handlers.engage.settings import EngageSettings
from handlers.engage.state import get_state
from storage.models import Group, Member

router.button("gw:")(listeners.on_giveaway_button)
#: Imported for its registrations on ``router`` (``/poll`` and the ``pl:`` buttons).
HANDLER_MODULES = (poll_commands,)


async def _startup(services: Services) -> None:
    # rerun: a run cut short by a crash draws (a no-op when already drawn) and announces once.
    services.scheduler.register(DRAW_KIND, run_draw, rerun=True)

    services.scheduler.register(polls.CLOSE_KIND, polls.run_close, rerun=True)

    async def flush() -> None:
        await flush_posts(services)
        await polls.flush_posts(services)

    services.batcher.register("engage.posts", flush)
    await make_up_missed(services)
    # Which posts waited for an edit is memory: after a restart each open post is rewritten once
    # (by the first flush), so a press just before a crash still shows.
    state = get_state(services)
    gap = 0.0
    for giveaway_id in await state.giveaways.open_ids():
        state.posts.dirty[giveaway_id] = gap
    for poll_id in await state.polls.open_ids():
        state.poll_posts.dirty[poll_id] = gap
    await polls.track_native(services)


async def _demo(services: Services, group: Group, members: list[Member]) -> None:
    """The console demo: a giveaway drawn in two hours, with two members already in."""
    now = services.clock.now()
    seed = fairdraw.new_seed(f"demo:{group.id}:{now.isoformat()}" if services.clock.is_virtual else None)
    repo = get_state(services).giveaways
    gw = await repo.add(
        group_id=group.id,
        channel_id=None,
        thread_id=None,
        prize=services.i18n.t(group.language, "engage.gw.demo_prize"),
        winners=1,
        ends_at=now + timedelta(hours=2),
        seed=seed,
        seed_hash=fairdraw.commitment(seed),
        price=0,
        min_points=0,
        min_days=0,
        min_checkins=0,
        created_by=members[1].id if len(members) > 1 else None,
        created_at=now,
    )
    for member in members[2:4]:
        await repo.enter(gw.id, member.id, now)
    await schedule_draw(services, gw)


FEATURE = Feature(
    name="engage",
    router=router,
    settings=EngageSettings,
    startup=_startup,
    demo=_demo,
    # CircleMembers: a giveaway for an interest circle mentions its members (circle_call.py).
    uses=(PointsLedger, CheckinFacts, CircleMembers),
)
