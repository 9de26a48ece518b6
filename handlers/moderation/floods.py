"""Flood bursts: many flooders within a few seconds cost one transaction and one alert.

The first flooder in a group is handled as before, at once (alert, mute, lift job, audit, the
moderators' alert with its buttons). It opens a burst of ``BURST``: each further flooder in that
time is muted at once (and gets the public notice, which ``bot.notices`` coalesces), while their
alert rows, sanction rows and audit lines wait in memory. When the burst closes (the batcher's
flush, which follows the virtual clock; or shutdown) they are written in **one** transaction
(``storage.moderation.floods``), their lifts share **one** job, and the moderators get **one**
alert listing them all. What a crash inside the burst loses is the rows of those few seconds;
the mutes were made on the platform with their end time, and ``/alerts`` simply misses them.
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
from storage.models import Group, Member
from storage.moderation.floods import FloodRecord, FloodRepo

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
    burst.held.append(Held(member, record))
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


async def _write(services: Services, group: Group, burst: Burst) -> None:
    """One transaction for the rows, one job for the lifts, one alert for the moderators."""
    records = [h.record for h in burst.held]
    written = await FloodRepo(services.db).record(group.id, records, BOT_ACTOR)
    lifts = [w.sanction_id for w in written if w.sanction_id is not None]
    ends = [r.until for r in records if r.muted and r.until is not None]
    if lifts and ends:
        # One job lifts the burst's mutes: they end within the burst's few seconds of each
        # other, so at the last one's end (reschedule_lifts gives each its own after a restart).
        await services.scheduler.schedule(
            f"mod-lift:burst:{lifts[0]}", JOB_LIFT, At(max(ends)), {"sanctions": lifts}, group_id=group.id
        )
    t, lang = services.i18n.t, group.language
    parts: list[Part] = [Text(t(lang, "moderation.alert.flood_burst", count=len(records)))]
    for held, ids in list(zip(burst.held, written, strict=True))[:NAMES_MAX]:
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
