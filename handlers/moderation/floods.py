"""Flood bursts: many flooders within a few seconds cost one transaction and one alert.

The first flooder in a group is handled as before, at once (alert, mute, lift job, audit, the
moderators' alert with its buttons). It opens a burst of ``BURST``: each further flooder in that
time is muted at once (and gets the public notice, which ``bot.notices`` coalesces), while their
alert rows, sanction rows and audit lines wait in memory. When the burst closes (the batcher's
flush, which follows the virtual clock; or shutdown) they are written in **one** transaction
(``storage.moderation.floods``), their lifts share **one** job, and the moderators get **one**
alert listing them all.

Nothing is lost to a crash inside the burst: each held flooder is also one row of
``mod_flood_held``, inserted as they are muted (one cheap write instead of the five of the single
path). The next start writes what a dead process left there (``recover``) as a burst of its own:
the sanctions (so their lifts are planned and the mutes end on time), the audit lines, the
alerts and one moderators' alert. The window left is between the platform's mute and that
insert, one statement.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot import metrics
from bot.context import Context
from bot.messages import Mention, OutgoingMessage, Part, Text
from bot.scheduler import At
from bot.services import Services
from handlers.moderation.alerting import done_line, manual_lines, notify, refs_of
from handlers.moderation.plans import _minutes, _steps_detail
from handlers.moderation.sanctions import _sanction_here, _share, attempt
from handlers.moderation.service import BOT_ACTOR, JOB_LIFT, Step, get_state
from handlers.moderation.settings import ModerationSettings
from storage.models import Group, Job, Member
from storage.moderation.floods import FloodRecord, FloodRepo, FloodWritten, HeldRow

log = logging.getLogger(__name__)

#: Flooders within this time after the first of a burst are written and alerted together.
BURST = timedelta(seconds=5)
KEY = "moderation.flood_bursts"
#: Names one burst alert lists; the rest are counted.
NAMES_MAX = 30


@dataclass
class Held:
    """A flooder of an open burst: muted already, not yet written."""

    member: Member
    record: FloodRecord
    #: Its ``mod_flood_held`` row (None: the insert failed; written with the burst all the same).
    held_id: int | None = None


@dataclass
class Burst:
    """The burst open in one group."""

    opened: datetime
    held: list[Held] = field(default_factory=list)


def _bursts(services: Services) -> dict[int, Burst]:
    found = services.state.get(KEY)
    if not isinstance(found, dict):
        found = {}
        services.state[KEY] = found
    return found


async def hold(ctx: Context, group: Group, member: Member, kind: str) -> tuple[bool, timedelta] | None:
    """Mute a flooder of an open burst at once and keep their rows for the burst's write.

    Returns whether the mute held and its length; None for the first flooder of a burst, whom
    the caller handles on its own (and who opens the burst)."""
    services = ctx.services
    bursts = _bursts(services)
    now = ctx.now
    burst = bursts.get(group.id)
    if burst is None or now >= burst.opened + BURST:
        if burst is not None and burst.held:
            await _write(services, group, bursts.pop(group.id))
        bursts[group.id] = Burst(now)
        return None
    duration = _minutes((await ctx.settings(ModerationSettings)).flood_mute_minutes)
    until = now + duration
    steps: list[Step] = []
    chat = services.directory.chat_for(group)
    adapter = services.adapters[group.adapter]
    ok = await attempt(steps, "mute", adapter, lambda: adapter.mute(chat, member.user_id, until))
    if ok:
        metrics.SANCTIONS.labels(action="mute").inc()

        async def apply(peer: Group, peer_member: Member, peer_steps: list[Step]) -> bool:
            # A community that shares sanctions: its other chats as on the single path (rare).
            why = f"flood (shared from {group.title or group.scope_id} ({group.platform}))"
            return await _sanction_here(
                services, peer, peer_member, "mute", duration, why, BOT_ACTOR, peer_steps, None
            )

        await _share(services, group, member, apply)
    record = FloodRecord(
        member_id=member.id,
        user_id=member.user_id,
        at=now,
        excerpt=ctx.t(f"moderation.flood.{kind}"),
        flood_detail=f"{kind} {_steps_detail(steps)}",
        steps=[s.as_dict() for s in steps],
        muted=ok,
        until=until,
        mute_detail=f"until={until.isoformat()} reason=flood",
    )
    held_id = None
    try:
        held_id = await FloodRepo(services.db).hold(group.id, record)
    except Exception:
        # The database is away: the flooder is still written with the burst, as before.
        log.exception("holding flooder %s of group %s failed", member.id, group.id)
    burst.held.append(Held(member, record, held_id))
    return ok, duration


async def flush(services: Services, *, force: bool = False) -> None:
    """Write every burst whose time is over (all of them with ``force``, at shutdown)."""
    bursts = _bursts(services)
    now = services.clock.now()
    for group_id, burst in list(bursts.items()):
        if not force and now < burst.opened + BURST:
            continue
        del bursts[group_id]
        if not burst.held:
            continue
        group = await services.directory.group_by_id(group_id)
        if group is not None:
            await _write(services, group, burst)


async def shutdown(services: Services) -> None:
    """Nothing held may be lost to a stop: write what is open."""
    await flush(services, force=True)


JOB_RECOVER = "moderation.flood-recover"


async def recover(services: Services) -> None:
    """At start: when flooders are held that no process wrote (one crashed inside a burst), plan
    their write for one burst from now. By then any live worker sharing the database has written
    its own open burst, and the adapters are connected for the moderators' alert."""
    if await FloodRepo(services.db).held():
        now = services.clock.now()
        await services.scheduler.schedule(JOB_RECOVER, JOB_RECOVER, At(now + BURST), {})


async def run_recover_job(services: Services, job: Job, fire: datetime) -> None:
    """Write what was held before the start, one burst per group (``recover``)."""
    await _recover(services, await FloodRepo(services.db).held(before=fire - BURST))


async def _recover(services: Services, rows: list[HeldRow]) -> None:
    by_group: dict[int, Burst] = {}
    for row in rows:
        member = await services.members.get(row.record.member_id)
        group = await services.directory.group_by_id(row.group_id)
        if member is None or group is None:
            continue  # gone since (the row went with them too, by its foreign keys)
        burst = by_group.setdefault(group.id, Burst(row.record.at))
        burst.held.append(Held(member, row.record, row.id))
    for group_id, burst in by_group.items():
        group = await services.directory.group_by_id(group_id)
        if group is not None:
            log.warning("writing %d flooders of group %s held before a restart", len(burst.held), group_id)
            await _write(services, group, burst)


async def _write(services: Services, group: Group, burst: Burst) -> None:
    """One transaction for the rows, one job for the lifts, one alert for the moderators."""
    found = await FloodRepo(services.db).record(
        group.id, [h.record for h in burst.held], BOT_ACTOR, [h.held_id for h in burst.held]
    )
    # A held row another writer took already (a restarted worker on a shared database) is theirs.
    kept = [(h, w) for h, w in zip(burst.held, found, strict=True) if w is not None]
    if not kept:
        return
    records = [h.record for h, _ in kept]
    written: list[FloodWritten] = [w for _, w in kept]
    lifts = [w.sanction_id for w in written if w.sanction_id is not None]
    ends = [r.until for r in records if r.muted and r.until is not None]
    if lifts and ends:
        # One job lifts the burst's mutes: they end within the burst's few seconds of each
        # other, so at the last one's end (reschedule_lifts gives each its own after a restart).
        # Not in the past (a burst written after a restart): the scheduler would skip it.
        at = max(max(ends), services.clock.now() + timedelta(seconds=1))
        await services.scheduler.schedule(
            f"mod-lift:burst:{lifts[0]}", JOB_LIFT, At(at), {"sanctions": lifts}, group_id=group.id
        )
    t, lang = services.i18n.t, group.language
    parts: list[Part] = [Text(t(lang, "moderation.alert.flood_burst", count=len(records)))]
    for (held, _), ids in list(zip(kept, written, strict=True))[:NAMES_MAX]:
        parts.append(Text(f"\n#{ids.alert_id} "))
        parts.append(Mention(services.directory.user_ref(held.member, group.platform)))
        done = done_line(services, group, held.record.steps)
        parts.append(Text(f" · {held.record.excerpt} · {done}"))
        for line in manual_lines(services, group, held.record.steps):
            parts.append(Text("\n  " + line))
    if len(records) > NAMES_MAX:
        more = t(lang, "moderation.alert.flood_burst_more", count=len(records) - NAMES_MAX)
        parts.append(Text("\n" + more))
    # Mentions in a moderators' list must not ping the flooders.
    sent = await notify(services, group, OutgoingMessage(parts=tuple(parts), notify=()))
    await get_state(services).repos.alerts.mark_notified(
        [w.alert_id for w in written], services.clock.now(), refs_of(sent)
    )
