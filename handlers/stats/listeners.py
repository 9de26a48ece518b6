"""The stats feature's share of the per-message path: counting messages, joins and leaves in
memory (``Recorder``), and numbered replies to an NPS poll where buttons are missing.

Registered on the feature's router in ``handlers/stats/__init__.py``, not here.
"""

from __future__ import annotations

from bot.clock import local_day, zone
from bot.context import Context
from handlers.stats.commands import nps_answer
from handlers.stats.jobs import ensure_jobs
from handlers.stats.nps import parse_score
from handlers.stats.settings import StatsSettings
from handlers.stats.state import stats_state


async def record_message(ctx: Context) -> None:
    """Count the message for hourly activity, last post, replies received and hot words."""
    event = ctx.message
    if ctx.group is None or ctx.member is None or event is None or event.edited:
        return
    st = stats_state(ctx.services)
    group = ctx.group
    if group.id not in st.scheduled:
        st.scheduled.add(group.id)
        await ensure_jobs(ctx.services, group)
    elif (
        ctx.is_command
        and ctx.command_name == "set"
        and str(ctx.params.get("key", "")).startswith("stats.recall")
    ):
        # The /set just ran (commands come before listeners): move the recall post now, not
        # at the next nightly check.
        await ensure_jobs(ctx.services, group)
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


async def record_join(ctx: Context) -> None:
    """Count a join for the group's daily figures."""
    if ctx.group is not None:
        st = stats_state(ctx.services)
        st.counts.invalidate(ctx.group.id)
        st.recorder.note_membership(
            group_id=ctx.group.id, day=local_day(ctx.event.at, ctx.group.timezone), joined=True
        )


async def record_leave(ctx: Context) -> None:
    """Count a leave for the group's daily figures."""
    if ctx.group is not None:
        st = stats_state(ctx.services)
        st.counts.invalidate(ctx.group.id)
        st.recorder.note_membership(
            group_id=ctx.group.id, day=local_day(ctx.event.at, ctx.group.timezone), joined=False
        )


async def nps_numbered_reply(ctx: Context) -> None:
    """Where buttons are missing, a number replied to the poll message is an answer."""
    event = ctx.message
    if ctx.group is None or event is None or event.reply_to is None or ctx.is_command or len(event.text) > 4:
        return
    score = parse_score(event.text)
    if score is None:
        return
    st = stats_state(ctx.services)
    marker = await st.repo.marker(ctx.group.id, "nps_message")
    if marker is None:
        return
    poll_id, _, message_id = marker.partition(":")
    if message_id != event.reply_to:
        return
    await nps_answer(ctx, st, int(poll_id), score)
