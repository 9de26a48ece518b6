"""Moderation desk: the group's alerts, open first, with Acknowledge / Undo / Ban doing what the
chat buttons do (``ModerationDesk.act``: the same code path, audited as the session's member).

Filtered by kind, it is also the reports queue (``report``, with each one's handling time and
the median and p90 against the 4-hour target, as ``/reports stats``). Below the alerts: the raid
incidents, from the audit log the antispam feature writes (``raid-start`` / ``raid-end`` lines), with a
banner while a raid is holding newcomers (``NewcomerGate``)."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from bot.events import UserRef
from bot.ports import DeskRefused, ModerationDesk, NewcomerGate
from storage.models import Group
from web.auth import PageError, Viewer

if TYPE_CHECKING:
    from web.app import Dashboard, Handler


def page_number(request: Request) -> int:
    """The ``page`` query parameter, 1 when missing or garbled."""
    raw = request.query_params.get("page", "1")
    return max(1, min(int(raw), 100_000)) if raw.isdigit() and len(raw) < 7 else 1


#: The kinds of alert the desk filters by (``moderation.kind.<kind>`` names them).
KINDS = ("report", "surge", "hit", "flood", "complaint")
#: A report should be handled within this (the playbook's target, as on the overview).
TARGET = timedelta(hours=4)


def _hours(seconds: float) -> str:
    """A handling time as hours with one decimal (minutes under an hour)."""
    return f"{seconds / 60:.0f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def report_summary(desk: ModerationDesk, group: Group, now: datetime) -> list[dict[str, object]]:
    """Reports of the last 7 and 30 days: how many, how many handled, median and p90 handling
    time and whether each is within the 4-hour target."""
    out: list[dict[str, object]] = []
    for days in (7, 30):
        count, durations = await desk.handling(group.id, "report", now - timedelta(days=days))
        row: dict[str, object] = {"days": days, "count": count, "handled": len(durations)}
        if durations:
            median, p90 = statistics.median(durations), _percentile(durations, 0.9)
            limit = TARGET.total_seconds()
            row.update(median=_hours(median), p90=_hours(p90), median_ok=median <= limit, p90_ok=p90 <= limit)
        out.append(row)
    return out


#: Raid incidents listed.
RAIDS = 10


async def raid_incidents(desk: ModerationDesk, group: Group) -> list[dict[str, object]]:
    """The latest raids, newest first: start, end (None while on), reason and accounts removed,
    paired from the audit log's ``raid-start`` and ``raid-end`` lines."""
    starts, _ = await desk.audit(
        group.id, actor="", action="raid-start", since=None, until=None, offset=0, limit=RAIDS
    )
    ends, _ = await desk.audit(
        group.id, actor="", action="raid-end", since=None, until=None, offset=0, limit=RAIDS
    )
    oldest_first = sorted(ends, key=lambda line: line.at)
    out: list[dict[str, object]] = []
    for start in starts:
        end = next((e for e in oldest_first if e.at >= start.at), None)
        if end is not None:
            oldest_first.remove(end)
        removed = end.detail.rsplit("removed=", 1)[-1] if end is not None and "removed=" in end.detail else ""
        out.append(
            {
                "started": start.at,
                "ended": end.at if end else None,
                "reason": start.detail,
                "removed": removed,
            }
        )
    return out


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
        wanted = request.query_params.get("kind", "")
        kind = wanted if wanted in KINDS else None
        number = page_number(request)
        alerts, total = await desk.alerts(
            group.id, open_only=open_only, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE, kind=kind
        )
        gate = dash.services.ports.find(NewcomerGate)
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
            kind=kind or "",
            kinds=KINDS,
            raid=await gate.holding(group.id) if gate is not None else False,
            reports=await report_summary(desk, group, dash.auth.now()) if kind == "report" else [],
            raids=await raid_incidents(desk, group),
            target_hours=int(TARGET.total_seconds() // 3600),
            handling_time=lambda a: _hours((a.handled_at - a.created_at).total_seconds()),
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
