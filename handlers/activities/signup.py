"""Sign-up lists (接龙, issue 23): an activity with a limit, shown as one numbered list post.

* joining (the button, a ``+1 note`` / ``接龙 note`` reply to the post, ``/join ID``) and leaving
  (``-1``, the button, ``/leave ID``) go through the activity's RSVPs: past the limit a member
  waits, and the first waiting member moves up, with a private note, when someone leaves;
* the post is edited in place at most once per ``events.signup_edit_seconds`` (``bot.postbook``:
  the same coalescing as giveaways and polls); where the platform cannot edit, the list is posted
  afresh on the same rhythm;
* the deadline is a scheduler job ``sg:<id>:close`` written with the list (a row: it survives a
  restart) and closing is one compare-and-set, so the final post goes out exactly once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.capability import Capability
from bot.errors import QunyouError
from bot.events import UserRef
from bot.messages import Button, Mention, OutgoingMessage, Part, Text
from bot.planned_posts import chat_of, send, send_once, user_ref
from bot.scheduler import At
from handlers.activities.cards import local_time
from handlers.activities.settings import EventsSettings
from handlers.activities.state import activities_repo, signup_state
from storage.activities import Activity, Rsvp

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services
    from storage.models import Group, Job

log = logging.getLogger(__name__)

CLOSE_KIND = "events-signup-close"
MAX_LIMIT = 100_000
MAX_NOTE = 50
#: Names shown in the post per list (the rest as a count): a platform message has a size limit.
SHOWN = 100
#: A deadline the bot was down for is kept this long after the start, not skipped.
LATE_CLOSE = timedelta(seconds=5)
#: Earlier copies of list posts remembered for replies (platforms that cannot edit).
EARLIER_MAX = 10_000


def close_job_id(activity_id: int) -> str:
    """The scheduler job that closes one sign-up list at its deadline."""
    return f"sg:{activity_id}:close"


def buttons(services: Services, lang: str, activity_id: int) -> tuple[tuple[Button, ...], ...]:
    """+1 / -1 under the list (numbered lines with the command where buttons are missing)."""
    t = services.i18n.t
    return (
        (
            Button(
                t(lang, "events.signup.btn_join"), f"sg:join:{activity_id}", command=f"/join {activity_id}"
            ),
            Button(
                t(lang, "events.signup.btn_leave"), f"sg:leave:{activity_id}", command=f"/leave {activity_id}"
            ),
        ),
    )


def _numbered(services: Services, lang: str, people: list[Rsvp]) -> list[str]:
    t = services.i18n.t
    lines = []
    for n, r in enumerate(people[:SHOWN], start=1):
        key = "events.signup.line_note" if r.note else "events.signup.line"
        lines.append(t(lang, key, n=n, name=r.member.display_name, note=r.note or ""))
    if len(people) > SHOWN:
        lines.append(t(lang, "events.signup.more", count=len(people) - SHOWN))
    return lines


def list_text(services: Services, group: Group, act: Activity, rsvps: list[Rsvp]) -> str:
    """The list as it stands: title, deadline, places, the numbered names, the waiting list."""
    lang, t = group.language, services.i18n.t
    going = [r for r in rsvps if r.status == "going"]
    waiting = [r for r in rsvps if r.status == "waiting"]
    head_key = "events.signup.title" if act.status == "open" else "events.signup.title_closed"
    lines = [t(lang, head_key, id=act.id, title=act.title)]
    if act.closes_at is not None and act.status == "open":
        lines.append(t(lang, "events.signup.until", at=local_time(act.closes_at, group), tz=group.timezone))
    if act.capacity:
        lines.append(t(lang, "events.signup.count_cap", count=len(going), cap=act.capacity))
    else:
        lines.append(t(lang, "events.signup.count", count=len(going)))
    lines += _numbered(services, lang, going)
    if waiting:
        lines.append(t(lang, "events.signup.waiting_head", count=len(waiting)))
        lines += _numbered(services, lang, waiting)
    if act.status == "open":
        lines.append(t(lang, "events.signup.how", id=act.id))
    return "\n".join(lines)


async def post(services: Services, group: Group, act: Activity) -> OutgoingMessage:
    """The list post: buttons while it is open, none once closed."""
    text = list_text(services, group, act, await activities_repo(services).rsvps(act.id))
    if act.status != "open":
        return OutgoingMessage.of(text)
    return OutgoingMessage(parts=(Text(text),), buttons=buttons(services, group.language, act.id))


async def refresh(services: Services, group: Group, act: Activity) -> None:
    """Bring the list post up to date: edit it in place, or post it afresh where the platform
    cannot edit (the new post becomes the one replies go to). A refusal is logged: the post is a
    view of the rows, not the state."""
    book = signup_state(services).book
    if act.status == "open":
        book.edited(act.id, services.clock.now())
    else:
        book.forget(act.id)
    if act.message_id is None:
        return
    chat = chat_of(services, group, act.channel_id, act.thread_id)
    adapter = services.adapters.get(chat.adapter)
    if adapter is None:
        return
    message = await post(services, group, act)
    try:
        if adapter.supports(Capability.EDIT):
            if services.buttons.needs_fallback(adapter, message):
                message = services.buttons.render(message, group.language)
            await adapter.edit(chat, act.message_id, message)
        elif act.status == "open":
            sent = await services.send(chat, message, group.language)
            earlier = signup_state(services).earlier
            if len(earlier) >= EARLIER_MAX:
                earlier.clear()
            earlier[(group.id, act.message_id)] = act.id
            await activities_repo(services).set_message(act.id, sent.message_id)
    except QunyouError as exc:
        log.info("sign-up list %s: could not refresh post %s: %s", act.id, act.message_id, exc)


async def changed(services: Services, group: Group, act: Activity) -> None:
    """Someone joined, left or changed a note: refresh now if the interval allows, else at the
    next flush (however many press in between, one edit)."""
    gap = (await services.settings.of(group.id, EventsSettings)).signup_edit_seconds
    book = signup_state(services).book

    async def edit() -> None:
        fresh = await activities_repo(services).by_id(act.id)
        if fresh is not None:
            await refresh(services, group, fresh)

    await book.counts_changed(act.id, services.clock.now(), gap, edit)


async def flush_posts(services: Services) -> None:
    """The batcher's tick: refresh every marked list whose interval has passed."""
    state = signup_state(services)
    for activity_id in state.book.ripe(services.clock.now()):
        act = await activities_repo(services).by_id(activity_id)
        group = await services.directory.group_by_id(act.group_id) if act is not None else None
        if act is None or group is None or act.status != "open":
            state.book.forget(activity_id)
            continue
        await refresh(services, group, act)


async def tell(ctx: Context, key: str, **values: object) -> None:
    """Answer the member alone (a list is not a place for one line per press); where no private
    channel exists the list post is the answer."""
    try:
        await ctx.send_private(ctx.t(key, **values))
    except QunyouError:
        pass


async def join(ctx: Context, act: Activity, note: str | None = None) -> None:
    """Take a place, or a waiting spot past the limit; a repeated ``+1`` with a note changes it."""
    assert ctx.member is not None and ctx.group is not None
    # Past the deadline a list is closed even before its job has run (the bot was down).
    if act.status != "open" or (act.closes_at is not None and act.closes_at <= ctx.now):
        await tell(ctx, "events.signup.err_closed", id=act.id)
        return
    note = " ".join(note.split())[:MAX_NOTE] if note else None
    result = await activities_repo(ctx.services).join(act.id, ctx.member.id, ctx.now, note=note)
    key = {
        "going": "events.signup.joined",
        "waiting": "events.signup.waitlisted",
        "already_going": "events.signup.already",
        "already_waiting": "events.signup.already_waiting",
        "closed": "events.signup.err_closed",
    }[result.outcome]
    if result.outcome != "closed" and (note or not result.outcome.startswith("already")):
        await changed(ctx.services, ctx.group, act)
    await tell(ctx, key, id=act.id, title=act.title, position=result.position)


async def leave(ctx: Context, act: Activity) -> None:
    """Give up a place (the first waiting member moves up, told privately) or a waiting spot."""
    assert ctx.member is not None and ctx.group is not None
    result = await activities_repo(ctx.services).leave(act.id, ctx.member.id)
    key = {
        "left": "events.signup.left",
        "left_waitlist": "events.signup.left",
        "not_joined": "events.signup.not_joined",
        "closed": "events.signup.err_closed",
    }[result.outcome]
    if result.outcome in ("left", "left_waitlist"):
        await changed(ctx.services, ctx.group, act)
    await tell(ctx, key, id=act.id, title=act.title)
    if result.promoted is not None:
        await promoted(ctx, act, user_ref(ctx.services, result.promoted, ctx.group))


async def promoted(ctx: Context, act: Activity, who: UserRef) -> None:
    """Tell a member who moved up from the waiting list: privately, else in the group."""
    assert ctx.group is not None
    text = ctx.t("events.signup.promoted", id=act.id, title=act.title)
    try:
        await ctx.services.send_private(ctx.group.adapter, who.user_id, OutgoingMessage.of(text), ctx.lang)
    except QunyouError:
        parts: tuple[Part, ...] = (Mention(who), Text(" " + text))
        await ctx.send(OutgoingMessage(parts=parts, notify=(who,)))


def final_text(services: Services, group: Group, act: Activity, rsvps: list[Rsvp]) -> str:
    """The one post at the close: how many made it, then the list."""
    t = services.i18n.t
    going = sum(1 for r in rsvps if r.status == "going")
    waiting = len(rsvps) - going
    key = "events.signup.final_waiting" if waiting else "events.signup.final"
    head = t(group.language, key, id=act.id, title=act.title, count=going, waiting=waiting)
    # The list without its title line: the head names the list already.
    return head + "\n" + list_text(services, group, act, rsvps).split("\n", 1)[1]


async def finish(services: Services, group: Group, act: Activity) -> OutgoingMessage:
    """After the close: the post loses its buttons; the final post to send (by the caller)."""
    await services.scheduler.cancel(close_job_id(act.id))
    await refresh(services, group, act)
    rsvps = await activities_repo(services).rsvps(act.id)
    return OutgoingMessage.of(final_text(services, group, act, rsvps))


async def close_now(ctx: Context, act: Activity) -> bool:
    """``/signup close``: False when it was closed already; else the final post goes out now."""
    assert ctx.group is not None
    state = signup_state(ctx.services)
    state.cache.pop(act.id, None)
    if not await state.repo.close(act.id, ctx.now):
        return False
    fresh = await activities_repo(ctx.services).by_id(act.id)
    assert fresh is not None
    chat = chat_of(ctx.services, ctx.group, fresh.channel_id, fresh.thread_id)
    await send(ctx.services, chat, await finish(ctx.services, ctx.group, fresh), ctx.lang)
    return True


async def run_close(services: Services, job: Job, fire: datetime) -> None:
    """The deadline job: close the list and post the final list, once (a re-run after a crash
    between the close and the post finds it closed at or after ``fire`` and posts through
    ``send_once``, which knows whether it went out)."""
    act = await activities_repo(services).by_id(int(job.payload["activity_id"]))
    if act is None or act.kind != "signup":
        return
    group = await services.directory.group_by_id(act.group_id)
    if group is None:
        return
    signup_state(services).cache.pop(act.id, None)
    if act.status == "open":
        if not await signup_state(services).repo.close(act.id, services.clock.now()):
            return
        act = await activities_repo(services).by_id(act.id) or act
    elif act.status != "closed" or act.closed_at is None or act.closed_at < fire:
        return  # cancelled, or closed by hand before its deadline (its final post went then)
    message = await finish(services, group, act)
    chat = chat_of(services, group, act.channel_id, act.thread_id)
    await send_once(services, job, fire, chat, message, group.language)


async def schedule_close(services: Services, act: Activity, at: datetime) -> None:
    """Plan (or re-plan) the close of a list."""
    await services.scheduler.schedule(
        close_job_id(act.id), CLOSE_KIND, At(at), {"activity_id": act.id}, group_id=act.group_id
    )


async def startup(services: Services) -> None:
    """After a start: every open list's post is refreshed once by the first flush (a press just
    before a crash still shows), and a deadline missed while the bot was down longer than the
    scheduler's grace closes shortly after the start instead of never."""
    state = signup_state(services)
    now = services.clock.now()
    for act in await state.repo.open_lists():
        state.book.dirty[act.id] = 0.0
        if act.closes_at is not None and act.closes_at < now - services.scheduler.grace:
            log.info(
                "sign-up list %s was due at %s while the bot was down; closing it now", act.id, act.closes_at
            )
            await schedule_close(services, act, now + LATE_CLOSE)
