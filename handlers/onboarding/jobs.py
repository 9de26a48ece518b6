"""Onboarding nudges (成长礼): one scheduler job ``onb:<member>:<step>`` per step, planned on join.

Day 1 the rules, day 2 a check-in nudge, day 3 an "introduce yourself" prompt, day 7 a summary;
each skipped when the member already did it, each waiting out quiet hours.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.adapter import Capability
from bot.errors import QunyouError
from bot.messages import Mention, OutgoingMessage, Text
from bot.planned_posts import defer_for_quiet_hours, send, user_ref
from bot.points_access import checked_in_since, points_of
from bot.ports import ActivityFacts, TopicFacts
from handlers.onboarding.settings import WelcomeSettings
from handlers.onboarding.state import onboarding_state

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Job, Member

log = logging.getLogger(__name__)

KIND = "welcome-onboarding"
#: Step → (calendar days, then hours) after joining; "day 1" is the joining day itself. Days are the
#: group's calendar days, so a nudge keeps its local time of day across a DST change.
STEPS: tuple[tuple[str, int, timedelta], ...] = (
    ("rules", 0, timedelta(hours=1)),
    ("checkin", 1, timedelta(0)),
    ("intro", 2, timedelta(0)),
    ("summary", 6, timedelta(0)),
)


def job_id(member_id: int, step: str) -> str:
    """The scheduler job of one onboarding step."""
    return f"onb:{member_id}:{step}"


async def run_step(services: Services, job: Job, fire: datetime) -> None:
    """One onboarding step, skipped when already done; sent in the group or privately."""
    group = await services.directory.group_by_id(int(job.payload["group_id"]))
    member = await services.members.get(int(job.payload["member_id"]))
    if group is None or member is None or member.left_at is not None:
        return
    st = onboarding_state(services)
    row = await st.repo.get(group.id, member.id)
    if row is None or row.finished_at is not None:
        return
    step = str(job.payload["step"])
    lang = group.language
    t = services.i18n.t
    text: str | None = None
    if step == "rules":
        rules = str((await services.settings.of(group.id, WelcomeSettings)).rules or "")
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
    if await defer_for_quiet_hours(services, group, job, fire):
        return
    ref = user_ref(services, member, group)
    message = OutgoingMessage(parts=(Mention(ref), Text(" " + text)), notify=(ref,))
    if (await services.settings.of(group.id, WelcomeSettings)).onboarding_private:
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
    lines = [t(lang, "welcome.step_summary")]
    points = await points_of(services, group, member)
    if points is not None:
        lines.append(t(lang, "welcome.summary_points", points=points))
    # Topics and activities are other features: their figures come through their ports, and a
    # line is left out when the feature is not installed.
    topics = services.ports.find(TopicFacts)
    if topics is not None:
        lines.append(t(lang, "welcome.summary_topics", count=await topics.replies_by(member.id)))
    activities = services.ports.find(ActivityFacts)
    if activities is not None:
        lines.append(t(lang, "welcome.summary_events", count=await activities.attended_count(member.id)))
    return "\n".join(lines)
