"""The ``PlannedPostsDesk`` port: scheduled posts on the dashboard's Content page.

Each action checks and does what ``/schedule`` does in chat (same parser, same limits, same
errors, the same job planned or cancelled), and writes a line to the group's audit log as the
moderator who did it, so the browser leaves the same trace a moderator's command would.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.content_values import ContentPost
from bot.planned_posts import tz_of
from bot.ports import AuditTrail, DeskRefused
from bot.scheduler import next_fire
from bot.timeparse import TimeError, excerpt, parse_when
from handlers.schedules.commands import when_label
from handlers.schedules.jobs import job_id, plan_post, spec_to_dict, trigger_of
from handlers.schedules.settings import ScheduleSettings
from handlers.schedules.state import post_repo

if TYPE_CHECKING:
    from bot.events import UserRef
    from bot.services import Services
    from storage.models import Group


class PlannedPostsPort:
    """Scheduled posts for the dashboard, over the feature's repository and jobs."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def posts(self, group: Group, now: datetime, lang: str) -> list[ContentPost]:
        """The group's live posts with their next run (None when paused)."""
        t = self._t(lang)
        out = []
        for post in await post_repo(self.services).for_group(group.id):
            nxt = None if post.paused else next_fire(trigger_of(post.spec, group.timezone), now)
            out.append(
                ContentPost(
                    post.id,
                    when_label(t, post.when_text),
                    post.when_text,
                    post.text,
                    post.urgent,
                    post.paused,
                    nxt,
                )
            )
        return out

    async def add(
        self, group: Group, when: str, text: str, urgent: bool, actor: UserRef, now: datetime
    ) -> int:
        """``/schedule add [urgent] WHEN TEXT``: the same checks, the same job."""
        canonical, spec, body = self._parse(group, when, text, now)
        repo = post_repo(self.services)
        limit = (await self.services.settings.of(group.id, ScheduleSettings)).max_posts
        if len(await repo.for_group(group.id)) >= limit:
            raise DeskRefused("schedule.err_too_many", limit=limit)
        post = await repo.add(
            group_id=group.id,
            channel_id=None,  # the group's own chat, as a post planned there
            thread_id=None,
            when_text=canonical,
            spec=spec,
            text=body,
            urgent=urgent,
            created_by=actor.user_id,
            now=now,
        )
        if post is None:
            raise DeskRefused("schedule.err_duplicate", when=when_label(self._t(group.language), canonical))
        await plan_post(self.services, group, post)
        await self._audit(group, now, actor, "schedule_add", f"post={post.id} when={canonical}")
        return post.id

    async def edit(
        self, group: Group, post_id: int, when: str, text: str, actor: UserRef, now: datetime
    ) -> None:
        """New WHEN and text for a live post, planned again from ``now`` (a paused post stays
        paused: its job is planned and paused again)."""
        canonical, spec, body = self._parse(group, when, text, now)
        repo = post_repo(self.services)
        if not await repo.edit(group.id, post_id, when_text=canonical, spec=spec, text=body):
            raise DeskRefused("schedule.err_unknown", id=post_id)
        post = await repo.get(post_id)
        assert post is not None
        await plan_post(self.services, group, post)
        if post.paused:
            await self.services.scheduler.pause(job_id(post_id))
        await self._audit(group, now, actor, "schedule_edit", f"post={post_id} when={canonical}")

    async def pause(self, group: Group, post_id: int, paused: bool, actor: UserRef, now: datetime) -> None:
        """``/schedule pause|resume``: resuming plans from now on, missed runs are not made up."""
        repo = post_repo(self.services)
        if not await repo.set_paused(group.id, post_id, paused):
            raise DeskRefused("schedule.err_unknown", id=post_id)
        if paused:
            await self.services.scheduler.pause(job_id(post_id))
        else:
            post = await repo.get(post_id)
            assert post is not None
            await plan_post(self.services, group, post)
        await self._audit(
            group, now, actor, "schedule_pause" if paused else "schedule_resume", f"post={post_id}"
        )

    async def delete(self, group: Group, post_id: int, actor: UserRef, now: datetime) -> None:
        """``/schedule del``: the row, its job and any run waiting out quiet hours."""
        if not await post_repo(self.services).delete(group.id, post_id):
            raise DeskRefused("schedule.err_unknown", id=post_id)
        scheduler = self.services.scheduler
        await scheduler.cancel(job_id(post_id))
        for deferred in await scheduler.list(job_id(post_id) + "~"):
            await scheduler.cancel(deferred.id)
        await self._audit(group, now, actor, "schedule_delete", f"post={post_id}")

    # -- helpers ---------------------------------------------------------------------------

    async def _audit(self, group: Group, now: datetime, actor: UserRef, action: str, detail: str) -> None:
        """One line in the group's audit log, when the moderation feature keeps one."""
        trail = self.services.ports.find(AuditTrail)
        if trail is not None:
            await trail.record(group.id, now, actor.user_id, action, detail)

    def _t(self, lang: str) -> Any:
        i18n = self.services.i18n

        def t(key: str, **kw: Any) -> str:
            return i18n.t(lang, key, **kw)

        return t

    def _parse(self, group: Group, when: str, text: str, now: datetime) -> tuple[str, dict[str, Any], str]:
        """The WHEN field and the text as ``/schedule add`` reads ``WHEN TEXT``; the WHEN field
        must be a WHEN and nothing else (its rest would silently become part of the post)."""
        when, text = when.strip(), text.strip()
        if not when:
            raise DeskRefused("schedule.err_when", part="")
        if not text:
            raise DeskRefused("schedule.err_no_text")
        try:
            parsed, rest = parse_when(f"{when} {text}", tz_of(group), now)
        except TimeError as err:
            values: dict[str, Any] = dict(err.kw)
            if "part" in values:
                values["part"] = excerpt(str(values["part"]))
            if "field" in values:
                values["field"] = self.services.i18n.t(group.language, f"schedule.field_{values['field']}")
            raise DeskRefused(err.key, **values) from None
        if rest.strip() != text:
            raise DeskRefused("schedule.err_when", part=excerpt(when))
        adapter = self.services.adapters.get(group.adapter)
        limit = adapter.max_text_length if adapter is not None else 4096
        if len(text) > limit:
            raise DeskRefused("schedule.err_too_long", limit=limit, length=len(text))
        return parsed.canonical, spec_to_dict(parsed.spec), text
