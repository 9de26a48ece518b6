"""Points for ordinary messages (the hot path) and referrals.

A plain message costs no database round trip here: the limiter runs in memory and the credit
waits in ``CheckinState.pending`` until the batcher flushes it (every second and at shutdown).
The flush re-checks the daily cap against the ledger, so a restart cannot double the cap.

The listener and the join/leave hooks are registered on the feature's router in
``handlers/checkin/__init__.py``; importing this module registers nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from bot.batcher import write_isolated
from bot.context import Context
from bot.events import ChatRef, MemberJoined, MemberLeft
from handlers.checkin.api import announce, announce_many, user_ref
from handlers.checkin.rules import ActivityState, activity_award, content_of
from handlers.checkin.state import PendingActivity, day_of, rules_for, state
from handlers.checkin.wallet import held_elsewhere
from storage.checkin import ActivityCredit, Posting
from storage.models import Member

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


async def on_message(ctx: Context) -> None:
    """Count the message and maybe earn an activity point; pay a pending referral."""
    group, member, event = ctx.group, ctx.member, ctx.message
    if group is None or member is None or event is None or ctx.is_command or event.edited:
        return
    if ctx.user.is_bot:
        return
    services = ctx.services
    parsed = ctx.parsed  # the message's shared parse: prefix and case-folding done once
    if parsed.prefixed:
        return  # an unknown or mistyped /command is not conversation either
    st = state(services)
    key = (group.id, member.id)
    if key in st.referrals:
        # Once per referred member ever, so this round trip is not on the steady-state path.
        st.referrals.discard(key)
        await _pay_referral(ctx)
    rules = await rules_for(services, group.id)
    now = ctx.now
    day = day_of(now, group, rules)
    tracker = st.activity.get(key)
    if tracker is None:
        tracker = st.activity[key] = ActivityState()
    earned = activity_award(
        tracker, content_of(parsed.casefolded), now.timestamp(), day.toordinal(), rules.activity
    )
    slot = st.pending.get((group.id, member.id, day))
    if slot is None:
        slot = st.pending[(group.id, member.id, day)] = PendingActivity(
            chat=ctx.chat, lang=group.language, member=member, daily_cap=rules.activity.daily_cap
        )
    slot.messages += 1
    slot.points += earned
    slot.at = now


async def flush_activity(services: Services) -> None:
    """Write pending activity, then announce level-ups and badges.

    A credit the database refuses is logged and dropped alone, the rest is written; what the
    database could not take at all (locked, away) goes back for the next flush.
    """
    st = state(services)
    if not st.pending:
        return
    batch, st.pending = st.pending, {}
    items = [
        (
            key,
            p,
            ActivityCredit(
                key[0], key[1], key[2], p.points, p.messages, p.at or services.clock.now(), p.daily_cap
            ),
        )
        for key, p in batch.items()
    ]
    written: list[tuple[PendingActivity, Posting]] = []

    async def write(part: Sequence[tuple[tuple[int, int, date], PendingActivity, ActivityCredit]]) -> None:
        postings = await st.repos.activity.flush_activity(
            [c for _k, _p, c in part], badge_rules=st.auto_rules
        )
        written.extend((p, posting) for (_k, p, _c), posting in zip(part, postings, strict=True))

    for k, p, _c in await write_isolated("checkin.activity", items, write):
        # Put it back so the next flush retries it instead of losing a second of activity.
        cur = st.pending.get(k)
        if cur is None:
            st.pending[k] = p
        else:
            cur.points += p.points
            cur.messages += p.messages
    by_chat: dict[tuple[int, ChatRef], list[tuple[Member, Posting]]] = {}
    for pending, written_posting in written:
        posting = await news_for_person(services, pending.member, written_posting)
        if posting.new_badges or posting.earned_after > posting.earned_before:
            by_chat.setdefault((pending.member.group_id, pending.chat), []).append((pending.member, posting))
    for (gid, chat), reached in by_chat.items():
        group = await services.directory.group_by_id(gid)
        if group is not None:
            await announce_many(services, group, reached, chat)


async def _pay_referral(ctx: Context) -> None:
    group, member = ctx.group, ctx.member
    assert group is not None and member is not None
    services = ctx.services
    st = state(services)
    rules = await rules_for(services, group.id)
    posting = await st.repos.referrals.credit_referral(
        group.id,
        member.id,
        rules.referral_points,
        at=ctx.now,
        day=day_of(ctx.now, group, rules),
        badge_rules=st.auto_rules,
    )
    if posting is None:
        return
    inviter = await services.members.get(posting.member_id)
    if inviter is None:
        return
    if rules.referral_points > 0:
        await ctx.send(
            ctx.parts(
                "checkin.referral.paid",
                inviter=user_ref(services, inviter, group),
                amount=rules.referral_points,
                invitee=member.display_name,
            )
        )
    await announce(
        services, group, inviter, await news_for_person(services, inviter, posting), ctx.chat, rules=rules
    )


async def news_for_person(services: Services, member: Member, posting: Posting) -> Posting:
    """``posting`` without the new badges the person already held on another membership of
    their community (a linked account's first message in another chat is no news)."""
    if not posting.new_badges:
        return posting
    group = await services.directory.group_by_id(member.group_id)
    held = await held_elsewhere(services, group, member, posting.new_badges) if group else set()
    if not held:
        return posting
    return replace(posting, new_badges=tuple(k for k in posting.new_badges if k not in held))


async def on_join(ctx: Context) -> None:
    """Remember who invited the newcomer; they are paid when the newcomer first speaks."""
    event = ctx.event
    if not isinstance(event, MemberJoined) or event.invited_by is None or ctx.group is None:
        return
    if event.member.is_bot or event.invited_by.is_bot or event.invited_by.user_id == event.member.user_id:
        return
    services = ctx.services
    invitee = ctx.member or await services.directory.member_for(ctx.group, event.member)
    inviter = await services.directory.member_for(ctx.group, event.invited_by)
    if await state(services).repos.referrals.record_invite(ctx.group.id, invitee.id, inviter.id, at=ctx.now):
        state(services).referrals.add((ctx.group.id, invitee.id))


async def on_leave(ctx: Context) -> None:
    """A newcomer leaving within the clawback window undoes their inviter's reward."""
    event = ctx.event
    if not isinstance(event, MemberLeft) or ctx.group is None:
        return
    services = ctx.services
    group = ctx.group
    invitee = ctx.member or await services.directory.member_for(group, event.member)
    st = state(services)
    st.referrals.discard((group.id, invitee.id))
    rules = await rules_for(services, group.id)
    posting = await st.repos.referrals.settle_leave(
        group.id,
        invitee.id,
        at=ctx.now,
        day=day_of(ctx.now, group, rules),
        window=timedelta(days=rules.referral_days),
    )
    if posting is not None:
        log.info("referral for member %s clawed back from member %s", invitee.id, posting.member_id)
