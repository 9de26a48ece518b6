"""Welcome, rules and the optional 7-day onboarding (成长礼).

A newcomer is greeted from the group's template (``{name}``, ``{group}``, ``{rules}``). With
onboarding on, four nudges follow — day 1 the rules, day 2 a check-in nudge, day 3 an "introduce
yourself" prompt, day 7 a summary — each a scheduler job, each skipped when the member already did it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.adapter import Capability
from bot.args import BadArgument
from bot.errors import QunyouError
from bot.feature import Feature
from bot.messages import Mention, OutgoingMessage, Part, Text
from bot.roles import Role
from bot.router import Band, Router
from bot.scheduler import At
from bot.settings import SettingSpec
from handlers.schedule.common import (
    channel_of,
    check_length,
    checked_in_since,
    defer_if_quiet,
    plan,
    points_of,
    prunes_deferred,
    send,
    user_ref,
)
from handlers.schedule.timeparse import shift_days
from storage.onboarding import OnboardingRepo

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services
    from storage.models import Group, Job, Member

log = logging.getLogger(__name__)

KIND = "welcome-onboarding"
STATE_KEY = "welcome"
#: Step → (calendar days, then hours) after joining; "day 1" is the joining day itself. Days are the
#: group's calendar days, so a nudge keeps its local time of day across a DST change.
STEPS: tuple[tuple[str, int, timedelta], ...] = (
    ("rules", 0, timedelta(hours=1)),
    ("checkin", 1, timedelta(0)),
    ("intro", 2, timedelta(0)),
    ("summary", 6, timedelta(0)),
)
_OFF = {"off", "关", "关闭", "none"}
_RESET = {"reset", "default", "默认", "重置"}

router = Router("welcome")


class WelcomeState:
    """The onboarding repository and the newcomers still being onboarded (no query per message)."""

    def __init__(self, repo: OnboardingRepo) -> None:
        self.repo = repo
        self.pending: set[tuple[int, int]] = set()


def _state(services: Services) -> WelcomeState:
    st = services.state.get(STATE_KEY)
    if st is None:
        st = WelcomeState(OnboardingRepo(services.db))
        services.state[STATE_KEY] = st
    return st


def job_id(member_id: int, step: str) -> str:
    """The scheduler job of one onboarding step."""
    return f"onb:{member_id}:{step}"


def render_template(template: str, name: str, group: str, rules: str) -> str:
    """Fill ``{name}``, ``{group}``, ``{rules}``; anything else in braces stays as typed.

    Plain replacement, not ``str.format``: a moderator's template must not reach attributes.
    """
    return template.replace("{name}", name).replace("{group}", group).replace("{rules}", rules)


async def _rules_text(services: Services, group: Group) -> str:
    rules = str(await services.settings.get(group.id, "welcome.rules") or "")
    return rules or services.i18n.t(group.language, "welcome.no_rules")


@router.join()
async def on_join(ctx: Context) -> None:
    """Greet the newcomer and plan their onboarding."""
    group, member = ctx.group, ctx.member
    if group is None or member is None or ctx.user.is_bot:
        return
    template = str(await ctx.setting("welcome.template") or "")
    if template.lower() not in _OFF:
        template = template or ctx.t("welcome.default_template")
        rules = await _rules_text(ctx.services, group)
        text = render_template(template, "\x00", group.title or group.scope_id, rules)
        # The name becomes a real mention wherever it appears in the template.
        parts: list[Part] = []
        for i, chunk in enumerate(text.split("\x00")):
            if i:
                parts.append(Mention(ctx.user))
            if chunk:
                parts.append(Text(chunk))
        await ctx.send(OutgoingMessage(parts=tuple(parts), notify=(ctx.user,)))
    if not await ctx.setting("welcome.onboarding"):
        return
    st = _state(ctx.services)
    await st.repo.start(group.id, member.id, ctx.now)
    st.pending.add((group.id, member.id))
    for step, days, delay in STEPS:
        await ctx.services.scheduler.schedule(
            job_id(member.id, step),
            KIND,
            At(shift_days(ctx.now, days, ctx.zone) + delay),
            {"group_id": group.id, "member_id": member.id, "step": step, "channel_id": channel_of(ctx.chat)},
            group_id=group.id,
        )


@router.leave()
async def on_leave(ctx: Context) -> None:
    """A member who left gets no more nudges."""
    if ctx.member is None:
        return
    for step, _, _ in STEPS:
        await ctx.services.scheduler.cancel(job_id(ctx.member.id, step))
    if ctx.group is not None:
        _state(ctx.services).pending.discard((ctx.group.id, ctx.member.id))


@router.message(band=Band.LISTENER)
async def newcomer_spoke(ctx: Context) -> None:
    """Remember that a newcomer has said something (then the "introduce yourself" step is skipped)."""
    if ctx.group is None or ctx.member is None:
        return
    st = _state(ctx.services)
    key = (ctx.group.id, ctx.member.id)
    if key not in st.pending or ctx.is_command:
        # A command (/rules, /checkin) is not an introduction.
        return
    st.pending.discard(key)
    await st.repo.mark(ctx.group.id, ctx.member.id, "spoke_at", ctx.now)


async def run_step(services: Services, job: Job, fire: datetime) -> None:
    """One onboarding step, skipped when already done; sent in the group or privately."""
    group = await services.directory.group_by_id(int(job.payload["group_id"]))
    member = await services.members.get(int(job.payload["member_id"]))
    if group is None or member is None or member.left_at is not None:
        return
    st = _state(services)
    row = await st.repo.get(group.id, member.id)
    if row is None or row.finished_at is not None:
        return
    step = str(job.payload["step"])
    lang = group.language
    t = services.i18n.t
    text: str | None = None
    if step == "rules":
        rules = str(await services.settings.get(group.id, "welcome.rules") or "")
        if rules and row.read_rules_at is None:
            text = t(lang, "welcome.step_rules", rules=rules)
    elif step == "checkin":
        if await checked_in_since(services, group, member) is not True:
            text = t(lang, "welcome.step_checkin")
    elif step == "intro":
        if row.spoke_at is None:
            text = t(lang, "welcome.step_intro")
    elif step == "summary":
        await st.repo.mark(group.id, member.id, "finished_at", services.clock.now())
        st.pending.discard((group.id, member.id))
        text = await _summary(services, group, member)
    if text is None:
        log.info("onboarding step %s skipped for member %s: already done", step, member.id)
        return
    if await defer_if_quiet(services, group, job, fire):
        return
    ref = user_ref(services, member, group)
    message = OutgoingMessage(parts=(Mention(ref), Text(" " + text)), notify=(ref,))
    if await services.settings.get(group.id, "welcome.onboarding_private"):
        adapter = services.adapters.get(group.adapter)
        if adapter is not None and Capability.PRIVATE in adapter.capabilities:
            try:
                await services.send_private(group.adapter, member.user_id, OutgoingMessage.of(text), lang)
                return
            except QunyouError as exc:
                log.info("private onboarding to %s failed (%s); posting in the group", member.id, exc)
    chat = services.directory.chat_for(group, job.payload.get("channel_id"))
    await send(services, chat, message, lang)


async def _summary(services: Services, group: Group, member: Member) -> str:
    lang = group.language
    t = services.i18n.t
    st = plan(services)
    lines = [t(lang, "welcome.step_summary")]
    points = await points_of(services, group, member)
    if points is not None:
        lines.append(t(lang, "welcome.summary_points", points=points))
    lines.append(t(lang, "welcome.summary_topics", count=await st.topics.replies_by(member.id)))
    lines.append(t(lang, "welcome.summary_events", count=await st.events.attended_count(member.id)))
    return "\n".join(lines)


# ------------------------------------------------------------------------------- commands


@router.command("rules", aliases=("群规",), usage="welcome.rules_usage", help="welcome.rules_help")
async def rules_cmd(ctx: Context) -> None:
    """Show the group's rules."""
    assert ctx.group is not None
    rules = str(await ctx.setting("welcome.rules") or "")
    if not rules:
        await ctx.reply(ctx.t("welcome.no_rules"))
        return
    if ctx.member is not None:
        await _state(ctx.services).repo.mark(ctx.group.id, ctx.member.id, "read_rules_at", ctx.now)
    await ctx.reply(ctx.t("welcome.rules_show", rules=rules))


@router.command(
    "setrules",
    aliases=("设置群规",),
    min_role=Role.MODERATOR,
    usage="welcome.setrules_usage",
    help="welcome.setrules_help",
)
async def setrules_cmd(ctx: Context) -> None:
    """``/setrules TEXT`` or ``/setrules off``."""
    assert ctx.group is not None
    text = ctx.arg_text.strip()
    if not text:
        raise BadArgument("welcome.err_empty_rules")
    if text.lower() in _OFF:
        text = ""
    check_length(ctx, text, "welcome.err_too_long")
    await ctx.services.settings.set(ctx.group.id, "welcome.rules", text, ctx.user.user_id, ctx.now)
    await ctx.reply(ctx.t("welcome.rules_set" if text else "welcome.rules_cleared"))


@router.command(
    "setwelcome",
    aliases=("设置欢迎",),
    min_role=Role.MODERATOR,
    usage="welcome.setwelcome_usage",
    help="welcome.setwelcome_help",
)
async def setwelcome_cmd(ctx: Context) -> None:
    """``/setwelcome TEXT`` with ``{name}``, ``{group}``, ``{rules}``; ``off``; ``reset``."""
    assert ctx.group is not None
    text = ctx.arg_text.strip()
    if not text:
        raise BadArgument("welcome.err_empty_template")
    if text.lower() in _RESET:
        await ctx.services.settings.reset(ctx.group.id, "welcome.template")
        await ctx.reply(ctx.t("welcome.template_reset"))
        return
    check_length(ctx, text, "welcome.err_too_long")
    value = "off" if text.lower() in _OFF else text
    await ctx.services.settings.set(ctx.group.id, "welcome.template", value, ctx.user.user_id, ctx.now)
    if value == "off":
        await ctx.reply(ctx.t("welcome.template_off"))
        return
    preview = render_template(
        text,
        ctx.user.display_name,
        ctx.group.title or ctx.group.scope_id,
        await _rules_text(ctx.services, ctx.group),
    )
    await ctx.reply(ctx.t("welcome.template_set", preview=preview))


async def demo(services: Services, group: Group, members: list[Member]) -> None:
    """The console demo: rules to read and onboarding for newcomers."""
    now = services.clock.now()
    by = members[0].user_id if members else None
    await services.settings.set(
        group.id, "welcome.rules", services.i18n.t(group.language, "welcome.demo_rules"), by, now
    )
    await services.settings.set(group.id, "welcome.onboarding", True, by, now)


async def startup(services: Services) -> None:
    """Register the onboarding job kind and load the newcomers still being onboarded."""
    services.scheduler.register(KIND, prunes_deferred(run_step))
    st = _state(services)
    st.pending = set(await st.repo.active())


async def export(services: Services, member: Member) -> dict[str, object]:
    """A member's onboarding progress."""
    return await _state(services).repo.export_member(member.id)


async def forget(services: Services, member: Member) -> None:
    """Forget a member's onboarding."""
    await _state(services).repo.forget(member.id)
    for step, _, _ in STEPS:
        await services.scheduler.cancel(job_id(member.id, step))


FEATURE = Feature(
    name="welcome",
    router=router,
    settings=[
        SettingSpec(
            "welcome.template", str, "", "welcome template with {name} {group} {rules}; off to disable"
        ),
        SettingSpec("welcome.rules", str, "", "the group's rules, shown by /rules"),
        SettingSpec("welcome.onboarding", bool, False, "send the 7-day onboarding nudges to newcomers"),
        SettingSpec("welcome.onboarding_private", bool, False, "send onboarding nudges privately"),
    ],
    startup=startup,
    export_member_data=export,
    delete_member_data=forget,
    demo=demo,
)
