"""Badges and the shop: /badges, /badge grant|revoke, /shop, /redeem, /redemptions.

Registers on the router of ``handlers.checkin.commands`` (imported first, so /checkin … /me keep
their place in the command list); ``handlers/checkin/__init__.py`` imports this module.
"""

from __future__ import annotations

from dataclasses import replace

from bot.args import MAX_AMOUNT, BadArgument, UsageError, parse_id
from bot.context import Context
from bot.messages import OutgoingMessage
from bot.params import Id, Member, Rest, Word, Words
from bot.roles import Role
from handlers.checkin.api import user_ref
from handlers.checkin.badges import find_badge
from handlers.checkin.commands import (
    _COUNT,
    _POINTS,
    _name,
    _need_group,
    router,
)
from handlers.checkin.state import state
from handlers.checkin.wallet import wallet_day, wallet_of
from storage.checkin import ShopItem
from storage.models import Group
from storage.models import Member as MemberRow

# --- badges -----------------------------------------------------------------------------------


@router.command("badges", aliases=("徽章",), usage="checkin.usage.badges", help="checkin.help.badges")
async def badges_cmd(ctx: Context) -> None:
    """Earned badges, and locked ones with progress."""
    group, member = _need_group(ctx)
    st = state(ctx.services)
    # In a community: the person's one badge set and counters, kept with their wallet.
    w = await wallet_of(ctx.services, group, member)
    owned = await st.repos.badges.badges_of(w.group.id, w.member.id)
    counters = await st.repos.badges.counters(
        w.group.id, w.member.id, await wallet_day(ctx.services, w, ctx.now)
    )
    lines = [ctx.t("checkin.badges.title", count=len(owned), total=len(st.badges))]
    for b in st.badges:
        if b.key in owned:
            when = owned[b.key].astimezone(ctx.zone).strftime("%Y-%m-%d")
            lines.append(ctx.t("checkin.badges.earned", badge=b.label(ctx.lang), date=when))
        elif b.rule.manual:
            lines.append(ctx.t("checkin.badges.manual", badge=b.label(ctx.lang)))
        else:
            assert b.rule.counter is not None
            have = min(counters.get(b.rule.counter, 0), b.rule.threshold)
            lines.append(
                ctx.t(
                    "checkin.badges.locked",
                    badge=b.label(ctx.lang),
                    counter=ctx.t(f"checkin.counter.{b.rule.counter}"),
                    have=have,
                    need=b.rule.threshold,
                )
            )
    # Badges granted by hand and since removed from config still show, by key.
    for key in owned:
        if st.badge(key) is None:
            lines.append(ctx.t("checkin.badges.earned", badge=key, date=owned[key].strftime("%Y-%m-%d")))
    await ctx.reply("\n".join(lines))


badge_group = router.group(
    "badge", min_role=Role.MODERATOR, usage="checkin.usage.badge", help="checkin.help.badge"
)
# English badge names have spaces: the rest of the words name the badge.
_BADGE_ARGS = [Member("target"), Words("name", hint="core.param.name")]


@badge_group.sub("grant", aliases=("授予",), args=_BADGE_ARGS)
async def badge_grant(ctx: Context, target: MemberRow, name: str) -> None:
    """``/badge grant @user KEY``."""
    await badge_cmd(ctx, True, target, name)


@badge_group.sub("revoke", aliases=("收回",), args=_BADGE_ARGS)
async def badge_revoke(ctx: Context, target: MemberRow, name: str) -> None:
    """``/badge revoke @user KEY``."""
    await badge_cmd(ctx, False, target, name)


async def badge_cmd(ctx: Context, grant: bool, target: MemberRow, name: str) -> None:
    """Grant or revoke a manual badge."""
    group, _ = _need_group(ctx)
    st = state(ctx.services)
    badge = find_badge(st.badges, name)
    if badge is None:
        raise BadArgument("checkin.badge.unknown", keys=", ".join(b.key for b in st.badges))
    who = user_ref(ctx.services, target, group)
    # In a community the person has one badge set: granted on their wallet (every membership
    # gets it at the next merge), revoked from every membership that holds it.
    w = await wallet_of(ctx.services, group, target)
    if grant:
        done = await st.repos.badges.grant_badge(
            w.group.id, w.member.id, badge.key, at=ctx.now, actor_id=ctx.member.id if ctx.member else None
        )
        key = "checkin.badge.granted" if done else "checkin.badge.already"
    else:
        done = False
        for holder in (w.member, *w.others):
            done = await st.repos.badges.revoke_badge(holder.group_id, holder.id, badge.key) or done
        key = "checkin.badge.revoked" if done else "checkin.badge.not_held"
    await ctx.reply(ctx.parts(key, user=who, badge=badge.label(ctx.lang)))


# --- shop -------------------------------------------------------------------------------------


shop_group = router.group("shop", aliases=("商城",), usage="checkin.usage.shop", help="checkin.help.shop")


@shop_group.sub(
    "add",
    aliases=("上架",),
    args=[
        Word("name", hint="core.param.name"),
        _POINTS,
        _COUNT,
        replace(_COUNT, name="limit", optional=True),
    ],
    min_role=Role.MODERATOR,
)
async def shop_add(ctx: Context, name: str, amount: int, count: int, limit: int | None) -> None:
    """``/shop add NAME COST STOCK [LIMIT]``."""
    group, _ = _need_group(ctx)
    st = state(ctx.services)
    cost, stock = amount, count
    name = name.strip()
    if not name or len(name) > 64 or name.isdigit():
        raise BadArgument("checkin.shop.bad_name")
    if limit == 0:
        raise BadArgument("checkin.bad_count", max=MAX_AMOUNT)
    if any(i.name.casefold() == name.casefold() for i in await st.repos.shop.items(group.id)):
        raise BadArgument("checkin.shop.duplicate", name=name)
    item = await st.repos.shop.add_item(group.id, name, cost, stock, limit, at=ctx.now)
    await ctx.reply(ctx.t("checkin.shop.added", id=item.id, name=item.name, cost=cost, stock=stock))


@shop_group.sub(
    "del",
    aliases=("delete", "remove", "下架"),
    args=[Word("item", hint="core.param.name")],
    min_role=Role.MODERATOR,
)
async def shop_del(ctx: Context, item: str) -> None:
    """``/shop del ITEM`` (its number or name)."""
    group, _ = _need_group(ctx)
    found = await _find_item(ctx, group, item)
    await state(ctx.services).repos.shop.remove_item(group.id, found.id)
    await ctx.reply(ctx.t("checkin.shop.removed", name=found.name))


@shop_group.default()
async def shop(ctx: Context) -> None:
    """List the items on sale."""
    group, _ = _need_group(ctx)
    st = state(ctx.services)
    items = await st.repos.shop.items(group.id)
    if not items:
        await ctx.reply(ctx.t("checkin.shop.empty"))
        return
    lines = [ctx.t("checkin.shop.title")]
    for i in items:
        limit_text = ctx.t("checkin.shop.limit", limit=i.per_member_limit) if i.per_member_limit else ""
        stock_text = (
            ctx.t("checkin.shop.stock", stock=i.stock) if i.stock > 0 else ctx.t("checkin.shop.sold_out_tag")
        )
        lines.append(
            ctx.t("checkin.shop.row", id=i.id, name=i.name, cost=i.cost, stock=stock_text, limit=limit_text)
        )
    lines.append(ctx.t("checkin.shop.hint"))
    await ctx.reply("\n".join(lines))


async def _find_item(ctx: Context, group: Group, token: str) -> ShopItem:
    st = state(ctx.services)
    items = await st.repos.shop.items(group.id)
    try:
        wanted_id: int | None = parse_id(token)
    except (BadArgument, UsageError):
        wanted_id = None  # not an id: an item name
    for i in items:
        if wanted_id is not None and i.id == wanted_id:
            return i
    wanted = token.strip().casefold()
    exact = [i for i in items if i.name.casefold() == wanted]
    if exact:
        return exact[0]
    partial = [i for i in items if wanted and wanted in i.name.casefold()]
    if len(partial) == 1:
        return partial[0]
    if len(partial) > 1:
        raise BadArgument("checkin.shop.ambiguous", name=token[:24], count=len(partial))
    raise BadArgument("checkin.shop.unknown", name=token[:24])


@router.command(
    "redeem",
    aliases=("兑换",),
    usage="checkin.usage.redeem",
    help="checkin.help.redeem",
    args=[Rest("name", hint="core.param.name")],
)
async def redeem(ctx: Context, name: str) -> None:
    """Buy an item: points, stock and the redemption change in one transaction."""
    group, member = _need_group(ctx)
    item = await _find_item(ctx, group, name)
    st = state(ctx.services)
    # Paid from the person's community wallet, wherever it is kept.
    w = await wallet_of(ctx.services, group, member)
    out = await st.repos.shop.redeem(
        group.id,
        member.id,
        item.id,
        at=ctx.now,
        day=await wallet_day(ctx.services, w, ctx.now),
        payer=(w.group.id, w.member.id),
    )
    if out.status == "unknown":
        raise BadArgument("checkin.shop.unknown", name=item.name)
    if out.status == "sold_out":
        await ctx.reply(ctx.t("checkin.redeem.sold_out", name=item.name))
        return
    if out.status == "over_limit":
        await ctx.reply(ctx.t("checkin.redeem.over_limit", name=item.name, limit=out.detail["limit"]))
        return
    if out.status == "not_enough":
        await ctx.reply(
            ctx.t("checkin.redeem.not_enough", name=item.name, cost=item.cost, balance=out.detail["balance"])
        )
        return
    assert out.posting is not None
    rid = out.detail["redemption"]
    await ctx.reply(
        ctx.t("checkin.redeem.done", name=item.name, cost=item.cost, balance=out.posting.balance, id=rid)
    )
    parts = ctx.services.i18n.parts(
        group.language,
        "checkin.redeem.alert",
        user=user_ref(ctx.services, member, group),
        name=item.name,
        id=rid,
    )
    await ctx.services.alerts.notify(group, OutgoingMessage(parts=parts))


redemptions_group = router.group(
    "redemptions",
    min_role=Role.MODERATOR,
    usage="checkin.usage.redemptions",
    help="checkin.help.redemptions",
)


@redemptions_group.sub("done", aliases=("完成",), args=[Id("redemption_id")])
async def redemption_done(ctx: Context, redemption_id: int) -> None:
    """``/redemptions done ID`` marks one fulfilled."""
    group, _ = _need_group(ctx)
    st = state(ctx.services)
    done = await st.repos.shop.complete_redemption(
        group.id, redemption_id, at=ctx.now, by=ctx.member.id if ctx.member else None
    )
    if done is None:
        raise BadArgument("checkin.redemptions.unknown", id=redemption_id)
    await ctx.reply(ctx.t("checkin.redemptions.done", id=done.id, name=done.item_name))


@redemptions_group.sub("open", aliases=("未完成",))
async def redemptions_open(ctx: Context) -> None:
    """``/redemptions open``: the ones not fulfilled yet."""
    await redemptions(ctx, open_only=True)


@redemptions_group.default()
async def redemptions_all(ctx: Context) -> None:
    """``/redemptions``: every redemption."""
    await redemptions(ctx, open_only=False)


async def redemptions(ctx: Context, *, open_only: bool) -> None:
    """List redemptions."""
    group, _ = _need_group(ctx)
    st = state(ctx.services)
    rows = await st.repos.shop.redemptions(group.id, open_only=open_only)
    if not rows:
        await ctx.reply(ctx.t("checkin.redemptions.empty"))
        return
    lines = [ctx.t("checkin.redemptions.title")]
    for r in rows:
        who = await ctx.services.members.get(r.member_id) if r.member_id else None
        lines.append(
            ctx.t(
                "checkin.redemptions.row",
                id=r.id,
                name=r.item_name,
                member=_name(who) if who else "?",
                when=r.at.astimezone(ctx.zone).strftime("%m-%d %H:%M"),
                status=ctx.t(f"checkin.redemptions.status.{r.status}"),
            )
        )
    await ctx.reply("\n".join(lines))
