"""Pieces of the action plans shared by the screen and the moderators' commands."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.services import Services
from handlers.moderation.matcher import Matcher
from handlers.moderation.person import person_warnings
from handlers.moderation.sanctions import sanction
from handlers.moderation.service import WARNING_LADDER, WARNING_MAX, Step, get_state
from handlers.moderation.settings import ModerationSettings
from storage.models import Group, Member


def _minutes(value: Any) -> timedelta:
    return timedelta(minutes=int(value))


def _steps_detail(steps: list[Step]) -> str:
    return " ".join(f"{s.name}={'ok' if s.ok else s.why}" for s in steps)


async def _warn(
    services: Services,
    group: Group,
    member: Member,
    category: str | None,
    reason: str | None,
    actor: str,
    alert_id: int | None,
) -> int:
    state = get_state(services)
    now = services.clock.now()
    days = (await services.settings.of(group.id, ModerationSettings)).warning_days
    count = await state.repos.sanctions.add_warning(
        group.id,
        member.id,
        reason=reason,
        category=category,
        by=actor,
        now=now,
        expires_at=now + timedelta(days=days),
        alert_id=alert_id,
    )
    # The ladder sees the person: warnings given to their linked accounts count too.
    count = await person_warnings(services, group, member, count)
    await state.repos.audit.log(
        group.id,
        now,
        actor,
        "warn",
        f"count={count} " + (reason or ""),
        member_id=member.id,
        alert_id=alert_id,
    )
    return count


async def _ladder(
    services: Services,
    group: Group,
    member: Member,
    count: int,
    actor: str,
    steps: list[Step],
    alert_id: int | None,
) -> str | None:
    """Apply the warning ladder; returns the translation key describing what happened."""
    rule = WARNING_LADDER.get(min(count, WARNING_MAX))
    if rule is None:
        return None
    kind, duration = rule
    ok = await sanction(services, group, member, kind, duration, f"warnings={count}", actor, steps, alert_id)
    if not ok:
        return "moderation.public.ladder_failed"
    if kind == "ban":
        return "moderation.public.ladder_ban"
    return (
        "moderation.public.ladder_mute_1h"
        if duration == timedelta(hours=1)
        else "moderation.public.ladder_mute_24h"
    )


async def _pinyin_ready(matcher: Matcher) -> None:
    """Build the snapshot's pinyin automaton off the event loop (the first one imports pypinyin)."""
    if not matcher.pinyin_ready:
        await asyncio.to_thread(matcher.pinyin_index)
