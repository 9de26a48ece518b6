"""Complaints (``/complain TEXT``, ``/complaints``) and the first level of the response.

In private, ``/complain [GROUP] TEXT`` files it for one of the member's groups (named by its
number or name when there are several); it is tracked the same way and acknowledged privately.
Each complaint is recorded, acknowledged with the group's ``complaint`` standard reply, and
opened as a yellow alert in the moderators' list (``ModeratorAlerts``: ``/alerts``, ``/ack``,
handling time), like a report. Level 1: when the group's complaints of the local day go over
``desk.complaint_threshold`` (0: scaled to the group's size), the acknowledgement is posted to
everyone and a red alert goes to the moderators — at most once an hour, remembered in the
database so a restart does not repeat it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.args import BadArgument
from bot.clock import zone
from bot.context import Context
from bot.errors import QunyouError
from bot.messages import OutgoingMessage, Text
from bot.params import Rest
from bot.ports import ModeratorAlerts
from bot.roles import Role
from handlers.desk.commands import router
from handlers.desk.replies import post_reply, render, reply_fields
from handlers.desk.settings import DeskSettings
from handlers.desk.state import get_state
from storage.models import Group, Member

if TYPE_CHECKING:
    from bot.services import Services

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


async def threshold_in(services: Services, group: Group) -> int:
    """The group's daily complaint threshold."""
    configured = (await services.settings.of(group.id, DeskSettings)).complaint_threshold
    if configured:
        return configured
    return scaled_threshold(await get_state(services).repos.complaints.member_count(group.id))


async def threshold_of(ctx: Context) -> int:
    """The daily complaint threshold of the context's group."""
    assert ctx.group is not None
    return await threshold_in(ctx.services, ctx.group)


def day_start_in(group: Group, now: datetime) -> datetime:
    """The start of the group's local day that holds ``now``, as an instant."""
    tz = zone(group.timezone)
    return datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)


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
    where="any",
    args=[Rest("text", limit=TEXT_MAX * 4)],
)
async def complain(ctx: Context, text: str) -> None:
    """``/complain TEXT``: record, acknowledge, alert; level 1 when the day's count is over.
    In private, ``/complain [GROUP] TEXT`` for one of the member's groups."""
    text = text.strip()
    if ctx.group is None:
        await _private(ctx, text)
        return
    group, member = ctx.group, ctx.member
    assert member is not None
    if len(text) > TEXT_MAX:
        raise BadArgument("desk.complain.too_long", max=TEXT_MAX)
    if not await _may_complain(ctx, group, member):
        return
    state = get_state(ctx.services)
    complaint_id = await state.repos.complaints.add(group.id, member.id, text, "command", ctx.now)
    alerts = ctx.services.ports.find(ModeratorAlerts)
    note = ctx.t("desk.complain.alert", id="{id}", name=member.display_name, text=_excerpt(text))
    await _alert(ctx.services, alerts, group, member, complaint_id, note)
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


async def _may_complain(ctx: Context, group: Group, member: Member) -> bool:
    """False (and the member told when to try again) within ``MEMBER_GAP`` of their last one."""
    last = await get_state(ctx.services).repos.complaints.last_by(group.id, member.id)
    if last is not None and ctx.now - last < MEMBER_GAP:
        minutes = max(1, round((MEMBER_GAP - (ctx.now - last)).total_seconds() / 60))
        await ctx.reply(ctx.t("desk.complain.wait", minutes=minutes))
        return False
    return True


async def _alert(
    services: Services,
    alerts: ModeratorAlerts | None,
    group: Group,
    member: Member,
    complaint_id: int,
    note: str,
) -> None:
    """The complaint as a yellow alert in the moderators' list (handling time like a report)."""
    if alerts is None:
        return
    try:
        alert_id = await alerts.open_alert(group, kind="complaint", level="yellow", text=note, member=member)
        await get_state(services).repos.complaints.set_alert(complaint_id, alert_id)
    except QunyouError as exc:
        log.warning("could not alert the moderators of complaint %s: %s", complaint_id, exc)


async def _private(ctx: Context, text: str) -> None:
    """``/complain`` in a private chat: for the member's one group, or the group named first."""
    services = ctx.services
    groups: list[tuple[Group, Member]] = []
    for member in await services.members.for_account(ctx.chat.platform, ctx.user.user_id):
        group = await services.directory.group_by_id(member.group_id)
        if group is not None and group.active and member.left_at is None:
            groups.append((group, member))
    groups.sort(key=lambda pair: pair[0].id)
    if not groups:
        await ctx.reply(ctx.t("desk.complain.private_no_group"))
        return
    chosen = groups[0] if len(groups) == 1 else None
    if chosen is None:
        first, _, rest = text.partition(" ")
        for index, (group, member) in enumerate(groups, 1):
            if first == str(index) or first.casefold() in {
                group.scope_id.casefold(),
                (group.title or "").casefold(),
            }:
                chosen, text = (group, member), rest.strip()
                break
    if chosen is None:
        listing = "\n".join(f"{i}. {g.title or g.scope_id}" for i, (g, _m) in enumerate(groups, 1))
        await ctx.reply(ctx.t("desk.complain.private_which", groups=listing))
        return
    group, member = chosen
    if not text:
        await ctx.usage()
        return
    if len(text) > TEXT_MAX:
        raise BadArgument("desk.complain.too_long", max=TEXT_MAX)
    if not await _may_complain(ctx, group, member):
        return
    repo = get_state(services).repos.complaints
    complaint_id = await repo.add(group.id, member.id, text, "private", ctx.now)
    alerts = services.ports.find(ModeratorAlerts)
    note = services.i18n.t(
        group.language,
        "desk.complain.alert_private",
        id="{id}",
        name=member.display_name,
        text=_excerpt(text),
    )
    await _alert(services, alerts, group, member, complaint_id, note)
    fields = await reply_fields(services, group.id, group.language, "complaint")
    title = group.title or group.scope_id
    ack = render(fields, group=title).replace("{name}", member.display_name) if fields else ""
    await ctx.reply(ctx.t("desk.complain.private_done", group=title) + ("\n" + ack if ack else ""))
    await level1(services, group, ctx.now, alerts, post=None)


async def _level1(ctx: Context, alerts: ModeratorAlerts | None) -> None:
    """Level 1 for a complaint made in the group: the public acknowledgement goes to its chat."""
    assert ctx.group is not None

    async def post() -> None:
        await post_reply(ctx, "complaint", None)

    await level1(ctx.services, ctx.group, ctx.now, alerts, post=post)


async def level1(
    services: Services,
    group: Group,
    now: datetime,
    alerts: ModeratorAlerts | None,
    *,
    post: Callable[[], Awaitable[None]] | None,
) -> None:
    """When the group's complaints of its local day are over the threshold: the complaint
    acknowledgement to everyone (``post``, or the group's main chat) and a red alert, at most
    once in ``LEVEL1_GAP`` (remembered in the database, so across restarts too)."""
    repo = get_state(services).repos.complaints
    count = await repo.count_since(group.id, day_start_in(group, now))
    threshold = await threshold_in(services, group)
    if count <= threshold:
        return
    last = await repo.last_fired(group.id, 1)
    if last is not None and now - last < LEVEL1_GAP:
        return
    await repo.fired(group.id, 1, count, now)
    if post is not None:
        await post()
    else:
        fields = await reply_fields(services, group.id, group.language, "complaint")
        if fields is not None:
            everyone = services.i18n.t(group.language, "desk.reply.everyone")
            text = render(fields, group=group.title or group.scope_id).replace("{name}", everyone)
            try:
                await services.send(
                    services.directory.chat_for(group), OutgoingMessage(parts=(Text(text),)), group.language
                )
            except QunyouError as exc:
                log.warning("could not post the level 1 acknowledgement in group %s: %s", group.id, exc)
    if alerts is not None:
        note = services.i18n.t(
            group.language, "desk.complain.level1", id="{id}", count=count, threshold=threshold
        )
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
