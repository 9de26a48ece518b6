"""Engagement tools (issue 23): giveaways (抽奖) with a provably fair draw.

* ``giveaways``: the post, entering (conditions through the points port, an optional entry
  price), the draw over ``bot.fairdraw``, rerolls and refunds;
* ``jobs``: the draw as a scheduler job (survives restarts, happens once);
* ``commands`` (the router): ``/giveaway start|end|reroll|cancel|list|join|proof``;
  ``listeners``: the Join button;
* ``state``: repositories and the coalesced post edits, kept in ``services.state``.

Points belong to the check-in feature and are reached only through the ``PointsLedger`` port
(``uses``): without it giveaways work, and refuse a price or a points condition.
"""

from __future__ import annotations

from bot.feature import Feature
from bot.ports import PointsLedger
from bot.services import Services
from handlers.engage import listeners
from handlers.engage.commands import router
from handlers.engage.giveaways import DRAW_KIND, flush_posts
from handlers.engage.jobs import make_up_missed, run_draw
from handlers.engage.settings import EngageSettings

router.button("gw:")(listeners.on_giveaway_button)


async def _startup(services: Services) -> None:
    # rerun: a run cut short by a crash draws (a no-op when already drawn) and announces once.
    services.scheduler.register(DRAW_KIND, run_draw, rerun=True)

    async def flush() -> None:
        await flush_posts(services)

    services.batcher.register("engage.posts", flush)
    await make_up_missed(services)


FEATURE = Feature(
    name="engage",
    router=router,
    settings=EngageSettings,
    startup=_startup,
    uses=(PointsLedger,),
)
