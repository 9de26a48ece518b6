"""The daily topic: one ``topic:<group>`` job per group, at the local time the moderators chose."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.events import ChatRef
from bot.mentions import call_circles
from bot.messages import OutgoingMessage
from bot.planned_posts import chat_of, defer_for_quiet_hours, notify_moderators, send, tz_of
from bot.scheduler import Cron
from handlers.topics.bank import starter_topics
from handlers.topics.state import POSTED_TOPIC, topics_state
from storage.topics import TopicPost

if TYPE_CHECKING:
    from bot.services import Services
    from storage.models import Group, Job

log = logging.getLogger(__name__)

KIND = "topics-daily"


def job_id(group_id: int) -> str:
    """The daily-topic job of a group."""
    return f"topic:{group_id}"


async def post_next(services: Services, group: Group, chat: ChatRef) -> TopicPost | None:
    """Post the least recently used topic into ``chat``; tell the moderators when the bank is empty."""
    st = topics_state(services)
    await st.topics.seed(group.id, starter_topics(group.language), services.clock.now())
    now = services.clock.now()
    topic = await st.topics.take_next(group.id, now)
    if topic is None:
        await notify_moderators(
            services, group, OutgoingMessage.of(services.i18n.t(group.language, "topics.empty_bank"))
        )
        return None
    day = now.astimezone(tz_of(group)).date()
    post = await st.topics.record_post(group.id, topic, chat.channel_id, now, day)
    message = OutgoingMessage.of(services.i18n.t(group.language, "topics.post", text=topic.text))
    sent = await send(services, chat, message, group.language)
    if sent is not None:
        await call_circles(services, group, chat, topic.text)
        await st.topics.set_post_message(post.id, sent.message_id)
        st.topic_messages.setdefault(group.id, set()).add(sent.message_id)
        if services.changes.across_workers:  # replies may reach another worker: it reads the ids again
            await services.changes.publish(POSTED_TOPIC, group.id)
    return post


async def plan_daily(services: Services, group: Group, hhmm: str) -> None:
    """(Re)create the group's daily-topic job at local time ``hhmm``."""
    hour, minute = hhmm.split(":")
    await services.scheduler.schedule(
        job_id(group.id),
        KIND,
        Cron(tz=group.timezone, minute=str(int(minute)), hour=str(int(hour))),
        {"group_id": group.id},
        group_id=group.id,
    )


async def run_daily(services: Services, job: Job, fire: datetime) -> None:
    """The daily topic job: re-read the setting, respect quiet hours, post."""
    group = await services.directory.group_by_id(int(job.payload["group_id"]))
    if group is None or not group.active:
        return
    state = await topics_state(services).topics.state(group.id)
    if state.daily_time is None:
        return  # turned off since the job was planned
    if job.trigger.get("tz", group.timezone) != group.timezone:
        # The group moved to another timezone: re-plan at the same local time there.
        await plan_daily(services, group, state.daily_time)
        return
    if await defer_for_quiet_hours(services, group, job, fire):
        return
    await post_next(services, group, chat_of(services, group, state.channel_id, state.thread_id))
