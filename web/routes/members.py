"""Members: search the group's members (paged on the server), and one member's page with their
points, credit and ledger (``PointsLedger``, ``CreditScore``, ``LedgerHistory`` ports: what
``/me``, ``/credit`` and ``/points history`` show in chat), their active warnings, and the
actions a moderator takes in chat: warn, mute (``MemberDiscipline``) and correct points
(``PointsCorrection``), each with the chat command's checks, effects and audit line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from bot.ports import (
    CreditScore,
    DeskRefused,
    LedgerHistory,
    MemberDiscipline,
    PointsCorrection,
    PointsLedger,
)
from storage.models import SEARCH_CAP, Group, Member
from web.auth import PageError, Viewer
from web.routes.desk import actor_of, page_number

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
        # A search counts up to SEARCH_CAP matches: past it the page says "more than" and pages
        # through the first SEARCH_CAP.
        more = bool(query.strip()) and total > SEARCH_CAP
        total = min(total, SEARCH_CAP) if more else total
        return await dash.render(
            request,
            "members.html",
            viewer=viewer,
            group=group,
            members=rows,
            total=total,
            more=more,
            query=query,
            page=number,
            pages=max(1, -(-total // PAGE_SIZE)),
            zone=group.timezone,
        )

    async def target(request: Request, group: Group) -> Member:
        raw = request.path_params["member"]
        member = await services.members.get(int(raw)) if raw.isdigit() and len(raw) < 12 else None
        if member is None or member.group_id != group.id or member.forgotten:
            raise PageError(404, "not_found")
        return member

    async def member_page(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        return await show_member(request, viewer, group, await target(request, group))

    async def show_member(
        request: Request,
        viewer: Viewer,
        group: Group,
        member: Member,
        *,
        notice: str = "",
        error: str = "",
        status: int = 200,
    ) -> Response:
        discipline = services.ports.find(MemberDiscipline)
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
            warnings=await discipline.warnings(group, member) if discipline is not None else None,
            can_discipline=discipline is not None,
            can_correct=services.ports.find(PointsCorrection) is not None,
            zone=group.timezone,
            notice=notice,
            error=error,
            status=status,
        )

    async def act(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        member = await target(request, group)
        form = await dash.auth.check_csrf(request, viewer)
        what = request.path_params["action"]
        lang = dash.language(viewer, group)
        actor = await actor_of(dash, viewer, group)
        reason = form.get("reason", "")[:200]
        try:
            if what == "points":
                correction = services.ports.find(PointsCorrection)
                if correction is None:
                    raise PageError(404, "not_found")
                notice = await correction.correct(
                    group, member, _number(form.get("delta", "")), reason, actor, lang
                )
            elif what in ("warn", "mute"):
                discipline = services.ports.find(MemberDiscipline)
                if discipline is None:
                    raise PageError(404, "not_found")
                if what == "warn":
                    notice = await discipline.warn(group, member, reason, actor, lang)
                else:
                    raw = form.get("minutes", "").strip()
                    minutes = _number(raw) if raw else None
                    notice = await discipline.mute(group, member, minutes, reason, actor, lang)
            else:
                raise PageError(404, "not_found")
        except DeskRefused as exc:
            error = services.i18n.t(lang, exc.key, **exc.values)
            return await show_member(request, viewer, group, member, error=error, status=400)
        return await show_member(request, viewer, group, member, notice=notice)

    return [
        ("/g/{group}/members", "GET", members_page),
        ("/g/{group}/members/{member}", "GET", member_page),
        ("/g/{group}/members/{member}/{action}", "POST", act),
    ]


def _number(raw: str) -> int:
    """A whole number typed in a form (``-5``, ``+20``), or the refusal ``/points`` gives."""
    text = raw.strip()
    body = text[1:] if text[:1] in "+-" else text
    if not body.isdigit() or len(body) > 9:
        raise DeskRefused("web.members.bad_number", value=text[:20])
    return int(text)
