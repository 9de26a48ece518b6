"""Automatic FAQ answers (band 20, after moderation and commands) and the vote buttons.

A message moderation deleted never gets here (moderation stops the chain); commands, edits and
bots are never answered. An answer is recorded before it is sent, so its cooldown holds across
a restart, and carries "helpful / not helpful" buttons (one vote per member and answer).
"""

from __future__ import annotations

import logging

from bot.args import button_fields, decode_id
from bot.context import Context
from bot.events import ButtonPressed
from bot.messages import Button, OutgoingMessage, Text
from bot.router import Band
from handlers.desk.commands import router
from handlers.desk.settings import DeskSettings
from handlers.desk.state import get_state

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
    text = message.text
    if not text.strip() or len(text) > TEXT_MAX:
        return
    settings = await ctx.settings(DeskSettings)
    if not settings.faq:
        return
    state = get_state(ctx.services)
    compiled = await state.faq(group.id)
    if not compiled.rows:
        return
    found = compiled.index.match(text, threshold=settings.faq_threshold, lang=ctx.lang)
    if found is None:
        return
    row = compiled.rows[found.entry_id]
    channel = message.chat.channel_id
    if await state.cooling(row, channel, ctx.now):
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


_VOTES = {"y": True, "n": False}


@router.button(VOTE_PREFIX)
async def vote(ctx: Context) -> None:
    """A member pressed "helpful" or "not helpful" under an answer."""
    event = ctx.event
    assert isinstance(event, ButtonPressed)
    fields = button_fields(event.data, 3)
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
