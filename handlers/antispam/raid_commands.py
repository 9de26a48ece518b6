"""``/raid on [duration] | off``, ``/purge @member`` and the buttons of the raid alert."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.args import button_fields, decode_id
from bot.context import Context
from bot.errors import QunyouError
from bot.events import ButtonPressed
from bot.params import Duration, Member
from bot.roles import Role
from handlers.antispam import raid, raid_sync
from handlers.antispam.commands import router
from handlers.antispam.state import get_state
from storage.models import Member as MemberRow

log = logging.getLogger(__name__)

#: Telegram deletes only messages younger than 48 hours; older ones are not tried.
PURGE_AGE = timedelta(hours=48)


raid_group = router.group(
    "raid", aliases=("防护",), min_role=Role.MODERATOR, usage="antispam.raid_usage", help="antispam.raid_help"
)


@raid_group.default()
async def raid_status(ctx: Context) -> None:
    """Whether raid mode is on, and how many it has removed."""
    assert ctx.group is not None
    current = raid.book(ctx.services).raids.get(ctx.group.id)
    if current is None:
        await ctx.reply(ctx.t("antispam.raid.status_off"))
    else:
        await ctx.reply(ctx.t("antispam.raid.status_on", removed=current.removed))


@raid_group.sub("status", aliases=("状态",))
async def raid_status_word(ctx: Context) -> None:
    """``/raid status``: the same as ``/raid``."""
    await raid_status(ctx)


@raid_group.sub("on", aliases=("开",), args=[Duration("duration", optional=True)])
async def raid_on(ctx: Context, duration: timedelta | None) -> None:
    """Switch raid mode on, until it goes quiet or for ``duration``."""
    assert ctx.group is not None
    if duration is None:
        if await raid.start(ctx.services, ctx.group, "manual") is None:
            await ctx.reply(ctx.t("antispam.raid.already_on"))
    elif await raid.start(ctx.services, ctx.group, "manual", until=ctx.now + duration) is None:
        await ctx.reply(ctx.t("antispam.raid.extended"))


@raid_group.sub("off", aliases=("关",))
async def raid_off(ctx: Context) -> None:
    """Switch raid mode off now."""
    assert ctx.group is not None
    if await raid.end(ctx.services, ctx.group, "manual") is None:
        await ctx.reply(ctx.t("antispam.raid.status_off"))


@router.command(
    "purge",
    aliases=("清除",),
    min_role=Role.MODERATOR,
    usage="antispam.purge_usage",
    help="antispam.purge_help",
    args=[Member("member")],
)
async def purge(ctx: Context, member: MemberRow) -> None:
    """Delete a member's recent messages (as far as the platform allows) and ban them."""
    group = ctx.group
    assert group is not None
    if member.user_id == ctx.user.user_id or await ctx.role_of(member.user_id) >= Role.MODERATOR:
        await ctx.reply(ctx.t("antispam.purge_moderator"))
        return
    state = get_state(ctx.services)
    mine = state.by_user.pop((group.id, member.user_id), None) or ()
    deleted = 0
    for message_id, at in mine:
        if ctx.now - at < PURGE_AGE and await _attempt(ctx.adapter.delete(ctx.chat, message_id)):
            deleted += 1
    banned = await _attempt(ctx.adapter.ban(ctx.chat, member.user_id, None))
    raid.removed(ctx.services, group, [member.user_id] if banned else [])
    await state.audit(group.id, ctx.now, ctx.user.user_id, "purge", f"member={member.id} deleted={deleted}")
    key = "antispam.purge_done" if banned else "antispam.purge_not_banned"
    await ctx.reply(ctx.t(key, name=member.display_name, count=deleted))


@router.button("as:raid:")
async def raid_button(ctx: Context) -> None:
    """The raid alert's buttons; a forged or stale press (another raid, a non-moderator) does
    nothing at all."""
    event = ctx.event
    if not isinstance(event, ButtonPressed):
        return
    fields = button_fields(event.data, 5)
    if fields is None:
        return
    group_id, number, action = decode_id(fields[2]), decode_id(fields[3]), fields[4]
    if group_id is None or number is None:
        return
    services = ctx.services
    group = await services.groups.get(group_id)
    await raid_sync.refresh(services, group_id)  # another worker's raid (shared database)
    current = raid.book(services).raids.get(group_id)
    if group is None or current is None or current.number != number:
        return
    if not any(sent.message_id == event.message_id for sent in current.alerts):
        return  # a press on a message that is not this raid's alert
    if await ctx.role_in(group) < Role.MODERATOR:
        return
    if action == "ban":
        count = await raid.ban_wave(services, group)
        detail = f"ban_wave={count}"
    elif action == "release":
        await raid.show_list(services, group, True)  # the tick list; nothing released yet
        return
    elif action == "back":
        await raid.show_list(services, group, False)
        return
    elif action == "all":
        count = await raid.release(services, group)
        detail = f"released={count}"
    elif action.startswith("m") and (member_id := decode_id(action[1:])) is not None:
        if not await raid.release_one(services, group, member_id):
            return  # a stale tick: already let in, banned, or never on the list
        detail = f"released member={member_id}"
    elif action == "end":
        await raid.end(services, group, "button")
        detail = "end"
    else:
        return
    await get_state(services).audit(group.id, ctx.now, ctx.user.user_id, "raid-button", detail)


async def _attempt(action: object) -> bool:
    try:
        await action  # type: ignore[misc]
    except QunyouError as exc:
        log.warning("antispam action failed: %s", exc)
        return False
    return True
