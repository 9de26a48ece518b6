"""Member and moderator commands: check-in, make-up, calendar, points, transfers, ranks and the
profile. The router lives here; badges and the shop are in ``shop_commands``."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from bot.adapter import Capability
from bot.args import MAX_AMOUNT, BadArgument, local_instant
from bot.context import Context
from bot.messages import OutgoingMessage, Text
from bot.params import USAGE, Amount, Choice, Int, Member, Words
from bot.ports import CreditScore
from bot.roles import Role
from bot.router import Router
from handlers.checkin import boards
from handlers.checkin.api import announce, celebration_lines, grant_level_rewards, user_ref
from handlers.checkin.calendar_view import render_png, text_grid
from handlers.checkin.config import GroupRules
from handlers.checkin.rules import itemize, progress, tier_for
from handlers.checkin.state import day_of, rules_for, state
from handlers.checkin.wallet import chats_sharing, wallet_day, wallet_of
from storage.checkin import Entry, InsufficientPoints, Posting, month_bounds
from storage.models import Group
from storage.models import Member as MemberRow

router = Router("checkin")

#: Points typed by a member: ``1`` … ``MAX_AMOUNT``, ``1,000`` and full-width digits accepted.
_POINTS = Amount("amount", error="checkin.bad_amount")
#: A count of items (stock, per-member limit): ``0`` … ``MAX_AMOUNT``.
_COUNT = Int("count", low=0, high=MAX_AMOUNT, error="checkin.bad_count")


def _need_group(ctx: Context) -> tuple[Group, MemberRow]:
    if ctx.group is None or ctx.member is None:
        raise BadArgument("core.args.group_only")
    return ctx.group, ctx.member


def _name(member: MemberRow) -> str:
    return member.display_name or member.user_id


def _is_moderator_role(role: Role) -> bool:
    return role >= Role.MODERATOR


async def _require_moderator(ctx: Context) -> bool:
    if _is_moderator_role(await ctx.role()):
        return True
    await ctx.reply(ctx.t("core.denied"))
    return False


def _kind(ctx: Context, kind: str) -> str:
    key = f"checkin.kind.{kind}"
    return ctx.t(key) if ctx.services.i18n.has(key, ctx.lang) else kind


def _signed(n: int) -> str:
    return f"+{n}" if n >= 0 else str(n)


async def _celebrate(
    ctx: Context, group: Group, member: MemberRow, posting: Posting, rules: GroupRules
) -> None:
    await announce(ctx.services, group, member, posting, ctx.chat, rules=rules)


# --- check-in ---------------------------------------------------------------------------------


checkin_group = router.group(
    "checkin",
    aliases=("签到", "打卡", "checkin", ("签到日历", "calendar")),
    usage="checkin.usage.checkin",
    help="checkin.help.checkin",
)


@checkin_group.sub("calendar", aliases=("cal", "日历"))
async def checkin_calendar(ctx: Context) -> None:
    """``/checkin calendar``: this month's check-ins."""
    await calendar_cmd(ctx)


@checkin_group.default()
async def checkin(ctx: Context) -> None:
    """Claim today's check-in."""
    group, member = _need_group(ctx)
    services = ctx.services
    st = state(services)
    # In a community one person checks in once a day, on the community's day and rules.
    w = await wallet_of(services, group, member)
    rules = await rules_for(services, w.home.id)
    now = ctx.now
    day = day_of(now, w.home, rules)
    out = await st.repos.checkins.checkin(
        w.group.id,
        w.member.id,
        day=day,
        at=now,
        itemize=lambda streak, rank: [(i.kind, i.amount) for i in itemize(streak, rank, rules.checkin)],
        badge_rules=st.auto_rules,
        also=[(o.group_id, o.id) for o in (w.member, *w.others) if o.id != w.member.id],
        actor_id=w.actor_for(member),
    )
    if not out.created:
        opens = _next_opening(day, w.home, rules)
        wait = opens - now
        hours, rest = divmod(max(int(wait.total_seconds()), 0), 3600)
        await ctx.reply(
            ctx.t(
                "checkin.already",
                streak=out.streak,
                opens=opens.astimezone(ctx.zone).strftime("%H:%M"),
                hours=hours,
                minutes=rest // 60,
            )
        )
        return
    assert out.posting is not None and out.rank is not None
    lines = [ctx.t("checkin.done", rank=out.rank, streak=out.streak)]
    for kind, amount in out.items:
        lines.append(ctx.t("checkin.item", label=_kind(ctx, kind), amount=_signed(amount)))
    total = sum(a for _, a in out.items)
    lines.append(ctx.t("checkin.total", total=total, balance=out.posting.balance))
    # Badges and level-ups reached by this check-in belong in the same reply.
    lines.extend(celebration_lines(ctx.services, ctx.lang, out.posting, rules, st.badges, reply=True))
    await ctx.reply("\n".join(lines))
    assert ctx.group is not None and ctx.member is not None
    await grant_level_rewards(ctx.services, ctx.group, [(ctx.member, out.posting)], rules)


def _next_opening(day: date, group: Group, rules: GroupRules) -> datetime:
    """When the check-in day after ``day`` begins, as an aware instant."""
    nxt = day + timedelta(days=1)
    base = local_instant(nxt, datetime.min.time(), group.timezone)
    return base + timedelta(minutes=rules.day_start)


@router.command("makeup", aliases=("补签",), usage="checkin.usage.makeup", help="checkin.help.makeup")
async def makeup(ctx: Context) -> None:
    """Repair yesterday's missed check-in for points."""
    group, member = _need_group(ctx)
    st = state(ctx.services)
    # The person's check-ins and wallet, on the community's day.
    w = await wallet_of(ctx.services, group, member)
    rules = await rules_for(ctx.services, w.home.id)
    today = day_of(ctx.now, w.home, rules)
    out = await st.repos.checkins.makeup(
        w.group.id,
        w.member.id,
        today=today,
        at=ctx.now,
        cost=rules.makeup_cost,
        monthly_limit=rules.makeup_per_month,
    )
    if out.status == "nothing_to_repair":
        await ctx.reply(ctx.t("checkin.makeup.nothing"))
    elif out.status == "limit":
        await ctx.reply(ctx.t("checkin.makeup.limit", limit=rules.makeup_per_month))
    elif out.status == "not_enough":
        await ctx.reply(
            ctx.t("checkin.makeup.not_enough", cost=rules.makeup_cost, balance=out.detail["balance"])
        )
    else:
        assert out.posting is not None
        left = rules.makeup_per_month - int(out.detail["used"])
        await ctx.reply(
            ctx.t(
                "checkin.makeup.done",
                day=out.detail["day"].strftime("%m-%d"),
                streak=out.detail["streak"],
                cost=rules.makeup_cost,
                balance=out.posting.balance,
                left=left,
            )
        )


async def calendar_cmd(ctx: Context) -> None:
    """This month's check-ins as a grid (and a PNG where the platform takes images)."""
    group, member = _need_group(ctx)
    st = state(ctx.services)
    w = await wallet_of(ctx.services, group, member)  # the person's check-ins in a community
    today = await wallet_day(ctx.services, w, ctx.now)
    first, last = month_bounds(today)
    days = await st.repos.checkins.checkin_days(w.group.id, w.member.id, first, last)
    weekdays = ctx.t("checkin.calendar.weekdays").split(",")
    grid = text_grid(today.year, today.month, days, today, weekdays)
    head = ctx.t("checkin.calendar.title", month=today.strftime("%Y-%m"), count=len(days))
    legend = ctx.t("checkin.calendar.legend")
    image: str | None = None
    if ctx.adapter.supports(Capability.IMAGES):
        folder = Path(tempfile.gettempdir()) / "qunyou-calendars"
        target = folder / f"cal-{group.id}-{member.id}-{today:%Y%m}-{len(days)}.png"
        # Latin weekday initials: the default matplotlib font has no CJK glyphs.
        png = await asyncio.to_thread(
            render_png, target, today.year, today.month, days, today, today.strftime("%Y-%m"), "MTWTFSS"
        )
        image = str(png)
    await ctx.reply(OutgoingMessage(parts=(Text(f"{head}\n{grid}\n{legend}"),), image=image))


# --- points -----------------------------------------------------------------------------------


points_group = router.group(
    "points", aliases=("积分",), usage="checkin.usage.points", help="checkin.help.points"
)
_ADJUST = [Member("target"), _POINTS, Words("reason", optional=True, hint="core.param.reason")]


@points_group.default()
async def points(ctx: Context) -> None:
    """Balance and recent history."""
    group, member = _need_group(ctx)
    await _show_history(ctx, group, member, 5)


@points_group.sub("give", aliases=("加",), args=_ADJUST, min_role=Role.MODERATOR)
async def points_give(ctx: Context, target: MemberRow, amount: int, reason: str | None) -> None:
    """``/points give @member N [reason]``."""
    group, _ = _need_group(ctx)
    await _points_adjust(ctx, group, True, target, amount, reason)


@points_group.sub("take", aliases=("扣",), args=_ADJUST, min_role=Role.MODERATOR)
async def points_take(ctx: Context, target: MemberRow, amount: int, reason: str | None) -> None:
    """``/points take @member N [reason]``."""
    group, _ = _need_group(ctx)
    await _points_adjust(ctx, group, False, target, amount, reason)


@points_group.sub("history", aliases=("记录",), args=[Member("target")], min_role=Role.MODERATOR)
async def points_history(ctx: Context, target: MemberRow) -> None:
    """``/points history @member``: the last 20 postings."""
    group, _ = _need_group(ctx)
    await _show_history(ctx, group, target, 20)


async def _show_history(ctx: Context, group: Group, member: MemberRow, limit: int) -> None:
    st = state(ctx.services)
    w = await wallet_of(ctx.services, group, member)
    balance, earned = await st.repos.ledger.balance(w.group.id, w.member.id)
    rows = await st.repos.ledger.history(w.group.id, w.member.id, limit)
    lines = [ctx.t("checkin.points.balance", name=_name(member), balance=balance, earned=earned)]
    if not rows:
        lines.append(ctx.t("checkin.points.empty"))
    for r in rows:
        when = r.at.astimezone(ctx.zone).strftime("%m-%d %H:%M")
        lines.append(
            ctx.t(
                "checkin.points.row",
                when=when,
                delta=_signed(r.delta),
                kind=_kind(ctx, r.kind),
                reason=f" ({r.reason})" if r.reason else "",
            )
        )
    await ctx.reply("\n".join(lines))


async def _points_adjust(
    ctx: Context, group: Group, give: bool, target: MemberRow, amount: int, reason: str | None
) -> None:
    if target.is_bot:
        raise BadArgument("checkin.points.bot")
    reason = (reason or "")[:200] or None
    st = state(ctx.services)
    rules = await rules_for(ctx.services, group.id)
    w = await wallet_of(ctx.services, group, target)  # the person's one wallet in a community
    try:
        posting = await st.repos.ledger.post(
            w.group.id,
            w.member.id,
            [Entry(amount if give else -amount, "admin", True)],
            at=ctx.now,
            day=await wallet_day(ctx.services, w, ctx.now),
            reason=reason,
            actor_id=ctx.member.id if ctx.member else None,
            badge_rules=st.auto_rules,
        )
    except InsufficientPoints as exc:
        await ctx.reply(ctx.t("checkin.points.take_too_much", name=_name(target), balance=exc.balance))
        return
    who = user_ref(ctx.services, target, group)
    key = "checkin.points.given" if give else "checkin.points.taken"
    await ctx.reply(ctx.parts(key, user=who, amount=amount, balance=posting.balance))
    await _celebrate(ctx, group, target, posting, rules)


@router.command(
    "give",
    aliases=("转账",),
    usage="checkin.usage.give",
    help="checkin.help.give",
    args=[Member("target"), _POINTS],
)
async def give(ctx: Context, target: MemberRow, amount: int) -> None:
    """Send some of your points to another member (``@bob 5``, ``5 @bob``, or ``5`` as a reply)."""
    group, member = _need_group(ctx)
    if target.id == member.id:
        raise BadArgument("checkin.give.self")
    if target.is_bot:
        raise BadArgument("checkin.give.bot")
    st = state(ctx.services)
    rules = await rules_for(ctx.services, group.id)
    # Between the two people's wallets (in a community they may sit in different chats).
    mine = await wallet_of(ctx.services, group, member)
    theirs = await wallet_of(ctx.services, group, target)
    if theirs.member.id == mine.member.id:
        raise BadArgument("checkin.give.self")  # another account of the same person
    out = await st.repos.ledger.transfer(
        mine.group.id,
        mine.member.id,
        theirs.member.id,
        amount,
        at=ctx.now,
        day=await wallet_day(ctx.services, mine, ctx.now),
        daily_cap=rules.transfer_cap,
        receiver_group_id=theirs.group.id,
        actor_id=member.id,
    )
    if out.status == "not_enough":
        await ctx.reply(ctx.t("checkin.give.not_enough", balance=out.detail["balance"], amount=amount))
    elif out.status == "over_cap":
        left = max(rules.transfer_cap - int(out.detail["sent"]), 0)
        await ctx.reply(ctx.t("checkin.give.over_cap", cap=rules.transfer_cap, left=left))
    else:
        assert out.posting is not None
        who = user_ref(ctx.services, target, group)
        await ctx.reply(ctx.parts("checkin.give.done", user=who, amount=amount, balance=out.posting.balance))


# --- leaderboards and profile -------------------------------------------------------------------

_PERIODS = {
    "week": "week",
    "周": "week",
    "本周": "week",
    "month": "month",
    "月": "month",
    "本月": "month",
    "all": "all",
    "总": "all",
    "全部": "all",
}


def period_start(period: str, today: date) -> date | None:
    """The first local day of ``week`` (Monday), ``month``, or None for ``all``."""
    if period == "week":
        return today - timedelta(days=today.weekday())
    if period == "month":
        return today.replace(day=1)
    return None


#: ``/rank``'s words: a period and, in a community, which board (in either order).
_BOARDS = {
    "chat": "chat",
    "group": "chat",
    "群": "chat",
    "本群": "chat",
    "community": "community",
    "社区": "community",
}


@dataclass(frozen=True)
class _RankWord(Choice):
    """A word of either of ``/rank``'s choices, in either place (``/rank community``,
    ``/rank all community``), offered in usage lines and Discord's fixed choices as its own."""

    shown: tuple[str, ...] = ()

    def offered(self) -> tuple[str, ...]:
        return self.shown


_RANK_WORDS = {
    **{word: ("period", value) for word, value in _PERIODS.items()},
    **{word: ("board", value) for word, value in _BOARDS.items()},
}


@router.command(
    "rank",
    aliases=("排行榜",),
    usage="checkin.usage.rank",
    help="checkin.help.rank",
    args=[
        _RankWord("period", optional=True, words=_RANK_WORDS, error=USAGE, shown=("week", "month", "all")),
        _RankWord("board", optional=True, words=_RANK_WORDS, error=USAGE, shown=("chat", "community")),
    ],
)
async def rank(ctx: Context, period: tuple[str, str] | None, board: tuple[str, str] | None) -> None:
    """Top ten by points earned in the week, month or all time: this chat's, or its community's."""
    group, member = _need_group(ctx)
    words = [w for w in (period, board) if w is not None]
    if len({kind for kind, _ in words}) < len(words):
        raise BadArgument("checkin.rank.twice")
    chosen = dict(words)
    when = chosen.get("period", "week")
    offers = await boards.offered(ctx.services, group)
    scope: boards.Scope = "community" if chosen.get("board", offers) == "community" else "chat"
    chats = await chats_sharing(ctx.services, group)
    if len(chats) == 1:
        # No other chat shares points with this one: its own board is the only one.
        if chosen.get("board") == "community":
            await ctx.reply(ctx.t("checkin.rank.no_community"))
            return
        scope = "chat"
    elif offers != "both" and scope != offers:
        await ctx.reply(ctx.t(f"checkin.rank.only_{offers}"))
        return
    st = state(ctx.services)
    # The community's day (its first chat's) is the day its ledger rows carry.
    home = group if chats[0] == group.id else await ctx.services.directory.group_by_id(chats[0]) or group
    since = period_start(when, day_of(ctx.now, home, await rules_for(ctx.services, home.id)))
    title = "checkin.rank.title_community" if scope == "community" else "checkin.rank.title"
    lines = [ctx.t(title, period=ctx.t(f"checkin.rank.period.{when}"))]
    shown: list[tuple[MemberRow | None, int]]
    if len(chats) == 1:
        # Outside a community: the chat's own ledger is the board.
        ranked = await st.repos.ledger.leaderboard(group.id, since, 10)
        shown = [(await ctx.services.members.get(mid), earned) for mid, earned in ranked]
        mine = await st.repos.ledger.rank_of(group.id, member.id, since)
    else:
        standings, mine = await boards.rank_in(ctx.services, group, member, chats, since, scope)
        shown = [(s.member, s.earned) for s in standings[:10]]
    if not shown:
        lines.append(ctx.t("checkin.rank.empty"))
    medals = ("🥇", "🥈", "🥉")
    for i, (row, earned) in enumerate(shown, start=1):
        name = _name(row) if row else "?"
        lines.append(
            ctx.t("checkin.rank.row", pos=medals[i - 1] if i <= 3 else f"{i}.", name=name, points=earned)
        )
    if mine is None:
        lines.append(ctx.t("checkin.rank.you_none"))
    else:
        lines.append(ctx.t("checkin.rank.you", pos=mine[0], points=mine[1]))
    await ctx.reply("\n".join(lines))


@router.command("me", aliases=("我的",), usage="checkin.usage.me", help="checkin.help.me", ignore_extra=True)
async def me(ctx: Context) -> None:
    """Level, tier, balance, streak, badges and this month's rank."""
    group, member = _need_group(ctx)
    st = state(ctx.services)
    rules = await rules_for(ctx.services, group.id)
    w = await wallet_of(ctx.services, group, member)
    today = await wallet_day(ctx.services, w, ctx.now)
    balance, earned = await st.repos.ledger.balance(w.group.id, w.member.id)
    prog = progress(earned, rules.level_factor)
    status = await st.repos.checkins.checkin_status(w.group.id, w.member.id, today)
    # One badge set: what any of the person's memberships in the community earned.
    owned = set(await st.repos.badges.badges_of(w.group.id, w.member.id))
    for other in w.others:
        owned.update(await st.repos.badges.badges_of(other.group_id, other.id))
    month_rank = await _month_rank(ctx, group, member, today)
    badges = " ".join(b.emoji for b in st.badges if b.key in owned) or ctx.t("checkin.me.no_badges")
    lines = [
        ctx.t("checkin.me.title", name=_name(member)),
        ctx.t(
            "checkin.me.level",
            level=prog.level,
            tier=tier_for(prog.level, rules.tiers).name(ctx.lang),
            earned=earned,
            next_level=prog.level + 1,
            to_next=prog.to_next,
            into=prog.into,
            span=prog.span,
            percent=prog.percent,
        ),
        ctx.t("checkin.me.balance", balance=balance),
        ctx.t("checkin.me.streak", streak=status.streak, total=status.total),
        ctx.t("checkin.me.badges", badges=badges),
        ctx.t("checkin.me.rank", rank=month_rank[0]) if month_rank else ctx.t("checkin.me.rank_none"),
    ]
    credit = await _credit_line(
        ctx, group, member, w.others if w.member.id == member.id else (w.member, *w.others)
    )
    if credit:
        lines.append(credit)
    await ctx.reply("\n".join(lines))


async def _month_rank(ctx: Context, group: Group, member: MemberRow, today: date) -> tuple[int, int] | None:
    """The member's rank this month on the board a plain ``/rank`` shows here."""
    since = period_start("month", today)
    chats = await chats_sharing(ctx.services, group)
    if len(chats) == 1:
        return await state(ctx.services).repos.ledger.rank_of(group.id, member.id, since)
    scope: boards.Scope = "community" if await boards.offered(ctx.services, group) == "community" else "chat"
    return (await boards.rank_in(ctx.services, group, member, chats, since, scope))[1]


async def _credit_line(
    ctx: Context, group: Group, member: MemberRow, others: Sequence[MemberRow] = ()
) -> str | None:
    """The moderation credit score, when that feature is installed (it owns the number).

    With the person's other memberships in the community (``others``), the lower score stands.
    """
    credit = ctx.services.ports.find(CreditScore)
    if credit is None:
        return None
    score = await credit.score(group, member)
    for other in others:
        if other.id == member.id:
            continue
        where = await ctx.services.directory.group_by_id(other.group_id)
        if where is not None:
            score = min(score, await credit.score(where, other))
    level = ctx.t(f"moderation.credit_level.{credit.level(score)}")
    return ctx.t("checkin.me.credit", score=score, level=level)
