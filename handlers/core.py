"""Built-in commands: help, start, ping, settings, language, status, roles, data export and erasure."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from bot import __version__, data_rights
from bot.adapter import Capability
from bot.args import BadArgument, UsageError, button_fields, decode_id, excerpt
from bot.clock import UnknownTimezone
from bot.context import Context
from bot.errors import CapabilityNotSupported
from bot.feature import Feature
from bot.i18n import normalize_language
from bot.messages import Button, OutgoingMessage, Text
from bot.params import USAGE, Choice, Member, Word, Words
from bot.ports import AuditTrail, LinkedAccounts
from bot.roles import Role
from bot.router import Router
from bot.services import CommandView
from bot.settings import GUARDED, FeatureSettings, SettingError, SettingSpec, String, parse_timezone
from storage.models import Group
from storage.models import Member as MemberRow

if TYPE_CHECKING:
    from bot.services import Services

router = Router("core")
log = logging.getLogger(__name__)

_SPECIAL_KEYS = ("language", "timezone")
#: The operator's config-wide moderator chat (``[core] mod_chat``); groups link theirs with
#: ``/modchat link``, never with ``/set``.
MOD_CHAT_KEY = "mod_chat"


class CoreSettings(FeatureSettings):
    """The core's settings: bare keys, ``[core]`` in config.toml."""

    mod_chat: Annotated[String, GUARDED] = Field(
        "", description="operator default chat for every group's alerts (groups link their own with /modchat)"
    )


def _visible(ctx: Context, command: CommandView) -> bool:
    if command.hidden:
        return False
    if ctx.group is None:
        return command.where in ("private", "any")
    return command.where in ("group", "any")


def _usage_line(ctx: Context, command: CommandView) -> str:
    return ctx.t(command.usage) if command.usage else f"/{command.name}"


#: ``/help all``: every command, whoever asks.
_ALL_WORDS = ("all", "全部")


def _listing(ctx: Context, command: CommandView, role: Role | None) -> list[str]:
    """``/help`` lines for ``command``: its usage line, or, for a command made of subcommands,
    the forms ``role`` may use (all forms when ``role`` is None); nothing when none."""
    if role is not None and role < command.min_role:
        return []
    if not command.subcommands:
        return [_usage_line(ctx, command)]
    permitted = command.forms(role, ctx.t)
    if not permitted:
        return []
    if command.usage and len(permitted) == len(command.forms(None, ctx.t)):
        return [ctx.t(command.usage)]
    # Some forms are for moderators only: list the ones this member may use, generated from
    # the declarations, with the first sentence of the help.
    line = " · ".join(permitted)
    summary = _summary(ctx, command)
    return [f"{line} — {summary}" if summary else line]


def _summary(ctx: Context, command: CommandView) -> str:
    """A few words saying what a command is for: the tail of its usage line when that names no
    other form (``… — 推荐度（NPS）调查``), else the first clause of its help."""
    if command.usage:
        _, dash, tail = ctx.t(command.usage).rpartition(" — ")
        if dash and "/" not in tail:
            return tail.strip()
    text = ctx.t(command.help).strip() if command.help else ""
    first = text.splitlines()[0] if text else ""
    for stop in ("。", "，", "；", ". ", ", ", "; "):
        first = first.split(stop, 1)[0]
    first = first.strip()
    if first[:2].isascii() and first[:2].istitle():
        first = first[0].lower() + first[1:]  # "Plan an activity" reads on like the usage lines
    return first


@router.command(
    "help",
    aliases=("帮助", "help", "菜单"),
    usage="core.help.usage",
    help="core.help.help",
    where="any",
    args=[Word("name", optional=True, hint="core.param.command")],
)
async def help_command(ctx: Context, name: str | None) -> None:
    """List the commands the caller may use (``all``: every command), or explain one."""
    table = ctx.services.commands
    role = await ctx.role()
    if name is not None and name.lower() in _ALL_WORDS:
        lines = [ctx.t("core.help.all_header")]
        lines += ["• " + line for c in table.all() if _visible(ctx, c) for line in _listing(ctx, c, None)]
        await ctx.reply("\n".join(lines))
        return
    if name is not None:
        name = name.lstrip("/!！").lower()
        command = table.by_name.get(name) or (table.plain.get(name, (None, ""))[0])
        if command is None or command.hidden:
            raise BadArgument("core.help.unknown", name=name[:24])
        lines = [_usage_line(ctx, command)]
        if command.help:
            lines.append(ctx.t(command.help))
        lines.append(ctx.t("core.help.forms"))
        lines += ["  " + form for form in command.forms(None, ctx.t)]
        words = [a if isinstance(a, str) else a[0] for a in command.aliases]
        if words:
            lines.append(ctx.t("core.help.aliases", aliases="、".join(words)))
        if command.min_role > Role.MEMBER:
            lines.append(ctx.t("core.help.role", role=ctx.t(f"core.role.{command.min_role.label}")))
        await ctx.reply("\n".join(lines))
        return
    lines = [ctx.t("core.help.header")]
    partial = False
    for command in table.all():
        if _visible(ctx, command):
            shown = _listing(ctx, command, role)
            partial = partial or shown != _listing(ctx, command, None)
            lines += ["• " + line for line in shown]
    lines.append(ctx.t("core.help.footer"))
    if partial:
        # Some commands (or forms) are for moderators: say where the whole list is.
        lines.append(ctx.t("core.help.all_hint"))
    await ctx.reply("\n".join(lines))


@router.command("start", usage="core.start.usage", where="any", ignore_extra=True)
async def start(ctx: Context) -> None:
    """Say hello."""
    await ctx.reply(ctx.t("core.start.text", name=ctx.services.config.bot.name))


@router.command("ping", aliases=("ping",), usage="core.ping.usage", where="any", ignore_extra=True)
async def ping(ctx: Context) -> None:
    """Answer, so a member knows the bot is alive."""
    await ctx.reply(ctx.t("core.ping.reply"))


@router.command(
    "id",
    aliases=("id",),
    usage="core.id.usage",
    help="core.id.help",
    where="any",
    ignore_extra=True,
)
async def id_command(ctx: Context) -> None:
    """Tell the caller their platform user id and this chat's id, as config.toml wants them.

    Any member, in a group or privately: these ids are what ``[bot.superusers]`` and
    ``[core] mod_chat`` need, and platforms rarely show them. It takes no arguments.
    """
    chat, user = ctx.chat, ctx.user
    lines = [
        ctx.t("core.id.user", user_id=user.user_id, platform=chat.platform),
        ctx.t(
            "core.id.private" if chat.is_private else "core.id.chat",
            chat_id=chat.channel_id,
            adapter=chat.adapter,
        ),
    ]
    if not chat.is_private and chat.scope_id != chat.channel_id:
        # Discord: the server holds the channel; settings and roles are per server.
        lines.append(ctx.t("core.id.scope", scope_id=chat.scope_id))
    if chat.thread_id:
        lines.append(ctx.t("core.id.thread", thread_id=chat.thread_id))
    lines.append(ctx.t("core.id.superuser", platform=chat.platform, user_id=user.user_id))
    if not chat.is_private:
        lines.append(ctx.t("core.id.mod_chat", chat_id=chat.channel_id))
    await ctx.reply("\n".join(lines))


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value == "" or value is None:
        return "—"
    return str(value)


@router.command(
    "settings",
    usage="core.settings.usage",
    min_role=Role.MEMBER,
    args=[Word("prefix", optional=True, default="", hint="core.param.prefix")],
)
async def settings_command(ctx: Context, prefix: str) -> None:
    """Show the group's settings."""
    assert ctx.group is not None
    service = ctx.services.settings
    overrides = await service.overrides(ctx.group.id)
    lines = [ctx.t("core.settings.header")]
    lines.append(f"language = {ctx.group.language}")
    lines.append(f"timezone = {ctx.group.timezone}")
    for key in service.keys(prefix):
        value = await service.get(ctx.group.id, key)
        mark = " *" if key in overrides else ""
        lines.append(f"{key} = {_show(value)}{mark}")
    lines.append(ctx.t("core.settings.footer"))
    await ctx.reply("\n".join(lines))


@router.command(
    "set",
    usage="core.set.usage",
    help="core.set.help",
    min_role=Role.MODERATOR,
    args=[Word("key", hint="core.param.key"), Words("raw", hint="core.param.value")],
)
async def set_command(ctx: Context, key: str, raw: str) -> None:
    """Change one group setting, validated."""
    assert ctx.group is not None
    services = ctx.services
    if key == "language":
        lang = normalize_language(raw)
        if lang is None:
            raise BadArgument("core.set.bad_value", key=key, allowed="zh | en")
        ctx.group = await services.directory.update_group(ctx.group, language=lang)
        ctx.lang = lang
    elif key == "timezone":
        try:
            tz = parse_timezone(raw)
        except UnknownTimezone as err:
            if err.suggestions:
                raise BadArgument(
                    "core.set.bad_timezone_hint", value=excerpt(raw), suggestions=", ".join(err.suggestions)
                ) from None
            raise BadArgument("core.set.bad_timezone", value=excerpt(raw)) from None
        ctx.group = await services.directory.update_group(ctx.group, timezone=tz)
        await ctx.reply(ctx.t("core.set.done", key=key, value=tz))
        return
    elif key.lower() == MOD_CHAT_KEY:
        # Pointing a group's alerts and moderator commands at another chat needs that chat's
        # consent too; a bare setting let one group's moderators disarm another group.
        raise BadArgument("core.set.mod_chat_link")
    elif _resolve_key(services.settings.specs, key) is None:
        raise BadArgument("core.set.unknown_key", key=key[:40])
    else:
        key = _resolve_key(services.settings.specs, key) or key
        spec = services.settings.specs[key]
        if await ctx.role() < spec.required_role:
            await ctx.reply(ctx.t("core.set.admins_only" if spec.guarded else "core.denied"))
            return
        try:
            value = await services.settings.set(ctx.group.id, key, raw, ctx.user.user_id, ctx.now)
        except SettingError as exc:
            raise BadArgument("core.set.bad_value", key=exc.key, allowed=exc.reason) from None
        await ctx.reply(ctx.t("core.set.done", key=key, value=_show(value)))
        if spec.guarded:
            await _announce_guarded_change(ctx, ctx.group, key, _show(value))
        return
    await ctx.reply(ctx.t("core.set.done", key=key, value=raw))


async def _announce_guarded_change(ctx: Context, group: Group, key: str, value: str) -> None:
    """Audit a guarded setting's change and tell the group's moderators who made it."""
    services = ctx.services
    trail = services.ports.find(AuditTrail)
    if trail is not None:
        await trail.record(group.id, ctx.now, ctx.user.user_id, "set", f"{key}={value}")
    else:
        log.info("group %s: %s set %s=%s", group.id, ctx.user.user_id, key, value)
    text = services.i18n.t(
        group.language, "core.set.guarded_notice", key=key, value=value, user=ctx.user.display_name
    )
    await services.alerts.notify(group, OutgoingMessage.of(text))


def _resolve_key(specs: dict[str, SettingSpec], key: str) -> str | None:
    """A full key, or a unique short one (``store_text`` for ``stats.store_text``)."""
    if key in specs:
        return key
    matches = [full for full in specs if full.endswith("." + key)]
    return matches[0] if len(matches) == 1 else None


@router.command(
    "lang",
    aliases=("语言",),
    usage="core.lang.usage",
    min_role=Role.MODERATOR,
    args=[Word("language", hint="core.param.language")],
)
async def lang_command(ctx: Context, language: str) -> None:
    """Switch the group's language."""
    assert ctx.group is not None
    lang = normalize_language(language)
    if lang is None:
        raise UsageError()
    ctx.group = await ctx.services.directory.update_group(ctx.group, language=lang)
    ctx.lang = lang
    await ctx.reply(ctx.t("core.lang.done"))


@router.command("status", usage="core.status.usage", min_role=Role.MODERATOR, where="any", ignore_extra=True)
async def status(ctx: Context) -> None:
    """Version, adapters and their warnings, database, scheduled jobs."""
    services = ctx.services
    lines = [ctx.t("core.status.header", version=__version__)]
    for adapter in services.adapters.values():
        lines.append(ctx.t("core.status.adapter", adapter=adapter.status_line()))
        for warning in adapter.warnings():
            # Adapters may give an i18n key (translated here, in the reader's language) or text.
            lines.append("  ⚠ " + (ctx.t(warning) if services.i18n.has(warning) else warning))
    lines.append(ctx.t("core.status.database", backend=services.db.backend))
    lines.append(
        ctx.t("core.status.jobs", count=await services.jobs.count(), pending=services.scheduler.pending())
    )
    lines.append(ctx.t("core.status.features", features=", ".join(f.name for f in services.features)))
    await ctx.reply("\n".join(lines))


_PROMOTABLE = {
    "moderator": Role.MODERATOR,
    "mod": Role.MODERATOR,
    "管理": Role.MODERATOR,
    "admin": Role.ADMIN,
    "管理员": Role.ADMIN,
}


@router.command(
    "promote",
    usage="core.promote.usage",
    min_role=Role.ADMIN,
    args=[Member("target"), Choice("role", words=_PROMOTABLE, error=USAGE)],
)
async def promote(ctx: Context, target: MemberRow, role: Role) -> None:
    """Grant a member a role in this group."""
    assert ctx.group is not None
    if role > await ctx.role():
        await ctx.reply(ctx.t("core.denied"))
        return
    if target.is_bot:
        raise BadArgument("core.promote.not_bot")
    services = ctx.services
    await services.roles.put(ctx.group.id, target.user_id, role.label, ctx.user.user_id, ctx.now)
    services.permissions.invalidate(ctx.group.id)
    await ctx.reply(
        ctx.parts(
            "core.promote.done",
            user=services.directory.user_ref(target, ctx.chat.platform),
            role=ctx.t(f"core.role.{role.label}"),
        )
    )


@router.command("demote", usage="core.demote.usage", min_role=Role.ADMIN, args=[Member("target")])
async def demote(ctx: Context, target: MemberRow) -> None:
    """Take a granted role away."""
    assert ctx.group is not None
    services = ctx.services
    current = (await services.permissions.overrides(ctx.group.id)).get(target.user_id)
    if current is not None and current > await ctx.role():
        await ctx.reply(ctx.t("core.denied"))
        return
    removed = await services.roles.remove(ctx.group.id, target.user_id)
    services.permissions.invalidate(ctx.group.id)
    key = "core.demote.done" if removed else "core.demote.none"
    await ctx.reply(ctx.parts(key, user=services.directory.user_ref(target, ctx.chat.platform)))


async def _memberships(ctx: Context) -> list[MemberRow]:
    """This membership in a group; privately every group's, of every linked account too."""
    if ctx.member is not None:
        return [ctx.member]
    mine = await ctx.services.members.for_user(ctx.chat.adapter, ctx.user.user_id)
    linked = ctx.services.ports.find(LinkedAccounts)
    if linked is None:
        return mine
    seen = {m.id for m in mine}
    for platform, user_id in await linked.accounts(ctx.chat.platform, ctx.user.user_id):
        for member in await ctx.services.members.for_account(platform, user_id):
            if member.id not in seen:
                seen.add(member.id)
                mine.append(member)
    return mine


@router.command("mydata", aliases=("我的数据",), usage="core.mydata.usage", where="any", ignore_extra=True)
async def mydata(ctx: Context) -> None:
    """Send the member everything stored about them, as JSON, privately."""
    services = ctx.services
    if not ctx.adapter.supports(Capability.PRIVATE):
        await ctx.reply(ctx.t("core.mydata.no_private"))
        return
    export: dict[str, Any] = {"user_id": ctx.user.user_id, "platform": ctx.chat.platform, "groups": []}
    linked = services.ports.find(LinkedAccounts)
    if linked is not None:
        accounts = await linked.accounts(ctx.chat.platform, ctx.user.user_id)
        me = (ctx.chat.platform, ctx.user.user_id)
        # The console's ids of other platforms already carry the platform (``telegram:bob``).
        export["linked_accounts"] = [
            u if u.startswith(f"{p}:") else f"{p}:{u}" for p, u in accounts if (p, u) != me
        ]
    for member in await _memberships(ctx):
        group = await services.directory.group_by_id(member.group_id)
        entry: dict[str, Any] = {
            "group": group.title or group.scope_id if group else member.group_id,
            "member": {
                "display_name": member.display_name,
                "username": member.username,
                "first_seen": member.first_seen.isoformat(),
                "last_seen": member.last_seen.isoformat(),
                "joined_at": member.joined_at.isoformat() if member.joined_at else None,
                "left_at": member.left_at.isoformat() if member.left_at else None,
            },
        }
        entry.update(await data_rights.export_member(services, member))
        export["groups"].append(entry)
    body = json.dumps(export, ensure_ascii=False, indent=1, default=str)
    try:
        await ctx.send_private(ctx.t("core.mydata.header") + "\n" + body)
    except CapabilityNotSupported:
        await ctx.reply(ctx.t("core.mydata.no_private"))
        return
    if ctx.group is not None:
        await ctx.reply(ctx.t("core.mydata.sent"))


@router.command(
    "forgetme", aliases=("删除我的数据",), usage="core.forgetme.usage", where="group", ignore_extra=True
)
async def forgetme(ctx: Context) -> None:
    """Ask for confirmation before erasing the member's data."""
    assert ctx.member is not None
    member_id = ctx.member.id
    buttons = (
        (
            Button(ctx.t("core.forgetme.yes"), f"core:forget:yes:{member_id}", "/forgetme"),
            Button(ctx.t("core.forgetme.no"), f"core:forget:no:{member_id}"),
        ),
    )
    await ctx.reply(OutgoingMessage(parts=(Text(ctx.t("core.forgetme.confirm")),), buttons=buttons))


@router.button("core:forget:")
async def forget_button(ctx: Context) -> None:
    """Run every feature's delete hook once the member confirms."""
    services = ctx.services
    event = ctx.event
    fields = button_fields(getattr(event, "data", ""), 4)
    member_id = decode_id(fields[3]) if fields else None
    if fields is None or member_id is None:
        return  # forged or garbled: ours are ``core:forget:yes|no:MEMBER``
    answer = fields[2]
    member = await services.members.get(member_id)
    message_id = getattr(event, "message_id", "")
    if member is None or member.forgotten:
        # Pressed again after it was done: their id is gone, so it is theirs no more to check.
        await _edit_or_send(ctx, message_id, ctx.t("core.forgetme.done"))
        return
    if member.user_id != ctx.user.user_id:
        await ctx.send(ctx.t("core.forgetme.not_yours"))
        return
    if answer != "yes":
        await _edit_or_send(ctx, message_id, ctx.t("core.forgetme.cancelled"))
        return
    await data_rights.forget_member(services, member)
    await _edit_or_send(ctx, message_id, ctx.t("core.forgetme.done"))


async def _edit_or_send(ctx: Context, message_id: str, text: str) -> None:
    if ctx.adapter.supports(Capability.EDIT) and message_id:
        try:
            await ctx.adapter.edit(ctx.chat, message_id, OutgoingMessage(parts=(Text(text),)))
            return
        except Exception:
            pass
    await ctx.send(text)


async def _startup(services: Services) -> None:
    data_rights.register(services)  # the retention sweep after /forgetme


FEATURE = Feature(
    name="core",
    router=router,
    startup=_startup,
    # Without the moderation feature there is no /modlog; guarded changes then go to the log.
    uses=(AuditTrail, LinkedAccounts),
    settings=CoreSettings,
)
