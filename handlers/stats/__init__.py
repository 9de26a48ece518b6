"""Community health: statistics and charts, lifecycle and recall, churn warning, hot words,
the weekly report, KOL nominations, feedback and NPS.

Collection happens on the per-message path in memory only (``Recorder``); everything else is a
command or a scheduled job that reads the database. See the README's community-health section for what each
figure means.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bot.adapter import Capability
from bot.args import BadArgument, button_fields, decode_id
from bot.clock import local_day, zone
from bot.context import Context
from bot.errors import QunyouError
from bot.events import ButtonPressed
from bot.feature import Feature
from bot.messages import OutgoingMessage, Text
from bot.params import USAGE, Choice, OnOff, Rest, Word
from bot.ports import (
    ActivityFacts,
    CheckinFacts,
    GroupIndicators,
    MessageScreen,
    ModerationFacts,
    QuietHours,
)
from bot.roles import Role
from bot.router import Band, Router
from bot.scheduler import Cron
from bot.services import Services
from handlers.stats import opinion, report
from handlers.stats.facts import blocked_words, checkin_counter, with_other_figures
from handlers.stats.indicators import Indicators
from handlers.stats.kol import KolInput, rank
from handlers.stats.lifecycle import STAGES, Stage
from handlers.stats.metrics import PERIODS
from handlers.stats.nps import parse_score
from handlers.stats.recorder import Recorder
from handlers.stats.settings import StatsSettings
from storage.models import Group, Member
from storage.stats import BulkLoader, StatsRepo

log = logging.getLogger(__name__)

router = Router("stats")
_STATE = "stats"
RECALL_LIMIT = 10
LIST_LIMIT = 20
FEEDBACK_MAX = 1000


@dataclass
class StatsState:
    """The feature's runtime state, kept in ``services.state['stats']``."""

    repo: StatsRepo
    recorder: Recorder
    hot: report.HotWordCache = field(default_factory=report.HotWordCache)
    counts: report.MemberCounts = field(default_factory=report.MemberCounts)
    scheduled: set[int] = field(default_factory=set)
    #: Groups whose retained text was dropped since keeping text was turned off.
    text_dropped: set[int] = field(default_factory=set)
    chart_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "qunyou-charts")


def _state(services: Services) -> StatsState:
    state: StatsState = services.state[_STATE]
    return state


def _t(services: Services, group: Group) -> report.T:
    return partial(services.i18n.t, group.language)


# -- the per-message path ----------------------------------------------------------------------


@router.message(band=Band.LISTENER)
async def record_message(ctx: Context) -> None:
    """Count the message for hourly activity, last post, replies received and hot words."""
    event = ctx.message
    if ctx.group is None or ctx.member is None or event is None or event.edited:
        return
    st = _state(ctx.services)
    group = ctx.group
    if group.id not in st.scheduled:
        st.scheduled.add(group.id)
        await _ensure_jobs(ctx.services, group)
    elif (
        ctx.is_command
        and ctx.command_name == "set"
        and str(ctx.params.get("key", "")).startswith("stats.recall")
    ):
        # The /set just ran (commands come before listeners): move the recall post now, not
        # at the next nightly check.
        await _ensure_jobs(ctx.services, group)
    # The same local day as the foundation's activity counters (local_day with no day offset).
    local = event.at.astimezone(zone(group.timezone))
    me = ctx.adapter.me
    reply_user = event.reply_to_user
    to_bot = reply_user is not None and me is not None and reply_user.user_id == me.user_id
    text = None
    if (await ctx.settings(StatsSettings)).store_text:
        st.text_dropped.discard(group.id)
        if not ctx.is_command and event.text:
            text = event.text
    elif group.id not in st.text_dropped:
        # Keeping text was just turned off (this may be the /set message itself): forget at once
        # what was kept, including what still waits in memory for the next flush.
        st.text_dropped.add(group.id)
        st.recorder.discard_texts(group.id)
        await st.repo.drop_group_text(group.id)
        st.hot.invalidate(group.id)
    st.recorder.note_message(
        group_id=group.id,
        member_id=ctx.member.id,
        at=event.at,
        day=local.date(),
        hour=local.hour,
        reply_to_user=reply_user.user_id if reply_user is not None and not reply_user.is_bot else None,
        to_bot=to_bot,
        text=text,
    )


@router.join()
async def record_join(ctx: Context) -> None:
    """Count a join for the group's daily figures."""
    if ctx.group is not None:
        st = _state(ctx.services)
        st.counts.invalidate(ctx.group.id)
        st.recorder.note_membership(
            group_id=ctx.group.id, day=local_day(ctx.event.at, ctx.group.timezone), joined=True
        )


@router.leave()
async def record_leave(ctx: Context) -> None:
    """Count a leave for the group's daily figures."""
    if ctx.group is not None:
        st = _state(ctx.services)
        st.counts.invalidate(ctx.group.id)
        st.recorder.note_membership(
            group_id=ctx.group.id, day=local_day(ctx.event.at, ctx.group.timezone), joined=False
        )


# -- /stats ------------------------------------------------------------------------------------


async def _may_view(ctx: Context) -> bool:
    if await ctx.role() >= Role.MODERATOR:
        return True
    if (await ctx.settings(StatsSettings)).public:
        return True
    await ctx.reply(ctx.t("stats.moderators_only"))
    return False


_CHART = 0  # the ``chart`` word, among the periods in days
_PERIOD = Choice(
    "days",
    optional=True,
    default=PERIODS["7d"],
    error="stats.bad_period",
    words={**PERIODS, "chart": _CHART, "图表": _CHART, "图": _CHART},
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
    st = _state(ctx.services)
    await ctx.services.batcher.flush()
    first = await st.repo.first_day(ctx.group.id)
    if first is None or first >= ctx.today:
        # Nothing in a complete day yet: say so rather than show a screen of zeros.
        await ctx.reply(ctx.t("stats.no_data_yet"))
        return
    members_now = await st.counts.get(st.repo, ctx.group.id, ctx.now)
    kpis = await report.gather_kpis(st.repo, ctx.group.id, ctx.today, days, members_now)
    await ctx.reply(report.format_kpis(ctx.t, kpis))


async def _send_chart(ctx: Context) -> None:
    assert ctx.group is not None
    st = _state(ctx.services)
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
    st = _state(ctx.services)
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
    await _state(ctx.services).repo.set_nudge(ctx.group.id, ctx.member.id, off)
    await ctx.reply(ctx.t("stats.nudge_off" if off else "stats.nudge_on"))


async def run_recall(services: Services, group: Group, now: datetime) -> int:
    """Post the weekly recall naming up to 10 sleeping members; returns how many were named."""
    st = _state(services)
    if not (await services.settings.of(group.id, StatsSettings)).recall:
        return 0
    await services.batcher.flush()
    people = await st.repo.stage_members(group.id, now, Stage.SLEEPING.value, RECALL_LIMIT, for_recall=True)
    if not people:
        return 0
    t = _t(services, group)
    parts: list[Any] = [Text(t("stats.recall_intro") + "\n")]
    users = []
    for i, p in enumerate(people):
        member = await services.members.get(p.member_id)
        if member is None:
            continue
        user = services.directory.user_ref(member, group.platform)
        users.append(user)
        parts.extend(services.i18n.parts(group.language, "stats.recall_name", name=user))
        if i < len(people) - 1:
            parts.append(Text(t("stats.recall_separator")))
    parts.append(Text("\n" + t("stats.recall_outro")))
    await services.send(
        services.directory.chat_for(group), OutgoingMessage(parts=tuple(parts), notify=tuple(users))
    )
    await st.repo.record_recall(group.id, [p.member_id for p in people], now)
    return len(people)


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
    st = _state(ctx.services)
    await ctx.services.batcher.flush()
    exclude = await blocked_words(ctx.services, ctx.group.id)
    words = await st.hot.get(st.repo, ctx.group.id, ctx.now, hours, exclude=exclude)
    await ctx.reply(report.format_hot(ctx.t, words, hours))


async def purge_text(services: Services, group: Group, now: datetime) -> int:
    """Apply the group's text retention (everything when keeping text is off)."""
    st = _state(services)
    if not (await services.settings.of(group.id, StatsSettings)).store_text:
        removed = await st.repo.drop_group_text(group.id)
    else:
        days = (await services.settings.of(group.id, StatsSettings)).text_retention_days
        removed = await st.repo.purge_text(now - timedelta(days=days), group.id)
    if removed:
        st.hot.invalidate(group.id)
    return removed


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
    st = _state(ctx.services)
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
    await opinion.feedback_list(ctx, _state(ctx.services).repo)


@feedback.default(args=[Rest("text")])
async def feedback_command(ctx: Context, text: str) -> None:
    """``/feedback TEXT`` stores feedback."""
    assert ctx.group is not None and ctx.member is not None
    st = _state(ctx.services)
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
    await opinion.nps_start(ctx, _state(ctx.services).repo, question)


@nps_group.sub("result", aliases=("结果",), min_role=Role.MODERATOR)
async def nps_result(ctx: Context) -> None:
    """``/nps result``: the latest poll's score."""
    await opinion.nps_result(ctx, _state(ctx.services).repo)


@nps_group.sub("close", aliases=("结束",), min_role=Role.MODERATOR)
async def nps_close(ctx: Context) -> None:
    """``/nps close``: close the open poll and show its score."""
    assert ctx.group is not None
    st = _state(ctx.services)
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
    await _nps_answer(ctx, _state(ctx.services), None, score)


async def _nps_answer(ctx: Context, st: StatsState, poll_id: int | None, score: int) -> None:
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


@router.button("nps:")
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
    await _nps_answer(ctx, _state(ctx.services), pid, value)


@router.message(band=Band.LISTENER)
async def nps_numbered_reply(ctx: Context) -> None:
    """Where buttons are missing, a number replied to the poll message is an answer."""
    event = ctx.message
    if ctx.group is None or event is None or event.reply_to is None or ctx.is_command or len(event.text) > 4:
        return
    score = parse_score(event.text)
    if score is None:
        return
    st = _state(ctx.services)
    marker = await st.repo.marker(ctx.group.id, "nps_message")
    if marker is None:
        return
    poll_id, _, message_id = marker.partition(":")
    if message_id != event.reply_to:
        return
    await _nps_answer(ctx, st, int(poll_id), score)


# -- scheduled jobs ------------------------------------------------------------------------------


def _job_ids(group_id: int) -> dict[str, str]:
    return {k: f"stats:{k}:{group_id}" for k in ("daily", "report", "recall")}


async def _ensure_jobs(services: Services, group: Group) -> None:
    """Create the group's jobs when missing; the recall job follows its settings."""
    ids = _job_ids(group.id)
    tz = group.timezone
    wanted = {
        "daily": Cron(tz=tz, minute="5", hour="0"),
        "report": Cron(tz=tz, minute="0", hour="9", day_of_week="mon"),
    }
    day = (await services.settings.of(group.id, StatsSettings)).recall_day
    hh, mm = (await services.settings.of(group.id, StatsSettings)).recall_time.split(":")
    wanted["recall"] = Cron(tz=tz, minute=str(int(mm)), hour=str(int(hh)), day_of_week=day)
    from bot.scheduler import trigger_to_dict

    for kind, trigger in wanted.items():
        job = await services.scheduler.get(ids[kind])
        if job is not None and job.trigger == trigger_to_dict(trigger):
            continue
        await services.scheduler.schedule(ids[kind], f"stats.{kind}", trigger, {}, group_id=group.id)


async def _job_group(services: Services, group_id: int | None) -> Group | None:
    if group_id is None:
        return None
    group = await services.groups.get(group_id)
    return group if group is not None and group.active else None


async def daily_job(services: Services, job: Any, fire_time: datetime) -> None:
    """Roll up yesterday, purge old text, run the churn check, follow setting changes."""
    group = await _job_group(services, job.group_id)
    if group is None:
        return
    st = _state(services)
    await services.batcher.flush()
    today = local_day(fire_time, group.timezone)
    yesterday = today - timedelta(days=1)
    await st.repo.ensure_rollups(group.id, yesterday, yesterday, force=True)
    # Warm what the first /stats of the day would otherwise compute while a moderator waits.
    for days in (7, 30):
        await st.repo.distinct_active(group.id, yesterday, days)
        await st.repo.cached_top(group.id, yesterday - timedelta(days=days - 1), yesterday)
    await purge_text(services, group, fire_time)
    _cleanup_charts(st.chart_dir, today)
    await _ensure_jobs(services, group)
    if (await services.settings.of(group.id, StatsSettings)).churn_alert:
        await churn_alert(services, group, today, fire_time)


def _cleanup_charts(directory: Path, today: date) -> None:
    """Charts are sent once; files from before yesterday are removed (the date is in the name)."""
    if not directory.is_dir():
        return
    for path in directory.glob("stats-*.png"):
        parts = path.stem.split("-")
        try:
            made = date(int(parts[2]), int(parts[3]), int(parts[4]))
        except (IndexError, ValueError):
            continue
        if made < today - timedelta(days=1):
            path.unlink(missing_ok=True)


async def churn_alert(services: Services, group: Group, today: Any, now: datetime) -> bool:
    """Alert the moderators when the churn rule fires (at most once a week); True when sent."""
    st = _state(services)
    check = await report.churn_status(st.repo, group.id, today)
    if not check.warn:
        return False
    last = await st.repo.marker(group.id, "churn_alert")
    if last is not None and today.toordinal() - int(last) < 7:
        return False
    quiet = await st.repo.went_quiet(group.id, today, now)
    text = report.format_churn(_t(services, group), check, quiet)
    await services.alerts.notify(group, OutgoingMessage.of(text))
    await st.repo.set_marker(group.id, "churn_alert", str(today.toordinal()))
    return True


async def recall_job(services: Services, job: Any, fire_time: datetime) -> None:
    """The weekly recall post (waits for the end of the group's quiet hours when it has them)."""
    group = await _job_group(services, job.group_id)
    if group is None:
        return
    # Quiet hours belong to the schedule feature: honour them when it is installed.
    quiet = services.ports.find(QuietHours)
    if quiet is not None and await quiet.defer(group, job, fire_time):
        return
    await run_recall(services, group, fire_time)


async def report_job(services: Services, job: Any, fire_time: datetime) -> None:
    """The Monday report to the moderator chat."""
    group = await _job_group(services, job.group_id)
    if group is None or not (await services.settings.of(group.id, StatsSettings)).weekly_report:
        return
    await send_weekly_report(services, group, fire_time)


async def send_weekly_report(services: Services, group: Group, now: datetime) -> OutgoingMessage:
    """Build and deliver the weekly report; returns the message."""
    from handlers.stats.weekly import build_weekly_report

    await services.batcher.flush()
    message = await build_weekly_report(services, _state(services), group, now)
    try:
        await services.alerts.notify(group, message)
    except QunyouError as exc:
        log.warning("weekly report for group %s not delivered: %s", group.id, exc)
    return message


# -- lifecycle hooks --------------------------------------------------------------------------------


async def _startup(services: Services) -> None:
    repo = StatsRepo(services.db, checkins=checkin_counter(services))
    st = StatsState(repo=repo, recorder=Recorder(repo))
    if services.db.sqlite_path is not None:
        # Next to the database: one place for an operator to look, and per-test in the tests.
        st.chart_dir = services.db.sqlite_path.parent / "charts"
    services.state[_STATE] = st
    services.batcher.register("stats", st.recorder.flush)
    services.scheduler.register("stats.daily", daily_job)
    services.scheduler.register("stats.report", report_job)
    services.scheduler.register("stats.recall", recall_job)
    for group in await services.groups.all():
        if group.active:
            st.scheduled.add(group.id)
            await _ensure_jobs(services, group)


_DEMO_TALK = (
    "周末一起去爬山吧",
    "爬山装备有推荐吗",
    "新出的咖啡店不错",
    "今晚读书会几点开始",
    "读书会的书单发一下",
    "咖啡店周末人好多",
)


async def _demo(services: Services, group: Group, members: list[Member]) -> None:
    """Five weeks of history for the demo group, so /stats, /stats chart and /hot show something."""
    import random

    st = _state(services)
    if await st.repo.first_day(group.id) is not None:
        return  # a demo database used again keeps its history
    rng = random.Random(9)
    now = services.clock.now()
    today = local_day(now, group.timezone)
    people = [m for m in members if not m.is_bot]
    loader = BulkLoader(services.db)
    last: dict[int, datetime] = {}
    for back in range(35, 0, -1):
        day = today - timedelta(days=back)
        # Busy at first, quieter in the last week: the churn check has something to say.
        share = 0.9 if back > 7 else 0.5
        active = [m for m in people if rng.random() < share]
        rows = [(m.id, rng.randint(2, 12), rng.randint(0, 3)) for m in active]
        hourly = [rng.randint(0, 3) if h in (9, 12, 13, 20, 21, 22) else rng.randint(0, 1) for h in range(24)]
        await loader.day(group.id, day, rows, hourly)
        for m in active:
            last[m.id] = datetime.combine(day, time(20), tzinfo=zone(group.timezone))
    await loader.last_posts(group.id, sorted(last.items()))
    await loader.texts(
        group.id,
        [
            (people[i % len(people)].id, now - timedelta(hours=i + 1), text)
            for i, text in enumerate(_DEMO_TALK)
        ],
    )


async def _forget(services: Services, member: Member) -> None:
    # Their rows: storage/stats/tables.py declares how each is forgotten.
    await _state(services).repo.forget_member(member.id, member.group_id)
    _state(services).hot.invalidate(member.group_id)


FEATURE = Feature(
    name="stats",
    router=router,
    settings=StatsSettings,
    # All optional: without them /stats shows no check-in rate, the weekly report no moderation
    # or badge section, KOL no streaks or activities, and hot words are not screened.
    uses=(QuietHours, CheckinFacts, ModerationFacts, ActivityFacts, MessageScreen),
    startup=_startup,
    provides=lambda services: {GroupIndicators: Indicators(services)},
    delete_member_data=_forget,
    demo=_demo,
)
