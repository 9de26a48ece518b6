"""Welcome and rules commands: ``/rules``, ``/setrules``, ``/setwelcome``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.args import BadArgument
from bot.media import attach_picture, forget_picture, picked_image, split_image_word
from bot.params import OFF_WORDS, Rest
from bot.planned_posts import check_length
from bot.roles import Role
from bot.router import Router
from handlers.onboarding.settings import WelcomeSettings
from handlers.onboarding.state import onboarding_state

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services
    from storage.models import Group

_RESET = {"reset", "default", "默认", "重置"}
#: The welcome's name in the media store (``bot.media``).
WELCOME_PICTURE = "welcome"

router = Router("welcome")


def render_template(template: str, name: str, group: str, rules: str) -> str:
    """Fill ``{name}``, ``{group}``, ``{rules}``; anything else in braces stays as typed.

    Plain replacement, not ``str.format``: a moderator's template must not reach attributes.
    """
    return template.replace("{name}", name).replace("{group}", group).replace("{rules}", rules)


async def rules_text(services: Services, group: Group) -> str:
    """The group's rules, or the "no rules yet" text."""
    rules = str((await services.settings.of(group.id, WelcomeSettings)).rules or "")
    return rules or services.i18n.t(group.language, "welcome.no_rules")


@router.command(
    "rules", aliases=("群规",), usage="welcome.rules_usage", help="welcome.rules_help", ignore_extra=True
)
async def rules_cmd(ctx: Context) -> None:
    """Show the group's rules."""
    assert ctx.group is not None
    rules = str((await ctx.settings(WelcomeSettings)).rules or "")
    if not rules:
        await ctx.reply(ctx.t("welcome.no_rules"))
        return
    if ctx.member is not None:
        await onboarding_state(ctx.services).repo.mark(ctx.group.id, ctx.member.id, "read_rules_at", ctx.now)
    await ctx.reply(ctx.t("welcome.rules_show", rules=rules))


@router.command(
    "setrules",
    aliases=("设置群规",),
    min_role=Role.MODERATOR,
    usage="welcome.setrules_usage",
    help="welcome.setrules_help",
    args=[Rest("text", optional=True, default="")],
)
async def setrules_cmd(ctx: Context, text: str) -> None:
    """``/setrules TEXT`` or ``/setrules off``."""
    assert ctx.group is not None
    if not text:
        raise BadArgument("welcome.err_empty_rules")
    if text.lower() in OFF_WORDS:
        text = ""
    check_length(ctx, text, "welcome.err_too_long")
    await ctx.services.settings.write(ctx.group.id, WelcomeSettings, ctx.user.user_id, ctx.now, rules=text)
    await ctx.reply(ctx.t("welcome.rules_set" if text else "welcome.rules_cleared"))


@router.command(
    "setwelcome",
    aliases=("设置欢迎",),
    min_role=Role.MODERATOR,
    usage="welcome.setwelcome_usage",
    help="welcome.setwelcome_help",
    args=[Rest("text", optional=True, default="")],
)
async def setwelcome_cmd(ctx: Context, text: str) -> None:
    """``/setwelcome TEXT`` with ``{name}``, ``{group}``, ``{rules}``; ``off``; ``reset``."""
    assert ctx.group is not None
    image_name, text = split_image_word(text)
    if not text:
        raise BadArgument("welcome.err_empty_template")
    if text.lower() in _RESET:
        await ctx.services.settings.restore(ctx.group.id, WelcomeSettings, "template")
        await forget_picture(ctx.services, ctx.group, WELCOME_PICTURE)
        await ctx.reply(ctx.t("welcome.template_reset"))
        return
    check_length(ctx, text, "welcome.err_too_long")
    value = "off" if text.lower() in OFF_WORDS else text
    # The picture first: one that is refused leaves the welcome as it was.
    media_id = None if value == "off" else await picked_image(ctx, image_name)
    await ctx.services.settings.write(
        ctx.group.id, WelcomeSettings, ctx.user.user_id, ctx.now, template=value
    )
    # The welcome is what was set last: a new one without a picture carries none.
    await forget_picture(ctx.services, ctx.group, WELCOME_PICTURE)
    pictured = await attach_picture(ctx.services, ctx.group, WELCOME_PICTURE, media_id)
    if value == "off":
        await ctx.reply(ctx.t("welcome.template_off"))
        return
    preview = render_template(
        text,
        ctx.user.display_name,
        ctx.group.title or ctx.group.scope_id,
        await rules_text(ctx.services, ctx.group),
    )
    await ctx.reply(
        ctx.t("welcome.template_set", preview=preview) + ("\n" + ctx.t("media.attached") if pictured else "")
    )
