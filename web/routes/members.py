"""Members: search the group's members (paged on the server), and one member's page with their
points, credit and ledger (``PointsLedger``, ``CreditScore``, ``LedgerHistory`` ports: what
``/me``, ``/credit`` and ``/points history`` show in chat)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from bot.ports import CreditScore, LedgerHistory, PointsLedger
from web.auth import PageError
from web.routes.desk import page_number

if TYPE_CHECKING:
    from web.app import Dashboard, Handler

#: Ledger lines on a member's page.
LEDGER_LINES = 50


def routes(dash: Dashboard) -> list[tuple[str, str, Handler]]:
    """``GET /g/{group}/members`` and ``GET /g/{group}/members/{member}``."""
    from web.app import PAGE_SIZE

    services = dash.services

    async def members_page(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        query = request.query_params.get("q", "")[:100]
        number = page_number(request)
        rows, total = await services.members.page(
            group.id, query, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        return await dash.render(
            request,
            "members.html",
            viewer=viewer,
            group=group,
            members=rows,
            total=total,
            query=query,
            page=number,
            pages=max(1, -(-total // PAGE_SIZE)),
            zone=group.timezone,
        )

    async def member_page(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        raw = request.path_params["member"]
        member = await services.members.get(int(raw)) if raw.isdigit() and len(raw) < 12 else None
        if member is None or member.group_id != group.id or member.forgotten:
            raise PageError(404, "not_found")
        ledger = services.ports.find(PointsLedger)
        credit = services.ports.find(CreditScore)
        history = services.ports.find(LedgerHistory)
        score = await credit.score(group, member) if credit is not None else None
        return await dash.render(
            request,
            "member.html",
            viewer=viewer,
            group=group,
            member=member,
            balance=await ledger.balance(group, member) if ledger is not None else None,
            credit=score,
            credit_level=credit.level(score) if credit is not None and score is not None else None,
            lines=await history.history(group, member, LEDGER_LINES) if history is not None else [],
            zone=group.timezone,
        )

    return [
        ("/g/{group}/members", "GET", members_page),
        ("/g/{group}/members/{member}", "GET", member_page),
    ]
