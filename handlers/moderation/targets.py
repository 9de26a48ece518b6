"""Where moderation commands act and where their lists go: shared by the command modules."""

from __future__ import annotations

from bot.args import BadArgument, resolve_member
from bot.context import Context
from bot.errors import CapabilityNotSupported, QunyouError
from bot.events import UserRef
from bot.messages import OutgoingMessage
from bot.roles import Role
from bot.services import Services
from handlers.moderation.sanctions import attempt
from handlers.moderation.service import Step
from storage.models import Group, Member

# -- where commands act and where lists go -------------------------------------------------


async def _target_group(ctx: Context) -> Group | None:
    """The group a command acts on: this group, or the group whose consented moderator chat
    this is (``/modchat link``, or the platform's convention such as the console's ``X-mods``)."""
    if ctx.group is None:
        return None
    return await ctx.services.alerts.moderated_group(ctx.group, ctx.chat) or ctx.group


async def _moderator_group(ctx: Context) -> Group | None:
    """The target group, after checking the caller moderates it.

    Returns None after giving the same polite refusal as the core when they do not. A command
    typed in a moderator chat acts on the linked group, so it needs moderator rank in both: in
    that group, and in the chat it is typed in.
    """
    group = await _target_group(ctx)
    if group is None:
        raise BadArgument("core.args.group_only")
    role = await ctx.role()
    if ctx.group is not None and group.id != ctx.group.id:
        role = min(role, await ctx.role_in(group))
    if role < Role.MODERATOR:
        await ctx.reply(ctx.t("core.denied"))
        return None
    return group


async def _deliver(ctx: Context, group: Group, text: str) -> None:
    """Send a list to a non-public place: here if private or the moderator chat, else there."""
    services = ctx.services
    if ctx.chat.is_private or (ctx.group is not None and ctx.group.id != group.id):
        await ctx.reply(text)
        return
    chat = await services.alerts.moderator_chat(group)
    if chat is not None:
        await services.send(chat, OutgoingMessage.of(text), group.language)
        await ctx.reply(ctx.t("moderation.sent_to_mods"))
        return
    try:
        await ctx.send_private(text)
    except (CapabilityNotSupported, QunyouError):
        await ctx.reply(ctx.t("moderation.no_private_place"))
        return
    await ctx.reply(ctx.t("moderation.sent_privately"))


async def _hide_command(ctx: Context, group: Group) -> None:
    """Delete a lexicon command typed in the public group, so the term does not stay on show."""
    if ctx.group is None or ctx.group.id != group.id or ctx.message is None:
        return
    steps: list[Step] = []
    message_id = ctx.message.message_id
    await attempt(steps, "delete", ctx.adapter, lambda: ctx.adapter.delete(ctx.chat, message_id))


async def _target(ctx: Context, group: Group, who: str | None) -> Member:
    """The member a moderator command is about: the typed word (``MemberRef``), else the
    author of the replied-to message."""
    services = ctx.services
    if who is None:
        if ctx.reply_target is None:
            raise BadArgument("moderation.no_target")
        member = await services.directory.member_for(group, ctx.reply_target)
    else:
        member = await resolve_member(ctx, who)
    me = ctx.adapter.me
    if me is not None and member.user_id == me.user_id:
        raise BadArgument("moderation.target_bot")
    if member.user_id == ctx.user.user_id:
        raise BadArgument("moderation.target_self")
    if await ctx.role_of(member.user_id) >= Role.MODERATOR:
        raise BadArgument("moderation.target_moderator")
    return member


def _ref(services: Services, group: Group, member: Member) -> UserRef:
    return services.directory.user_ref(member, group.platform)
