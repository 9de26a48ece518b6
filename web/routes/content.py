"""Content: the topic bank and its suggestions, scheduled posts and activities with their next
run in the group's timezone, and the onboarding messages (welcome template and rules).

Every action goes through the owning feature's port (``TopicBankDesk``, ``PlannedPostsDesk``,
``ActivityBoard``) or, for the welcome texts, the settings service with ``/set``'s checks: the
same code paths as the chat, audited as the session's member. A section whose feature is not
installed is left out of the page; its actions answer 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from bot.ports import ActivityBoard, DeskRefused, PlannedPostsDesk, TopicBankDesk
from bot.settings import SettingError
from storage.models import Group
from web.auth import PageError, Viewer
from web.routes.desk import actor_of, page_number

if TYPE_CHECKING:
    from web.app import Dashboard, Handler

#: The onboarding texts the page edits (the onboarding feature's settings).
WELCOME_KEYS = ("welcome.template", "welcome.rules", "welcome.onboarding")
#: Longest WHEN or text a form takes (a post's own limit is the platform's, checked by the port).
MAX_FIELD = 4096
#: Activities listed.
ACTIVITIES = 20
#: The activity form's fields, in ``/event add``'s order (title | start | duration | description
#: | capacity).
ACTIVITY_FIELDS = ("title", "start", "duration", "description", "capacity")


def _id(raw: str) -> int:
    """A numeric path id, or a 404 (as for anything that is not there)."""
    if not raw.isdigit() or len(raw) > 12:
        raise PageError(404, "not_found")
    return int(raw)


def routes(dash: Dashboard) -> list[tuple[str, str, Handler]]:
    """``GET /g/{group}/content`` and its actions (``POST /g/{group}/content/…``)."""
    from web.app import PAGE_SIZE

    services = dash.services

    def port(kind: type[Any]) -> Any:
        found = services.ports.find(kind)
        if found is None:
            raise PageError(404, "not_found")
        return found

    async def show(
        request: Request,
        viewer: Viewer,
        group: Group,
        *,
        notice: str = "",
        error: str = "",
        status: int = 200,
        form: dict[str, str] | None = None,
    ) -> Response:
        now = dash.auth.now()
        lang = dash.language(viewer, group)
        bank = services.ports.find(TopicBankDesk)
        planned = services.ports.find(PlannedPostsDesk)
        board = services.ports.find(ActivityBoard)
        number = page_number(request)
        topics, topic_total = (
            await bank.topics(group, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE) if bank else ([], 0)
        )
        daily, daily_next = await bank.daily(group, now) if bank else (None, None)
        welcome = {
            key: await services.settings.get(group.id, key)
            for key in WELCOME_KEYS
            if key in services.settings.specs
        }
        return await dash.render(
            request,
            "content.html",
            viewer=viewer,
            group=group,
            zone=group.timezone,
            has_topics=bank is not None,
            topics=topics,
            total=topic_total,
            page=number,
            pages=max(1, -(-topic_total // PAGE_SIZE)),
            daily=daily,
            daily_next=daily_next,
            suggestions=await bank.suggestions(group) if bank else [],
            has_posts=planned is not None,
            posts=await planned.posts(group, now, lang) if planned else [],
            has_activities=board is not None,
            activities=await board.upcoming(group, now, ACTIVITIES) if board else [],
            welcome=welcome,
            form=form or {},
            notice=notice,
            error=error,
            status=status,
        )

    async def content_page(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        return await show(request, viewer, group)

    async def act(request: Request, action: Any, done_key: str, **done: Any) -> Response:
        """Run a port action for the session's member; show its notice, or the port's refusal
        (the chat's own error text) with a 400 and the form as it was sent."""
        viewer, group = await dash.auth.in_group(request)
        form = await dash.auth.check_csrf(request, viewer)
        lang = dash.language(viewer, group)
        t = services.i18n.t
        try:
            result = await action(group, form, await actor_of(dash, viewer, group))
        except DeskRefused as exc:
            return await show(
                request, viewer, group, error=t(lang, exc.key, **exc.values), status=400, form=form
            )
        values = {**done, **(result if isinstance(result, dict) else {})}
        key = values.pop("key", done_key)  # an action may pick its own notice
        return await show(request, viewer, group, notice=t(lang, key, **values))

    # -- scheduled posts -----------------------------------------------------------------------

    async def post_add(request: Request) -> Response:
        async def run(group: Group, form: dict[str, str], actor: Any) -> dict[str, Any]:
            post_id = await port(PlannedPostsDesk).add(
                group,
                form.get("when", "")[:MAX_FIELD],
                form.get("text", "")[:MAX_FIELD],
                form.get("urgent") == "on",
                actor,
                dash.auth.now(),
            )
            return {"id": post_id}

        return await act(request, run, "web.content.post_added")

    async def post_edit(request: Request) -> Response:
        post_id = _id(request.path_params["post"])

        async def run(group: Group, form: dict[str, str], actor: Any) -> None:
            await port(PlannedPostsDesk).edit(
                group,
                post_id,
                form.get("when", "")[:MAX_FIELD],
                form.get("text", "")[:MAX_FIELD],
                actor,
                dash.auth.now(),
            )

        return await act(request, run, "web.content.post_edited", id=post_id)

    async def post_action(request: Request) -> Response:
        post_id = _id(request.path_params["post"])
        what = request.path_params["action"]
        if what not in ("pause", "resume", "delete"):
            raise PageError(404, "not_found")

        async def run(group: Group, form: dict[str, str], actor: Any) -> None:
            planned = port(PlannedPostsDesk)
            if what == "delete":
                await planned.delete(group, post_id, actor, dash.auth.now())
            else:
                await planned.pause(group, post_id, what == "pause", actor, dash.auth.now())

        return await act(request, run, f"web.content.post_{what}d", id=post_id)

    # -- activities ----------------------------------------------------------------------------

    async def activity_add(request: Request) -> Response:
        async def run(group: Group, form: dict[str, str], actor: Any) -> dict[str, Any]:
            activity_id = await port(ActivityBoard).create(
                group,
                *(form.get(field, "")[:MAX_FIELD] for field in ACTIVITY_FIELDS),
                actor,
                dash.auth.now(),
            )
            return {"id": activity_id}

        return await act(request, run, "web.content.activity_added")

    async def activity_cancel(request: Request) -> Response:
        activity_id = _id(request.path_params["activity"])

        async def run(group: Group, form: dict[str, str], actor: Any) -> None:
            await port(ActivityBoard).cancel(group, activity_id, actor, dash.auth.now())

        return await act(request, run, "web.content.activity_cancelled", id=activity_id)

    # -- topics --------------------------------------------------------------------------------

    async def topic_add(request: Request) -> Response:
        async def run(group: Group, form: dict[str, str], actor: Any) -> dict[str, Any]:
            topic_id = await port(TopicBankDesk).add(
                group, form.get("text", "")[:MAX_FIELD], actor, dash.auth.now()
            )
            return {"id": topic_id}

        return await act(request, run, "web.content.topic_added")

    async def topic_delete(request: Request) -> Response:
        topic_id = _id(request.path_params["topic"])

        async def run(group: Group, form: dict[str, str], actor: Any) -> None:
            await port(TopicBankDesk).remove(group, topic_id, actor, dash.auth.now())

        return await act(request, run, "web.content.topic_deleted", id=topic_id)

    async def decide(request: Request) -> Response:
        suggestion_id = _id(request.path_params["suggestion"])
        what = request.path_params["action"]
        if what not in ("approve", "reject"):
            raise PageError(404, "not_found")

        async def run(group: Group, form: dict[str, str], actor: Any) -> dict[str, Any]:
            topic_id, credited = await port(TopicBankDesk).decide(
                group, suggestion_id, what == "approve", actor, dash.auth.now()
            )
            if topic_id is None:
                return {"key": "web.content.rejected"}
            return {
                "key": "web.content.approved_points" if credited else "web.content.approved",
                "topic": topic_id,
            }

        return await act(request, run, "web.content.rejected", id=suggestion_id)

    # -- onboarding texts ----------------------------------------------------------------------

    async def welcome(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        form = await dash.auth.check_csrf(request, viewer)
        key = form.get("key", "")
        if key not in WELCOME_KEYS or key not in services.settings.specs:
            raise PageError(400, "bad_value")
        lang = dash.language(viewer, group)
        t = services.i18n.t
        try:
            await services.settings.set(
                group.id, key, form.get("value", "")[:MAX_FIELD], viewer.account.user_id, dash.auth.now()
            )
        except SettingError as exc:
            error = t(lang, "core.set.bad_value", key=exc.key, allowed=exc.reason)
            return await show(request, viewer, group, error=error, status=400, form=form)
        return await show(request, viewer, group, notice=t(lang, "web.content.welcome_saved", key=key))

    base = "/g/{group}/content"
    return [
        (base, "GET", content_page),
        (base + "/posts/add", "POST", post_add),
        (base + "/posts/{post}/edit", "POST", post_edit),
        (base + "/posts/{post}/{action}", "POST", post_action),
        (base + "/topics/add", "POST", topic_add),
        (base + "/topics/{topic}/delete", "POST", topic_delete),
        (base + "/suggestions/{suggestion}/{action}", "POST", decide),
        (base + "/welcome", "POST", welcome),
        (base + "/activities/add", "POST", activity_add),
        (base + "/activities/{activity}/cancel", "POST", activity_cancel),
    ]
