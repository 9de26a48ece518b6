"""The antispam screen (band 0, before keyword moderation) and the join listener.

Order of checks for one message: the group's spam samples, cross-account near-duplicates, then
the newcomer's probation rules. Moderators are never screened. In training mode everything is
detected, logged and alerted, and nothing is deleted or sanctioned.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.context import Context
from bot.errors import QunyouError
from bot.events import MessageEvent
from bot.messages import OutgoingMessage
from bot.roles import Role
from bot.router import Band
from handlers.antispam import raid, raid_sync, verify
from handlers.antispam.commands import router
from handlers.antispam.detect import Findings, in_probation, message_links, probation_findings
from handlers.antispam.settings import AntispamSettings
from handlers.antispam.similar import Verdict, similarity
from handlers.antispam.state import AntispamState, get_state
from storage.antispam import ProbationRow
from storage.models import Group, Member

log = logging.getLogger(__name__)

BOT_ACTOR = "antispam"


@router.join()
async def on_join(ctx: Context) -> None:
    """A member the bot saw join starts their probation (a re-join restarts it; approval stays)."""
    group, member = ctx.group, ctx.member
    if group is None or member is None or ctx.user.is_bot:
        return
    state = get_state(ctx.services)
    state.joined(group.id, member.id, ctx.now)
    if (await ctx.settings(AntispamSettings)).enabled:
        await raid_sync.refresh(ctx.services, group.id)  # another worker's raid (shared database)
        await raid_sync.joined(ctx.services, group)  # every worker's joins toward a surge
        await raid.joined(ctx.services, group, ctx.chat, ctx.user, member.id)
        in_raid = group.id in raid.book(ctx.services).raids
        await verify.on_join(ctx, group, member.id, in_raid)


@router.leave()
async def on_leave(ctx: Context) -> None:
    """A newcomer who leaves before answering their challenge: it goes too."""
    if ctx.group is not None and ctx.member is not None:
        await verify.left(ctx.services, ctx.group, ctx.member.id)


@router.message(band=Band.MODERATION)
async def screen(ctx: Context) -> None:
    """Samples, duplicates and probation for every group message."""
    group, member, message = ctx.group, ctx.member, ctx.message
    if group is None or member is None or message is None or ctx.user.is_bot:
        return
    state = get_state(ctx.services)
    await raid_sync.refresh(ctx.services, group.id)  # another worker's raid (shared database)
    current = raid.book(ctx.services).raids.get(group.id)
    if current is not None and member.user_id in current.banned:
        # Banned by this raid already (its later messages were in flight): gone without a word.
        ctx.stop()
        await _try(ctx.adapter.delete(ctx.chat, message.message_id))
        return
    state.remember(group.id, message.message_id, member.user_id, message.text, message.at)
    if (group.id, member.user_id) in state.verifying:
        # Restricted until they pass their join challenge (a platform that cannot restrict, or a
        # message in flight): nothing they post stays before that, but the join answer typed in
        # the group (OneBot), which lets them in.
        ctx.stop()
        if not await verify.typed(ctx, group, member.id):
            await _try(ctx.adapter.delete(ctx.chat, message.message_id))
        return
    rules = await ctx.settings(AntispamSettings)  # read once: every raider's message passes here
    if not rules.enabled:
        return
    row = await _probation_row(ctx, state, group, member)
    probation = row is not None and in_probation(
        row.started_at,
        row.messages,
        row.approved_at is not None,
        ctx.now,
        max_messages=rules.probation_messages,
        hours=rules.probation_hours,
    )
    if probation and not rules.probation:
        probation = False
    findings = (
        probation_findings(
            message,
            ctx.parsed,
            max_emoji=rules.max_emoji,
            max_mentions=rules.max_mentions,
        )
        if probation
        else Findings()
    )
    if current is not None and findings and _held(current, member.user_id):
        # A raid's own joiner breaking probation is banned whatever the duplicate check would
        # say: no sketch (the costliest step of a raider's first message). The window then
        # misses this copy; accounts outside the raid still form clusters of their own.
        if await ctx.role() < Role.MODERATOR and not rules.training:
            await _act_in_raid(ctx, state, group, member, message, None, True)
            return
    spam, seen = await _spam_reason(ctx, state, rules, group, member, message, probation)
    if spam is None and seen is not None and findings:
        # Probation deals with this copy; the wave must not act on it a second time.
        state.window.drop(seen, message.chat.channel_id, message.message_id)
    current = raid.book(ctx.services).raids.get(group.id)  # a spam surge may have started one
    if current is not None and (spam is not None or findings or _held(current, member.user_id)):
        if await ctx.role() < Role.MODERATOR and not rules.training:
            await _act_in_raid(ctx, state, group, member, message, spam, bool(findings))
            return
    if spam is None and not findings:
        if probation and row is not None and not message.edited:
            await state.settle(group.id, member.id)
            await state.repos.probation.count_message(group.id, member.id)
            state.rows.pop((group.id, member.id), None)
        return
    if await ctx.role() >= Role.MODERATOR:
        return
    if spam is not None:
        reason, verdict = spam
        await _act_on_spam(ctx, state, group, member, message, reason, verdict)
    else:
        await _act_on_probation(ctx, state, group, member, message, findings)


def _held(current: raid.Raid, user_id: str) -> bool:
    joiner = current.joiners.get(user_id)
    return joiner is not None and not joiner.released and not joiner.banned


async def _act_in_raid(
    ctx: Context,
    state: AntispamState,
    group: Group,
    member: Member,
    message: MessageEvent,
    spam: tuple[str, Verdict | None] | None,
    findings: bool,
) -> None:
    """During a raid the wave's messages go without a word: deleted, spammers banned, counted in
    the one alert (no private note, no per-member alert)."""
    ctx.stop()
    await _try(ctx.adapter.delete(ctx.chat, message.message_id))
    verdict = spam[1] if spam is not None else None
    banned: list[str] = []
    if spam is not None or findings:
        if await _try(ctx.adapter.ban(ctx.chat, member.user_id, None)):
            banned.append(member.user_id)
    if verdict is not None:
        state.window.handled(verdict)
        for seen in verdict.earlier:
            if seen.message_id == message.message_id:
                continue
            await _try(ctx.adapter.delete(ctx.chat, seen.message_id))
            if seen.user_id not in banned and await ctx.role_of(seen.user_id) < Role.MODERATOR:
                if await _try(ctx.adapter.ban(ctx.chat, seen.user_id, None)):
                    banned.append(seen.user_id)
    if banned:
        raid.removed(ctx.services, group, banned)
        await raid_sync.caught(ctx.services, group, len(banned))  # every worker's catches
        await raid.caught(ctx.services, group, len(banned))
    await raid.flush_alert(ctx.services, group)


async def _probation_row(
    ctx: Context, state: AntispamState, group: Group, member: Member
) -> ProbationRow | None:
    row = await state.row(group.id, member.id)
    if row is None and (await ctx.settings(AntispamSettings)).probation_unseen:
        # Never seen join nor speak: probation starts with this first message.
        row = await state.repos.probation.start(group.id, member.id, ctx.now, joined=False)
        state.put(row)
    return row


async def _spam_reason(
    ctx: Context,
    state: AntispamState,
    rules: AntispamSettings,
    group: Group,
    member: Member,
    message: MessageEvent,
    probation: bool,
) -> tuple[tuple[str, Verdict | None] | None, Verdict | None]:
    """``("sample", None)``, ``("duplicate", verdict)`` or None; and the window's verdict."""
    text = message.text
    if not text.strip() or message.edited:
        return None, None
    parsed = ctx.parsed  # links and folding found once per message, shared with moderation
    has_link = bool(message_links(parsed))
    samples = await state.samples_of(group.id)
    if not (probation or has_link or samples):
        # A duplicate alone never acts on a member past probation without a link, and there is
        # no sample to compare with: ordinary chat skips the sketch altogether.
        return None, None
    folded = parsed.folded
    if len(folded) < rules.min_chars and not has_link:
        return None, None  # "hi", "+1", "早上好" from many members is a conversation, not a wave
    mh = state.sketch_of_message(parsed)
    threshold = rules.similarity / 100
    for sample in samples:
        if similarity(sample, mh) >= threshold:
            return ("sample", None), None
    if not (probation or has_link):
        return None, None
    verdict = state.window.observe(
        group_id=group.id,
        user_id=member.user_id,
        chat_id=message.chat.channel_id,
        message_id=message.message_id,
        at=message.at,
        mh=mh,
        window=timedelta(minutes=rules.duplicate_minutes),
        threshold=threshold,
    )
    wave = verdict.accounts >= rules.duplicate_accounts or verdict.groups >= rules.duplicate_groups
    # A duplicate alone never sanctions a member past probation unless it carries a link: regulars
    # answering a poll with the same words are not a raid.
    if wave and (probation or has_link):
        return ("duplicate", verdict), verdict
    return None, verdict


async def _act_on_spam(
    ctx: Context,
    state: AntispamState,
    group: Group,
    member: Member,
    message: MessageEvent,
    reason: str,
    verdict: Verdict | None,
) -> None:
    now = ctx.now
    training = (await ctx.settings(AntispamSettings)).training
    others = [s for s in (verdict.earlier if verdict else ()) if s.message_id != message.message_id]
    if verdict is not None:
        state.window.handled(verdict)
    if training:
        await state.audit(group.id, now, BOT_ACTOR, "spam-training", f"{reason} member={member.id}")
        await _alert(
            ctx, state, group, "antispam.alert.training_spam", reason=ctx.t(f"antispam.reason.{reason}")
        )
        return
    ctx.stop()
    action = (await ctx.settings(AntispamSettings)).spam_action
    await _try(ctx.adapter.delete(ctx.chat, message.message_id))
    await _sanction(ctx, action, member.user_id)
    sanctioned = {member.user_id}
    for seen in others:
        # The wave's first copies were posted before it was recognised: they go with this one.
        await _try(ctx.adapter.delete(ctx.chat, seen.message_id))
        if seen.user_id not in sanctioned and await ctx.role_of(seen.user_id) < Role.MODERATOR:
            await _sanction(ctx, action, seen.user_id)
            sanctioned.add(seen.user_id)
    removed = len(sanctioned)
    await state.audit(group.id, now, BOT_ACTOR, f"spam-{action}", f"{reason} accounts={removed}")
    await raid_sync.caught(ctx.services, group, removed)  # every worker's catches toward a surge
    if await raid.caught(ctx.services, group, removed) is not None:
        # The raid's own alert and notices speak for this wave from now on.
        raid.removed(ctx.services, group, sorted(sanctioned))
        await raid.flush_alert(ctx.services, group)
        return
    await _alert(
        ctx,
        state,
        group,
        "antispam.alert.spam",
        reason=ctx.t(f"antispam.reason.{reason}"),
        count=removed,
        action=ctx.t(f"antispam.action.{action}"),
    )


async def _act_on_probation(
    ctx: Context,
    state: AntispamState,
    group: Group,
    member: Member,
    message: MessageEvent,
    findings: Findings,
) -> None:
    now = ctx.now
    reasons = ctx.t("antispam.separator").join(ctx.t(f"antispam.reason.{r}") for r in findings.reasons)
    if (await ctx.settings(AntispamSettings)).training:
        await state.audit(
            group.id, now, BOT_ACTOR, "probation-training", f"{findings.reasons} member={member.id}"
        )
        await _alert(
            ctx,
            state,
            group,
            "antispam.alert.training_probation",
            name=ctx.user.display_name,
            reasons=reasons,
        )
        return
    ctx.stop()
    await _try(ctx.adapter.delete(ctx.chat, message.message_id))
    await state.settle(group.id, member.id)
    strikes = await state.repos.probation.strike(group.id, member.id)
    state.rows.pop((group.id, member.id), None)
    mute_after = (await ctx.settings(AntispamSettings)).mute_after
    await state.audit(
        group.id, now, BOT_ACTOR, "probation", f"{' '.join(findings.reasons)} strikes={strikes}"
    )
    title = group.title or group.scope_id
    if strikes < mute_after:
        await _private(ctx, ctx.t("antispam.private.deleted", group=title, reasons=reasons))
        return
    minutes = (await ctx.settings(AntispamSettings)).mute_minutes
    muted = await _try(ctx.adapter.mute(ctx.chat, member.user_id, now + timedelta(minutes=minutes)))
    await _private(ctx, ctx.t("antispam.private.muted", group=title, reasons=reasons, minutes=minutes))
    if strikes == mute_after:
        # One alert per member: later breaches (should the mute not hold) only reach the log.
        key = "antispam.alert.probation_mute" if muted else "antispam.alert.probation_failed"
        await _alert(ctx, state, group, key, name=ctx.user.display_name, reasons=reasons, force=True)


async def _sanction(ctx: Context, action: str, user_id: str) -> bool:
    if action == "mute":
        return await _try(ctx.adapter.mute(ctx.chat, user_id, None))
    return await _try(ctx.adapter.ban(ctx.chat, user_id, None))


async def _try(action: object) -> bool:
    """Run one platform action; a refusal is logged and the plan goes on."""
    try:
        await action  # type: ignore[misc]
    except QunyouError as exc:
        log.warning("antispam action failed: %s", exc)
        return False
    return True


async def _private(ctx: Context, text: str) -> None:
    """The member's explanation: privately where the platform allows it, never in public."""
    try:
        await ctx.send_private(text)
    except QunyouError:
        pass  # no private channel (or the member blocked the bot): the deletion stays silent


async def _alert(
    ctx: Context, state: AntispamState, group: Group, key: str, *, force: bool = False, **values: object
) -> None:
    """One moderator alert; automatic ones are limited to one a minute per group."""
    alerts = ctx.services.alerts
    if alerts is None or not (force or state.may_alert(group.id, ctx.now)):
        return
    text = ctx.services.i18n.t(group.language, key, **values)
    try:
        await alerts.notify(group, OutgoingMessage.of(text))
    except QunyouError as exc:
        log.warning("antispam alert for group %s failed: %s", group.id, exc)
