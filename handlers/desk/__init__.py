"""The support desk (issue 19): FAQ auto-replies, the library of standard replies, complaints.

* ``match``: which entry answers a message (exact, keyword, regex, BM25 questions) — pure;
* ``spec``: what moderators type (``/faq add``) and the CSV form — pure;
* ``state``: each group's compiled FAQ and the cooldowns, kept in ``services.state``;
* ``commands`` (the router): ``/faq``; ``listeners``: the automatic answers and their votes;
* ``replies``: ``/reply NAME [@member]`` and ``/replies`` (话术库, with a starter set);
* ``complaints``: ``/complain`` and ``/complaints``, and level 1 of the three-level response.

It reaches moderation only through ports: ``TextFolding`` so triggers match the way the lexicon
does (full-width, traditional, spaced variants), ``AuditTrail`` to log FAQ changes,
``ModeratorAlerts`` to put complaints in the alert list.
"""

from __future__ import annotations

from bot.feature import Feature
from bot.ports import AuditTrail, ModeratorAlerts, TextFolding
from bot.services import Services
from handlers.desk import complaints, listeners, replies
from handlers.desk.commands import router
from handlers.desk.settings import DeskSettings
from handlers.desk.state import CHANGES_TOPIC, get_state

#: Imported for their registrations on ``router``.
HANDLER_MODULES = (complaints, listeners, replies)


async def _startup(services: Services) -> None:
    state = get_state(services)
    # Another worker changed a group's entries: compile them again here too (no re-publish).
    services.changes.subscribe(CHANGES_TOPIC, lambda key: state.compiled.pop(int(key), None))


FEATURE = Feature(
    name="desk",
    router=router,
    settings=DeskSettings,
    startup=_startup,
    uses=(TextFolding, AuditTrail, ModeratorAlerts),
)
