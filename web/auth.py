"""Who is looking: login links, sessions, CSRF, the login rate limit and group access.

* A ``/dashboard`` link (``storage.dashboard``) opens ``GET /login/<token>``: a page with one
  button, because chat apps fetch links for previews and a GET must not use the link up. Its
  ``POST`` uses the link (once, within 10 minutes) and opens a session.
* The session cookie is an opaque 256-bit random id; only its SHA-256 is stored, so it cannot be
  forged or read back from the database, and ``/dashboard logout`` ends it by deleting the row.
  It is HttpOnly, SameSite=Lax, and Secure when the base URL is https.
* Every POST carries the session's CSRF token (a hidden field), compared in constant time.
* Failed link attempts are counted per client address in the database (so a restart forgets
  none, and `bot web` and the workers share the count); past ``FAILURE_LIMIT`` in
  ``FAILURE_WINDOW`` the login answers 429 until the window has passed.
* Access: a session sees exactly the groups its account moderates, by the same roles the chat
  uses (``bot.permissions``: superusers, ``/promote`` grants, the platform's own roles). Any
  other group's URL answers 404, as if it did not exist.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request

from bot.roles import Role
from bot.services import Services
from storage.dashboard import Account, DashboardRepo
from storage.models import Group

COOKIE = "qunyou_session"
#: Failed login attempts allowed per client address in ``FAILURE_WINDOW``.
FAILURE_LIMIT = 10
FAILURE_WINDOW = timedelta(minutes=10)


#: Sent with every page: no framing (clickjacking on the action buttons), no sniffing, no
#: referrer (a login URL must not leak to another site), scripts and styles only from here.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


class PageError(Exception):
    """Answer with an error page: ``status`` and a ``web.error.<reason>`` message."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def not_found() -> PageError:
    """The answer for anything a session may not see: the same as for what does not exist."""
    return PageError(404, "not_found")


@dataclass(frozen=True, slots=True)
class Viewer:
    """A logged-in session."""

    session_id: str
    account: Account
    csrf: str
    lang: str | None


class FailureLimiter:
    """Failed login attempts per client address in a sliding window, kept in the database
    (``dashboard_login_failures``): a restart does not reset an address's budget, and every
    process on the database (`bot web`, the workers) counts against the same one."""

    def __init__(
        self, repo: DashboardRepo, limit: int = FAILURE_LIMIT, window: timedelta = FAILURE_WINDOW
    ) -> None:
        self.repo = repo
        self.limit = limit
        self.window = window

    async def blocked(self, client: str, now: datetime) -> bool:
        """True while ``client`` has used up its failures."""
        return await self.repo.failures_since(client, now - self.window) >= self.limit

    async def failed(self, client: str, now: datetime) -> None:
        """Count one failure of ``client``."""
        await self.repo.add_failure(client, now, self.window)


def client_of(request: Request) -> str:
    """The client's address (behind a proxy, run uvicorn with --proxy-headers; docs/dashboard.md)."""
    return request.client.host if request.client else "unknown"


class Auth:
    """Sessions and access over the dashboard's tables and the bot's permissions."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.repo = DashboardRepo(services.db)
        self.limiter = FailureLimiter(self.repo)
        self.lifetime = timedelta(days=services.config.web.session_days)
        self.secure = services.config.web.base_url.startswith("https://")

    def now(self) -> datetime:
        """The bot's clock (virtual in tests and the console)."""
        return self.services.clock.now()

    async def viewer(self, request: Request) -> Viewer | None:
        """The session of the request's cookie, or None."""
        session_id = request.cookies.get(COOKIE)
        if not session_id or len(session_id) > 128:
            return None
        row = await self.repo.session(session_id, self.now())
        if row is None:
            return None
        return Viewer(session_id, row.account, row.csrf, row.lang)

    async def require(self, request: Request) -> Viewer:
        """The session, or a 401 page telling how to log in."""
        viewer = await self.viewer(request)
        if viewer is None:
            raise PageError(401, "login_needed")
        return viewer

    async def check_csrf(self, request: Request, viewer: Viewer) -> dict[str, str]:
        """The posted form, once its CSRF token matches the session's (else a 403 page)."""
        form = await request.form()
        token = form.get("csrf")
        if not isinstance(token, str) or not secrets.compare_digest(token, viewer.csrf):
            raise PageError(403, "csrf")
        return {k: v for k, v in form.items() if isinstance(v, str)}

    async def open_session(self, account: Account) -> tuple[str, str]:
        """A new session for ``account``: (session id for the cookie, CSRF token)."""
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self.now()
        await self.repo.open_session(session_id, account, csrf, now, now + self.lifetime)
        return session_id, csrf

    # -- access ---------------------------------------------------------------------------

    async def role(self, account: Account, group: Group) -> Role:
        """The account's role in ``group``, exactly as a command there would see it."""
        services = self.services
        if group.platform != account.platform:
            return Role.MEMBER
        permissions = services.permissions
        if permissions.is_superuser(account.platform, account.user_id):
            return Role.SUPERUSER
        adapter = services.adapters.get(group.adapter)
        if adapter is None:
            # `bot web` has no platform connection: grants (/promote) are what it can see.
            return (await permissions.overrides(group.id)).get(account.user_id, Role.MEMBER)
        chat = services.directory.chat_for(group)
        return await permissions.role_of(adapter, chat, group.id, account.user_id)

    async def groups(self, viewer: Viewer) -> list[Group]:
        """The groups the session may see: those its account moderates (superuser: all)."""
        out = []
        for group in await self.services.groups.all():
            if await self.role(viewer.account, group) >= Role.MODERATOR:
                out.append(group)
        return out

    async def in_group(self, request: Request) -> tuple[Viewer, Group]:
        """The session and the group its URL names: 401 without a session, 404 unless the
        viewer moderates that group (what every group page checks first)."""
        viewer = await self.require(request)
        group, _role = await self.group(viewer, request.path_params["group"])
        return viewer, group

    async def group(self, viewer: Viewer, group_id: str) -> tuple[Group, Role]:
        """The group of a URL and the viewer's role there; 404 unless they moderate it."""
        if not group_id.isdigit() or len(group_id) > 12:
            raise not_found()
        group = await self.services.groups.get(int(group_id))
        if group is None:
            raise not_found()
        role = await self.role(viewer.account, group)
        if role < Role.MODERATOR:
            raise not_found()
        return group, role
