"""Lexicon: the group's own terms (search, add, edit a term's level and category, remove) and a
test box that shows the folded text and which term at which level would flag it, saving nothing
(``/kw test``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from bot.ports import DeskRefused, DeskVerdict
from storage.models import Group
from web.auth import Viewer
from web.routes.desk import actor_of, desk_port, page_number

if TYPE_CHECKING:
    from web.app import Dashboard, Handler

#: Longest text the test box or a term field takes (the matcher reads 4096 characters at most).
MAX_TEXT = 4096
LEVELS = ("red", "yellow", "blue")
MODES = ("text", "exact", "regex")


def routes(dash: Dashboard) -> list[tuple[str, str, Handler]]:
    """``GET /g/{group}/lexicon``; ``POST …/add``, ``…/edit``, ``…/remove``, ``…/test``."""
    from web.app import PAGE_SIZE

    async def show(
        request: Request,
        viewer: Viewer,
        group: Group,
        *,
        notice: str = "",
        error: str = "",
        status: int = 200,
        verdict: DeskVerdict | None = None,
        tested: str = "",
        form: dict[str, str] | None = None,
    ) -> Response:
        query = request.query_params.get("q", "")[:100]
        number = page_number(request)
        terms, total = await desk_port(dash).terms(
            group.id, query, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        return await dash.render(
            request,
            "lexicon.html",
            viewer=viewer,
            group=group,
            terms=terms,
            total=total,
            page=number,
            pages=max(1, -(-total // PAGE_SIZE)),
            query=query,
            notice=notice,
            error=error,
            status=status,
            verdict=verdict,
            tested=tested,
            form=form or {},
            levels=LEVELS,
            modes=MODES,
        )

    async def lexicon_page(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        return await show(request, viewer, group)

    async def add(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        form = await dash.auth.check_csrf(request, viewer)
        t = dash.services.i18n.t
        lang = dash.language(viewer, group)
        term = form.get("term", "")[:MAX_TEXT]
        try:
            await desk_port(dash).add_term(
                group,
                form.get("level", "")[:12],
                term,
                form.get("category", "")[:40],
                form.get("mode", "text")[:12],
                await actor_of(dash, viewer, group),
            )
        except DeskRefused as exc:
            return await show(
                request, viewer, group, error=t(lang, exc.key, **exc.values), status=400, form=form
            )
        return await show(request, viewer, group, notice=t(lang, "web.lexicon.added", term=term))

    async def remove(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        form = await dash.auth.check_csrf(request, viewer)
        t = dash.services.i18n.t
        lang = dash.language(viewer, group)
        term = form.get("term", "")[:MAX_TEXT]
        removed = (
            await desk_port(dash).remove_term(group, term, await actor_of(dash, viewer, group)) if term else 0
        )
        if not removed:
            return await show(request, viewer, group, error=t(lang, "moderation.kw.not_found"), status=400)
        return await show(request, viewer, group, notice=t(lang, "web.lexicon.removed", term=term))

    async def edit(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        form = await dash.auth.check_csrf(request, viewer)
        t = dash.services.i18n.t
        lang = dash.language(viewer, group)
        term = form.get("term", "")[:MAX_TEXT]
        try:
            if not term.strip():
                raise DeskRefused("web.lexicon.term_needed")
            await desk_port(dash).edit_term(
                group,
                term,
                form.get("mode", "")[:12],
                form.get("level", "")[:12],
                form.get("category", "")[:40],
                await actor_of(dash, viewer, group),
            )
        except DeskRefused as exc:
            return await show(request, viewer, group, error=t(lang, exc.key, **exc.values), status=400)
        return await show(request, viewer, group, notice=t(lang, "web.lexicon.edited", term=term))

    async def test(request: Request) -> Response:
        viewer, group = await dash.auth.in_group(request)
        form = await dash.auth.check_csrf(request, viewer)
        text = form.get("text", "")[:MAX_TEXT]
        verdict = await desk_port(dash).test(group, text) if text.strip() else None
        return await show(request, viewer, group, verdict=verdict, tested=text)

    return [
        ("/g/{group}/lexicon", "GET", lexicon_page),
        ("/g/{group}/lexicon/add", "POST", add),
        ("/g/{group}/lexicon/edit", "POST", edit),
        ("/g/{group}/lexicon/remove", "POST", remove),
        ("/g/{group}/lexicon/test", "POST", test),
    ]
