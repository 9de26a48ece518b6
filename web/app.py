"""The dashboard (issue 17): server-rendered pages over the running bot's services.

``dashboard_routes(services)`` returns the routes ``web.create_app`` serves beside the health
routes. Pages are Jinja2 templates (``web/templates``, auto-escaped) with one stylesheet and a
few lines of script (``web/static``), shipped as package data: no Node build. Every string on a
page comes from the bot's catalogs (``bot/locales/<lang>/web.toml``), in the group's language
unless the session chose another.

The web side reaches features only through ports (``GroupIndicators``, ``ModerationDesk``), the
settings service and its own tables, never another feature's modules or tables.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.clock import zone
from bot.i18n import LANGUAGES, normalize_language
from bot.services import Services
from storage.models import Group
from web.auth import COOKIE, SECURITY_HEADERS, Auth, PageError, Viewer, client_of

Handler = Callable[[Request], Awaitable[Response]]

#: Rows per page of every list (alerts, terms).
PAGE_SIZE = 25


class Dashboard:
    """What every page needs: the services, sessions and access, and the template renderer."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.auth = Auth(services)
        self.env = Environment(
            loader=PackageLoader("web", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["localtime"] = _local_time

    def language(self, viewer: Viewer | None, group: Group | None, request: Request | None = None) -> str:
        """The session's choice, else the group's language, else the bot's."""
        if viewer is not None and viewer.lang in LANGUAGES:
            return viewer.lang
        if group is not None and group.language in LANGUAGES:
            return group.language
        if request is not None:
            wanted = normalize_language(request.headers.get("accept-language", "").split(",")[0])
            if wanted is not None:
                return wanted
        return self.services.config.bot.language

    async def render(
        self,
        request: Request,
        template: str,
        *,
        viewer: Viewer | None = None,
        group: Group | None = None,
        status: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        """A page: ``template`` with the translator, the session's CSRF token and the nav."""
        lang = self.language(viewer, group, request)
        i18n = self.services.i18n

        def t(key: str, **kw: Any) -> str:
            return i18n.t(lang, key, **kw)

        groups = await self.auth.groups(viewer) if viewer is not None else []
        html = self.env.get_template(template).render(
            t=t,
            lang=lang,
            languages=LANGUAGES,
            viewer=viewer,
            csrf=viewer.csrf if viewer else "",
            group=group,
            groups=groups,
            path=request.url.path,
            bot_name=self.services.config.bot.name,
            **values,
        )
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _local_time(at: datetime, timezone: str) -> str:
    """An instant as the group's local date and time."""
    return at.astimezone(zone(timezone)).strftime("%Y-%m-%d %H:%M")


def page(dash: Dashboard, handler: Handler) -> Handler:
    """Wrap a route so a ``PageError`` becomes its error page (401 login, 403, 404, 429)."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except PageError as exc:
            viewer = await dash.auth.viewer(request) if exc.status != 401 else None
            return await dash.render(
                request, "error.html", viewer=viewer, status=exc.status, reason=exc.reason
            )

    return wrapped


def _auth_routes(dash: Dashboard) -> list[BaseRoute]:
    auth = dash.auth

    async def home(request: Request) -> Response:
        viewer = await auth.require(request)
        return await dash.render(request, "home.html", viewer=viewer)

    async def login_form(request: Request) -> Response:
        token = request.path_params["token"]
        client, now = client_of(request), auth.now()
        if await auth.limiter.blocked(client, now):
            raise PageError(429, "too_many")
        if len(token) > 100 or await auth.repo.peek_link(token, now) is None:
            await auth.limiter.failed(client, now)
            raise PageError(400, "bad_link")
        return await dash.render(request, "login.html", token=token)

    async def login(request: Request) -> Response:
        token = request.path_params["token"]
        client, now = client_of(request), auth.now()
        if await auth.limiter.blocked(client, now):
            raise PageError(429, "too_many")
        account = await auth.repo.use_link(token, now) if len(token) <= 100 else None
        if account is None:
            await auth.limiter.failed(client, now)
            raise PageError(400, "bad_link")
        session_id, _csrf = await auth.open_session(account)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE,
            session_id,
            max_age=int(auth.lifetime.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=auth.secure,
            path="/",
        )
        return response

    async def logout(request: Request) -> Response:
        viewer = await auth.require(request)
        await auth.check_csrf(request, viewer)
        await auth.repo.close_session(viewer.session_id)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    async def language(request: Request) -> Response:
        viewer = await auth.require(request)
        form = await auth.check_csrf(request, viewer)
        lang = normalize_language(form.get("lang"))
        if lang is None:
            raise PageError(400, "bad_value")
        await auth.repo.set_language(viewer.session_id, lang)
        back = form.get("back", "/")
        # Only a path of this site: never an open redirect.
        target = back if back.startswith("/") and not back.startswith("//") else "/"
        return RedirectResponse(target, status_code=303)

    return [
        Route("/", page(dash, home), methods=["GET"]),
        Route("/login/{token}", page(dash, login_form), methods=["GET"]),
        Route("/login/{token}", page(dash, login), methods=["POST"]),
        Route("/logout", page(dash, logout), methods=["POST"]),
        Route("/lang", page(dash, language), methods=["POST"]),
    ]


def dashboard_routes(services: Services) -> list[BaseRoute]:
    """Every dashboard route over a started bot's ``services``."""
    from web.routes import audit, charts, content, desk, lexicon, members, overview, settings

    dash = Dashboard(services)
    static = StaticFiles(packages=[("web", "static")])
    routes: list[BaseRoute] = [Mount("/static", app=static, name="static"), *_auth_routes(dash)]
    for module in (overview, charts, desk, audit, lexicon, members, settings, content):
        for path, method, handler in module.routes(dash):
            routes.append(Route(path, page(dash, handler), methods=[method]))
    return routes
