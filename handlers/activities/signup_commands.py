"""Sign-up list commands (接龙): ``/signup TITLE [limit N] [until TIME]`` (plain word ``接龙``),
``/signup close|export|list``, and the ``+1`` / ``-1`` replies and ``sg:`` buttons.

Registered on the activities router (``handlers/activities/__init__.py`` imports this module);
joining and leaving themselves are in ``handlers/activities/signup.py``.
"""

from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING

from bot.args import BadArgument, UsageError, button_fields, decode_id, parse_int
from bot.errors import QunyouError
from bot.events import ButtonPressed
from bot.params import Id, Rest, Words
from bot.planned_posts import channel_of
from bot.points_access import award
from bot.roles import Role
from bot.scheduler import At, trigger_to_dict
from bot.timeparse import TimeError, bad_time, excerpt, parse_start
from handlers.activities import signup
from handlers.activities.commands import router
from handlers.activities.jobs import MAX_TITLE
from handlers.activities.settings import EventsSettings
from handlers.activities.state import activities_repo, signup_state
from storage.activities import Activity, PlannedJob, Rsvp

if TYPE_CHECKING:
    from datetime import datetime

    from bot.context import Context

#: Words that start an option after the title (English and Chinese).
LIMIT_WORDS = frozenset({"limit", "限", "限额", "名额", "人数"})
UNTIL_WORDS = frozenset({"until", "截止", "截至"})
#: ``+1``, ``+1 带球拍``, ``-1`` (also full-width) as a reply to the list post.
_PLUS = re.compile(r"[+＋]\s*1(?:\s+(.*))?", re.S)
_MINUS = re.compile(r"[-－]\s*1")

sg = router.group(
    "signup",
    aliases=("接龙",),
    usage="events.signup.usage",
    help="events.signup.help",
)
_ID = Id("activity_id")


def parse_body(body: str) -> tuple[str, str | None, str | None]:
    """Split ``TITLE [limit N] [until TIME]`` into its parts (options in either order)."""
    title: list[str] = []
    limit: list[str] = []
    until: list[str] = []
    into = title
    seen: set[str] = set()
    for word in body.split():
        low = word.lower()
        option = "limit" if low in LIMIT_WORDS else "until" if low in UNTIL_WORDS else None
        if option is not None and title and option not in seen:
            seen.add(option)
            into = limit if option == "limit" else until
            continue
        into.append(word)
    if "limit" in seen and len(limit) != 1:
        raise UsageError()
    if "until" in seen and not until:
        raise UsageError()
    return " ".join(title), (limit[0] if "limit" in seen else None), (" ".join(until) or None)


async def _replied_list(ctx: Context) -> Activity | None:
    """The sign-up list whose post this message replies to, if any."""
    message = ctx.message
    if message is None or not message.reply_to or ctx.group is None:
        return None
    state = signup_state(ctx.services)
    act = await state.repo.by_message(ctx.group.id, message.reply_to)
    if act is None and (earlier := state.earlier.get((ctx.group.id, message.reply_to))) is not None:
        act = await activities_repo(ctx.services).get(ctx.group.id, earlier)
    return act


@sg.default(args=[Rest("body", optional=True, default="")])
async def signup_cmd(ctx: Context, body: str) -> None:
    """Start a list; as a reply to a list's post (``接龙 带球拍``), join it with a note."""
    replied = await _replied_list(ctx)
    if replied is not None:
        if ctx.member is not None:
            await signup.join(ctx, replied, body.strip() or None)
        return
    await create(ctx, body)


async def create(ctx: Context, body: str) -> None:
    """``/signup TITLE [limit N] [until TIME]``: the list, its post, and its deadline job."""
    assert ctx.group is not None
    title, limit_text, until_text = parse_body(body)
    if not title:
        raise UsageError()
    if len(title) > MAX_TITLE:
        raise BadArgument("events.err_title_long", limit=MAX_TITLE, length=len(title))
    limit: int | None = None
    if limit_text is not None:
        try:
            limit = parse_int(limit_text, min_value=1, max_value=signup.MAX_LIMIT)
        except BadArgument:
            raise BadArgument(
                "events.signup.err_limit", part=excerpt(limit_text), max=signup.MAX_LIMIT
            ) from None
    closes_at: datetime | None = None
    if until_text is not None:
        try:
            closes_at = parse_start(until_text, ctx.zone, ctx.now)
        except TimeError as err:
            raise bad_time(ctx, err) from None

    def jobs(activity_id: int) -> list[PlannedJob]:
        if closes_at is None:
            return []
        payload = {"activity_id": activity_id}
        return [
            PlannedJob(
                signup.close_job_id(activity_id),
                signup.CLOSE_KIND,
                trigger_to_dict(At(closes_at)),
                payload,
                closes_at,
            )
        ]

    act = await activities_repo(ctx.services).add(
        group_id=ctx.group.id,
        channel_id=channel_of(ctx.chat),
        thread_id=ctx.chat.thread_id,
        title=title,
        description="",
        # A list has no start of its own; its deadline (or its creation) stands in, so the
        # activity's columns keep their meaning for the rest of the feature.
        start_at=closes_at or ctx.now,
        duration_s=0,
        capacity=limit,
        created_by=ctx.member.id if ctx.member else None,
        now=ctx.now,
        jobs=jobs,
        kind="signup",
        closes_at=closes_at,
    )
    if closes_at is not None:
        # The row is committed with the list; this puts it in the scheduler's index as well.
        await signup.schedule_close(ctx.services, act, closes_at)
    sent = await ctx.send(await signup.post(ctx.services, ctx.group, act))
    await activities_repo(ctx.services).set_message(act.id, sent.message_id)
    signup_state(ctx.services).book.edited(act.id, ctx.now)


async def _find(ctx: Context, activity_id: int, *, organiser: bool = False) -> Activity | None:
    """The group's list ``activity_id``; None (the member told why, without the usage line: the
    input was well formed) when there is none, or when ``organiser`` and the member is neither
    the one who started it nor a moderator (closing and exporting are theirs)."""
    assert ctx.group is not None
    act = await activities_repo(ctx.services).get(ctx.group.id, activity_id)
    if act is None or act.kind != "signup":
        await ctx.reply(ctx.t("events.signup.err_unknown", id=activity_id))
        return None
    if organiser:
        mine = ctx.member is not None and act.created_by == ctx.member.id
        if not mine and await ctx.role() < Role.MODERATOR:
            await ctx.reply(ctx.t("events.signup.err_not_organiser", id=act.id))
            return None
    return act


@sg.sub("close", aliases=("截止", "结束"), args=[_ID], where="group")
async def signup_close(ctx: Context, activity_id: int) -> None:
    """``/signup close ID``: close before the deadline (the final post goes out now)."""
    act = await _find(ctx, activity_id, organiser=True)
    if act is not None and not await signup.close_now(ctx, act):
        await ctx.reply(ctx.t("events.signup.err_closed", id=act.id))


@sg.sub("export", aliases=("导出",), args=[_ID], where="group")
async def signup_export(ctx: Context, activity_id: int) -> None:
    """``/signup export ID``: the list as CSV, sent privately (as ``/fbanlist`` does)."""
    act = await _find(ctx, activity_id, organiser=True)
    if act is None:
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["n", "status", "name", "user_id", "note"])
    numbers = {"going": 0, "waiting": 0}
    for r in await activities_repo(ctx.services).rsvps(act.id):
        numbers[r.status] = numbers.get(r.status, 0) + 1
        row = [
            numbers[r.status],
            r.status,
            _cell(r.member.display_name),
            r.member.user_id,
            _cell(r.note or ""),
        ]
        writer.writerow(row)
    head = ctx.t("events.signup.export_head", id=act.id, title=act.title)
    try:
        await ctx.send_private(head + "\n" + buffer.getvalue().rstrip("\n"))
    except QunyouError:
        await ctx.reply(ctx.t("events.signup.export_no_private"))
        return
    await ctx.reply(ctx.t("events.signup.export_sent", id=act.id))


@sg.sub(
    "here",
    aliases=("到场", "签到"),
    args=[_ID, Words("places", optional=True, default="")],
    where="group",
)
async def signup_here(ctx: Context, activity_id: int, places: str) -> None:
    """``/signup here ID [N …]``: the organiser marks who came, by their numbers on the list
    (everyone with a place when none are given); each gets the activity's attendance points
    (``events.attend_points``) once, as ``/here`` gives them at a planned activity."""
    act = await _find(ctx, activity_id, organiser=True)
    if act is None:
        return
    if act.status == "cancelled":
        raise BadArgument("events.err_cancelled", id=act.id)
    repo = activities_repo(ctx.services)
    going = [r for r in await repo.rsvps(act.id) if r.status == "going"]
    if not going:
        await ctx.reply(ctx.t("events.signup.here_empty", id=act.id))
        return
    chosen = _places(places, going, act.id)
    points = (await ctx.settings(EventsSettings)).attend_points
    marked: list[str] = []
    already = 0
    credited = False
    for rsvp in chosen:
        if not await repo.attend(act.id, rsvp.member.id, ctx.now):
            already += 1
            continue
        marked.append(rsvp.member.display_name)
        if points > 0:
            credited = (
                await award(
                    ctx.services,
                    rsvp.member,
                    points,
                    "event",
                    ctx.t("events.reason_attended", id=act.id, title=act.title),
                    chat=ctx.chat,
                    counters={"events_attended": 1},
                )
                or credited
            )
    key = "events.signup.here_points" if credited else "events.signup.here_done"
    sep = "、" if ctx.lang.startswith("zh") else ", "
    lines = [ctx.t(key, id=act.id, title=act.title, count=len(marked), points=points, names=sep.join(marked))]
    if already:
        lines.append(ctx.t("events.signup.here_already", count=already))
    await ctx.reply("\n".join(lines))


def _places(text: str, going: list[Rsvp], activity_id: int) -> list[Rsvp]:
    """The places named by their numbers on the list (``3 5``, ``3,5``); all of them for none."""
    words = [w for w in re.split(r"[\s,，、]+", text.strip()) if w]
    if not words:
        return going
    chosen: dict[int, Rsvp] = {}
    for word in words:
        if not word.isdigit() or not 1 <= int(word) <= len(going):
            raise BadArgument("events.signup.err_place", id=activity_id, part=excerpt(word), count=len(going))
        chosen[int(word)] = going[int(word) - 1]
    return [chosen[n] for n in sorted(chosen)]


def _cell(text: str) -> str:
    """A member's text as a CSV cell a spreadsheet shows as text: a leading ``=``, ``+``, ``-``
    or ``@`` would make it a formula (CSV injection), so it gets a quote mark."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@sg.sub("list", aliases=("列表",), where="group")
async def signup_list(ctx: Context) -> None:
    """``/signup list``: the group's recent lists."""
    assert ctx.group is not None
    lists = await signup_state(ctx.services).repo.recent(ctx.group.id)
    if not lists:
        await ctx.reply(ctx.t("events.signup.none"))
        return
    lines = [ctx.t("events.signup.list_head")]
    for act in lists:
        rsvps = await activities_repo(ctx.services).rsvps(act.id)
        going = sum(1 for r in rsvps if r.status == "going")
        state = ctx.t("events.signup.state_open" if act.status == "open" else "events.signup.state_closed")
        cap = f"/{act.capacity}" if act.capacity else ""
        lines.append(
            ctx.t("events.signup.list_line", id=act.id, title=act.title, count=going, cap=cap, state=state)
        )
    await ctx.reply("\n".join(lines))


@router.message()
async def on_reply(ctx: Context) -> None:
    """``+1 [note]`` / ``-1`` as a reply to a list's post; anything else is ordinary chat."""
    message = ctx.message
    if message is None or message.edited or ctx.is_command or not message.reply_to or ctx.member is None:
        return
    text = message.text.strip()
    plus = _PLUS.fullmatch(text)
    if plus is None and _MINUS.fullmatch(text) is None:
        return
    act = await _replied_list(ctx)
    if act is None:
        return
    if plus is not None:
        await signup.join(ctx, act, plus.group(1))
    else:
        await signup.leave(ctx, act)


async def on_button(ctx: Context) -> None:
    """``sg:join:ID`` / ``sg:leave:ID`` under a list; any other shape is forged or stale."""
    event = ctx.event
    assert isinstance(event, ButtonPressed)
    parts = button_fields(event.data, 3)
    activity_id = decode_id(parts[2]) if parts else None
    if parts is None or parts[1] not in ("join", "leave") or activity_id is None:
        return
    if ctx.group is None or ctx.member is None:
        return
    act = await signup_state(ctx.services).get(activities_repo(ctx.services), ctx.group.id, activity_id)
    if act is None or act.kind != "signup":
        await signup.tell(ctx, "events.signup.err_unknown", id=activity_id)
        return
    if parts[1] == "join":
        await signup.join(ctx, act)
    else:
        await signup.leave(ctx, act)
