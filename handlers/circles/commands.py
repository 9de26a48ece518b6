"""Circle commands: ``/circles`` and ``/circle add|remove|join|leave|mute|unmute|ping|role|list|mine``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.adapter import Capability
from bot.args import BadArgument
from bot.params import Rest, Word
from bot.roles import Role
from bot.router import Router
from handlers.circles import service
from handlers.circles.state import circle_repo

if TYPE_CHECKING:
    from bot.context import Context

router = Router("circles")

_NAME = Word("name", hint="circles.param.name")


@router.command("circles", aliases=("兴趣圈", "圈子"), usage="circles.usage_list", help="circles.help_list")
async def circles_list(ctx: Context) -> None:
    """``/circles``: the group's circles with a join/leave button each."""
    await ctx.reply(await service.card(ctx))


circle = router.group(
    "circle",
    aliases=("圈",),
    usage="circles.usage",
    help="circles.help",
    unknown_sub="circles.err_sub",
)


@circle.default()
async def circle_default(ctx: Context) -> None:
    """``/circle`` alone: the same card as ``/circles``."""
    await ctx.reply(await service.card(ctx))


@circle.sub("list", aliases=("列表",))
async def circle_list(ctx: Context) -> None:
    """``/circle list``: the same card as ``/circles``."""
    await ctx.reply(await service.card(ctx))


@circle.sub(
    "add",
    aliases=("新建", "创建", "添加"),
    args=[_NAME, Rest("description", optional=True, default="")],
    min_role=Role.MODERATOR,
)
async def circle_add(ctx: Context, name: str, description: str) -> None:
    """``/circle add NAME [description]``: a new circle."""
    assert ctx.group is not None
    shown, key = service.fold_name(name)
    text = service.clean_text(description, service.MAX_DESCRIPTION, "circles.err_desc_long")
    repo = circle_repo(ctx.services)
    if await repo.count(ctx.group.id) >= service.MAX_CIRCLES:
        await ctx.reply(ctx.t("circles.err_too_many", limit=service.MAX_CIRCLES))
        return
    made = await repo.add(
        ctx.group.id, shown, key, text or None, ctx.member.id if ctx.member else None, ctx.now
    )
    if made is None:
        await ctx.reply(ctx.t("circles.err_exists", name=shown))
        return
    await ctx.reply(ctx.t("circles.added", name=made.name))


@circle.sub("remove", aliases=("删除", "移除", "del"), args=[_NAME], min_role=Role.MODERATOR)
async def circle_remove(ctx: Context, name: str) -> None:
    """``/circle remove NAME``: the circle goes, with its memberships (platform roles stay)."""
    found = await service.find(ctx, name)
    if found is None:
        return
    size = len((await circle_repo(ctx.services).member_ids([found.id]))[found.id])
    if not await circle_repo(ctx.services).remove(found.id):
        await ctx.reply(ctx.t("circles.err_unknown", name=found.name))
        return
    await ctx.reply(ctx.t("circles.removed", name=found.name, count=size))


@circle.sub("join", aliases=("加入",), args=[_NAME])
async def circle_join(ctx: Context, name: str) -> None:
    """``/circle join NAME``."""
    found = await service.find(ctx, name)
    if found is not None:
        await ctx.reply(await service.join(ctx, found))


@circle.sub("leave", aliases=("退出", "离开"), args=[_NAME])
async def circle_leave(ctx: Context, name: str) -> None:
    """``/circle leave NAME``."""
    found = await service.find(ctx, name)
    if found is not None:
        await ctx.reply(await service.leave(ctx, found))


async def _mute(ctx: Context, name: str, muted: bool) -> None:
    assert ctx.member is not None
    found = await service.find(ctx, name)
    if found is None:
        return
    outcome = await circle_repo(ctx.services).set_muted(found.id, ctx.member.id, muted)
    if outcome == "not_member":
        await ctx.reply(ctx.t("circles.not_in", name=found.name))
        return
    key = {True: "circles.muted", False: "circles.unmuted"}[muted]
    if outcome == "same":
        key += "_already"
    await ctx.reply(ctx.t(key, name=found.name))


@circle.sub("mute", aliases=("静音", "免打扰"), args=[_NAME])
async def circle_mute(ctx: Context, name: str) -> None:
    """``/circle mute NAME``: stay in the circle, without its pings."""
    await _mute(ctx, name, True)


@circle.sub("unmute", aliases=("取消静音",), args=[_NAME])
async def circle_unmute(ctx: Context, name: str) -> None:
    """``/circle unmute NAME``: the circle's pings reach the member again."""
    await _mute(ctx, name, False)


@circle.sub("ping", aliases=("呼叫", "通知"), args=[_NAME, Rest("text")], min_role=Role.MODERATOR)
async def circle_ping(ctx: Context, name: str, text: str) -> None:
    """``/circle ping NAME TEXT``: mention the circle's members (rate-limited per group)."""
    found = await service.find(ctx, name)
    if found is None:
        return
    message = service.clean_text(text, service.MAX_PING, "circles.err_text_long")
    if not message:
        raise BadArgument("circles.err_text_empty")
    await service.ping(ctx, found, message)


@circle.sub("role", aliases=("身份组", "角色"), args=[_NAME, Word("role")], min_role=Role.MODERATOR)
async def circle_role(ctx: Context, name: str, role: str) -> None:
    """``/circle role NAME @role|off``: joining grants the platform role (Discord)."""
    found = await service.find(ctx, name)
    if found is None:
        return
    role_id = service.parse_role(role)
    if role_id is not None and not ctx.adapter.supports(Capability.ROLES):
        raise BadArgument("circles.err_no_roles")
    await circle_repo(ctx.services).set_role(found.id, role_id)
    if role_id is None:
        await ctx.reply(ctx.t("circles.role_unbound", name=found.name))
    else:
        await ctx.reply(ctx.t("circles.role_bound", name=found.name, role=role_id))


@circle.sub("mine", aliases=("我的",))
async def circle_mine(ctx: Context) -> None:
    """``/circle mine``: the member's circles, muted ones marked."""
    assert ctx.group is not None and ctx.member is not None
    mine = await circle_repo(ctx.services).of_member(ctx.group.id, ctx.member.id)
    if not mine:
        await ctx.reply(ctx.t("circles.mine_none"))
        return
    names = [ctx.t("circles.mine_muted", name=c.name) if muted else c.name for c, muted in mine]
    await ctx.reply(ctx.t("circles.mine", names=ctx.t("circles.mine_sep").join(names)))
