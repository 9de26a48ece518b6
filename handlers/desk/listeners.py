"""Automatic FAQ answers (band 20, after moderation and commands) and the vote buttons.

A message moderation deleted never gets here (moderation stops the chain); commands, edits and
bots are never answered. An answer is recorded before it is sent, so its cooldown holds across
a restart, and carries "helpful / not helpful" buttons (one vote per member and answer).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.args import button_fields, decode_id
from bot.context import Context
from bot.events import ButtonPressed
from bot.messages import Button, OutgoingMessage, Text
from bot.roles import Role
from bot.router import Band
from handlers.desk.commands import router
from handlers.desk.jobs import ensure_job
from handlers.desk.match import looks_like_question
from handlers.desk.settings import DeskSettings
from handlers.desk.spec import NEWCOMER_DAYS
from handlers.desk.state import DeskState, get_state

log = logging.getLogger(__name__)

#: Button data: ``desk:y:<answer id>`` (helpful) and ``desk:n:<answer id>``.
VOTE_PREFIX = "desk:"
#: Longer messages are not questions worth an automatic answer (and cost BM25 time).
TEXT_MAX = 500


def fill(answer: str, *, name: str, group: str) -> str:
    """The answer with its placeholders filled (only these; anything else stays as typed)."""
    return answer.replace("{name}", name).replace("{group}", group)


@router.message(band=Band.LISTENER)
async def answer(ctx: Context) -> None:
    """Answer a member's message from the FAQ when an entry matches and is not cooling down."""
    group, member, message = ctx.group, ctx.member, ctx.message
    if group is None or message is None or ctx.is_command or ctx.user.is_bot or message.edited:
        return
    state = get_state(ctx.services)
    channel = message.chat.channel_id
    if message.reply_to is not None and member is not None:
        await _replied(state, group.id, member.id, f"{channel}:{message.reply_to}", ctx.now)
    text = message.text
    if not text.strip() or len(text) > TEXT_MAX:
        return
    settings = await ctx.settings(DeskSettings)
    if not settings.faq:
        return
    compiled = await state.faq(group.id)
    found = (
        compiled.index.match(text, threshold=settings.faq_threshold, lang=ctx.lang) if compiled.rows else None
    )
    if found is None:
        if looks_like_question(text):  # nobody may answer it: keep it for /faq unanswered
            question_id = await state.repos.unanswered.add(
                group.id, channel, message.message_id, member.id if member else None, text, ctx.now
            )
            asked = await state.open_questions(group.id, ctx.now)
            asked[f"{channel}:{message.message_id}"] = (question_id, member.id if member else None, ctx.now)
        return
    row = compiled.rows[found.entry_id]
    if not await _answers(ctx, row.audience):
        return
    if await state.cooling(row, channel, ctx.now):
        return
    # Several workers on one database: the one that claims the cooldown answers (one worker: True).
    if not await ctx.services.cooldowns.claim(
        "desk.faq", f"{row.id}:{channel}", ctx.now, timedelta(seconds=row.cooldown)
    ):
        return
    answer_id = await state.repos.faq.record_answer(
        group.id, row.id, channel, member.id if member else None, ctx.now
    )
    state.answered(row.id, channel, ctx.now)
    body = fill(row.answer, name=ctx.user.display_name, group=group.title or message.chat.title or "")
    buttons = (
        (
            Button(ctx.t("desk.faq.helpful"), f"{VOTE_PREFIX}y:{answer_id}"),
            Button(ctx.t("desk.faq.unhelpful"), f"{VOTE_PREFIX}n:{answer_id}"),
        ),
    )
    await ctx.reply(OutgoingMessage(parts=(Text(body),), buttons=buttons))


async def _answers(ctx: Context, audience: str) -> bool:
    """Whether an entry for ``audience`` answers this member: ``members`` skips moderators (they
    know the answer, and test triggers in the chat), ``newcomers`` answers members first seen or
    joined in the last ``NEWCOMER_DAYS`` days."""
    if audience == "members":
        return await ctx.role() < Role.MODERATOR
    if audience == "newcomers":
        member = ctx.member
        if member is None:
            return False
        arrived = max(member.first_seen, member.joined_at or member.first_seen)
        return ctx.now - arrived < timedelta(days=NEWCOMER_DAYS)
    return True


async def _replied(state: DeskState, group_id: int, member_id: int, key: str, now: datetime) -> None:
    """A reply by someone else than the asker answers a question of the last 30 minutes."""
    asked = await state.open_questions(group_id, now)
    waiting = asked.get(key)
    if waiting is not None and waiting[1] != member_id:
        del asked[key]
        await state.repos.unanswered.answered(waiting[0], now)


@router.message(band=Band.LISTENER)
async def keep_daily_job(ctx: Context) -> None:
    """The group's daily job (level 2, the digest) exists from its first message on, and moves
    when ``/set desk.daily_hour`` just ran (commands come before listeners)."""
    group = ctx.group
    if group is None:
        return
    state = get_state(ctx.services)
    moved = (
        ctx.is_command and ctx.command_name == "set" and str(ctx.params.get("key", "")).startswith("desk.")
    )
    if group.id not in state.scheduled or moved:
        state.scheduled.add(group.id)
        await ensure_job(ctx.services, group)


_VOTES = {"y": True, "n": False}


@router.button(VOTE_PREFIX)
async def vote(ctx: Context) -> None:
    """A member pressed "helpful" or "not helpful" under an answer (or a moderator "make this
    an FAQ" under the unanswered questions: ``desk:mk:<question id>``)."""
    event = ctx.event
    assert isinstance(event, ButtonPressed)
    fields = button_fields(event.data, 3)
    if fields is not None and fields[1] == "mk":
        await make_faq(ctx, decode_id(fields[2]))
        return
    helpful = _VOTES.get(fields[1]) if fields else None
    answer_id = decode_id(fields[2]) if fields else None
    if helpful is None or answer_id is None or ctx.group is None or ctx.member is None:
        return  # only a forged press has another shape: ignored quietly, like every button's
    state = get_state(ctx.services)
    if await state.repos.faq.answer_group(answer_id) != ctx.group.id:
        await ctx.reply(ctx.t("desk.faq.vote_stale"))
        return
    if not await state.repos.faq.vote(answer_id, ctx.member.id, helpful, ctx.now):
        await ctx.reply(ctx.t("desk.faq.vote_again"))
        return
    await ctx.reply(ctx.t("desk.faq.vote_thanks" if helpful else "desk.faq.vote_sorry"))


async def make_faq(ctx: Context, question_id: int | None) -> None:
    """ "Make this an FAQ": the command to send, the question already in it. The button may be
    pressed in the moderators' chat (the daily digest): the role is checked in the question's
    group, and the hint names the group to send it in."""
    if question_id is None or ctx.group is None:
        return
    repos = get_state(ctx.services).repos
    owner_id = await repos.unanswered.owner(question_id)
    owner = ctx.group if owner_id in (None, ctx.group.id) else await ctx.services.groups.get(owner_id)
    if owner is None:
        await ctx.reply(ctx.t("desk.faq.question_stale"))
        return
    role = await ctx.role() if owner.id == ctx.group.id else await ctx.role_in(owner)
    if role < Role.MODERATOR:
        await ctx.reply(ctx.t("core.denied"))
        return
    row = await repos.unanswered.get(owner.id, question_id)
    if row is None:
        await ctx.reply(ctx.t("desk.faq.question_stale"))
        return
    example = " ".join(row.text.replace("|", " ").replace("｜", " ").replace(";", " ").split())
    command = f"/faq add question {example} | "
    if owner.id == ctx.group.id:
        await ctx.reply(ctx.t("desk.faq.make_hint", command=command))
    else:
        await ctx.reply(ctx.t("desk.faq.make_hint_in", group=owner.title or owner.scope_id, command=command))
