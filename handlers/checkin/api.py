"""The points API other features call, and the feature's runtime state.

Moderation, topics and events credit points and feed badge counters through two functions::

    from handlers.checkin import award, bump_counter

    await award(services, member, +5, "topic", "answered today's topic", chat=ctx.chat)
    await bump_counter(services, member, "topic_replies", chat=ctx.chat)

Both commit before they announce anything (level-ups, badges), and both are safe to call from
any handler or scheduled job.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bot.errors import QunyouError
from bot.events import ChatRef, UserRef
from bot.messages import OutgoingMessage, Part, Text
from bot.ports import NewcomerGate
from handlers.checkin.badges import STORED_COUNTERS, Badge
from handlers.checkin.config import GroupRules
from handlers.checkin.rules import EARNING_KINDS, level_for, tier_for
from handlers.checkin.state import day_of, rules_for, state
from handlers.checkin.wallet import wallet_of
from storage.checkin import Entry, InsufficientPoints, Posting
from storage.models import Group, Member

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

_KIND = re.compile(r"[a-z0-9_]{1,32}")

__all__ = ["InsufficientPoints", "award", "bump_counter"]


def user_ref(services: Services, member: Member, group: Group) -> UserRef:
    """A mentionable reference to a stored member."""
    return services.directory.user_ref(member, group.platform)


def celebration_lines(
    services: Services,
    lang: str,
    posting: Posting,
    rules: GroupRules,
    badges: Sequence[Badge],
    *,
    reply: bool = False,
) -> list[str]:
    """The level-up and badge lines a posting earns, in ``lang`` (empty when nothing happened).

    ``reply`` is for the member's own answer (their check-in): it always says what they reached.
    Otherwise the group's ``announce_levels`` / ``announce_badges`` settings decide.
    """
    i18n = services.i18n
    lines: list[str] = []
    before = level_for(posting.earned_before, rules.level_factor)
    after = level_for(posting.earned_after, rules.level_factor)
    if after > before and (reply or rules.announce_levels):
        old_tier, new_tier = tier_for(before, rules.tiers), tier_for(after, rules.tiers)
        lines.append(i18n.t(lang, "checkin.level_up", level=after))
        if new_tier != old_tier:
            lines.append(i18n.t(lang, "checkin.tier_up", tier=new_tier.name(lang)))
    if reply or rules.announce_badges:
        for key in posting.new_badges:
            badge = next((b for b in badges if b.key == key), None)
            if badge is not None:
                lines.append(i18n.t(lang, "checkin.badge_earned", badge=badge.label(lang)))
    return lines


async def grant_level_rewards(
    services: Services, group: Group, reached: Sequence[tuple[Member, Posting]], rules: GroupRules
) -> None:
    """Let the platform apply its level rewards (Discord's configured level roles) for every
    level-up in ``reached``. Runs whether or not level-ups are announced; a failure is logged,
    never raised, because the points are already committed."""
    adapter = services.adapters.get(group.adapter)
    if adapter is None:
        return
    chat = services.directory.chat_for(group)
    for member, posting in reached:
        before = level_for(posting.earned_before, rules.level_factor)
        after = level_for(posting.earned_after, rules.level_factor)
        if after > before:
            try:
                await adapter.level_reached(chat, member.user_id, after)
            except QunyouError as exc:
                log.warning("level reward for %s in group %s failed: %s", member.user_id, group.id, exc)


async def announce(
    services: Services,
    group: Group,
    member: Member,
    posting: Posting,
    chat: ChatRef | None,
    *,
    rules: GroupRules | None = None,
) -> None:
    """Tell the group about a level-up or new badge; call only after the posting committed."""
    await announce_many(services, group, [(member, posting)], chat, rules=rules)


async def announce_many(
    services: Services,
    group: Group,
    reached: Sequence[tuple[Member, Posting]],
    chat: ChatRef | None,
    *,
    rules: GroupRules | None = None,
) -> None:
    """One message for everything several members reached at once (a batch flush), so a busy
    second does not become a burst of congratulations. Call only after the commit.

    A failed send is logged, never raised: the points are already safe in the ledger.
    """
    rules = rules or await rules_for(services, group.id)
    await grant_level_rewards(services, group, reached, rules)
    gate = services.ports.find(NewcomerGate)
    if gate is not None and await gate.holding(group.id):
        return  # a raid is on: no announcement that would mention (and amplify) the wave
    lang = group.language
    badges = state(services).badges
    found = [(m, celebration_lines(services, lang, p, rules, badges)) for m, p in reached]
    found = [(m, lines) for m, lines in found if lines]
    if not found:
        return
    i18n = services.i18n
    if len(found) == 1:
        member, lines = found[0]
        parts = (
            *i18n.parts(lang, "checkin.congrats", user=user_ref(services, member, group)),
            Text("\n" + "\n".join(lines)),
        )
    else:
        collected: list[Part] = [Text(i18n.t(lang, "checkin.congrats_many"))]
        for member, lines in found:
            collected.append(Text("\n"))
            collected.extend(
                i18n.parts(
                    lang,
                    "checkin.congrats_line",
                    user=user_ref(services, member, group),
                    what=i18n.t(lang, "checkin.list_separator").join(lines),
                )
            )
        parts = tuple(collected)
    try:
        await services.send(chat or services.directory.chat_for(group), OutgoingMessage(parts=parts), lang)
    except QunyouError as exc:
        log.warning("could not announce to group %s: %s", group.id, exc)


async def award(
    services: Services,
    member: Member,
    delta: int,
    kind: str,
    reason: str | None = None,
    *,
    actor: Member | None = None,
    ref: str | None = None,
    chat: ChatRef | None = None,
    counters: Mapping[str, int] | None = None,
    clamp: bool = False,
    announce_result: bool = True,
) -> Posting:
    """Credit (or, negative, debit) a member's points in their group, in one transaction.

    ``kind`` is the ledger kind (``topic``, ``event``, ``moderation``…); earning kinds count toward
    levels and leaderboards. ``counters`` bumps badge counters in the same transaction (e.g.
    ``{"events_attended": 1}``). A debit below zero raises ``InsufficientPoints`` unless ``clamp``
    is set, in which case it takes only what is there. Level-ups and new badges are announced
    in ``chat`` (default: the group's main chat) after the commit.
    """
    if not _KIND.fullmatch(kind):
        raise ValueError(f"ledger kind {kind!r} must be 1-32 lower-case letters, digits or _")
    if counters:
        unknown = set(counters) - STORED_COUNTERS
        if unknown:
            raise ValueError(f"unknown counters {sorted(unknown)}; known: {sorted(STORED_COUNTERS)}")
    group = await services.directory.group_by_id(member.group_id)
    if group is None:
        raise ValueError(f"member {member.id} has no group")
    st = state(services)
    # In a community the points go to the person's one wallet, naming this membership when it
    # is not the wallet's own.
    w = await wallet_of(services, group, member)
    rules = await rules_for(services, group.id)
    now = services.clock.now()
    home_rules = rules if w.home.id == group.id else await rules_for(services, w.home.id)
    day = day_of(now, w.home, home_rules)
    posting = await st.repos.ledger.post(
        w.group.id,
        w.member.id,
        [Entry(delta, kind, kind in EARNING_KINDS)],
        at=now,
        day=day,
        reason=reason[:256] if reason else None,
        actor_id=actor.id if actor else w.actor_for(member),
        ref=ref,
        badge_rules=st.auto_rules,
        counters=counters,
        clamp=clamp,
    )
    if announce_result:
        await announce(services, group, member, posting, chat, rules=rules)
    return posting


async def bump_counter(
    services: Services,
    member: Member,
    key: str,
    by: int = 1,
    *,
    chat: ChatRef | None = None,
    announce_result: bool = True,
) -> tuple[str, ...]:
    """Add ``by`` to a badge counter (``messages``, ``invites``, ``events_attended``,
    ``topic_replies``); awards and announces any badge that now applies. Returns new badge keys."""
    if key not in STORED_COUNTERS:
        raise ValueError(f"unknown counter {key!r}; known: {sorted(STORED_COUNTERS)}")
    group = await services.directory.group_by_id(member.group_id)
    if group is None:
        raise ValueError(f"member {member.id} has no group")
    st = state(services)
    rules = await rules_for(services, group.id)
    now = services.clock.now()
    # In a community the person's counters and badges are kept with their one wallet.
    w = await wallet_of(services, group, member)
    home_rules = rules if w.home.id == group.id else await rules_for(services, w.home.id)
    new = await st.repos.badges.bump_counter(
        w.group.id,
        w.member.id,
        key,
        by,
        at=now,
        day=day_of(now, w.home, home_rules),
        badge_rules=st.auto_rules,
    )
    if new and announce_result:
        balance, earned = await st.repos.ledger.balance(w.group.id, w.member.id)
        await announce(
            services, group, member, Posting(member.id, balance, earned, earned, new), chat, rules=rules
        )
    return new
