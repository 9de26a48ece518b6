"""Interest circles (兴趣圈, issue 23): self-assigned groups inside a group.

* ``commands`` (the router): ``/circles`` and ``/circle add|remove|join|leave|mute|unmute|ping|
  role|list|mine``; ``listeners``: the join/leave buttons under ``/circles``;
* ``service``: names, the card, joining and leaving with the circle's platform role (Discord),
  the chunked, rate-limited ping;
* ``ports``: ``CircleMembers`` (giveaways address a circle through it) and ``CircleFacts``
  (``/stats circles``); ``state``: the repository in ``services.state``.

Memberships, mutes and pings are rows (``storage/circles``) that ``/mydata`` and ``/forgetme``
reach through their declarations; there is nothing else to export or forget.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.feature import Feature
from bot.ports import CircleFacts, CircleMembers
from bot.services import Services
from handlers.circles import listeners
from handlers.circles.commands import router
from handlers.circles.ports import Circles
from handlers.circles.service import BUTTON_PREFIX, flush_cards
from handlers.circles.settings import CirclesSettings
from handlers.circles.state import circle_repo
from storage.models import Group, Member

router.button(BUTTON_PREFIX)(listeners.on_circle_button)


async def _startup(services: Services) -> None:
    services.batcher.register("circles.cards", lambda: flush_cards(services))


async def _demo(services: Services, group: Group, members: list[Member]) -> None:
    """The console demo: two circles, with a few members already in each."""
    repo = circle_repo(services)
    now = services.clock.now()
    t = services.i18n.t
    by = members[1].id if len(members) > 1 else None
    for key, joiners in (("games", members[2:5]), ("hiking", members[3:6])):
        name = t(group.language, f"circles.demo_{key}")
        circle = await repo.add(
            group.id, name, name.casefold(), t(group.language, f"circles.demo_{key}_about"), by, now
        )
        if circle is None:
            continue  # the demo ran on this database before
        for member in joiners:
            await repo.join(circle.id, member.id, now)


def _ports(services: Services) -> Mapping[type[Any], Any]:
    impl = Circles(circle_repo(services))
    return {CircleMembers: impl, CircleFacts: impl}


FEATURE = Feature(
    name="circles",
    router=router,
    settings=CirclesSettings,
    startup=_startup,
    demo=_demo,
    provides=_ports,
)
