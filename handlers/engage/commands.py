"""Giveaway commands: ``/giveaway start|end|reroll|cancel|list|join|proof``."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import TYPE_CHECKING

from bot import fairdraw
from bot.args import BadArgument, parse_int
from bot.errors import QunyouError
from bot.messages import OutgoingMessage
from bot.params import Duration, Id, Int, Rest
from bot.planned_posts import channel_of
from bot.ports import CheckinFacts, PointsLedger
from bot.roles import Role
from bot.router import Router
from bot.timeparse import excerpt
from handlers.engage import circle_call
from handlers.engage.giveaways import (
    MAX_DURATION,
    MAX_PRIZE,
    MAX_WINNERS,
    MIN_DURATION,
    Refusal,
    draw_job_id,
    edit_post,
    enter,
    local_time,
    picker,
    post,
    refund,
)
from handlers.engage.jobs import announce_now, draw, schedule_draw
from handlers.engage.state import get_state
from storage.engage import Giveaway

if TYPE_CHECKING:
    from bot.context import Context

router = Router("engage")

giveaway = router.group(
    "giveaway",
    aliases=("抽奖",),
    usage="engage.gw.usage",
    help="engage.gw.help",
    unknown_sub="engage.gw.err_sub",
)
_ID = Id("giveaway_id")

#: Option words after the prize (``| price 10``), in both languages.
OPTIONS = {
    "price": "price",
    "cost": "price",
    "门票": "price",
    "价格": "price",
    "报名费": "price",
    "points": "points",
    "积分": "points",
    "days": "days",
    "入群": "days",
    "天数": "days",
    "checkins": "checkins",
    "签到": "checkins",
}
MAX_OPTION = {"price": 1_000_000, "points": 10_000_000, "days": 3650, "checkins": 7}


def parse_prize(text: str) -> tuple[str, dict[str, int]]:
    """The prize and its options: ``周边T恤 | price 10 | points 100 | days 30 | checkins 3``."""
    # Control and format characters (NUL, zero-width space…) never make a prize name.
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf") or ch == "\n")
    fields = [f.strip() for f in text.replace("｜", "|").split("|")]
    prize, options = fields[0], {}
    if not prize:
        raise BadArgument("engage.gw.err_prize")
    if len(prize) > MAX_PRIZE:
        raise BadArgument("engage.gw.err_prize_long", limit=MAX_PRIZE, length=len(prize))
    for field in fields[1:]:
        words = field.split()
        name = OPTIONS.get(words[0].casefold()) if len(words) == 2 else None
        if name is None:
            raise BadArgument("engage.gw.err_option", part=excerpt(field))
        try:
            options[name] = parse_int(words[1], min_value=0, max_value=MAX_OPTION[name])
        except BadArgument:
            raise BadArgument(
                "engage.gw.err_option_value", part=excerpt(field), max=MAX_OPTION[name]
            ) from None
    return prize, options


@giveaway.sub(
    "start",
    aliases=("开始", "发起"),
    args=[Duration("duration"), Int("winners", low=1, high=MAX_WINNERS), Rest("prize")],
    min_role=Role.MODERATOR,
)
async def gw_start(ctx: Context, duration: timedelta, winners: int, prize: str) -> None:
    """``/giveaway start 2h 3 周边T恤 [| price N | points N | days N | checkins N | circle NAME]``."""
    assert ctx.group is not None
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise BadArgument("engage.gw.err_duration", max_days=MAX_DURATION.days)
    text, circle_name = circle_call.split_circle(prize)
    title, options = parse_prize(text)
    circle = await circle_call.audience(ctx, circle_name)
    if (options.get("price") or options.get("points")) and ctx.services.ports.find(PointsLedger) is None:
        raise BadArgument("engage.gw.err_points_off")
    if options.get("checkins") and ctx.services.ports.find(CheckinFacts) is None:
        raise BadArgument("engage.gw.err_checkins_off")
    now = ctx.now
    # Scripts under a virtual clock must replay byte for byte: there the seed is derived from the
    # group and the instant; under the system clock it is always fresh randomness.
    replay = f"{ctx.group.id}:{now.isoformat()}" if ctx.services.clock.is_virtual else None
    seed = fairdraw.new_seed(replay)
    gw = await get_state(ctx.services).giveaways.add(
        group_id=ctx.group.id,
        channel_id=channel_of(ctx.chat),
        thread_id=ctx.chat.thread_id,
        prize=title,
        winners=winners,
        ends_at=now + duration,
        seed=seed,
        seed_hash=fairdraw.commitment(seed),
        price=options.get("price", 0),
        min_points=options.get("points", 0),
        min_days=options.get("days", 0),
        min_checkins=options.get("checkins", 0),
        created_by=ctx.member.id if ctx.member else None,
        created_at=now,
    )
    await schedule_draw(ctx.services, gw)
    sent = await ctx.send(post(ctx.services, ctx.group, gw, 0))
    state = get_state(ctx.services)
    await state.giveaways.set_message(gw.id, sent.message_id)
    state.changed(gw.id)
    state.posts.edited(gw.id, now)
    if circle is not None and circle.members:
        await circle_call.call(ctx, gw, circle)


async def _find(ctx: Context, giveaway_id: int) -> Giveaway:
    assert ctx.group is not None
    gw = await get_state(ctx.services).giveaways.get(ctx.group.id, giveaway_id)
    if gw is None:
        raise BadArgument("engage.gw.err_unknown", id=giveaway_id)
    return gw


@giveaway.sub("end", aliases=("开奖", "结束"), args=[_ID], min_role=Role.MODERATOR)
async def gw_end(ctx: Context, giveaway_id: int) -> None:
    """``/giveaway end ID``: draw now."""
    assert ctx.group is not None
    gw = await _find(ctx, giveaway_id)
    result = await draw(ctx.services, ctx.group, gw) if gw.status == "open" else None
    if result is None:
        await ctx.reply(ctx.t("engage.gw.err_not_open", id=gw.id))
        return
    await announce_now(ctx.services, ctx.group, gw, result)


@giveaway.sub(
    "reroll",
    aliases=("重抽",),
    args=[_ID, Int("count", low=1, high=MAX_WINNERS, optional=True, default=1)],
    min_role=Role.MODERATOR,
)
async def gw_reroll(ctx: Context, giveaway_id: int, count: int) -> None:
    """``/giveaway reroll ID [N]``: N more winners, never one who won before."""
    assert ctx.group is not None
    gw = await _find(ctx, giveaway_id)
    result = None
    if gw.status == "drawn":
        result = await get_state(ctx.services).giveaways.reroll(gw.id, count, ctx.now, picker(gw.seed))
    if result is None:
        await ctx.reply(ctx.t("engage.gw.err_not_drawn", id=gw.id))
        return
    await announce_now(ctx.services, ctx.group, gw, result)


@giveaway.sub("cancel", aliases=("取消",), args=[_ID], min_role=Role.MODERATOR)
async def gw_cancel(ctx: Context, giveaway_id: int) -> None:
    """``/giveaway cancel ID``: no draw; entry prices go back."""
    assert ctx.group is not None
    gw = await _find(ctx, giveaway_id)
    owed = await get_state(ctx.services).giveaways.cancel(gw.id)
    get_state(ctx.services).changed(gw.id)
    if owed is None:
        await ctx.reply(ctx.t("engage.gw.err_not_open", id=gw.id))
        return
    await ctx.services.scheduler.cancel(draw_job_id(gw.id))
    refunded = await refund(ctx.services, ctx.group, gw, owed)
    fresh = await get_state(ctx.services).giveaways.by_id(gw.id)
    if fresh is not None:
        await edit_post(ctx.services, ctx.group, fresh, closed=True)
    key = "engage.gw.cancelled_refunds" if owed else "engage.gw.cancelled"
    await ctx.reply(ctx.t(key, id=gw.id, prize=gw.prize, count=refunded))


@giveaway.sub("list", aliases=("列表",))
async def gw_list(ctx: Context) -> None:
    """``/giveaway list``: open giveaways, then the latest finished ones."""
    assert ctx.group is not None
    st = get_state(ctx.services).giveaways
    rows = await st.recent(ctx.group.id)
    if not rows:
        await ctx.reply(ctx.t("engage.gw.none"))
        return
    lines = [ctx.t("engage.gw.list_head")]
    for gw in rows:
        lines.append(
            ctx.t(
                f"engage.gw.list_{gw.status}",
                id=gw.id,
                prize=gw.prize,
                winners=gw.winners,
                count=await st.count(gw.id),
                end=local_time(gw.ends_at, ctx.group),
            )
        )
    await ctx.reply("\n".join(lines))


@giveaway.default()
async def gw_default(ctx: Context) -> None:
    """``/giveaway`` alone: the list."""
    await gw_list(ctx)


@giveaway.sub("join", aliases=("参加", "参与"), args=[_ID])
async def gw_join(ctx: Context, giveaway_id: int) -> None:
    """``/giveaway join ID``: the button's typed form."""
    assert ctx.group is not None
    gw = await get_state(ctx.services).giveaway(ctx.group.id, giveaway_id)
    if gw is None:
        raise BadArgument("engage.gw.err_unknown", id=giveaway_id)
    await answer_entry(ctx, gw)


async def answer_entry(ctx: Context, gw: Giveaway) -> None:
    """Enter and tell the member alone how it went (privately; never a public post)."""
    assert ctx.group is not None and ctx.member is not None
    outcome: Refusal | None = await enter(ctx.services, ctx.group, ctx.member, gw)
    if outcome is None:
        return
    try:
        await ctx.send_private(ctx.t(outcome.key, **outcome.values))
    except QunyouError:
        pass  # no private channel: the post's count is the public answer


@giveaway.sub("proof", aliases=("验证", "公证"), args=[_ID])
async def gw_proof(ctx: Context, giveaway_id: int) -> None:
    """``/giveaway proof ID``: after the draw, the seed and the entrant list to re-run it."""
    gw = await _find(ctx, giveaway_id)
    if gw.status != "drawn":
        await ctx.reply(ctx.t("engage.gw.proof_pending", id=gw.id, hash=gw.seed_hash))
        return
    entrants = await get_state(ctx.services).giveaways.entrants(gw.id)
    csv_text = fairdraw.entrants_csv([(e.key, e.name) for e in entrants])
    head = ctx.t(
        "engage.gw.proof", id=gw.id, seed=gw.seed, hash=gw.seed_hash, count=len(entrants), winners=gw.winners
    )
    limit = max(500, ctx.adapter.max_text_length - len(head) - 10)
    if len(csv_text) > limit:
        cut = csv_text[:limit].rsplit("\n", 1)[0]
        await ctx.reply(OutgoingMessage.of(head + "\n" + cut + "\n" + ctx.t("engage.gw.proof_cut")))
        return
    await ctx.reply(OutgoingMessage.of(head + "\n" + csv_text.rstrip("\n")))
