"""The ``ActivityBoard`` port: upcoming activities with their sign-ups for the dashboard, and
creating and cancelling one from the browser with the effects of ``/event add`` and ``/event
cancel`` (the same checks and errors, the announcement with its sign-up buttons posted in the
group, sign-ups told of a cancellation), written to the audit log as the moderator."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.args import BadArgument, parse_int
from bot.content_values import ContentActivity
from bot.mentions import call_circles
from bot.messages import OutgoingMessage, Part, Text
from bot.planned_posts import tz_of, user_ref
from bot.ports import AuditTrail, DeskRefused
from bot.timeparse import TimeError, excerpt, parse_duration, parse_start
from handlers.activities.cards import details, mentions, rsvp_buttons
from handlers.activities.jobs import DEFAULT_DURATION, MAX_TITLE, cancel_timeline, create_activity
from handlers.activities.state import activities_repo

if TYPE_CHECKING:
    from bot.events import UserRef
    from bot.services import Services
    from storage.models import Group


class ActivityBoardPort:
    """Upcoming activities over the feature's repository (what ``/events`` lists)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def upcoming(self, group: Group, now: datetime, limit: int) -> list[ContentActivity]:
        """Open activities not yet over, soonest first, with how many are going."""
        repo = activities_repo(self.services)
        out = []
        for act in await repo.upcoming(group.id, now, limit):
            going = sum(1 for r in await repo.rsvps(act.id) if r.status == "going")
            out.append(ContentActivity(act.id, act.title, act.start_at, act.status, going, act.capacity))
        return out

    async def create(
        self,
        group: Group,
        title: str,
        start: str,
        duration: str,
        description: str,
        capacity: str,
        actor: UserRef,
        now: datetime,
    ) -> int:
        """``/event add title | start | duration | description | capacity`` posted by ``actor``;
        returns the activity's id. Raises ``DeskRefused`` with the chat's error."""
        services = self.services
        # Without the platform connection (``bot web``) the announcement, which carries the
        # sign-up buttons, could not be posted: an activity nobody can see is worse than a no.
        if group.adapter not in services.adapters:
            raise DeskRefused("web.content.activity_needs_bot")
        title, description = title.strip(), description.strip()
        if not title:
            raise DeskRefused("events.err_title")
        if len(title) > MAX_TITLE:
            raise DeskRefused("events.err_title_long", limit=MAX_TITLE, length=len(title))
        try:
            start_at = parse_start(start.strip(), tz_of(group), now)
            length = parse_duration(duration.strip()) if duration.strip() else DEFAULT_DURATION
        except TimeError as err:
            raise self._time_refusal(group, err) from None
        limit: int | None = None
        if capacity.strip():
            try:
                limit = parse_int(capacity.strip(), min_value=1, max_value=100_000)
            except BadArgument:
                raise DeskRefused("events.err_capacity", part=excerpt(capacity)) from None
        max_length = services.adapters[group.adapter].max_text_length
        if len(description) > max_length:
            raise DeskRefused("schedule.err_too_long", limit=max_length, length=len(description))
        member = await services.members.find(group.id, actor.user_id)
        act = await create_activity(
            services,
            group,
            channel_id=None,  # the group's own chat, as an activity added there
            thread_id=None,
            title=title,
            description=description,
            start_at=start_at,
            duration_s=int(length.total_seconds()),
            capacity=limit,
            created_by=member.id if member is not None else None,
        )
        t = services.i18n.t
        lang = group.language
        text = t(lang, "events.announce") + "\n" + details(services, group, act) + "\n"
        text += t(lang, "events.how_to_join", id=act.id)
        chat = services.directory.chat_for(group)
        announcement = OutgoingMessage(parts=(Text(text),), buttons=rsvp_buttons(services, lang, act.id))
        sent = await services.send(chat, announcement, lang)
        await activities_repo(services).set_message(act.id, sent.message_id)
        await call_circles(services, group, chat, f"{act.title} {act.description or ''}")
        await self._audit(group, now, actor, "event_add", f"activity={act.id} start={start_at.isoformat()}")
        return act.id

    async def cancel(self, group: Group, activity_id: int, actor: UserRef, now: datetime) -> None:
        """``/event cancel ID``: the activity, its reminders, and a post in the group naming
        everyone who signed up. Raises ``DeskRefused``."""
        services = self.services
        repo = activities_repo(services)
        act = await repo.get(group.id, activity_id)
        if act is None:
            raise DeskRefused("events.err_unknown", id=activity_id)
        people = [r.member for r in await repo.rsvps(act.id)]
        if not await repo.cancel(group.id, act.id):
            raise DeskRefused("events.err_cancelled", id=act.id)
        await cancel_timeline(services, act.id)
        await self._audit(group, now, actor, "event_cancel", f"activity={act.id}")
        if group.adapter not in services.adapters:
            return  # ``bot web``: cancelled in the database, told in chat by nobody
        parts: tuple[Part, ...] = (
            Text(services.i18n.t(group.language, "events.cancelled", id=act.id, title=act.title)),
        )
        if people:
            parts = (*parts, Text("\n"), *mentions(services, group, people))
        notify = tuple(user_ref(services, m, group) for m in people)
        await services.send(
            services.directory.chat_for(group), OutgoingMessage(parts=parts, notify=notify), group.language
        )

    async def _audit(self, group: Group, now: datetime, actor: UserRef, action: str, detail: str) -> None:
        """One line in the group's audit log, when the moderation feature keeps one."""
        trail = self.services.ports.find(AuditTrail)
        if trail is not None:
            await trail.record(group.id, now, actor.user_id, action, detail)

    def _time_refusal(self, group: Group, err: TimeError) -> DeskRefused:
        """A time parser's failure as the chat words it (``bot.timeparse.bad_time``)."""
        values: dict[str, Any] = dict(err.kw)
        if "part" in values:
            values["part"] = excerpt(str(values["part"]))
        if "field" in values:
            values["field"] = self.services.i18n.t(group.language, f"schedule.field_{values['field']}")
        return DeskRefused(err.key, **values)
