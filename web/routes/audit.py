"""Audit log: the group's ``/modlog`` with filters (moderator, action, dates), paged on the server,
exportable as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from bot.clock import zone
from bot.ports import DeskLogLine
from storage.models import Group
from web.auth import SECURITY_HEADERS
from web.routes.desk import desk_port, page_number

if TYPE_CHECKING:
    from web.app import Dashboard, Handler


def _day(text: str) -> date | None:
    """A ``YYYY-MM-DD`` date, None when empty; raises ``ValueError`` when garbled."""
    return date.fromisoformat(text) if text else None


def _window(group: Group, first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """The instants of local ``first`` 00:00 and the day after ``last``, in the group's zone."""
    tz = zone(group.timezone)
    since = datetime.combine(first, time(0), tzinfo=tz) if first else None
    until = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz) if last else None
    return since, until


def routes(dash: Dashboard) -> list[tuple[str, str, Handler]]:
    """``GET /g/{group}/audit`` and ``GET /g/{group}/audit.csv``."""
    from web.app import PAGE_SIZE

    async def lines(
        request: Request, group: Group, offset: int, limit: int
    ) -> tuple[list[DeskLogLine], int, dict[str, str], str]:
        keys = ("actor", "action", "member", "from", "to")
        params = {k: request.query_params.get(k, "")[:64].strip() for k in keys}
        # The member a line is about, by user id (as the actor filter); unknown: no line.
        member_id = None
        if params["member"]:
            about = await dash.services.members.find(group.id, params["member"])
            member_id = about.id if about is not None else -1
        error = ""
        try:
            first, last = _day(params["from"]), _day(params["to"])
        except ValueError:
            first = last = None
            error = dash.services.i18n.t(dash.language(None, group), "web.audit.bad_date")
        since, until = _window(group, first, last)
        rows, total = await desk_port(dash).audit(
            group.id,
            actor=params["actor"],
            action=params["action"],
            since=since,
            until=until,
            offset=offset,
            limit=limit,
            member_id=member_id,
        )
        return rows, total, params, error

    async def audit_page(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        number = page_number(request)
        rows, total, params, error = await lines(request, group, (number - 1) * PAGE_SIZE, PAGE_SIZE)
        return await dash.render(
            request,
            "audit.html",
            viewer=viewer,
            group=group,
            lines=rows,
            total=total,
            filters=params,
            page=number,
            pages=max(1, -(-total // PAGE_SIZE)),
            zone=group.timezone,
            error=error,
            status=400 if error else 200,
        )

    async def audit_csv(request: Request) -> Response:
        _viewer, group = await dash.auth.in_group(request)
        rows, _total, _params, _error = await lines(request, group, 0, 10_000)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["at", "actor", "action", "member", "detail"])
        for line in rows:
            writer.writerow(
                [line.at.isoformat(), line.actor, line.action, line.member_name or "", line.detail]
            )
        name = f"group-{group.id}-audit.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
        )

    return [("/g/{group}/audit", "GET", audit_page), ("/g/{group}/audit.csv", "GET", audit_csv)]
