"""``/dashboard`` and ``/dashboard logout``."""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.context import Context
from bot.errors import CapabilityNotSupported, QunyouError, TargetNotFound
from bot.roles import Role
from bot.router import Router
from storage.dashboard import Account, DashboardRepo

router = Router("dashboard")

#: How long a login link stays valid.
LINK_TTL = timedelta(minutes=10)
#: At most this many links per account per ``LINK_TTL`` (a leaked chat cannot mint a pile).
LINK_LIMIT = 5


def login_path(token: str) -> str:
    """The dashboard path a link's token opens."""
    return f"/login/{token}"


dashboard = router.group(
    "dashboard",
    aliases=("驾驶舱", "后台"),
    usage="dashboard.usage",
    help="dashboard.help",
    where="any",
)


@dashboard.default()
async def dashboard_link(ctx: Context) -> None:
    """Send the caller a one-time login link by private message."""
    if ctx.group is not None and await ctx.role() < Role.MODERATOR:
        await ctx.reply(ctx.t("dashboard.moderators_only"))
        return
    services = ctx.services
    repo = DashboardRepo(services.db)
    account = Account(ctx.chat.platform, ctx.user.user_id)
    now = ctx.now
    await repo.sweep(now)
    if await repo.links_since(account, now - LINK_TTL) >= LINK_LIMIT:
        await ctx.reply(ctx.t("dashboard.too_many", minutes=int(LINK_TTL.total_seconds() // 60)))
        return
    token = secrets.token_urlsafe(32)
    url = services.config.web.base_url + login_path(token)
    try:
        # Stored before sending: a `bot web` process may be asked for it the moment it arrives.
        await repo.add_link(token, account, now, now + LINK_TTL)
        await ctx.send_private(ctx.t("dashboard.link", url=url, minutes=int(LINK_TTL.total_seconds() // 60)))
    except (CapabilityNotSupported, TargetNotFound):
        # No private chat (the platform has none, or the member never opened one with the bot):
        # the link must never be posted in the group instead.
        await ctx.reply(ctx.t("dashboard.no_private"))
        return
    except QunyouError:
        await ctx.reply(ctx.t("dashboard.send_failed"))
        return
    if ctx.group is not None:
        await ctx.reply(ctx.t("dashboard.sent"))


@dashboard.sub("logout", aliases=("退出",))
async def dashboard_logout(ctx: Context) -> None:
    """End every dashboard session of the caller, in every browser."""
    ended = await DashboardRepo(ctx.services.db).close_all(Account(ctx.chat.platform, ctx.user.user_id))
    await ctx.reply(ctx.t("dashboard.logged_out", count=ended))
