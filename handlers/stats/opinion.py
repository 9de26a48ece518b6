"""The moderators' side of feedback and NPS polls: grouped feedback, opening and scoring polls."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.adapter import Capability
from bot.args import BadArgument
from bot.context import Context
from bot.messages import Button, OutgoingMessage, Text
from handlers.stats.facts import blocked_words
from handlers.stats.hotwords import engine
from handlers.stats.nps import nps
from storage.stats import StatsRepo

#: The longest NPS question a moderator may ask.
QUESTION_MAX = 200


async def feedback_list(ctx: Context, repo: StatsRepo) -> None:
    """``/feedback list``: the last 30 days' feedback grouped by keyword, blocked words hidden."""
    assert ctx.group is not None
    items = await repo.feedback(ctx.group.id, ctx.now - timedelta(days=30))
    if not items:
        await ctx.reply(ctx.t("stats.feedback_none"))
        return
    by_id = {f.id: f for f in items}
    exclude = await blocked_words(ctx.services, ctx.group.id)
    groups = await _to_thread_group([(f.id, f.text) for f in items], exclude)
    lines = [ctx.t("stats.feedback_title", count=len(items))]
    for keyword, ids in groups:
        label = keyword if keyword is not None else ctx.t("stats.feedback_other")
        lines.append(ctx.t("stats.feedback_group", keyword=label, count=len(ids)))
        for fid in ids[:5]:
            f = by_id[fid]
            excerpt = f.text if len(f.text) <= 80 else f.text[:79] + "…"
            if exclude is not None and exclude(f.text):
                # The list is posted where the moderator asked: never repeat a blocked word there.
                excerpt = ctx.t("stats.feedback_hidden")
            lines.append(ctx.t("stats.feedback_item", name=f.name or "?", text=excerpt))
    await ctx.reply("\n".join(lines))


async def _to_thread_group(items: list[tuple[int, str]], exclude: Any) -> list[tuple[str | None, list[int]]]:
    return await asyncio.to_thread(engine().group, items, exclude=exclude)


async def nps_start(ctx: Context, repo: StatsRepo, question: str | None) -> None:
    """Open a 0–10 poll (buttons where the platform has them)."""
    assert ctx.group is not None and ctx.member is not None
    if question and len(question) > QUESTION_MAX:
        raise BadArgument("stats.nps_question_too_long", max=QUESTION_MAX)
    poll = await repo.start_poll(ctx.group.id, question, ctx.member.id, ctx.now)
    text = question or ctx.t("stats.nps_default_question")
    if ctx.adapter.supports(Capability.BUTTONS):
        rows = (
            tuple(Button(str(n), f"nps:{poll.id}:{n}") for n in range(0, 6)),
            tuple(Button(str(n), f"nps:{poll.id}:{n}") for n in range(6, 11)),
        )
        message = OutgoingMessage(parts=(Text(ctx.t("stats.nps_poll", question=text)),), buttons=rows)
    else:
        message = OutgoingMessage(parts=(Text(ctx.t("stats.nps_poll_text", question=text)),))
    sent = await ctx.send(message)
    await repo.set_marker(ctx.group.id, "nps_message", f"{poll.id}:{sent.message_id}")


async def nps_result(ctx: Context, repo: StatsRepo) -> None:
    """The latest poll's NPS."""
    assert ctx.group is not None
    poll = await repo.latest_poll(ctx.group.id)
    if poll is None:
        await ctx.reply(ctx.t("stats.nps_none"))
        return
    r = nps(await repo.scores(poll.id))
    question = poll.question or ctx.t("stats.nps_default_question")
    if r.score is None:
        await ctx.reply(ctx.t("stats.nps_no_answers", question=question))
        return
    state = ctx.t("stats.nps_open") if poll.closed_at is None else ctx.t("stats.nps_closed")
    await ctx.reply(
        ctx.t(
            "stats.nps_result",
            question=question,
            score=f"{r.score:+.0f}",
            count=r.count,
            promoters=r.promoters,
            passives=r.passives,
            detractors=r.detractors,
            state=state,
        )
    )
