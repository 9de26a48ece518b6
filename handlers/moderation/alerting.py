"""Moderator alerts: hit alerts with their buttons, yellow batches, re-alerts of an
unacknowledged red, and the daily digest."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.clock import zone
from bot.errors import (
    QunyouError,
)
from bot.events import ChatRef, SentMessage, UserRef
from bot.messages import Button, Mention, OutgoingMessage, Part, Text
from bot.scheduler import At, Cron
from bot.services import Services
from handlers.moderation.service import JOB_BATCH, JOB_DIGEST, Step, category_key, get_state
from handlers.moderation.settings import ModerationSettings
from storage.models import Group
from storage.moderation import AlertRow

log = logging.getLogger(__name__)


def step_label(services: Services, group: Group, step: Step) -> str:
    t = services.i18n.t
    return t(
        group.language,
        "moderation.step_failed",
        step=t(group.language, f"moderation.step.{step.name}"),
        why=t(group.language, f"moderation.why.{step.why or 'failed'}"),
    )


def manual_lines(services: Services, group: Group, steps: Sequence[dict[str, Any]]) -> list[str]:
    """ "Manual action needed" lines for the steps that did not happen."""
    t = services.i18n.t
    lines = []
    for raw in steps:
        if raw.get("ok"):
            continue
        step = Step(str(raw.get("step")), False, str(raw.get("why") or "failed"))
        lines.append(t(group.language, "moderation.alert.manual", what=step_label(services, group, step)))
    return lines


def done_line(services: Services, group: Group, steps: Sequence[dict[str, Any]]) -> str:
    """The steps that happened, as one line."""
    t = services.i18n.t
    names = [t(group.language, f"moderation.step.{s['step']}") for s in steps if s.get("ok")]
    sep = t(group.language, "moderation.alert.sep")
    return t(group.language, "moderation.alert.done", steps=sep.join(names) if names else "—")


async def notify(services: Services, group: Group, message: OutgoingMessage) -> list[SentMessage]:
    """Send to the group's moderators (moderator chat, else privately, else the group)."""
    try:
        return await services.alerts.notify(group, message)
    except QunyouError as exc:
        log.error("could not deliver a moderation alert for group %s: %s", group.id, exc)
        return []


def refs_of(sent: Sequence[SentMessage]) -> list[list[str]]:
    """Where alert messages went, stored so they can be edited later."""
    return [
        [s.chat.platform, s.chat.adapter, s.chat.scope_id, s.chat.channel_id, s.chat.kind, s.message_id]
        for s in sent
    ]


async def edit_alert_messages(services: Services, alert: AlertRow, message: OutgoingMessage) -> None:
    """Replace every copy of an alert message (dropping its buttons); failures are only logged."""
    for platform, adapter_name, scope, channel, kind, message_id in alert.refs:
        adapter = services.adapters.get(adapter_name)
        if adapter is None:
            continue
        chat = ChatRef(platform, adapter_name, scope, channel, "private" if kind == "private" else "group")
        try:
            await adapter.edit(chat, message_id, message)
        except QunyouError as exc:
            log.info("could not edit alert %s message %s: %s", alert.id, message_id, exc)


async def has_moderator_chat(services: Services, group: Group) -> bool:
    """True when alerts reach a dedicated moderator chat (then a lexicon term may be named)."""
    return await services.alerts.moderator_chat(group) is not None


def alert_buttons(
    services: Services, group: Group, alert_id: int, kind: str
) -> tuple[tuple[Button, ...], ...]:
    """Acknowledge / Undo / Ban (hits), or Resolve / Delete / Ban (reports)."""
    t = services.i18n.t
    lang = group.language
    if kind == "report":
        row = (
            Button(t(lang, "moderation.button.resolve"), f"mod:ack:{alert_id}", f"/ack {alert_id}"),
            Button(t(lang, "moderation.button.delete"), f"mod:del:{alert_id}"),
            Button(t(lang, "moderation.button.ban"), f"mod:ban:{alert_id}"),
        )
    else:
        row = (
            Button(t(lang, "moderation.button.ack"), f"mod:ack:{alert_id}", f"/ack {alert_id}"),
            Button(t(lang, "moderation.button.undo"), f"mod:undo:{alert_id}"),
            Button(t(lang, "moderation.button.ban"), f"mod:ban:{alert_id}"),
        )
    return (row,)


async def member_ref(
    services: Services, group: Group, member_id: int | None, user_id: str | None
) -> UserRef | None:
    """A mentionable reference to a stored member."""
    member = await services.members.get(member_id) if member_id else None
    if member is not None:
        return services.directory.user_ref(member, group.platform)
    if user_id:
        return UserRef(group.platform, user_id, user_id)
    return None


async def hit_alert_message(
    services: Services, group: Group, alert: AlertRow, *, escalation: bool = False
) -> OutgoingMessage:
    """The text of a red alert (or a re-alert on its escalation ladder), with its buttons."""
    t = services.i18n.t
    lang = group.language
    who = await member_ref(services, group, alert.member_id, alert.user_id)
    parts: list[Part] = []
    if escalation:
        head = "moderation.alert.red_again"
    elif alert.kind == "hit":
        head = f"moderation.alert.hit_{alert.level or 'red'}"
    else:
        head = f"moderation.alert.{alert.kind}"
    minutes = (await services.settings.of(group.id, ModerationSettings)).escalate_minutes
    if escalation:  # how long it has waited: the rung of the ladder this re-alert is
        minutes = round((services.clock.now() - alert.created_at).total_seconds() / 60)
    parts.extend(services.i18n.parts(lang, head, id=alert.id, minutes=minutes))
    parts.append(Text("\n" + t(lang, "moderation.alert.member")))
    parts.append(Mention(who) if who else Text("—"))
    parts.append(
        Text("\n" + t(lang, "moderation.alert.category", category=t(lang, category_key(alert.category))))
    )
    if alert.term_key and await has_moderator_chat(services, group):
        parts.append(Text("\n" + t(lang, "moderation.alert.term", term=alert.term_key)))
    if alert.excerpt:
        parts.append(Text("\n" + t(lang, "moderation.alert.excerpt", excerpt=alert.excerpt)))
    if alert.reporters:
        parts.append(Text("\n" + t(lang, "moderation.alert.reporters", count=alert.reporters)))
    if alert.steps:
        parts.append(Text("\n" + done_line(services, group, alert.steps)))
        for line in manual_lines(services, group, alert.steps):
            parts.append(Text("\n" + line))
    notify_refs: tuple[UserRef, ...] = ()
    if escalation:
        mods = []
        for user_id in await services.alerts.moderators(group):
            found = await services.members.find(group.id, user_id)
            mods.append(
                services.directory.user_ref(found, group.platform)
                if found
                else UserRef(group.platform, user_id, user_id)
            )
        if mods:
            parts.append(Text("\n"))
            for i, mod in enumerate(mods):
                parts.append(Text(" " if i else ""))
                parts.append(Mention(mod))
        notify_refs = tuple(mods)
    buttons = alert_buttons(services, group, alert.id, alert.kind) if alert.status == "open" else None
    return OutgoingMessage(parts=tuple(parts), buttons=buttons, notify=notify_refs)


async def handled_message(
    services: Services, group: Group, alert: AlertRow, handler: UserRef | None
) -> OutgoingMessage:
    """The alert as it reads after a moderator handled it (no buttons)."""
    base = await hit_alert_message(services, group, alert)
    local = (alert.handled_at or services.clock.now()).astimezone(zone(group.timezone))
    status = services.i18n.t(group.language, f"moderation.status.{alert.status}")
    extra: list[Part] = [
        Text(
            "\n"
            + services.i18n.t(
                group.language, "moderation.alert.handled", status=status, time=local.strftime("%H:%M")
            )
            + " "
        )
    ]
    extra.append(Mention(handler) if handler else Text(alert.handled_by or "—"))
    return OutgoingMessage(parts=base.parts + tuple(extra), buttons=None)


async def send_alert(services: Services, group: Group, alert_id: int, *, escalation: bool = False) -> None:
    """Send (or re-send) one alert with buttons and remember where it went."""
    state = get_state(services)
    alert = await state.repos.alerts.alert(alert_id)
    if alert is None:
        return
    message = await hit_alert_message(services, group, alert, escalation=escalation)
    sent = await notify(services, group, message)
    now = services.clock.now()
    refs = alert.refs + refs_of(sent)
    if escalation:
        await state.repos.alerts.set_alert(alert_id, escalated_at=now, refs=refs)
    else:
        await state.repos.alerts.mark_notified([alert_id], now, refs)


async def flush_batch(services: Services, group: Group) -> int:
    """Send the waiting yellow alerts of a group as one message; returns how many it listed."""
    state = get_state(services)
    pending = await state.repos.alerts.unnotified(group.id, "hit", "yellow")
    if not pending:
        return 0
    t = services.i18n.t
    lang = group.language
    parts: list[Part] = [Text(t(lang, "moderation.alert.yellow_batch", count=len(pending)))]
    named = await has_moderator_chat(services, group)
    for alert in pending:
        who = await member_ref(services, group, alert.member_id, alert.user_id)
        parts.append(
            Text(
                "\n"
                + t(
                    lang,
                    "moderation.alert.batch_line",
                    id=alert.id,
                    category=t(lang, category_key(alert.category)),
                )
                + " "
            )
        )
        parts.append(Mention(who) if who else Text("—"))
        if named and alert.term_key:
            parts.append(Text(" " + t(lang, "moderation.alert.term", term=alert.term_key)))
        parts.append(Text(" · " + done_line(services, group, alert.steps)))
        for line in manual_lines(services, group, alert.steps):
            parts.append(Text("\n  " + line))
    sent = await notify(services, group, OutgoingMessage(parts=tuple(parts)))
    await state.repos.alerts.mark_notified([a.id for a in pending], services.clock.now(), refs_of(sent))
    return len(pending)


async def queue_yellow(services: Services, group: Group) -> None:
    """Send the yellow batch now, or schedule it so that a group gets at most one per window."""
    state = get_state(services)
    window = timedelta(minutes=(await services.settings.of(group.id, ModerationSettings)).alert_batch_minutes)
    last = await state.repos.alerts.last_notified(group.id, "hit", "yellow")
    now = services.clock.now()
    if last is None or now - last >= window:
        await flush_batch(services, group)
        return
    await services.scheduler.schedule(
        f"mod-batch:{group.id}", JOB_BATCH, At(last + window), {}, group_id=group.id
    )


async def run_batch_job(services: Services, job: Any, fire_time: datetime) -> None:
    """The batching window ended: send what is waiting."""
    group = await services.directory.group_by_id(job.group_id) if job.group_id else None
    if group is not None:
        await flush_batch(services, group)


async def ensure_digest(services: Services, group: Group) -> None:
    """Schedule the group's daily digest (once per group)."""
    state = get_state(services)
    if group.id in state.digests:
        return
    hour = (await services.settings.of(group.id, ModerationSettings)).digest_hour
    await services.scheduler.schedule(
        f"mod-digest:{group.id}",
        JOB_DIGEST,
        Cron(tz=group.timezone, minute="0", hour=str(hour)),
        {},
        group_id=group.id,
    )
    state.digests.add(group.id)


async def run_digest_job(services: Services, job: Any, fire_time: datetime) -> None:
    """The moderators' daily digest: blue hits and what is still open, for the last day."""
    state = get_state(services)
    group = await services.directory.group_by_id(job.group_id) if job.group_id else None
    if group is None:
        return
    since = fire_time - timedelta(days=1)
    recent = await state.repos.alerts.alerts(group.id, since=since, limit=1000)
    blue = [a for a in recent if a.kind == "hit" and a.level == "blue"]
    # Every alert still open, however old: the digest is the escalation ladder's last rung.
    opened = await state.repos.alerts.alerts(group.id, status="open", limit=1000)
    still_open = [a for a in opened if not (a.kind == "hit" and a.level == "blue")]
    if not blue and not still_open:
        return
    t = services.i18n.t
    lang = group.language
    lines = [t(lang, "moderation.digest.header", blue=len(blue), open=len(still_open))]
    by_cat: dict[str, int] = {}
    for a in blue:
        label = t(lang, category_key(a.category))
        by_cat[label] = by_cat.get(label, 0) + 1
    for label, count in sorted(by_cat.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(t(lang, "moderation.digest.category_line", category=label, count=count))
    if still_open:
        lines.append(
            t(lang, "moderation.digest.open_line", ids=", ".join(f"#{a.id}" for a in still_open[:20]))
        )
    lines.append(t(lang, "moderation.digest.footer"))
    await notify(services, group, OutgoingMessage.of("\n".join(lines)))
    for a in blue:
        if a.notified_at is None:
            await state.repos.alerts.mark_notified([a.id], services.clock.now(), a.refs)
