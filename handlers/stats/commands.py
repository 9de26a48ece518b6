"""Commands of the stats feature: /stats, /lifecycle, /nudge, /hot, /kol, /feedback, /nps
(and the NPS score buttons). The router lives here."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from bot.adapter import Capability
from bot.args import BadArgument, button_fields, decode_id
from bot.context import Context
from bot.events import ButtonPressed
from bot.messages import OutgoingMessage, Text
from bot.params import USAGE, Choice, OnOff, Rest, Word
from bot.roles import Role
from bot.router import Router
from handlers.stats import opinion, report
from handlers.stats.circles import circles_report
from handlers.stats.facts import blocked_words, group_mood, with_other_figures
from handlers.stats.kol import KolInput, rank
from handlers.stats.lifecycle import STAGES, Stage
from handlers.stats.metrics import PERIODS
from handlers.stats.nps import parse_score
from handlers.stats.retention import retention_change
from handlers.stats.settings import StatsSettings
from handlers.stats.state import FEEDBACK_MAX, LIST_LIMIT, StatsState, stats_state

router = Router("stats")


# -- /stats ------------------------------------------------------------------------------------


async def _may_view(ctx: Context) -> bool:
    if await ctx.role() >= Role.MODERATOR:
        return True
    if (await ctx.settings(StatsSettings)).public:
        return True
    await ctx.reply(ctx.t("stats.moderators_only"))
    return False


_CHART = 0  # the ``chart`` word, among the periods in days
_CIRCLES = -1  # the ``circles`` word: the interest circles' figures (``handlers/stats/circles.py``)
_PERIOD = Choice(
    "days",
    optional=True,
    default=PERIODS["7d"],
    error="stats.bad_period",
    words={
        **PERIODS,
        "chart": _CHART,
        "图表": _CHART,
        "图": _CHART,
        "circles": _CIRCLES,
        "兴趣圈": _CIRCLES,
        "圈子": _CIRCLES,
    },
)


@router.command(
    "stats", aliases=("数据", ("数据图表", "chart")), usage="stats.usage", help="stats.help", args=[_PERIOD]
)
async def stats_command(ctx: Context, days: int) -> None:
    """``/stats [7d|30d|chart]``: the group's KPIs, or the health chart."""
    assert ctx.group is not None
    if not await _may_view(ctx):
        return
    if days == _CHART:
        await _send_chart(ctx)
        return
    if days == _CIRCLES:
        await ctx.reply(await circles_report(ctx))
        return
    st = stats_state(ctx.services)
    await ctx.services.batcher.flush()
    first = await st.repo.first_day(ctx.group.id)
    if first is None or first >= ctx.today:
        # Nothing in a complete day yet: say so rather than show a screen of zeros.
        await ctx.reply(ctx.t("stats.no_data_yet"))
        return
    members_now = await st.counts.get(st.repo, ctx.group.id, ctx.now)
    kpis = await report.gather_kpis(st.repo, ctx.group.id, ctx.today, days, members_now)
    mood = await group_mood(ctx.services, ctx.group, kpis.start, kpis.end)
    retention = await retention_change(st.repo, ctx.group.id, ctx.group.timezone, ctx.today, days)
    extra = report.format_retention(ctx.t, retention)
    extra += report.format_mood(ctx.t, mood) if mood is not None else []
    await ctx.reply(report.format_kpis(ctx.t, kpis, extra))


async def _send_chart(ctx: Context) -> None:
    assert ctx.group is not None
    st = stats_state(ctx.services)
    await ctx.services.batcher.flush()
    if not ctx.adapter.supports(Capability.IMAGES):
        kpis = await report.gather_kpis(st.repo, ctx.group.id, ctx.today, 30)
        counts = await st.repo.stage_counts(ctx.group.id, ctx.now)
        text = "\n\n".join(
            [
                ctx.t("stats.chart_as_text"),
                report.format_kpis(ctx.t, kpis),
                report.format_lifecycle(ctx.t, counts),
            ]
        )
        await ctx.reply(text)
        return
    chart_lang = report.chart_language(ctx.lang)
    t_chart = partial(ctx.services.i18n.t, chart_lang)
    title = t_chart("stats.chart.title", group=ctx.group.title or ctx.group.scope_id)
    path = await report.render_chart(st.repo, ctx.group.id, ctx.today, ctx.now, t_chart, title, st.chart_dir)
    await ctx.reply(OutgoingMessage(parts=(Text(ctx.t("stats.chart_caption")),), image=str(path)))


# -- /lifecycle and recall ---------------------------------------------------------------------


_STAGE_WORDS: dict[str, Stage] = {s.value: s for s in STAGES} | {
    "新人": Stage.NEW,
    "活跃": Stage.ACTIVE,
    "沉睡": Stage.SLEEPING,
    "流失": Stage.CHURNED,
    "已退群": Stage.LEFT,
    "退群": Stage.LEFT,
}


@router.command(
    "lifecycle",
    aliases=("生命周期",),
    min_role=Role.MODERATOR,
    usage="stats.lifecycle_usage",
    help="stats.lifecycle_help",
    args=[Choice("stage", optional=True, words=_STAGE_WORDS, error="stats.bad_stage")],
)
async def lifecycle_command(ctx: Context, stage: Stage | None) -> None:
    """``/lifecycle [stage]``: members per stage, or the members of one stage."""
    assert ctx.group is not None
    st = stats_state(ctx.services)
    await ctx.services.batcher.flush()
    if stage is None:
        await ctx.reply(report.format_lifecycle(ctx.t, await st.repo.stage_counts(ctx.group.id, ctx.now)))
        return
    people = await st.repo.stage_members(ctx.group.id, ctx.now, stage.value, LIST_LIMIT)
    label = ctx.t(f"stats.stage.{stage.value}")
    if not people:
        await ctx.reply(ctx.t("stats.stage_empty", stage=label))
        return
    names = ", ".join(p.name for p in people)
    await ctx.reply(ctx.t("stats.stage_list", stage=label, count=len(people), names=names))


@router.command(
    "nudge",
    aliases=("召回",),
    usage="stats.nudge_usage",
    help="stats.nudge_help",
    args=[OnOff("on", error=USAGE)],
)
async def nudge_command(ctx: Context, on: bool) -> None:
    """``/nudge off|on``: opt out of (or back into) the weekly recall post."""
    assert ctx.group is not None and ctx.member is not None
    off = not on
    await stats_state(ctx.services).repo.set_nudge(ctx.group.id, ctx.member.id, off)
    await ctx.reply(ctx.t("stats.nudge_off" if off else "stats.nudge_on"))


# -- hot words ---------------------------------------------------------------------------------

_HOT_WINDOWS = {
    "24h": 24,
    "1d": 24,
    "24小时": 24,
    "今天": 24,
    "7d": 168,
    "7天": 168,
    "本周": 168,
    "week": 168,
}


@router.command(
    "hot",
    aliases=("热词",),
    usage="stats.hot_usage",
    help="stats.hot_help",
    args=[
        Choice(
            "hours", optional=True, default=_HOT_WINDOWS["24h"], words=_HOT_WINDOWS, error="stats.bad_window"
        )
    ],
)
async def hot_command(ctx: Context, hours: int) -> None:
    """``/hot [24h|7d]``: the group's hot words."""
    assert ctx.group is not None
    if not (await ctx.settings(StatsSettings)).store_text:
        await ctx.reply(ctx.t("stats.hot_off"))
        return
    st = stats_state(ctx.services)
    await ctx.services.batcher.flush()
    exclude = await blocked_words(ctx.services, ctx.group.id)
    words = await st.hot.get(st.repo, ctx.group.id, ctx.now, hours, exclude=exclude)
    await ctx.reply(report.format_hot(ctx.t, words, hours))


# -- KOL, feedback, NPS ----------------------------------------------------------------------------


@router.command(
    "kol",
    aliases=("星火计划",),
    min_role=Role.MODERATOR,
    usage="stats.kol_usage",
    help="stats.kol_help",
    ignore_extra=True,
)
async def kol_command(ctx: Context) -> None:
    """``/kol``: the top 10 KOL candidates by the documented composite, moderators excluded."""
    assert ctx.group is not None
    st = stats_state(ctx.services)
    await ctx.services.batcher.flush()
    end = ctx.today - timedelta(days=1)
    moderators = await ctx.services.alerts.moderators(ctx.group)
    start = end - timedelta(days=29)
    rows = await with_other_figures(
        ctx.services, await st.repo.kol_inputs(ctx.group.id, start, end, moderators), start, end
    )
    candidates = []
    for r in rows:
        if await ctx.role_of(r.user_id) >= Role.MODERATOR:
            continue
        candidates.append(
            KolInput(
                r.member_id, r.name, r.messages, r.topic_replies, r.replies_received, r.activities, r.streak
            )
        )
    ranked = rank(candidates)
    if not ranked:
        await ctx.reply(ctx.t("stats.kol_empty"))
        return
    lines = [ctx.t("stats.kol_title")]
    for i, k in enumerate(ranked, 1):
        f = k.figures
        lines.append(
            ctx.t(
                "stats.kol_line",
                rank=i,
                name=k.name,
                score=f"{k.score:.1f}",
                messages=f.messages,
                received=f.replies_received,
                topics=f.topic_replies,
                activities=f.activities,
                streak=f.streak,
            )
        )
    lines.append(ctx.t("stats.kol_footer"))
    await ctx.reply("\n".join(lines))


feedback = router.group(
    "feedback",
    aliases=("反馈",),
    usage="stats.feedback_usage",
    help="stats.feedback_help",
    denied="stats.moderators_only",
)


@feedback.sub("list", aliases=("列表", "查看"), min_role=Role.MODERATOR)
async def feedback_list(ctx: Context) -> None:
    """``/feedback list``: the last 30 days' feedback grouped by keyword."""
    await opinion.feedback_list(ctx, stats_state(ctx.services).repo)


@feedback.default(args=[Rest("text")])
async def feedback_command(ctx: Context, text: str) -> None:
    """``/feedback TEXT`` stores feedback."""
    assert ctx.group is not None and ctx.member is not None
    st = stats_state(ctx.services)
    if len(text) > FEEDBACK_MAX:
        raise BadArgument("stats.feedback_too_long", max=FEEDBACK_MAX)
    await st.repo.add_feedback(ctx.group.id, ctx.member.id, ctx.now, text)
    await ctx.reply(ctx.t("stats.feedback_thanks"))


nps_group = router.group(
    "nps", aliases=("评分",), usage="stats.nps_usage", help="stats.nps_help", denied="stats.moderators_only"
)


@nps_group.sub("start", aliases=("开始",), args=[Rest("question", optional=True)], min_role=Role.MODERATOR)
async def nps_start(ctx: Context, question: str | None) -> None:
    """``/nps start [question]``: open a poll."""
    await opinion.nps_start(ctx, stats_state(ctx.services).repo, question)


@nps_group.sub("result", aliases=("结果",), min_role=Role.MODERATOR)
async def nps_result(ctx: Context) -> None:
    """``/nps result``: the latest poll's score."""
    await opinion.nps_result(ctx, stats_state(ctx.services).repo)


@nps_group.sub("close", aliases=("结束",), min_role=Role.MODERATOR)
async def nps_close(ctx: Context) -> None:
    """``/nps close``: close the open poll and show its score."""
    assert ctx.group is not None
    st = stats_state(ctx.services)
    poll = await st.repo.open_poll(ctx.group.id)
    if poll is None:
        await ctx.reply(ctx.t("stats.nps_none"))
        return
    await st.repo.close_poll(poll.id, ctx.now)
    await opinion.nps_result(ctx, st.repo)


@nps_group.default(args=[Word("answer", hint="core.param.score")])
async def nps_command(ctx: Context, answer: str) -> None:
    """``/nps N``: answer the open poll with 0–10."""
    assert ctx.group is not None and ctx.member is not None
    score = parse_score(answer)
    if score is None:
        raise BadArgument("stats.nps_bad_score", value=answer[:20])
    await nps_answer(ctx, stats_state(ctx.services), None, score)


async def nps_answer(ctx: Context, st: StatsState, poll_id: int | None, score: int) -> None:
    assert ctx.group is not None and ctx.member is not None
    if poll_id is not None:
        poll = await st.repo.get_poll(poll_id)
    else:
        # No open poll: the newest one tells whether a poll just ended or none ever ran.
        poll = await st.repo.open_poll(ctx.group.id) or await st.repo.latest_poll(ctx.group.id)
    if poll is None or poll.group_id != ctx.group.id:
        await ctx.reply(ctx.t("stats.nps_none"))
        return
    if poll.closed_at is not None:
        await ctx.reply(ctx.t("stats.nps_is_closed"))
        return
    changed = await st.repo.answer(poll.id, ctx.member.id, score, ctx.now)
    await ctx.reply(ctx.t("stats.nps_changed" if changed else "stats.nps_thanks", score=score))


_SCORES = {str(n): n for n in range(11)}


async def nps_button(ctx: Context) -> None:
    """A member pressed a score button under a poll."""
    event = ctx.event
    assert isinstance(event, ButtonPressed)
    fields = button_fields(event.data, 3)
    pid = decode_id(fields[1]) if fields else None
    # Scores are the exact strings "0"…"10" we put on the buttons.
    value = _SCORES.get(fields[2]) if fields else None
    if pid is None or value is None or ctx.group is None or ctx.member is None:
        return
    await nps_answer(ctx, stats_state(ctx.services), pid, value)
