"""Moderation desk: the group's alerts, open first, with Acknowledge / Undo / Ban doing what the
chat buttons do (``ModerationDesk.act``: the same code path, audited as the session's member)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from bot.events import UserRef
from bot.ports import DeskRefused, ModerationDesk
from storage.models import Group
from web.auth import PageError, Viewer

if TYPE_CHECKING:
    from web.app import Dashboard, Handler


def page_number(request: Request) -> int:
    """The ``page`` query parameter, 1 when missing or garbled."""
    raw = request.query_params.get("page", "1")
    return max(1, min(int(raw), 100_000)) if raw.isdigit() and len(raw) < 7 else 1


def desk_port(dash: Dashboard) -> ModerationDesk:
    """The moderation feature's desk, or a 404 when the bot runs without it."""
    port = dash.services.ports.find(ModerationDesk)
    if port is None:
        raise PageError(404, "not_found")
    return port


async def actor_of(dash: Dashboard, viewer: Viewer, group: Group) -> UserRef:
    """The session's account as the actor of what it does: the audit log records its user id,
    as for a chat command; the edited alert names it as the group knows it."""
    account = viewer.account
    member = await dash.services.members.find(group.id, account.user_id)
    name = member.display_name if member is not None else account.user_id
    return UserRef(account.platform, account.user_id, name)


def routes(dash: Dashboard) -> list[tuple[str, str, Handler]]:
    """``GET /g/{group}/desk`` and ``POST /g/{group}/desk/{alert}/{action}``."""
    from web.app import PAGE_SIZE

    async def show(
        request: Request, viewer: Viewer, group: Group, notice: str = "", error: str = "", status: int = 200
    ) -> Response:
        desk = desk_port(dash)
        open_only = request.query_params.get("status", "open") != "all"
        number = page_number(request)
        alerts, total = await desk.alerts(
            group.id, open_only=open_only, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        zone = group.timezone
        return await dash.render(
            request,
            "desk.html",
            viewer=viewer,
            group=group,
            alerts=alerts,
            total=total,
            page=number,
            pages=max(1, -(-total // PAGE_SIZE)),
            open_only=open_only,
            zone=zone,
            notice=notice,
            error=error,
            status=status,
        )

    async def desk_page(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        return await show(request, viewer, group)

    async def act(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        await dash.auth.check_csrf(request, viewer)
        raw_id, action = request.path_params["alert"], request.path_params["action"]
        if not raw_id.isdigit() or len(raw_id) > 12:
            raise PageError(404, "not_found")
        lang = dash.language(viewer, group)
        try:
            notice = await desk_port(dash).act(
                group, int(raw_id), action, await actor_of(dash, viewer, group), lang
            )
        except DeskRefused as exc:
            return await show(
                request, viewer, group, error=dash.services.i18n.t(lang, exc.key, **exc.values), status=400
            )
        return await show(request, viewer, group, notice=notice)

    return [
        ("/g/{group}/desk", "GET", desk_page),
        ("/g/{group}/desk/{alert}/{action}", "POST", act),
    ]
