"""Polls (投票): the post with one button per option, votes, closing, results as text.

A single-choice vote replaces the member's earlier one; a multiple-choice press toggles that
option; votes change until the poll closes (by a moderator, its author, or by itself at the time
given with ``for``: a scheduler job ``pl:<id>:close``). An anonymous poll never shows who voted
for what, to anyone. The post shows the counts, edited in place at most once per interval (as
giveaways). Where a platform has no buttons the options are numbered lines and a reply with the
number votes (``bot/buttons.py``). Where the platform has its own polls (Telegram) and the poll
is not anonymous, the poll is the platform's (``send_native``): its answers are the votes
(``poll_commands.on_native_answer``) and closing stops it; see docs/engagement.md.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bot.capability import Capability
from bot.charts import chart_language, cjk_font
from bot.errors import CapabilityNotSupported, QunyouError
from bot.messages import Button, OutgoingMessage, Text
from bot.planned_posts import chat_of, send_once, tz_of
from bot.scheduler import At
from handlers.engage import poll_chart
from handlers.engage.settings import EngageSettings
from handlers.engage.state import get_state
from storage.engage import Poll, Tally

if TYPE_CHECKING:
    from bot.context import Context
    from bot.events import ChatRef
    from bot.services import Services
    from storage.models import Group, Job

log = logging.getLogger(__name__)

CLOSE_KIND = "engage-poll-close"
MAX_OPTIONS = 10  # Discord's own limit (Telegram takes 12), so a native poll carries every poll
MAX_QUESTION = 300
MAX_OPTION = 100
BAR = 10
#: Voter names shown per option in results (the rest as a count).
SHOWN_NAMES = 20


def close_job_id(poll_id: int) -> str:
    """The scheduler job that closes one poll."""
    return f"pl:{poll_id}:close"


def bar(count: int, total: int) -> str:
    """A text bar of ``BAR`` cells."""
    filled = round(BAR * count / total) if total else 0
    return "█" * filled + "░" * (BAR - filled)


def lines(services: Services, lang: str, poll: Poll, tally: Tally, *, names: bool = False) -> list[str]:
    """One line per option: number, text, bar, count and share (and voters, when shown)."""
    t = services.i18n.t
    total = sum(tally.counts)
    out = []
    for i, (text, count) in enumerate(zip(poll.options, tally.counts, strict=True), start=1):
        pct = round(100 * count / total) if total else 0
        out.append(
            t(lang, "engage.poll.option_line", n=i, text=text, bar=bar(count, total), count=count, pct=pct)
        )
        if names and tally.names and tally.names[i - 1]:
            shown = tally.names[i - 1][:SHOWN_NAMES]
            more = len(tally.names[i - 1]) - len(shown)
            who = t(lang, "engage.poll.name_sep").join(shown) + (f" (+{more})" if more > 0 else "")
            out.append(t(lang, "engage.poll.voters_line", names=who))
    return out


def post(services: Services, group: Group, poll: Poll, tally: Tally) -> OutgoingMessage:
    """The poll as it stands; buttons while it is open."""
    lang, t = group.language, services.i18n.t
    kind = t(lang, "engage.poll.kind_multi" if poll.multi else "engage.poll.kind_single")
    if poll.anon:
        kind += t(lang, "engage.poll.kind_anon")
    head = [t(lang, "engage.poll.title", id=poll.id, question=poll.question), kind]
    if poll.closes_at is not None and poll.status == "open":
        closes = poll.closes_at.astimezone(tz_of(group)).strftime("%Y-%m-%d %H:%M")
        head.append(t(lang, "engage.poll.closes", at=closes))
    body = lines(services, lang, poll, tally)
    foot = t(lang, "engage.poll.voters", count=tally.voters)
    if poll.status != "open":
        foot += "\n" + t(lang, "engage.poll.closed_note", id=poll.id)
        return OutgoingMessage.of("\n".join([*head, *body, foot]))
    buttons = tuple(
        (Button(f"{i}. {text}", f"pl:v:{poll.id}:{i}", command=f"/poll vote {poll.id} {i}"),)
        for i, text in enumerate(poll.options, start=1)
    )
    return OutgoingMessage(parts=(Text("\n".join([*head, *body, foot])),), buttons=buttons)


async def edit_post(services: Services, group: Group, poll: Poll) -> None:
    """Rewrite the poll's post in place (a refusal is logged: the post is a view)."""
    state = get_state(services)
    if poll.status == "open":
        state.poll_posts.edited(poll.id, services.clock.now())
    else:
        state.poll_posts.forget(poll.id)
    if poll.message_id is None or poll.native_id is not None:
        return  # a native poll shows its own counts (and is closed by ``stop_native``)
    chat = chat_of(services, group, poll.channel_id, poll.thread_id)
    adapter = services.adapters.get(chat.adapter)
    if adapter is None:
        return
    message = post(services, group, poll, await state.polls.tally(poll))
    try:
        await adapter.edit(chat, poll.message_id, message)
    except QunyouError as exc:
        log.info("poll %s: could not edit post %s: %s", poll.id, poll.message_id, exc)


async def voted(services: Services, group: Group, poll: Poll) -> None:
    """A vote changed the counts: edit now if the interval allows, else at the next flush."""
    state = get_state(services)
    gap = (await services.settings.of(group.id, EngageSettings)).giveaway_edit_seconds
    await state.poll_posts.counts_changed(
        poll.id, services.clock.now(), gap, lambda: edit_post(services, group, poll)
    )


async def flush_posts(services: Services) -> None:
    """The batcher's tick: edit every dirty poll post whose interval has passed."""
    state = get_state(services)
    for poll_id in state.poll_posts.ripe(services.clock.now()):
        poll = await state.polls.by_id(poll_id)
        group = await services.directory.group_by_id(poll.group_id) if poll is not None else None
        if poll is None or group is None or poll.status != "open":
            state.poll_posts.forget(poll_id)
            continue
        await edit_post(services, group, poll)


def results(services: Services, group: Group, poll: Poll, tally: Tally) -> OutgoingMessage:
    """The results as text: bars, counts, and who voted what unless the poll is anonymous."""
    lang, t = group.language, services.i18n.t
    key = "engage.poll.results_final" if poll.status != "open" else "engage.poll.results_now"
    text = [t(lang, key, id=poll.id, question=poll.question)]
    text += lines(services, lang, poll, tally, names=not poll.anon)
    text.append(t(lang, "engage.poll.voters", count=tally.voters))
    return OutgoingMessage.of("\n".join(text))


def chart_dir(services: Services) -> Path:
    """Where results charts are drawn: next to the database (one place for an operator to look,
    and per test in the tests), else the system's temporary directory."""
    if services.db.sqlite_path is not None:
        return services.db.sqlite_path.parent / "charts"
    return Path(tempfile.gettempdir()) / "qunyou-charts"


async def with_chart(
    services: Services, group: Group, chat: ChatRef, poll: Poll, tally: Tally, message: OutgoingMessage
) -> OutgoingMessage:
    """``message`` (the results) with the bar chart attached, where the platform takes images
    and the group has not turned it off (``engage.poll_chart``); a chart that cannot be drawn
    leaves the text alone."""
    adapter = services.adapters.get(chat.adapter)
    if adapter is None or not adapter.supports(Capability.IMAGES):
        return message
    if not (await services.settings.of(group.id, EngageSettings)).poll_chart:
        return message
    lang = chart_language(group.language)
    t = partial(services.i18n.t, lang)
    subtitle = t("engage.poll.chart_voters", count=tally.voters)
    if poll.status != "open":
        subtitle += t("engage.poll.chart_closed")
    chart = poll_chart.PollChart(
        title=t("engage.poll.chart_title", id=poll.id, question=poll.question),
        options=poll.options,
        counts=tally.counts,
        subtitle=subtitle,
    )
    try:
        path = await poll_chart.render_file(chart, chart_dir(services), poll.id, cjk_font())
    except (OSError, ValueError, RuntimeError) as exc:  # a full disk, a broken font
        log.warning("poll %s: results chart not drawn: %s", poll.id, exc)
        return message
    return replace(message, image=str(path))


async def close(services: Services, group: Group, poll: Poll) -> Poll | None:
    """Close now (None: it was closed already); the post loses its buttons."""
    state = get_state(services)
    if not await state.polls.close(poll.id, services.clock.now()):
        return None
    await services.scheduler.cancel(close_job_id(poll.id))
    fresh = await state.polls.by_id(poll.id)
    if fresh is not None and fresh.native_id is not None:
        await stop_native(services, group, fresh)
    elif fresh is not None:
        await edit_post(services, group, fresh)
    return fresh


async def send_native(ctx: Context, poll: Poll) -> bool:
    """Post ``poll`` as the platform's own poll where it has one and takes this poll (anonymous
    polls stay buttons: a native anonymous poll tells the bot nobody's vote). False: not sent."""
    adapter = ctx.adapter
    if poll.anon or not adapter.supports(Capability.NATIVE_POLLS):
        return False
    try:
        sent = await adapter.send_poll(
            ctx.chat, poll.question, poll.options, multi=poll.multi, anonymous=False, closes_at=poll.closes_at
        )
    except CapabilityNotSupported:
        return False  # past the platform's limits, or a private chat: buttons instead
    state = get_state(ctx.services)
    await state.polls.set_message(poll.id, sent.message_id)
    if sent.extra.get("poll_id"):
        await state.polls.set_native(poll.id, sent.extra["poll_id"])
    return True


async def stop_native(services: Services, group: Group, poll: Poll) -> None:
    """Close the platform's poll too, so nobody votes where it no longer counts."""
    chat = chat_of(services, group, poll.channel_id, poll.thread_id)
    adapter = services.adapters.get(chat.adapter)
    if adapter is None or poll.message_id is None:
        return
    try:
        await adapter.stop_poll(chat, poll.message_id)
    except QunyouError as exc:
        log.info("poll %s: could not stop native poll %s: %s", poll.id, poll.message_id, exc)


async def track_native(services: Services) -> None:
    """After a restart, tell each adapter where its open native polls are (their answers name
    no chat)."""
    for poll in await get_state(services).polls.open_native():
        group = await services.directory.group_by_id(poll.group_id)
        if group is None or poll.message_id is None or poll.native_id is None:
            continue
        chat = chat_of(services, group, poll.channel_id, poll.thread_id)
        adapter = services.adapters.get(chat.adapter)
        if adapter is not None:
            adapter.track_poll(chat, poll.message_id, poll.native_id)


async def schedule_close(services: Services, poll: Poll) -> None:
    """Plan the poll's own close at ``closes_at``."""
    if poll.closes_at is not None:
        await services.scheduler.schedule(
            close_job_id(poll.id),
            CLOSE_KIND,
            At(poll.closes_at),
            {"poll_id": poll.id},
            group_id=poll.group_id,
        )


async def run_close(services: Services, job: Job, fire: datetime) -> None:
    """The job: close the poll and post the final results once."""
    state = get_state(services)
    poll = await state.polls.by_id(int(job.payload["poll_id"]))
    if poll is None:
        return
    group = await services.directory.group_by_id(poll.group_id)
    if group is None:
        return
    if poll.status == "open":
        closed = await close(services, group, poll)
        if closed is None:
            return
        poll = closed
    elif poll.closed_at is None or poll.closed_at < fire:
        return  # closed by hand before its time: its results were posted then
    chat = chat_of(services, group, poll.channel_id, poll.thread_id)
    tally = await state.polls.tally(poll, names=True)
    message = await with_chart(services, group, chat, poll, tally, results(services, group, poll, tally))
    await send_once(services, job, fire, chat, message, group.language)
