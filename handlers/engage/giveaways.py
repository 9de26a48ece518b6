"""Giveaways (抽奖): the post, entering, the provably fair draw, rerolls and refunds.

The post shows the SHA-256 of a secret seed from the start; the draw (``bot.fairdraw``) ranks the
entrants by SHA-256 of ``seed:member number`` and reveals the seed, so anyone can re-run it. The draw
is a scheduler job at the end time (a row: it survives restarts) and one compare-and-set in
storage, so it happens exactly once whether the job, ``/giveaway end`` or a re-run after a crash
gets there first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import fairdraw
from bot.errors import QunyouError
from bot.events import UserRef
from bot.messages import Button, Mention, OutgoingMessage, Part, Text
from bot.planned_posts import chat_of, tz_of
from bot.points_access import award, points_of
from bot.ports import CheckinFacts, PointsLedger
from handlers.engage.settings import EngageSettings
from handlers.engage.state import get_state
from storage.engage import DrawResult, Entrant, Giveaway
from storage.engage.giveaways import Picker

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Member

log = logging.getLogger(__name__)

DRAW_KIND = "engage-giveaway-draw"
#: Ledger kind of entry prices and their refunds.
LEDGER_KIND = "giveaway"
MAX_WINNERS = 100
MAX_PRIZE = 100
MIN_DURATION = timedelta(minutes=1)
MAX_DURATION = timedelta(days=90)
#: At most this many winners are mentioned by name in one announcement line.
SHOWN_WINNERS = 50


def draw_job_id(giveaway_id: int) -> str:
    """The scheduler job that draws one giveaway."""
    return f"gw:{giveaway_id}:draw"


def join_button(services: Services, lang: str, giveaway_id: int) -> tuple[tuple[Button, ...], ...]:
    """The post's one button (numbered text plus the command where buttons are missing)."""
    label = services.i18n.t(lang, "engage.gw.btn_join")
    return ((Button(label, f"gw:join:{giveaway_id}", command=f"/giveaway join {giveaway_id}"),),)


def local_time(instant: datetime, group: Group) -> str:
    """An instant on the group's clock."""
    return instant.astimezone(tz_of(group)).strftime("%Y-%m-%d %H:%M")


def left_text(services: Services, lang: str, left: timedelta) -> str:
    """Time left, coarsely (days, hours, minutes)."""
    minutes = max(0, int(left.total_seconds()) // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return services.i18n.t(lang, "engage.gw.left_dh", d=days, h=hours)
    if hours:
        return services.i18n.t(lang, "engage.gw.left_hm", h=hours, m=mins)
    return services.i18n.t(lang, "engage.gw.left_m", m=max(mins, 1) if left.total_seconds() > 0 else 0)


def conditions(services: Services, lang: str, gw: Giveaway) -> list[str]:
    """The entry conditions, one line each (none: anyone may enter)."""
    t = services.i18n.t
    lines = []
    if gw.min_points:
        lines.append(t(lang, "engage.gw.cond_points", points=gw.min_points))
    if gw.min_days:
        lines.append(t(lang, "engage.gw.cond_days", days=gw.min_days))
    if gw.min_checkins:
        lines.append(t(lang, "engage.gw.cond_checkins", checkins=gw.min_checkins))
    if gw.price:
        lines.append(t(lang, "engage.gw.cond_price", price=gw.price))
    return lines


def post(services: Services, group: Group, gw: Giveaway, count: int) -> OutgoingMessage:
    """The giveaway post as it stands: entrants, time left, the seed's commitment, the button."""
    lang, t = group.language, services.i18n.t
    now = services.clock.now()
    lines = [
        t(lang, "engage.gw.post_title", id=gw.id, prize=gw.prize),
        t(lang, "engage.gw.post_winners", winners=gw.winners),
        t(
            lang,
            "engage.gw.post_ends",
            end=local_time(gw.ends_at, group),
            left=left_text(services, lang, gw.ends_at - now),
        ),
        *conditions(services, lang, gw),
        t(lang, "engage.gw.post_count", count=count),
        t(lang, "engage.gw.post_commit", hash=gw.seed_hash),
    ]
    return OutgoingMessage(parts=(Text("\n".join(lines)),), buttons=join_button(services, lang, gw.id))


def closed_post(services: Services, group: Group, gw: Giveaway, count: int) -> OutgoingMessage:
    """The post once drawn or cancelled: no button, the outcome in one line."""
    lang, t = group.language, services.i18n.t
    key = "engage.gw.post_drawn" if gw.status == "drawn" else "engage.gw.post_cancelled"
    lines = [
        t(lang, "engage.gw.post_title", id=gw.id, prize=gw.prize),
        t(lang, "engage.gw.post_count", count=count),
        t(lang, "engage.gw.post_commit", hash=gw.seed_hash),
        t(lang, key, id=gw.id),
    ]
    return OutgoingMessage.of("\n".join(lines))


async def edit_post(services: Services, group: Group, gw: Giveaway, *, closed: bool = False) -> None:
    """Rewrite the post in place (a platform refusal is logged: the post is a view, not the state)."""
    if gw.message_id is None:
        return
    book = get_state(services).posts
    count = await get_state(services).giveaways.count(gw.id)
    message = closed_post(services, group, gw, count) if closed else post(services, group, gw, count)
    chat = chat_of(services, group, gw.channel_id, gw.thread_id)
    adapter = services.adapters.get(chat.adapter)
    if closed:
        book.forget(gw.id)
    else:
        book.edited(gw.id, services.clock.now())
    if adapter is None:
        return
    try:
        await adapter.edit(chat, gw.message_id, message)
    except QunyouError as exc:
        log.info("giveaway %s: could not edit post %s: %s", gw.id, gw.message_id, exc)


async def joined(services: Services, group: Group, gw: Giveaway) -> None:
    """Someone entered: edit the post now if the interval allows, else leave it for the flush."""
    state = get_state(services)
    gap = (await services.settings.of(group.id, EngageSettings)).giveaway_edit_seconds
    await state.posts.counts_changed(gw.id, services.clock.now(), gap, lambda: edit_post(services, group, gw))


async def flush_posts(services: Services) -> None:
    """The batcher's tick: edit every dirty post whose interval has passed."""
    state = get_state(services)
    for giveaway_id in state.posts.ripe(services.clock.now()):
        state.changed(giveaway_id)
        gw = await state.giveaways.by_id(giveaway_id)
        group = await services.directory.group_by_id(gw.group_id) if gw is not None else None
        if gw is None or group is None or gw.status != "open":
            state.posts.forget(giveaway_id)
            continue
        await edit_post(services, group, gw)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a member may not enter (a catalog key and its values)."""

    key: str
    values: dict[str, object]


async def eligibility(services: Services, group: Group, member: Member, gw: Giveaway) -> Refusal | None:
    """None when the member may enter; else the reason (told privately, never in public)."""
    now = services.clock.now()
    if member.is_bot:
        return Refusal("engage.gw.err_bot", {})
    if gw.min_days:
        since = member.joined_at or member.first_seen
        if now - since < timedelta(days=gw.min_days):
            return Refusal("engage.gw.err_days", {"days": gw.min_days})
    if gw.min_checkins:
        facts = services.ports.find(CheckinFacts)
        if facts is None:
            return Refusal("engage.gw.err_no_checkins", {})
        today = now.astimezone(tz_of(group)).date()
        days = await facts.checkin_days(member.id, today - timedelta(days=6), today)
        if days < gw.min_checkins:
            return Refusal("engage.gw.err_checkins", {"checkins": gw.min_checkins, "days": days})
    if gw.min_points or gw.price:
        balance = await points_of(services, group, member)
        need = max(gw.min_points, gw.price)
        if balance is None:
            return Refusal("engage.gw.err_no_points", {})
        if balance < need:
            return Refusal("engage.gw.err_points", {"points": need, "balance": balance})
    return None


async def enter(services: Services, group: Group, member: Member, gw: Giveaway) -> Refusal | None:
    """Enter a member: conditions, the price (through the points port), one entry each.

    The answer (a ``Refusal`` with the reason, or with ``engage.gw.entered``) goes to the member
    alone. A price taken for an entry that then fails (a second press in the same millisecond, the
    draw closing it meanwhile) is refunded at once, in one ledger entry each way.
    """
    state = get_state(services)
    now = services.clock.now()
    if gw.status != "open" or gw.ends_at <= now:
        return Refusal("engage.gw.err_closed", {"id": gw.id})
    # Only a price needs this read first (no charge for a second press); otherwise the entry's
    # own transaction answers "already".
    if gw.price and await state.giveaways.entry(gw.id, member.id):
        return Refusal("engage.gw.already", {"id": gw.id})
    refusal = await eligibility(services, group, member, gw)
    if refusal is not None:
        return refusal
    paid = 0
    reason = services.i18n.t(group.language, "engage.gw.reason", id=gw.id, prize=gw.prize)
    if gw.price:
        ledger = services.ports.find(PointsLedger)
        if ledger is None or not await ledger.spend(member, gw.price, LEDGER_KIND, reason):
            balance = await points_of(services, group, member)
            return Refusal("engage.gw.err_points", {"points": gw.price, "balance": balance or 0})
        paid = gw.price
    result = await state.giveaways.enter(gw.id, member.id, now, paid)
    if result.outcome != "entered":
        if paid:
            await award(services, member, paid, LEDGER_KIND, reason)
        key = "engage.gw.already" if result.outcome == "already" else "engage.gw.err_closed"
        return Refusal(key, {"id": gw.id})
    await joined(services, group, gw)
    return Refusal("engage.gw.entered", {"id": gw.id, "prize": gw.prize})


def picker(seed: str) -> Picker:
    """The storage draw's picker over ``bot.fairdraw`` (member numbers are the entrant keys)."""

    def pick(entrants: Sequence[Entrant], count: int, before: set[str]) -> list[str]:
        return fairdraw.pick(seed, [e.key for e in entrants], count, exclude=before)

    return pick


def _mentions(group: Group, winners: Sequence[Entrant]) -> tuple[Part, ...]:
    parts: list[Part] = []
    for i, w in enumerate(winners[:SHOWN_WINNERS]):
        if i:
            parts.append(Text(" "))
        parts.append(Mention(UserRef(platform=group.platform, user_id=w.user_id, display_name=w.name)))
    if len(winners) > SHOWN_WINNERS:
        parts.append(Text(f" (+{len(winners) - SHOWN_WINNERS})"))
    return tuple(parts)


def announcement(services: Services, group: Group, result: DrawResult) -> OutgoingMessage:
    """The result in the group: winners mentioned, the seed revealed, how to check it."""
    lang, t = group.language, services.i18n.t
    gw = result.giveaway
    if not result.winners:
        key = "engage.gw.no_more" if result.round > 1 else "engage.gw.no_entrants"
        return OutgoingMessage.of(t(lang, key, id=gw.id, prize=gw.prize))
    head_key = "engage.gw.rerolled" if result.round > 1 else "engage.gw.drawn"
    head = t(lang, head_key, id=gw.id, prize=gw.prize, count=len(result.entrants))
    proof = t(lang, "engage.gw.proof_line", seed=gw.seed, hash=gw.seed_hash, id=gw.id)
    parts = (Text(head + "\n"), *_mentions(group, result.winners), Text("\n" + proof))
    notify = tuple(
        UserRef(platform=group.platform, user_id=w.user_id, display_name=w.name) for w in result.winners
    )
    return OutgoingMessage(parts=parts, notify=notify)


async def tell_winners(services: Services, group: Group, result: DrawResult) -> None:
    """Each winner privately, where the platform allows and the group wants it."""
    if not (await services.settings.of(group.id, EngageSettings)).giveaway_dm_winners:
        return
    gw = result.giveaway
    text = services.i18n.t(group.language, "engage.gw.you_won", id=gw.id, prize=gw.prize)
    for winner in result.winners:
        try:
            await services.send_private(
                group.adapter, winner.user_id, OutgoingMessage.of(text), group.language
            )
        except QunyouError as exc:  # no private channel, or the member blocked the bot
            log.info("giveaway %s: could not tell winner %s privately: %s", gw.id, winner.member_id, exc)


async def refund(services: Services, group: Group, gw: Giveaway, owed: Sequence[tuple[int, int]]) -> int:
    """Give entry prices back after a cancel (one ledger entry each); how many were refunded."""
    reason = services.i18n.t(group.language, "engage.gw.reason_refund", id=gw.id, prize=gw.prize)
    done = 0
    for member_id, points in owed:
        member = await services.members.get(member_id)
        if member is not None and await award(services, member, points, LEDGER_KIND, reason):
            done += 1
    return done
