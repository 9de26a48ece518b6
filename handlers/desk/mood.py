"""The group's mood: a sentiment score per message, summed per local hour, and the complaints
that strongly negative messages about the group's products are.

The per-message path only appends the message to a list (``note``): scoring waits for the
batched flush (every second and at shutdown), which scores the whole batch in a thread and
writes the hourly sums and the negative messages in one transaction. The one exception is a
message that names one of the group's ``desk.product_words``: it is scored at once (in a thread)
because, when strongly negative, it is a complaint and may start level 1 of the response, which
needs the message's context (such messages are rare: scoring one twice costs little).

Only negative messages are kept one by one (score and text, for the negative topics), and only
for ``desk.mood_days``; the hourly sums hold no text and no member.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from bot.batcher import write_isolated
from bot.clock import zone
from bot.context import Context
from bot.ports import GroupMood, MessageScreen, MoodDay, MoodSummary
from bot.router import Band
from handlers.desk.commands import router
from handlers.desk.complaints import complaint_from_mood
from handlers.desk.sentiment import MODEL, NEGATIVE, language_of, negative_topics
from handlers.desk.settings import DeskSettings
from handlers.desk.state import MoodBook, Pending, get_state
from storage.desk import MoodDayRow, MoodHour, NegativeMessage
from storage.models import Group

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

#: Longer messages are cut to this before scoring and keeping (a feeling is in the first lines).
TEXT_MAX = 500
#: Negative messages read for the topics of one period (the newest).
TOPIC_SAMPLE = 2000
#: Old negative messages are purged at most this often.
PURGE_EVERY = timedelta(hours=1)


def book_of(services: Services) -> MoodBook:
    """The feature's mood book (in the desk's state)."""
    return get_state(services).mood


@router.message(band=Band.LISTENER)
async def note(ctx: Context) -> None:
    """Queue a member's plain message for scoring; a strongly negative one naming a product
    word is also a complaint."""
    group, member, message = ctx.group, ctx.member, ctx.message
    if group is None or message is None or ctx.is_command or ctx.user.is_bot or message.edited:
        return
    text = message.text.strip()[:TEXT_MAX]
    if language_of(text) is None:  # no words to judge (emoji, numbers): not a mood
        return
    settings = await ctx.settings(DeskSettings)
    if not settings.mood:
        return
    local = message.at.astimezone(ctx.zone)
    item = Pending(group.id, member.id if member else None, message.at, local.date(), local.hour, text)
    book_of(ctx.services).pending.append(item)
    if settings.product_words:
        words = _product_words(ctx, group.id, settings.product_words)
        if any(word in get_state(ctx.services).fold(text) for word in words[1]):
            # Scored without the product's name: the name says what the message is about, the
            # rest how the member feels. (SnowNLP learnt from shop reviews that 客服 and 退款
            # are negative words; "客服回复很及时，点赞" scores -0.96 with it, -0.52 without.)
            score = await asyncio.to_thread(MODEL.score, _without(text, words[0]))
            if score is not None and score <= -settings.complaint_mood / 100:
                await complaint_from_mood(ctx, text)


def _product_words(ctx: Context, group_id: int, configured: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The group's product words as typed (NFKC) and folded, cached until the setting changes."""
    state = get_state(ctx.services)
    cached = state.mood.products.get(group_id)
    if cached is None or cached[0] != configured:
        typed = tuple(
            w for w in (unicodedata.normalize("NFKC", p).strip() for p in configured.split(",")) if w
        )
        folded = tuple(f for f in (state.fold(w) for w in typed) if f)
        cached = (configured, typed, folded)
        state.mood.products[group_id] = cached
    return cached[1], cached[2]


def _without(text: str, words: Sequence[str]) -> str:
    """The text with the product words taken out (full-width and case variants too)."""
    out = unicodedata.normalize("NFKC", text)
    for word in words:
        out = re.sub(re.escape(word), " ", out, flags=re.IGNORECASE)
    return out


async def flush(services: Services) -> None:
    """Score what waits (in a thread) and write the hourly sums and the negative messages."""
    book = book_of(services)
    rows, book.unwritten = book.unwritten, []
    if book.pending:
        batch, book.pending = book.pending, []
        todo = [p.text for p in batch]
        scores = iter(await asyncio.to_thread(MODEL.score_many, todo) if todo else [])
        hours: dict[tuple[int, date, int], list[float]] = {}
        for item in batch:
            score = next(scores)
            if score is None:
                continue
            hours.setdefault((item.group_id, item.day, item.hour), []).append(score)
            if score <= NEGATIVE:
                rows.append(NegativeMessage(item.group_id, item.member_id, item.at, score, item.text))
        rows.extend(
            MoodHour(g, d, h, len(s), sum(s), sum(1 for x in s if x <= NEGATIVE))
            for (g, d, h), s in hours.items()
        )
    if rows:
        repo = get_state(services).repos.mood

        async def write(part: Sequence[MoodHour | NegativeMessage]) -> None:
            await repo.record(
                [r for r in part if isinstance(r, MoodHour)],
                [r for r in part if isinstance(r, NegativeMessage)],
            )

        # What the database could not take at all (locked, away) is tried again next time;
        # the hourly sums add up, so a retried row is never counted twice.
        book.unwritten = await write_isolated("desk mood", rows, write) + book.unwritten
    await _purge(services, book)


async def _purge(services: Services, book: MoodBook) -> None:
    """Once an hour: each group's negative messages older than its ``desk.mood_days``."""
    now = services.clock.now()
    if book.last_purge is not None and now - book.last_purge < PURGE_EVERY:
        return
    book.last_purge = now
    repo = get_state(services).repos.mood
    try:
        for group_id in await repo.kept_groups():
            days = (await services.settings.of(group_id, DeskSettings)).mood_days
            await repo.purge(group_id, now - timedelta(days=days))
    except Exception:
        # A purge that fails now runs at the next flush; counting must not stop for it.
        log.exception("desk mood: purging old negative messages failed")
        book.last_purge = None


class DeskMood:
    """``GroupMood``: what ``/stats`` and the weekly report show of a group's mood."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def mood(self, group: Group, first: date, last: date, *, words: int = 5) -> MoodSummary:
        """The mood of the local days ``first`` … ``last``, the period before, negative topics."""
        # What waits in memory belongs in the figures; only the desk's own flush (a whole
        # batcher flush would also send other features' batched announcements now).
        await flush(self.services)
        state = get_state(self.services)
        repo = state.repos.mood
        span = (last - first).days + 1
        days = await repo.days(group.id, first, last)
        before = await repo.days(group.id, first - timedelta(days=span), first - timedelta(days=1))
        messages = sum(d.messages for d in days)
        negative = sum(d.negative for d in days)
        tz = zone(group.timezone)
        now = self.services.clock.now()
        kept = (await self.services.settings.of(group.id, DeskSettings)).mood_days
        since = max(datetime.combine(first, time(0), tzinfo=tz), now - timedelta(days=kept))
        until = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)
        texts = await repo.negative_texts(group.id, since, until, TOPIC_SAMPLE) if words > 0 else []
        exclude = None
        screen = self.services.ports.find(MessageScreen)
        if screen is not None and texts:
            try:
                exclude = await screen.blocked(group.id)
            except Exception:
                log.exception("moderation screen unavailable for group %s; negative topics hidden", group.id)
                texts = []  # never show a word that might be blocked
        topics = await asyncio.to_thread(negative_topics, texts, words, exclude) if texts else []
        return MoodSummary(
            messages=messages,
            average=_average(days),
            negative=negative,
            previous_average=_average(before),
            days=tuple(MoodDay(d.day, d.messages, d.score_sum / d.messages, d.negative) for d in days),
            negative_words=tuple(topics),
        )


def _average(days: Sequence[MoodDayRow]) -> float | None:
    total = sum(d.messages for d in days)
    return None if total == 0 else sum(d.score_sum for d in days) / total


def provide(services: Services) -> dict[type, object]:
    """The ports the desk provides."""
    return {GroupMood: DeskMood(services)}
