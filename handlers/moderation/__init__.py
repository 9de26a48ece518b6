"""Keyword moderation with red/yellow/blue levels and the moderator's toolkit.

* ``folding`` / ``matcher`` / ``segment``: the evasion-resistant matcher (no core needed);
* ``service``: runtime state, floods and credit; ``sanctions``: platform actions with a manual
  fallback and their scheduled lifting; ``alerting``: alerts, batches, escalation, the digest;
* ``settings``: the per-group settings model;
* ``listeners``: the band-0 screen and the per-level action plans it runs;
* ``commands`` (the router), ``alerts_commands``, ``lexicon_commands``, ``reports``: the commands
  and buttons; ``targets`` and ``plans`` hold what they share.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.errors import ConfigError
from bot.feature import Feature
from bot.ports import (
    AuditTrail,
    CommunityScope,
    CreditScore,
    LinkedAccounts,
    MemberDiscipline,
    MemberSanctions,
    MessageScreen,
    ModerationDesk,
    ModerationFacts,
    ModeratorAlerts,
    SharedSanctions,
    TextFolding,
)
from bot.services import Services
from handlers.moderation import alerts_commands, floods, lexicon_commands, listeners, reports
from handlers.moderation.alerting import run_batch_job, run_digest_job
from handlers.moderation.commands import router
from handlers.moderation.desk import Desk
from handlers.moderation.discipline import Discipline
from handlers.moderation.escalation import run_escalate_job
from handlers.moderation.flood_share import SharedFloods
from handlers.moderation.folding import fold
from handlers.moderation.frequency import warm as warm_frequencies
from handlers.moderation.lexicon import STARTER_LEXICON, load_lexicons
from handlers.moderation.lint import lint_files
from handlers.moderation.ports import Alerts, Credit, Facts, Sanctions, Screen
from handlers.moderation.sanctions import reschedule_lifts, run_lift_job
from handlers.moderation.segment import SEGMENTER
from handlers.moderation.service import (
    JOB_BATCH,
    JOB_DIGEST,
    JOB_ESCALATE,
    JOB_LIFT,
    STATE_KEY,
    ModState,
    build_global_layer,
    current_credit,
)
from handlers.moderation.settings import ModerationSettings
from storage.models import Group, Member
from storage.moderation import AuditRepo, ModerationRepos
from storage.moderation_views import ModerationViews

#: The modules that register on ``router`` when imported, in the order their commands are listed
#: (each imports ``commands``, which registers /warn … /credit first).
HANDLER_MODULES = (alerts_commands, lexicon_commands, reports, listeners)


class ModerationSection(BaseModel):
    """``[moderation]`` keys that are not per-group settings."""

    model_config = ConfigDict(extra="forbid")

    #: Extra lexicon files (TSV: level, category, term, optional mode), loaded for every group.
    lexicon_files: list[str] = Field(default_factory=list)
    #: Load the shipped starter lexicon (about 240 zh/en spam, scam, gambling and adult-ad terms).
    starter_lexicon: bool = True
    #: Longest time one regex entry may run on one message, in milliseconds.
    regex_timeout_ms: int = Field(default=20, ge=1, le=1000)


class ModerationConfig(BaseModel):
    """The feature's config model: the app fills it from the ``[moderation]`` section."""

    model_config = ConfigDict(extra="forbid")

    moderation: ModerationSection = Field(default_factory=ModerationSection)


log = logging.getLogger(__name__)

_WARMING: set[asyncio.Task[None]] = set()


def _log_lint(paths: list[Any]) -> None:
    """Log the lint findings of the operator's lexicon files (nothing is changed or dropped)."""
    try:
        found = lint_files(paths)
    except (OSError, ValueError):
        log.exception("lexicon lint failed")
        return
    for path, issue in found:
        log.warning("lexicon lint: %s line %d: %r %s", path, issue.line, issue.term, issue.code)
    if found:
        log.warning("lexicon lint: %d findings; nothing was changed (see /kw info TERM)", len(found))


async def _startup(services: Services) -> None:
    config = FEATURE.config if isinstance(FEATURE.config, ModerationConfig) else ModerationConfig()
    section = config.moderation
    paths: list[Any] = [STARTER_LEXICON] if section.starter_lexicon else []
    paths.extend(section.lexicon_files)
    try:
        entries = load_lexicons(paths)
    except (OSError, ValueError) as exc:
        # A bad lexicon file must stop the start with the key and the reason, like any bad config.
        raise ConfigError(f"moderation.lexicon_files: {exc}") from None
    layer = build_global_layer(entries)  # milliseconds; jieba's dictionary is not loaded here
    if services.clock.moves_on_its_own and not SEGMENTER.loaded:
        # A running bot loads jieba's dictionary (about a second) in a worker thread after
        # start rather than on the first message that needs it; the console and tests, on a
        # virtual clock, load it only if a message needs it (start-up goal ≤ 1 s, issue 21).
        warm = asyncio.create_task(asyncio.to_thread(warm_frequencies), name="jieba warm-up")
        _WARMING.add(warm)  # a reference, or the task may be collected mid-run
        warm.add_done_callback(_WARMING.discard)
    if section.lexicon_files and services.clock.moves_on_its_own:
        # The operator's files get the import lint (issue 16) in a worker thread: it needs word
        # frequencies (jieba's dictionary, wordfreq) that start-up must not wait for.
        lint = asyncio.create_task(
            asyncio.to_thread(_log_lint, list(section.lexicon_files)), name="lexicon lint"
        )
        _WARMING.add(lint)
        lint.add_done_callback(_WARMING.discard)
    state = ModState(
        repos=ModerationRepos(services.db), global_layer=layer, regex_timeout=section.regex_timeout_ms / 1000
    )
    services.state[STATE_KEY] = state
    if services.counts.shared:
        state.shared_flood = SharedFloods(services.counts)  # several workers on PostgreSQL
    # Workers sharing PostgreSQL: a lexicon change here makes the others rebuild that group's matcher.
    state.on_rebuilt = lambda group_id: services.changes.publish("lexicon", group_id)
    services.changes.subscribe("lexicon", lambda key: state.matchers.pop(int(key), None))
    # In a community that shares its lexicon, a chat's matcher holds the other chats' shared terms.
    state.lexicon_peers = functools.partial(_lexicon_peers, services)
    scheduler = services.scheduler
    # Lifting a mute or ban twice is harmless (the row says whether it is lifted; unmuting an unmuted
    # member does nothing), while a lift lost to a crash would leave a member muted for good.
    scheduler.register(JOB_LIFT, run_lift_job, rerun=True)
    scheduler.register(JOB_BATCH, run_batch_job)
    scheduler.register(JOB_ESCALATE, run_escalate_job)
    scheduler.register(JOB_DIGEST, run_digest_job)
    for job in await scheduler.list("mod-digest:"):
        if job.group_id is not None:
            state.digests.add(job.group_id)
    await reschedule_lifts(services)
    services.batcher.register("moderation.floods", lambda: floods.flush(services))
    scheduler.register(floods.JOB_RECOVER, floods.run_recover_job, rerun=True)
    await floods.recover(services)  # flooders a crash inside a burst left unwritten


async def _lexicon_peers(services: Services, group_id: int) -> tuple[int, ...]:
    scope = services.ports.find(CommunityScope)
    group = await services.directory.group_by_id(group_id) if scope is not None else None
    if scope is None or group is None:
        return ()
    return tuple(chat for chat in await scope.lexicon_chats(group) if chat != group_id)


async def _demo(services: Services, group: Group, members: list[Member]) -> None:
    """A few group entries on top of the starter lexicon, so every level can be tried at once."""
    state: ModState = services.state[STATE_KEY]
    now = services.clock.now()
    entries = [
        ("代刷流水", "red", "gambling"),
        ("spam link", "yellow", "ads"),
        ("团购群", "blue", "ads"),
    ]
    await state.repos.lexicon.add_terms(
        group.id, [(t, fold(t), lvl, cat, "text") for t, lvl, cat in entries], "demo", now
    )
    await state.repos.lexicon.add_allow(group.id, "江阴毛纺厂", fold("江阴毛纺厂"), "demo", now)
    await state.rebuild(group.id)


async def _export(services: Services, member: Member) -> dict[str, Any]:
    """The member's credit as ``/me`` shows it: a member never penalised has no row and the
    default score (their stored rows are exported from the tables' declarations)."""
    group = await services.directory.group_by_id(member.group_id)
    if group is None:
        return {}
    return {"credit": await current_credit(services, group, member)}


class _ModLogAuditTrail:
    """The ``AuditTrail`` port over the moderation audit log, so ``/modlog`` shows every change
    to where a group's data goes or who holds power, whichever feature made it."""

    def __init__(self, repo: AuditRepo) -> None:
        self._repo = repo

    async def record(self, group_id: int, at: datetime, actor: str, action: str, detail: str = "") -> None:
        """Append one line to the group's ``mod_log``."""
        await self._repo.log(group_id, at, actor, action, detail)


class _Folding:
    """The ``TextFolding`` port over the lexicon's folding (``handlers.moderation.folding``)."""

    def fold(self, text: str) -> str:
        """The folded text."""
        return fold(text)


def _ports(services: Services) -> dict[type[Any], Any]:
    # Annotated so mypy checks each implementation against its protocol.
    trail: AuditTrail = _ModLogAuditTrail(AuditRepo(services.db))
    screen: MessageScreen = Screen(services)
    credit: CreditScore = Credit(services)
    facts: ModerationFacts = Facts(ModerationViews(services.db))
    folding: TextFolding = _Folding()
    alerts: ModeratorAlerts = Alerts(services)
    sanctions: MemberSanctions = Sanctions(services)
    desk: ModerationDesk = Desk(services)
    discipline: MemberDiscipline = Discipline(services)
    return {
        MemberDiscipline: discipline,
        ModeratorAlerts: alerts,
        MemberSanctions: sanctions,
        ModerationDesk: desk,
        AuditTrail: trail,
        MessageScreen: screen,
        CreditScore: credit,
        ModerationFacts: facts,
        TextFolding: folding,
    }


FEATURE = Feature(
    name="moderation",
    router=router,
    settings=ModerationSettings,
    provides=_ports,
    startup=_startup,
    shutdown=floods.shutdown,
    export_member_data=_export,
    config_model=ModerationConfig,
    demo=_demo,
    # /warns (a member's record) names the accounts they linked.
    # /kw: a community's chats share their lexicon terms.
    uses=(SharedSanctions, LinkedAccounts, CommunityScope),
)
