"""The support desk (issue 19): FAQ auto-replies, the library of standard replies, complaints.

* ``match``: which entry answers a message (exact, keyword, regex, BM25 questions) — pure;
* ``spec``: what moderators type (``/faq add``) and the CSV form — pure;
* ``state``: each group's compiled FAQ and the cooldowns, kept in ``services.state``;
* ``commands`` (the router): ``/faq``; ``listeners``: the automatic answers and their votes;
* ``replies``: ``/reply NAME [@member]`` and ``/replies`` (话术库, with a starter set);
* ``complaints``: ``/complain`` and ``/complaints``, and level 1 of the three-level response;
* ``jobs``: the daily job per group — level 2 (key rates down week over week, from the stats
  feature's ``GroupIndicators``) and the unanswered questions digest to the moderators;
* ``sentiment`` (pure) and ``mood``: a sentiment score per message, summed per local hour in the
  batched flush, provided to ``/stats`` and the weekly report as the ``GroupMood`` port;
* ``watchdog``: level 3, the bot's own failures (an adapter down, errors, an outbound backlog)
  told to the superusers on the platforms that still work.

It reaches moderation only through ports: ``TextFolding`` so triggers match the way the lexicon
does (full-width, traditional, spaced variants), ``AuditTrail`` to log FAQ changes,
``ModeratorAlerts`` to put complaints in the alert list, ``MessageScreen`` to keep blocked words
out of the negative topics.
"""

from __future__ import annotations

from functools import partial

from bot.feature import Feature
from bot.ports import AuditTrail, GroupIndicators, MessageScreen, ModeratorAlerts, TextFolding
from bot.services import Services
from handlers.desk import complaints, jobs, listeners, mood, replies, watchdog
from handlers.desk.commands import router
from handlers.desk.settings import DeskSettings
from handlers.desk.state import CHANGES_TOPIC, get_state

#: Imported for their registrations on ``router``.
HANDLER_MODULES = (complaints, listeners, mood, replies)


async def _startup(services: Services) -> None:
    state = get_state(services)
    services.batcher.register("desk.mood", partial(mood.flush, services))
    services.scheduler.register(jobs.JOB_KIND, jobs.daily_job)
    for group in await services.groups.all():
        if group.active:
            state.scheduled.add(group.id)
            await jobs.ensure_job(services, group)
    config = FEATURE.config if isinstance(FEATURE.config, watchdog.DeskConfig) else watchdog.DeskConfig()
    await watchdog.start(services, config.desk)
    # Another worker changed a group's entries: compile them again here too (no re-publish).
    services.changes.subscribe(CHANGES_TOPIC, lambda key: state.compiled.pop(int(key), None))


async def _shutdown(services: Services) -> None:
    await watchdog.stop(services)


FEATURE = Feature(
    name="desk",
    router=router,
    settings=DeskSettings,
    startup=_startup,
    shutdown=_shutdown,
    uses=(TextFolding, AuditTrail, ModeratorAlerts, MessageScreen, GroupIndicators),
    provides=mood.provide,
    config_model=watchdog.DeskConfig,
)
