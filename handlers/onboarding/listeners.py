"""Reactions: greet a newcomer and plan their onboarding, stop it on leave, note first words.

Registered on the feature's router in ``handlers/onboarding/__init__.py``, not here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.media import with_picture
from bot.messages import Mention, OutgoingMessage, Part, Text
from bot.params import OFF_WORDS
from bot.planned_posts import channel_of
from bot.ports import NewcomerGate
from bot.scheduler import At
from bot.timeparse import shift_days
from handlers.onboarding.commands import WELCOME_PICTURE, render_template, rules_text
from handlers.onboarding.jobs import KIND, STEPS, job_id
from handlers.onboarding.settings import WelcomeSettings
from handlers.onboarding.state import PENDING_TOPIC, onboarding_state

if TYPE_CHECKING:
    from bot.context import Context
    from bot.events import ChatRef, UserRef
    from bot.services import Services
    from storage.models import Group


async def on_join(ctx: Context) -> None:
    """Greet the newcomer and plan their onboarding."""
    group, member = ctx.group, ctx.member
    if group is None or member is None or ctx.user.is_bot:
        return
    gate = ctx.services.ports.find(NewcomerGate)
    # During a raid welcomes are held: the antispam feature sends one combined welcome after it.
    # A newcomer with a join challenge is welcomed when they pass it (through ``Greeter``).
    held = gate is not None and (
        await gate.holding(group.id) or await gate.verifying(group.id, ctx.user.user_id)
    )
    if not held:
        await greet(ctx.services, group, ctx.chat, ctx.user)
    if not (await ctx.settings(WelcomeSettings)).onboarding:
        return
    st = onboarding_state(ctx.services)
    await st.repo.start(group.id, member.id, ctx.now)
    st.pending.add((group.id, member.id))
    if ctx.services.changes.across_workers:
        # Their first message may reach another worker (one notification per join, none per message).
        await ctx.services.changes.publish(PENDING_TOPIC, f"{group.id} {member.id}")
    for step, days, delay in STEPS:
        await ctx.services.scheduler.schedule(
            job_id(member.id, step),
            KIND,
            At(shift_days(ctx.now, days, ctx.zone) + delay),
            {"group_id": group.id, "member_id": member.id, "step": step, "channel_id": channel_of(ctx.chat)},
            group_id=group.id,
        )


async def greet(services: Services, group: Group, chat: ChatRef, user: UserRef) -> None:
    """Post the group's welcome for ``user`` (unless the template is ``off``)."""
    template = str((await services.settings.of(group.id, WelcomeSettings)).template or "")
    if template.lower() in OFF_WORDS:
        return
    template = template or services.i18n.t(group.language, "welcome.default_template")
    rules = await rules_text(services, group)
    text = render_template(template, "\x00", group.title or group.scope_id, rules)
    # The name becomes a real mention wherever it appears in the template.
    parts: list[Part] = []
    for i, chunk in enumerate(text.split("\x00")):
        if i:
            parts.append(Mention(user))
        if chunk:
            parts.append(Text(chunk))
    message = OutgoingMessage(parts=tuple(parts), notify=(user,))
    message = await with_picture(services, group, chat, WELCOME_PICTURE, message)
    await services.send(chat, message, group.language)


class Welcomer:
    """The ``Greeter`` port: a welcome on demand, after a newcomer passed join verification."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def greet(self, group: Group, chat: ChatRef, user: UserRef) -> None:
        """Post the group's welcome for ``user``."""
        await greet(self._services, group, chat, user)


async def on_leave(ctx: Context) -> None:
    """A member who left gets no more nudges."""
    if ctx.member is None:
        return
    for step, _, _ in STEPS:
        await ctx.services.scheduler.cancel(job_id(ctx.member.id, step))
    if ctx.group is not None:
        onboarding_state(ctx.services).pending.discard((ctx.group.id, ctx.member.id))


async def newcomer_spoke(ctx: Context) -> None:
    """Remember that a newcomer has said something (then the "introduce yourself" step is skipped)."""
    if ctx.group is None or ctx.member is None:
        return
    st = onboarding_state(ctx.services)
    key = (ctx.group.id, ctx.member.id)
    if key not in st.pending or ctx.is_command:
        # A command (/rules, /checkin) is not an introduction.
        return
    st.pending.discard(key)
    await st.repo.mark(ctx.group.id, ctx.member.id, "spoke_at", ctx.now)
