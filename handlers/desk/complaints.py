"""Complaints (``/complain TEXT``, ``/complaints``) and the first level of the response.

Each complaint is recorded, acknowledged with the group's ``complaint`` standard reply, and
opened as a yellow alert in the moderators' list (``ModeratorAlerts``: ``/alerts``, ``/ack``,
handling time), like a report. Level 1: when the group's complaints of the local day go over
``desk.complaint_threshold`` (0: scaled to the group's size), the acknowledgement is posted to
everyone and a red alert goes to the moderators — at most once an hour, remembered in the
database so a restart does not repeat it.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from bot.args import BadArgument
from bot.context import Context
from bot.errors import QunyouError
from bot.params import Rest
from bot.ports import ModeratorAlerts
from bot.roles import Role
from handlers.desk.commands import router
from handlers.desk.replies import post_reply
from handlers.desk.settings import DeskSettings
from handlers.desk.state import get_state

log = logging.getLogger(__name__)

#: A member may complain once in this time (one member alone must not start level 1).
MEMBER_GAP = timedelta(minutes=10)
#: Level 1 fires at most once in this time.
LEVEL1_GAP = timedelta(hours=1)
TEXT_MAX = 500
#: ``/complaints`` lists this many of the last week's.
LIST_MAX = 10


def scaled_threshold(members: int) -> int:
    """The default daily threshold for a group of ``members``: 3 per 300 members, at least 3."""
    return max(3, members // 100)


async def threshold_of(ctx: Context) -> int:
    """The group's daily complaint threshold."""
    assert ctx.group is not None
    configured = (await ctx.settings(DeskSettings)).complaint_threshold
    if configured:
        return configured
    return scaled_threshold(await get_state(ctx.services).repos.complaints.member_count(ctx.group.id))


def day_start(ctx: Context) -> datetime:
    """The start of the group's local day, as an instant."""
    return datetime.combine(ctx.today, time(0), tzinfo=ctx.zone)


def _excerpt(text: str, size: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


@router.command(
    "complain",
    aliases=("投诉",),
    usage="desk.complain.usage",
    help="desk.complain.help",
    args=[Rest("text", limit=TEXT_MAX * 4)],
)
async def complain(ctx: Context, text: str) -> None:
    """``/complain TEXT``: record, acknowledge, alert; level 1 when the day's count is over."""
    group, member = ctx.group, ctx.member
    assert group is not None and member is not None
    text = text.strip()
    if len(text) > TEXT_MAX:
        raise BadArgument("desk.complain.too_long", max=TEXT_MAX)
    state = get_state(ctx.services)
    repo = state.repos.complaints
    last = await repo.last_by(group.id, member.id)
    if last is not None and ctx.now - last < MEMBER_GAP:
        minutes = max(1, round((MEMBER_GAP - (ctx.now - last)).total_seconds() / 60))
        await ctx.reply(ctx.t("desk.complain.wait", minutes=minutes))
        return
    complaint_id = await repo.add(group.id, member.id, text, "command", ctx.now)
    alerts = ctx.services.ports.find(ModeratorAlerts)
    if alerts is not None:
        note = ctx.t("desk.complain.alert", id="{id}", name=member.display_name, text=_excerpt(text))
        try:
            alert_id = await alerts.open_alert(
                group, kind="complaint", level="yellow", text=note, member=member
            )
            await repo.set_alert(complaint_id, alert_id)
        except QunyouError as exc:
            log.warning("could not alert the moderators of complaint %s: %s", complaint_id, exc)
    await post_reply(ctx, "complaint", member)
    await _level1(ctx, alerts)


async def complaint_from_mood(ctx: Context, text: str) -> bool:
    """A strongly negative message naming a product word: counted as a complaint (source
    ``mood``, listed by ``/complaints``) toward level 1; not acknowledged to the member (they did
    not ask) and no alert of its own (level 1 alerts when they add up). Once in ``MEMBER_GAP``
    per member, like ``/complain``. Returns True when counted."""
    group, member = ctx.group, ctx.member
    if group is None or member is None:
        return False
    repo = get_state(ctx.services).repos.complaints
    last = await repo.last_by(group.id, member.id)
    if last is not None and ctx.now - last < MEMBER_GAP:
        return False
    await repo.add(group.id, member.id, text[:TEXT_MAX], "mood", ctx.now)
    await _level1(ctx, ctx.services.ports.find(ModeratorAlerts))
    return True


async def _level1(ctx: Context, alerts: ModeratorAlerts | None) -> None:
    group = ctx.group
    assert group is not None
    repo = get_state(ctx.services).repos.complaints
    count = await repo.count_since(group.id, day_start(ctx))
    threshold = await threshold_of(ctx)
    if count <= threshold:
        return
    last = await repo.last_fired(group.id, 1)
    if last is not None and ctx.now - last < LEVEL1_GAP:
        return
    await repo.fired(group.id, 1, count, ctx.now)
    await post_reply(ctx, "complaint", None)
    if alerts is not None:
        note = ctx.t("desk.complain.level1", id="{id}", count=count, threshold=threshold)
        try:
            await alerts.open_alert(group, kind="complaint", level="red", text=note)
        except QunyouError as exc:
            log.warning("could not alert the moderators of level 1 in group %s: %s", group.id, exc)


@router.command(
    "complaints",
    aliases=("投诉列表",),
    min_role=Role.MODERATOR,
    usage="desk.complain.list_usage",
    help="desk.complain.list_help",
)
async def complaints_list(ctx: Context) -> None:
    """``/complaints``: today's count against the threshold, and the last week's complaints."""
    group = ctx.group
    assert group is not None
    repo = get_state(ctx.services).repos.complaints
    today = await repo.count_since(group.id, day_start(ctx))
    lines = [ctx.t("desk.complain.list_title", count=today, threshold=await threshold_of(ctx))]
    for row in await repo.recent(group.id, ctx.now - timedelta(days=7), LIST_MAX):
        who = await ctx.services.members.get(row.member_id) if row.member_id else None
        local = row.at.astimezone(ctx.zone).strftime("%m-%d %H:%M")
        alert = f" #{row.alert_id}" if row.alert_id else ""
        lines.append(
            ctx.t(
                "desk.complain.list_item",
                time=local,
                name=who.display_name if who else "—",
                text=_excerpt(row.text, 60),
                alert=alert,
            )
        )
    await ctx.reply("\n".join(lines))
