"""Keyword moderation with red/yellow/blue levels and the moderator's toolkit.

* ``folding`` / ``matcher`` / ``segment``: the evasion-resistant matcher (no core needed);
* ``service``: runtime state, credit, sanctions, alerts and scheduled jobs;
* ``listeners``: the band-0 screen and the per-level action plans it runs;
* ``commands`` (the router), ``alerts_commands``, ``lexicon_commands``, ``reports``: the commands
  and buttons; ``targets`` and ``plans`` hold what they share.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.errors import ConfigError
from bot.feature import Feature
from bot.ports import AuditTrail, CreditScore, MessageScreen, ModerationFacts, TextFolding
from bot.services import Services
from bot.settings import SettingSpec, choice, int_range
from handlers.moderation import alerts_commands, lexicon_commands, listeners, reports
from handlers.moderation.commands import router
from handlers.moderation.folding import fold
from handlers.moderation.lexicon import STARTER_LEXICON, load_lexicons
from handlers.moderation.ports import Credit, Facts, Screen
from handlers.moderation.service import (
    JOB_BATCH,
    JOB_DIGEST,
    JOB_ESCALATE,
    JOB_LIFT,
    STATE_KEY,
    ModState,
    build_global_layer,
    reschedule_lifts,
    run_batch_job,
    run_digest_job,
    run_escalate_job,
    run_lift_job,
)
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


SETTINGS = [
    SettingSpec("moderation.enabled", bool, True, "screen messages against the lexicon"),
    SettingSpec("moderation.exempt_moderators", bool, True, "moderators and above are not screened"),
    SettingSpec("moderation.red_action", choice("mute", "ban"), "mute", "what a red hit does to the member"),
    SettingSpec("moderation.red_mute_minutes", int_range(1, 525_600), 1440, "mute length for a red hit"),
    SettingSpec("moderation.yellow_credit", int_range(0, 100), 10, "credit taken by a yellow hit"),
    SettingSpec("moderation.red_credit", int_range(0, 100), 30, "credit taken by a red hit"),
    SettingSpec("moderation.warning_days", int_range(1, 3650), 30, "days a warning stays active"),
    SettingSpec("moderation.alert_batch_minutes", int_range(0, 1440), 5, "at most one yellow alert per this"),
    SettingSpec(
        "moderation.escalate_minutes", int_range(1, 1440), 15, "re-alert an unacknowledged red after"
    ),
    SettingSpec("moderation.digest_hour", int_range(0, 23), 21, "local hour of the moderators' digest"),
    SettingSpec("moderation.default_mute_minutes", int_range(1, 525_600), 60, "/mute without a duration"),
    SettingSpec("moderation.flood_messages", int_range(2, 1000), 8, "more messages than this in the window"),
    SettingSpec("moderation.flood_seconds", int_range(1, 3600), 10, "flood window in seconds"),
    SettingSpec("moderation.flood_identical", int_range(2, 1000), 4, "this many identical messages…"),
    SettingSpec("moderation.flood_identical_seconds", int_range(1, 86_400), 60, "…within this many seconds"),
    SettingSpec("moderation.flood_mute_minutes", int_range(1, 525_600), 10, "mute length for a flood"),
    SettingSpec("moderation.surge_hits", int_range(1, 10_000), 5, "more red/yellow hits than this…"),
    SettingSpec("moderation.surge_minutes", int_range(1, 1440), 10, "…within this many minutes: surge alert"),
    SettingSpec(
        "moderation.pinyin", bool, False, "terms of 3+ Chinese characters also match in pinyin or homophones"
    ),
]


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
    # Loading jieba's dictionary and compiling the lexicon take about a second: off the loop.
    layer = await asyncio.to_thread(build_global_layer, entries)
    state = ModState(
        repos=ModerationRepos(services.db), global_layer=layer, regex_timeout=section.regex_timeout_ms / 1000
    )
    services.state[STATE_KEY] = state
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
    state: ModState = services.state[STATE_KEY]
    return await state.repos.privacy.export_member(member.id)


async def _forget(services: Services, member: Member) -> None:
    state: ModState = services.state[STATE_KEY]
    await state.repos.privacy.forget_member(member.id)


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
    return {
        AuditTrail: trail,
        MessageScreen: screen,
        CreditScore: credit,
        ModerationFacts: facts,
        TextFolding: folding,
    }


FEATURE = Feature(
    name="moderation",
    router=router,
    settings=SETTINGS,
    provides=_ports,
    startup=_startup,
    export_member_data=_export,
    delete_member_data=_forget,
    config_model=ModerationConfig,
    demo=_demo,
)
