"""Join verification: a newcomer proves they are human by pressing the right button.

``antispam.verification`` says when: ``off``, ``raid-only`` (the default) or ``always``.

* Outside a raid (``always``): the newcomer is restricted at once and gets their own challenge
  (the answer to a small sum, or the named emoji, among four buttons in a random order). A wrong
  press gets one more try with a new question; a second wrong press, or no answer within
  ``verification_minutes``, removes them (kick: they may come back), and the challenge and the
  "X joined" message go. A pass lifts the restriction, deletes the challenge and sends the
  group's welcome (through the onboarding feature's ``Greeter`` port).
* During a raid (``raid-only`` or ``always``): never one challenge per joiner. The raid's one
  public notice carries a standing challenge; a joiner held by the raid who presses the right
  answer is let in (and welcomed with the others when the raid ends), two wrong answers remove
  them.

A challenge lives in its timeout job's payload (``scheduled_jobs``), so it survives a restart
and its timer follows the virtual clock. Each challenge carries a fresh nonce in its button
data: a press on an earlier question, another member's challenge or forged data changes nothing
and gets a private answer saying so. Presses on one challenge are handled one at a time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.args import button_fields, decode_id
from bot.capability import Capability
from bot.errors import QunyouError
from bot.events import ButtonPressed, ChatRef, JoinRequested, MemberJoined, UserRef
from bot.messages import Mention, OutgoingMessage, Part, Text
from bot.ports import Greeter
from bot.roles import Role
from bot.scheduler import At
from handlers.antispam import raid, raid_sync
from handlers.antispam.challenge import CHOICES, DATA_ONE, DATA_RAID, Question, buttons, question
from handlers.antispam.commands import router
from handlers.antispam.settings import AntispamSettings
from handlers.antispam.state import get_state
from storage.models import Group, Job

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

log = logging.getLogger(__name__)

JOB_VERIFY = "antispam-verify"
#: Wrong presses allowed before the newcomer is removed (one more try after the first).
TRIES = 2
#: The restriction outlasts the challenge's timeout by this much.
RESTRICT_MARGIN = timedelta(minutes=5)
CHOICES_TEXT = tuple(str(i) for i in range(CHOICES))


def job_id(group_id: int, member_id: int) -> str:
    """The timeout job of one newcomer's challenge."""
    return f"{JOB_VERIFY}:{group_id}:{member_id}"


def new_question(services: Services, lang: str) -> Question:
    """A question from the feature's generator, emoji named in ``lang``."""
    i18n = services.i18n
    return question(get_state(services).rng, lambda name: i18n.t(lang, f"antispam.verify.emoji.{name}"))


async def _mode(services: Services, group: Group) -> str:
    return str((await services.settings.of(group.id, AntispamSettings)).verification)


# -- one newcomer's challenge ---------------------------------------------------------------


async def on_join(ctx: Context, group: Group, member_id: int, in_raid: bool) -> bool:
    """Challenge a newcomer when the group asks for it; True when their welcome waits for it.

    During a raid nobody gets a challenge of their own: the raid's notice carries one for all.
    """
    state = get_state(ctx.services)
    answered = (group.id, ctx.user.user_id) in state.answered
    state.answered.discard((group.id, ctx.user.user_id))
    if not in_raid and not answered and await _typed_wanted(ctx, group, member_id):
        await _start_typed(ctx, group, member_id)
        return True
    mode = await _mode(ctx.services, group)
    if mode == "off" or in_raid or mode != "always":
        return False
    if (group.id, member_id) in state.approvals or await ctx.role() >= Role.MODERATOR:
        return False  # approved once in this group, or staff: no challenge to come back
    event = ctx.event
    join_message = event.message_id if isinstance(event, MemberJoined) else None
    minutes = (await ctx.settings(AntispamSettings)).verification_minutes
    due = ctx.now + timedelta(minutes=minutes)
    # Restricted until a little after the timeout, not for good: a platform with capped
    # restrictions (Discord's timeouts) can then do it too, and a lost timer cannot leave a
    # newcomer muted for ever.
    if ctx.adapter.supports(Capability.BUTTONS):
        await _quietly(ctx.adapter.mute(ctx.chat, ctx.user.user_id, due + RESTRICT_MARGIN))
    # Else (OneBot) the buttons become numbered lines answered by a reply, which a muted newcomer
    # could not send: they stay unmuted, and anything else they post is deleted until they pass.
    q = new_question(ctx.services, group.language)
    prefix = f"{DATA_ONE}{group.id}:{member_id}"
    sent = await _send(ctx.services, ctx.chat, _challenge(ctx.services, group, ctx.user, q, prefix, 0))
    payload: dict[str, Any] = {
        "user_id": ctx.user.user_id,
        "channel_id": ctx.chat.channel_id,
        "message_id": sent,
        "join_message_id": join_message,
        "nonce": q.nonce,
        "answer": q.answer,
        "wrong": 0,
    }
    await ctx.services.scheduler.schedule(job_id(group.id, member_id), JOB_VERIFY, At(due), payload, group.id)
    state.verifying.add((group.id, ctx.user.user_id))
    await state.audit(group.id, ctx.now, "antispam", "verify-start", f"member={member_id}")
    return True


def _challenge(
    services: Services, group: Group, user: UserRef, q: Question, prefix: str, wrong: int
) -> OutgoingMessage:
    i18n, lang = services.i18n, group.language
    head = "antispam.verify.again" if wrong else "antispam.verify.challenge"
    ask = i18n.t(lang, head) + " " + i18n.t(lang, q.key, **q.values)
    parts: list[Part] = [Mention(user), Text(" " + ask)]
    return OutgoingMessage(parts=tuple(parts), buttons=buttons(prefix, q), notify=(user,))


def _chat(services: Services, group: Group, job: Job) -> ChatRef:
    channel = job.payload.get("channel_id")
    return services.directory.chat_for(group, channel if isinstance(channel, str) else None)


@router.button(DATA_ONE)
async def pressed(ctx: Context) -> None:
    """A press on a newcomer's challenge."""
    event = ctx.event
    if not isinstance(event, ButtonPressed):
        return
    fields = button_fields(event.data, 6)
    group_id = decode_id(fields[2]) if fields else None
    member_id = decode_id(fields[3]) if fields else None
    choice = _choice(fields[5]) if fields else None
    if fields is None or group_id is None or member_id is None or choice is None:
        await _note(ctx, "antispam.verify.stale")
        return
    state = get_state(ctx.services)
    async with state.lock(job_id(group_id, member_id)):
        job = await ctx.services.scheduler.get(job_id(group_id, member_id))
        group = await ctx.services.groups.get(group_id)
        payload = job.payload if job is not None else {}
        if (
            job is None
            or group is None
            or payload.get("nonce") != fields[4]
            or payload.get("message_id") != event.message_id
        ):
            await _note(ctx, "antispam.verify.stale")  # answered, taken over, or forged
            return
        if payload.get("user_id") != ctx.user.user_id:
            await _note(ctx, "antispam.verify.not_yours")
            return
        if choice == payload.get("answer"):
            await _passed(ctx, group, member_id, job, event.message_id)
            return
        wrong = int(payload.get("wrong", 0)) + 1
        if wrong >= TRIES:
            await _remove(ctx.services, group, member_id, job, "verify-failed")
            return
        # One more try, with a new question: the same buttons in the same places are a coin toss.
        q = new_question(ctx.services, group.language)
        prefix = f"{DATA_ONE}{group.id}:{member_id}"
        message = _challenge(ctx.services, group, ctx.user, q, prefix, wrong)
        shown: str | None = event.message_id
        if not (
            ctx.adapter.supports(Capability.EDIT)
            and await _quietly(ctx.adapter.edit(ctx.chat, event.message_id, message))
        ):
            # No edits (OneBot): the new question is a new message, the old one goes.
            await _quietly(ctx.adapter.delete(ctx.chat, event.message_id))
            shown = await _send(ctx.services, ctx.chat, message)
        due = job.next_run_at or ctx.now
        payload = {**payload, "nonce": q.nonce, "answer": q.answer, "wrong": wrong, "message_id": shown}
        await ctx.services.scheduler.schedule(job.id, JOB_VERIFY, At(due), payload, group.id)


async def _passed(ctx: Context, group: Group, member_id: int, job: Job, message_id: str) -> None:
    services = ctx.services
    await services.scheduler.cancel(job.id)
    get_state(services).verifying.discard((group.id, ctx.user.user_id))
    chat = _chat(services, group, job)
    if not job.payload.get("typed"):  # a typed answer's newcomer was never muted
        await _quietly(ctx.adapter.unmute(chat, ctx.user.user_id))
    await _quietly(ctx.adapter.verified(chat, ctx.user.user_id))
    if message_id:
        await _quietly(ctx.adapter.delete(chat, message_id))
    await get_state(services).audit(group.id, ctx.now, "antispam", "verify-pass", f"member={member_id}")
    greeter = services.ports.find(Greeter)
    try:
        if greeter is not None:
            await greeter.greet(group, chat, ctx.user)
        else:
            await raid.welcome(services, group, [raid.Joiner(ctx.user, member_id)])
    except QunyouError as exc:
        log.warning("welcome after verification in group %s failed: %s", group.id, exc)


async def _remove(services: Services, group: Group, member_id: int, job: Job, why: str) -> None:
    """Remove a newcomer who failed or never answered: kick, and their challenge and join go."""
    await services.scheduler.cancel(job.id)
    user_id = str(job.payload.get("user_id", ""))
    get_state(services).verifying.discard((group.id, user_id))
    adapter = services.adapters.get(group.adapter)
    if adapter is None or not user_id:
        return
    chat = _chat(services, group, job)
    await _quietly(adapter.kick(chat, user_id))
    for key in ("message_id", "join_message_id"):
        message_id = job.payload.get(key)
        if isinstance(message_id, str) and message_id:
            await _quietly(adapter.delete(chat, message_id))
    await get_state(services).audit(group.id, services.clock.now(), "antispam", why, f"member={member_id}")


async def run_timeout(services: Services, job: Job, fire: datetime) -> None:
    """Nobody pressed the right answer in time: the newcomer is removed."""
    if job.group_id is None:
        return
    group = await services.groups.get(job.group_id)
    member_id = decode_id(job.id.rsplit(":", 1)[-1])
    if group is None or member_id is None:
        return
    async with get_state(services).lock(job.id):
        current = await services.scheduler.get(job.id)
        if current is None or current.payload.get("nonce") != job.payload.get("nonce"):
            return  # passed (or answered wrongly, with a new question) while this run waited
        await _remove(services, group, member_id, current, "verify-timeout")


async def left(services: Services, group: Group, member_id: int) -> None:
    """A newcomer left before answering: their challenge goes, no kick."""
    job = await services.scheduler.get(job_id(group.id, member_id))
    if job is None:
        return
    await services.scheduler.cancel(job.id)
    get_state(services).verifying.discard((group.id, str(job.payload.get("user_id", ""))))
    adapter = services.adapters.get(group.adapter)
    message_id = job.payload.get("message_id")
    if adapter is not None and isinstance(message_id, str):
        await _quietly(adapter.delete(_chat(services, group, job), message_id))


async def load(services: Services) -> None:
    """At start: the newcomers whose challenge is still open (their messages are screened)."""
    state = get_state(services)
    for job in await services.scheduler.list(f"{JOB_VERIFY}:"):
        if job.group_id is not None and isinstance(job.payload.get("user_id"), str):
            state.verifying.add((job.group_id, job.payload["user_id"]))


# -- the raid's standing challenge ----------------------------------------------------------


@router.button(DATA_RAID)
async def pressed_standing(ctx: Context) -> None:
    """A press on the raid's standing challenge: only joiners the raid holds may answer it."""
    event = ctx.event
    if not isinstance(event, ButtonPressed):
        return
    fields = button_fields(event.data, 6)
    group_id = decode_id(fields[2]) if fields else None
    number = decode_id(fields[3]) if fields else None
    choice = _choice(fields[5]) if fields else None
    if fields is None or group_id is None or number is None or choice is None:
        await _note(ctx, "antispam.verify.stale")
        return
    services = ctx.services
    await raid_sync.refresh(services, group_id)  # another worker's raid (shared database)
    current = raid.book(services).raids.get(group_id)
    group = await services.groups.get(group_id)
    if (
        group is None
        or current is None
        or current.number != number
        or current.challenge is None
        or current.challenge[0] != fields[4]
        or current.notice is None
        or current.notice.message_id != event.message_id
    ):
        await _note(ctx, "antispam.verify.stale")
        return
    async with get_state(services).lock(f"{DATA_RAID}{group_id}:{ctx.user.user_id}"):
        joiner = current.joiners.get(ctx.user.user_id)
        if joiner is None or joiner.banned:
            await _note(ctx, "antispam.verify.not_yours")
            return
        if joiner.released:
            await _note(ctx, "antispam.verify.already")
            return
        chat = current.notice.chat
        if choice == current.challenge[1]:
            joiner.released = True
            current.dirty = True
            raid.book(services).touch(current, ctx.user.user_id)
            await _quietly(ctx.adapter.unmute(chat, ctx.user.user_id))
            await _quietly(ctx.adapter.verified(chat, ctx.user.user_id))
            await _note(ctx, "antispam.verify.passed_raid")
            await get_state(services).audit(
                group.id, ctx.now, "antispam", "verify-pass", f"member={joiner.member_id} raid"
            )
            return
        joiner.wrong += 1
        raid.book(services).touch(current, ctx.user.user_id)
        if joiner.wrong < TRIES:
            await _note(ctx, "antispam.verify.wrong")
            return
        await _quietly(ctx.adapter.kick(chat, ctx.user.user_id))
        raid.removed(services, group, [ctx.user.user_id])
        await get_state(services).audit(
            group.id, ctx.now, "antispam", "verify-failed", f"member={joiner.member_id} raid"
        )
    await raid.flush_alert(services, group)


# -- join requests (OneBot/QQ) ---------------------------------------------------------------


@router.join_request()
async def join_requested(ctx: Context) -> None:
    """Answer a join request by the answer the group expects (``antispam.join_answer``); without
    one set, the request is left to the group's admins."""
    event, group = ctx.event, ctx.group
    if not isinstance(event, JoinRequested) or group is None:
        return
    rules = await ctx.settings(AntispamSettings)
    expected = get_state(ctx.services).fold(str(rules.join_answer or ""))
    if not rules.enabled or not expected:
        return
    given = get_state(ctx.services).fold(_answer_part(event.answer))
    right = expected in given
    # With ``join_answer_in_group`` a wrong or missing answer is a second chance, not a refusal:
    # the applicant is let in and must type the answer in the group in time (``on_join``).
    approve = right or bool(rules.join_answer_in_group)
    reason = "" if approve else ctx.t("antispam.verify.request_wrong")
    if right:
        get_state(ctx.services).answered.add((group.id, event.member.user_id))
    await _quietly(ctx.adapter.answer_join_request(ctx.chat, event.request_id, approve, reason))
    action = "request-approved" if right else "request-typed" if approve else "request-rejected"
    detail = f"member={ctx.member.id}" if ctx.member is not None else ""
    await get_state(ctx.services).audit(group.id, ctx.now, "antispam", action, detail)


def _answer_part(comment: str) -> str:
    """The applicant's answer: QQ sends "问题：…\n答案：…", and the question must not count."""
    for marker in ("答案：", "答案:", "Answer:", "answer:"):
        if marker in comment:
            return comment.rsplit(marker, 1)[1]
    return comment


# -- the answer typed in the group (OneBot/QQ) ------------------------------------------------


async def _typed_wanted(ctx: Context, group: Group, member_id: int) -> bool:
    rules = await ctx.settings(AntispamSettings)
    if not (rules.enabled and rules.join_answer_in_group and get_state(ctx.services).fold(rules.join_answer)):
        return False
    if (group.id, member_id) in get_state(ctx.services).approvals:
        return False
    return await ctx.role() < Role.MODERATOR


async def _start_typed(ctx: Context, group: Group, member_id: int) -> None:
    """Ask the newcomer to type the join answer in the group within ``verification_minutes``.

    They are not muted (they could not type); until they pass, everything else they post is
    deleted (the screen's ``verifying`` rule). The timer is the challenge's own timeout job."""
    state = get_state(ctx.services)
    # Screened from now on: what they post while the request to answer is on its way goes too.
    state.verifying.add((group.id, ctx.user.user_id))
    minutes = (await ctx.settings(AntispamSettings)).verification_minutes
    event = ctx.event
    text = " " + ctx.t("antispam.verify.typed", minutes=minutes)
    message = OutgoingMessage(parts=(Mention(ctx.user), Text(text)), notify=(ctx.user,))
    # Held until the job exists: an answer typed while the request is still on its way (events
    # run side by side) waits here instead of finding no challenge and being deleted.
    async with state.lock(job_id(group.id, member_id)):
        payload: dict[str, Any] = {
            "typed": True,
            "user_id": ctx.user.user_id,
            "channel_id": ctx.chat.channel_id,
            "message_id": await _send(ctx.services, ctx.chat, message),
            "join_message_id": event.message_id if isinstance(event, MemberJoined) else None,
            "nonce": f"{state.rng.randrange(16**6):06x}",
        }
        due = At(ctx.now + timedelta(minutes=minutes))
        await ctx.services.scheduler.schedule(job_id(group.id, member_id), JOB_VERIFY, due, payload, group.id)
    await state.audit(group.id, ctx.now, "antispam", "verify-start", f"member={member_id} typed")


async def typed(ctx: Context, group: Group, member_id: int) -> bool:
    """A message from a newcomer still verifying: True when it is the typed join answer (they
    pass: the answer and the request to type it go, the welcome follows). Anything else is the
    caller's to delete."""
    message = ctx.message
    state = get_state(ctx.services)
    if message is None:
        return False
    async with state.lock(job_id(group.id, member_id)):
        job = await ctx.services.scheduler.get(job_id(group.id, member_id))
        if job is None or not job.payload.get("typed") or job.payload.get("user_id") != ctx.user.user_id:
            return False
        expected = state.fold(str((await ctx.settings(AntispamSettings)).join_answer or ""))
        if not expected or expected not in state.fold(message.text):
            return False
        await _quietly(ctx.adapter.delete(ctx.chat, message.message_id))
        asked = job.payload.get("message_id")
        await _passed(ctx, group, member_id, job, asked if isinstance(asked, str) else "")
        return True


# -- helpers ----------------------------------------------------------------------------------


def _choice(text: str) -> int | None:
    """A button's place, ``0``–``3`` exactly as the bot writes it; None for anything else."""
    return CHOICES_TEXT.index(text) if text in CHOICES_TEXT else None


async def _note(ctx: Context, key: str) -> None:
    """A private answer to the presser; never a public post (where there is no private channel
    the press just does nothing)."""
    try:
        await ctx.send_private(ctx.t(key))
    except QunyouError:
        pass


async def _send(services: Services, chat: ChatRef, message: OutgoingMessage) -> str | None:
    try:
        return (await services.send(chat, message)).message_id
    except QunyouError as exc:
        log.warning("join challenge in %s failed: %s", chat.channel_id, exc)
        return None


async def _quietly(action: object) -> bool:
    try:
        await action  # type: ignore[misc]
    except QunyouError as exc:
        log.warning("verification action failed: %s", exc)
        return False
    return True
