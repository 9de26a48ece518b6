"""Poll commands: ``/poll [multi] [anon] [for 2h] QUESTION | OPTION | OPTION …``, ``/poll close [ID]``,
``/poll results [ID]``, ``/poll vote ID N`` (the buttons' typed form), and the buttons themselves."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.args import BadArgument, UsageError, button_fields, decode_id, parse_duration
from bot.errors import QunyouError
from bot.events import ButtonPressed, PollAnswered
from bot.params import Id, Int, Rest
from bot.planned_posts import channel_of
from bot.roles import Role
from bot.timeparse import excerpt
from handlers.engage.commands import router
from handlers.engage.polls import (
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    close,
    post,
    results,
    schedule_close,
    send_native,
    voted,
    with_chart,
)
from handlers.engage.state import get_state
from storage.engage import Poll, Tally

if TYPE_CHECKING:
    from bot.context import Context

poll_group = router.group("poll", aliases=("投票",), usage="engage.poll.usage", help="engage.poll.help")
_ID = Id("poll_id", optional=True)
MULTI = frozenset({"multi", "多选"})
ANON = frozenset({"anon", "匿名"})
FOR = frozenset({"for", "限时"})
MAX_DURATION = timedelta(days=90)


def _clean(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf")).strip()


def parse_poll(body: str) -> tuple[str, list[str], bool, bool, timedelta | None]:
    """Question, options, multi, anon and duration from what the member typed."""
    fields = [_clean(f) for f in body.replace("｜", "|").split("|")]
    words = fields[0].split()
    multi = anon = False
    duration: timedelta | None = None
    while words:
        head = unicodedata.normalize("NFKC", words[0]).casefold()
        if head in MULTI:
            multi, words = True, words[1:]
        elif head in ANON:
            anon, words = True, words[1:]
        elif head in FOR and len(words) > 1:
            duration, words = parse_duration(words[1]), words[2:]
            if not timedelta(minutes=1) <= duration <= MAX_DURATION:
                raise BadArgument("engage.poll.err_duration", max_days=MAX_DURATION.days)
        else:
            break
    question = " ".join(words)
    options = [f for f in fields[1:]]
    if len(fields) < 2 and not question:
        raise UsageError()
    if not question:
        raise BadArgument("engage.poll.err_question")
    if len(question) > MAX_QUESTION:
        raise BadArgument("engage.poll.err_question_long", limit=MAX_QUESTION, length=len(question))
    if any(not o for o in options):
        raise BadArgument("engage.poll.err_empty_option")
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise BadArgument("engage.poll.err_options", count=len(options), max=MAX_OPTIONS)
    long = next((o for o in options if len(o) > MAX_OPTION), None)
    if long is not None:
        raise BadArgument("engage.poll.err_option_long", part=excerpt(long), limit=MAX_OPTION)
    if len({o.casefold() for o in options}) != len(options):
        raise BadArgument("engage.poll.err_duplicate")
    return question, options, multi, anon, duration


@poll_group.default(args=[Rest("body", optional=True, default="")])
async def poll_new(ctx: Context, body: str) -> None:
    """Ask the group a question."""
    assert ctx.group is not None
    question, options, multi, anon, duration = parse_poll(body)
    state = get_state(ctx.services)
    poll = await state.polls.add(
        group_id=ctx.group.id,
        channel_id=channel_of(ctx.chat),
        thread_id=ctx.chat.thread_id,
        question=question,
        options=tuple(options),
        multi=int(multi),
        anon=int(anon),
        closes_at=ctx.now + duration if duration is not None else None,
        created_by=ctx.member.id if ctx.member else None,
        created_at=ctx.now,
    )
    await schedule_close(ctx.services, poll)
    if await send_native(ctx, poll):
        return
    sent = await ctx.send(post(ctx.services, ctx.group, poll, Tally(tuple(0 for _ in options), 0)))
    await state.polls.set_message(poll.id, sent.message_id)
    state.poll_posts.edited(poll.id, ctx.now)


async def _find(ctx: Context, poll_id: int | None) -> Poll:
    assert ctx.group is not None
    poll = await get_state(ctx.services).polls.get(ctx.group.id, poll_id)
    if poll is None:
        if poll_id is None:
            raise BadArgument("engage.poll.err_none")
        raise BadArgument("engage.poll.err_unknown", id=poll_id)
    return poll


@poll_group.sub("close", aliases=("结束", "关闭"), args=[_ID])
async def poll_close(ctx: Context, poll_id: int | None) -> None:
    """``/poll close [ID]``: moderators, or the member who asked."""
    assert ctx.group is not None
    poll = await _find(ctx, poll_id)
    mine = ctx.member is not None and poll.created_by == ctx.member.id
    if not mine and await ctx.role() < Role.MODERATOR:
        await ctx.reply(ctx.t("core.denied"))
        return
    closed = await close(ctx.services, ctx.group, poll) if poll.status == "open" else None
    if closed is None:
        await ctx.reply(ctx.t("engage.poll.err_closed", id=poll.id))
        return
    tally = await get_state(ctx.services).polls.tally(closed, names=True)
    message = results(ctx.services, ctx.group, closed, tally)
    await ctx.send(await with_chart(ctx.services, ctx.group, ctx.chat, closed, tally, message))


@poll_group.sub("results", aliases=("结果",), args=[_ID])
async def poll_results(ctx: Context, poll_id: int | None) -> None:
    """``/poll results [ID]``: counts, bars, and who voted what unless anonymous."""
    assert ctx.group is not None
    poll = await _find(ctx, poll_id)
    tally = await get_state(ctx.services).polls.tally(poll, names=True)
    message = results(ctx.services, ctx.group, poll, tally)
    await ctx.reply(await with_chart(ctx.services, ctx.group, ctx.chat, poll, tally, message))


@poll_group.sub("vote", aliases=("投",), args=[Id("poll_id"), Int("option", low=1, high=MAX_OPTIONS)])
async def poll_vote(ctx: Context, poll_id: int, option: int) -> None:
    """``/poll vote ID N``: the buttons' typed form."""
    poll = await _find(ctx, poll_id)
    if option > len(poll.options):
        raise BadArgument("engage.poll.err_option_number", count=len(poll.options))
    if poll.native_id is not None:
        # The platform's poll is the count; a vote typed here would not show in it.
        raise BadArgument("engage.poll.err_native", id=poll.id)
    await answer_vote(ctx, poll, option)


async def answer_vote(ctx: Context, poll: Poll, option: int) -> None:
    """Vote and tell the member alone (privately); the post's counts are the public answer."""
    assert ctx.group is not None and ctx.member is not None
    state = get_state(ctx.services)
    outcome = await state.polls.vote(poll.id, ctx.member.id, option - 1, ctx.now)
    if outcome in ("voted", "changed", "removed"):
        await voted(ctx.services, ctx.group, poll)
    key = f"engage.poll.{outcome}"
    try:
        await ctx.send_private(ctx.t(key, id=poll.id, option=poll.options[option - 1]))
    except QunyouError:
        pass  # no private channel: the post's counts answer


@router.button("pl:")
async def on_poll_button(ctx: Context) -> None:
    """``pl:v:<poll>:<option>``; anything else is forged or stale and ignored quietly."""
    event = ctx.event
    assert isinstance(event, ButtonPressed)
    parts = button_fields(event.data, 4)
    poll_id = decode_id(parts[2]) if parts else None
    option = decode_id(parts[3]) if parts else None
    if parts is None or parts[1] != "v" or poll_id is None or option is None:
        return
    if ctx.group is None or ctx.member is None:
        return
    poll = await get_state(ctx.services).polls.get(ctx.group.id, poll_id)
    if poll is None:
        try:
            await ctx.send_private(ctx.t("engage.poll.err_unknown", id=poll_id))
        except QunyouError:
            pass
        return
    if not 1 <= option <= len(poll.options):
        return
    await answer_vote(ctx, poll, option)


@router.poll_answer()
async def on_native_answer(ctx: Context) -> None:
    """A member's answer in a native poll: it becomes their whole stored choice, so ``/poll
    results`` counts what the platform shows. Answers to polls we do not know are ignored."""
    event = ctx.event
    assert isinstance(event, PollAnswered)
    if ctx.group is None or ctx.member is None:
        return
    state = get_state(ctx.services)
    poll = await state.polls.by_native(ctx.group.id, event.poll_id)
    if poll is None:
        return
    if event.change == "set":
        await state.polls.set_votes(poll.id, ctx.member.id, event.option_ids, event.at, event.order)
        return
    for option in event.option_ids:
        await state.polls.change_vote(
            poll.id, ctx.member.id, option, added=event.change == "add", now=event.at
        )


#: A reply that is only option numbers: ``2``, ``1 3``, ``1，3`` (full-width digits fold first).
_NUMBERS = re.compile(r"\d{1,2}(?:[\s,，、]+\d{1,2})*")


@router.message()
async def on_numbered_reply(ctx: Context) -> None:
    """A reply of option numbers to a poll's post (the way to vote where there are no buttons,
    as on WeChat/QQ bridges): the member's whole choice becomes those options. Anything else, or
    numbers out of range, is ordinary chat; a native poll's count is the platform's own."""
    message = ctx.message
    if message is None or message.edited or ctx.is_command or not message.reply_to or ctx.member is None:
        return
    text = unicodedata.normalize("NFKC", message.text).strip()
    if ctx.group is None or _NUMBERS.fullmatch(text) is None:
        return
    state = get_state(ctx.services)
    poll = await state.polls.by_message(ctx.group.id, message.reply_to)
    if poll is None or poll.native_id is not None:
        return
    chosen = sorted({int(n) for n in re.findall(r"\d+", text)})
    if not all(1 <= n <= len(poll.options) for n in chosen) or (len(chosen) > 1 and not poll.multi):
        await _tell(ctx, ctx.t("engage.poll.err_numbers", id=poll.id, count=len(poll.options)))
        return
    outcome = await state.polls.set_votes(poll.id, ctx.member.id, tuple(n - 1 for n in chosen), ctx.now)
    if outcome == "closed":
        await _tell(ctx, ctx.t("engage.poll.closed", id=poll.id))
        return
    await voted(ctx.services, ctx.group, poll)
    names = (
        "、".join(poll.options[n - 1] for n in chosen)
        if ctx.lang.startswith("zh")
        else ", ".join(poll.options[n - 1] for n in chosen)
    )
    await _tell(ctx, ctx.t("engage.poll.voted", id=poll.id, option=names))


async def _tell(ctx: Context, text: str) -> None:
    """Privately where the platform can, else as a reply (a bridge without private messages)."""
    try:
        await ctx.send_private(text)
    except QunyouError:
        await ctx.reply(text)
