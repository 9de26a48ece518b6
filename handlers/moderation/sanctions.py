"""Platform actions with a manual fallback: delete, mute, ban and their scheduled lifting.

A refused or unsupported action never fails silently: it becomes a "manual action needed" step
that the moderators' alert lists.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot import metrics
from bot.adapter import Adapter, Capability
from bot.errors import (
    BotLacksPermission,
    CapabilityNotSupported,
    QunyouError,
    RateLimited,
    TargetNotFound,
)
from bot.events import UserRef
from bot.messages import OutgoingMessage
from bot.ports import SharedSanctions
from bot.scheduler import At
from bot.services import Services
from handlers.moderation.alerting import notify, step_label
from handlers.moderation.service import BOT_ACTOR, JOB_LIFT, Step, get_state
from storage.models import Group, Member

log = logging.getLogger(__name__)

_CAPABILITY = {
    "delete": Capability.DELETE,
    "mute": Capability.MUTE,
    "unmute": Capability.UNMUTE,
    "ban": Capability.BAN,
    "unban": Capability.UNBAN,
    "kick": Capability.KICK,
}


async def attempt(
    steps: list[Step], name: str, adapter: Adapter, call: Callable[[], Awaitable[None]]
) -> bool:
    """Run one platform action; a refusal becomes a "manual action needed" step, never silence.

    The capability is checked first, so an adapter that declares less than it implements is
    still treated as unable (and nothing is attempted behind the platform's back).
    """
    capability = _CAPABILITY.get(name)
    try:
        if capability is not None and not adapter.supports(capability):
            raise CapabilityNotSupported(capability, adapter.name)
        await call()
    except CapabilityNotSupported:
        steps.append(Step(name, False, "unsupported"))
        return False
    except BotLacksPermission:
        steps.append(Step(name, False, "no_rights"))
        return False
    except TargetNotFound:
        steps.append(Step(name, False, "gone"))
        return False
    except RateLimited:
        steps.append(Step(name, False, "failed"))
        return False
    except QunyouError as exc:
        log.warning("moderation step %s failed: %s", name, exc)
        steps.append(Step(name, False, "failed"))
        return False
    steps.append(Step(name, True))
    return True


def _adapter(services: Services, group: Group) -> Adapter:
    return services.adapters[group.adapter]


@dataclass
class Shared:
    """Where a sanction was carried to beyond its own chat (the community's other chats)."""

    applied: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _chat_name(group: Group) -> str:
    return f"{group.title or group.scope_id} ({group.platform})"


async def _share(
    services: Services,
    group: Group,
    member: Member,
    apply: Callable[[Group, Member, list[Step]], Awaitable[bool]],
) -> Shared:
    """Carry an action to every chat of the group's community that shares bans, as the member's
    account there; each chat audits its own, and a chat that refuses (the bot is no admin there)
    is named in the result instead of failing the rest."""
    shared = Shared()
    port = services.ports.find(SharedSanctions)
    if port is None:
        return shared
    for peer, user_id in await port.peers(group, member.user_id):
        account = UserRef(peer.platform, user_id, member.display_name, username=member.username)
        peer_member = await services.directory.member_for(peer, account)
        ok = await apply(peer, peer_member, [])
        (shared.applied if ok else shared.failed).append(_chat_name(peer))
    return shared


async def sanction(
    services: Services,
    group: Group,
    member: Member,
    kind: str,
    duration: timedelta | None,
    reason: str | None,
    actor: str,
    steps: list[Step],
    alert_id: int | None = None,
    shared: Shared | None = None,
    share: bool = True,
) -> bool:
    """Mute or ban a member (``duration`` None: until lifted) and schedule the lift; in a
    community that shares bans, the same in its other chats (``shared`` says where)."""
    ok = await _sanction_here(services, group, member, kind, duration, reason, actor, steps, alert_id)
    if ok and share:

        async def apply(peer: Group, peer_member: Member, peer_steps: list[Step]) -> bool:
            why = f"{reason} " if reason else ""
            return await _sanction_here(
                services,
                peer,
                peer_member,
                kind,
                duration,
                f"{why}(shared from {_chat_name(group)})",
                actor,
                peer_steps,
                None,
            )

        outcome = await _share(services, group, member, apply)
        if shared is not None:
            shared.applied, shared.failed = outcome.applied, outcome.failed
    return ok


async def _sanction_here(
    services: Services,
    group: Group,
    member: Member,
    kind: str,
    duration: timedelta | None,
    reason: str | None,
    actor: str,
    steps: list[Step],
    alert_id: int | None,
) -> bool:
    state = get_state(services)
    now = services.clock.now()
    until = now + duration if duration else None
    chat = services.directory.chat_for(group)
    adapter = _adapter(services, group)
    ok = await attempt(
        steps,
        kind,
        adapter,
        lambda: (
            adapter.mute(chat, member.user_id, until)
            if kind == "mute"
            else adapter.ban(chat, member.user_id, until)
        ),
    )
    detail = f"until={until.isoformat() if until else 'indefinite'}" + (f" reason={reason}" if reason else "")
    if ok:
        metrics.SANCTIONS.labels(action=kind).inc()
        sanction_id = await state.repos.sanctions.add_sanction(
            group.id, member.id, member.user_id, kind, until, now, reason
        )
        if until is not None:
            await services.scheduler.schedule(
                f"mod-lift:{sanction_id}", JOB_LIFT, At(until), {"sanction": sanction_id}, group_id=group.id
            )
    await state.repos.audit.log(
        group.id, now, actor, kind if ok else f"{kind}_failed", detail, member_id=member.id, alert_id=alert_id
    )
    return ok


async def lift(
    services: Services,
    group: Group,
    member: Member,
    kind: str,
    actor: str,
    steps: list[Step],
    shared: Shared | None = None,
    share: bool = True,
) -> bool:
    """Unmute or unban now and cancel the scheduled lift; in a community that shares bans, in
    its other chats too."""
    ok = await _lift_here(services, group, member, kind, actor, steps)
    if not share:
        return ok

    async def apply(peer: Group, peer_member: Member, peer_steps: list[Step]) -> bool:
        return await _lift_here(services, peer, peer_member, kind, actor, peer_steps)

    outcome = await _share(services, group, member, apply)
    if shared is not None:
        shared.applied, shared.failed = outcome.applied, outcome.failed
    return ok


async def _lift_here(
    services: Services, group: Group, member: Member, kind: str, actor: str, steps: list[Step]
) -> bool:
    state = get_state(services)
    chat = services.directory.chat_for(group)
    adapter = _adapter(services, group)
    name = "unmute" if kind == "mute" else "unban"
    ok = await attempt(
        steps,
        name,
        adapter,
        lambda: (
            adapter.unmute(chat, member.user_id) if kind == "mute" else adapter.unban(chat, member.user_id)
        ),
    )
    now = services.clock.now()
    for sanction_id in await state.repos.sanctions.lift(member.id, kind, now):
        await services.scheduler.cancel(f"mod-lift:{sanction_id}")
    await state.repos.audit.log(
        group.id, now, actor, name if ok else f"{name}_failed", "", member_id=member.id
    )
    return ok


async def run_lift_job(services: Services, job: Any, fire_time: datetime) -> None:
    """A temporary mute or ban has ended: lift it (re-reads the row, so a stale job is harmless).
    A flood burst's job lifts all of its mutes (``sanctions``)."""
    ids = job.payload.get("sanctions") or [job.payload.get("sanction", 0)]
    for sanction_id in ids:
        await _lift_one(services, int(sanction_id))


async def _lift_one(services: Services, sanction_id: int) -> None:
    state = get_state(services)
    row = await state.repos.sanctions.sanction(sanction_id)
    if row is None or row.lifted_at is not None:
        return
    group = await services.directory.group_by_id(row.group_id)
    if group is None:
        return
    chat = services.directory.chat_for(group)
    adapter = _adapter(services, group)
    steps: list[Step] = []
    ok = await attempt(
        steps,
        "unmute" if row.kind == "mute" else "unban",
        adapter,
        lambda: adapter.unmute(chat, row.user_id) if row.kind == "mute" else adapter.unban(chat, row.user_id),
    )
    now = services.clock.now()
    await state.repos.sanctions.close_sanction(sanction_id, now)
    await state.repos.audit.log(
        group.id,
        now,
        BOT_ACTOR,
        f"{row.kind}_expired" if ok else f"{row.kind}_expire_failed",
        "",
        member_id=row.member_id,
    )
    if not ok:
        text = services.i18n.t(
            group.language,
            "moderation.alert.lift_manual",
            user=row.user_id,
            action=step_label(services, group, steps[-1]),
        )
        await notify(services, group, OutgoingMessage.of(text))


async def reschedule_lifts(services: Services) -> None:
    """At start: every open temporary sanction gets its lift job; overdue ones lift at once.

    The scheduler skips runs missed by more than its grace window, but a mute must end even if
    the bot was down for a day when it was due, so overdue lifts are moved to just after start.
    """
    state = get_state(services)
    now = services.clock.now()
    for row in await state.repos.sanctions.open_sanctions():
        if row.until is None:
            continue
        at = row.until if row.until > now else now + timedelta(seconds=1)
        await services.scheduler.schedule(
            f"mod-lift:{row.id}", JOB_LIFT, At(at), {"sanction": row.id}, group_id=row.group_id
        )
