"""Federations across platforms: ``/fed``, ``/fban``, ``/unfban``, ``/fedinfo``, ``/fedadmins``,
``/fbanlist``; the ban list applies in every subscribed chat and on every later join.

Bans are carried out through the moderation feature's ``MemberSanctions`` port, so each is a
recorded, audited ban a moderator could lift, exactly as ``/ban`` in that chat would be.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from bot.args import BadArgument, excerpt, resolve_member
from bot.context import Context
from bot.errors import QunyouError
from bot.params import Rest, Word, Words
from bot.ports import MemberSanctions
from bot.roles import Role
from bot.services import Services
from handlers.community.commands import NAME_MAX, router, shown
from handlers.community.state import federations_changed, get_state
from storage.community import Account, Federation, FederationBan, accounts_on
from storage.models import Group

#: Longest reason kept with a federation ban.
REASON_MAX = 200
#: Most lines one ``/fed import`` takes.
IMPORT_MAX = 10_000
FED_ACTOR = "federation"


@dataclass(frozen=True)
class Target:
    """Whom a federation command names: an account, and a name to show."""

    account: Account
    name: str


async def _target(ctx: Context, who: str | None) -> Target:
    """A member of this chat (mention, name or reply), or a bare platform id of this platform."""
    assert ctx.group is not None
    try:
        member = await resolve_member(ctx, who)
        return Target(Account(ctx.group.platform, member.user_id), member.display_name)
    except BadArgument:
        word = (who or "").strip().lstrip("@")
        if not word or len(word) > 64 or any(ch.isspace() for ch in word):
            raise
        return Target(Account(ctx.group.platform, word), word)


async def _federation(ctx: Context) -> Federation | None:
    assert ctx.group is not None
    found = await get_state(ctx.services).repos.federations.of_group(ctx.group.id)
    if found is None:
        await ctx.reply(ctx.t("community.fed.none"))
    return found


async def _is_fed_admin(ctx: Context, federation: Federation) -> bool:
    me = Account(ctx.chat.platform, ctx.user.user_id)
    accounts = await get_state(ctx.services).repos.links.accounts(me)
    admins = await get_state(ctx.services).repos.federations.admins(federation.id)
    if any(a in admins for a in accounts):
        return True
    await ctx.reply(ctx.t("community.fed.admins_only", name=federation.name))
    return False


async def _subscribing_chats(ctx: Context) -> list[int]:
    """This chat, and its community's chats when it is in one (a community subscribes whole)."""
    assert ctx.group is not None
    repos = get_state(ctx.services).repos
    found = await repos.communities.of_group(ctx.group.id)
    return await repos.communities.chats(found.id) if found is not None else [ctx.group.id]


fed = router.group("fed", usage="community.fed.usage", help="community.fed.help")


@fed.default()
async def fed_show(ctx: Context) -> None:
    """The chat's federation."""
    await fedinfo_command(ctx)


@fed.sub("create", args=[Words("name", hint="community.param.name")], min_role=Role.OWNER)
async def fed_create(ctx: Context, name: str) -> None:
    """A new federation owned by the caller, with this chat (and its community) subscribed."""
    name = " ".join(name.split())[:NAME_MAX]
    if not name:
        await ctx.reply(ctx.t("community.fed.usage"))
        return
    state = get_state(ctx.services)
    owner = Account(ctx.chat.platform, ctx.user.user_id)
    created = await state.repos.federations.create(state.new_code("F"), name, owner, ctx.now)
    chats = await _subscribing_chats(ctx)
    await state.repos.federations.subscribe(created.id, chats, ctx.now)
    await federations_changed(ctx.services)
    await ctx.reply(ctx.t("community.fed.created", name=created.name, id=created.code, chats=len(chats)))


@fed.sub("join", args=[Word("id", hint="community.param.fed_id")], min_role=Role.OWNER)
async def fed_join(ctx: Context, id: str) -> None:
    """Subscribe this chat (and its community) to a federation's ban list."""
    state = get_state(ctx.services)
    found = await state.repos.federations.by_code(id.strip().upper())
    if found is None:
        await ctx.reply(ctx.t("community.fed.unknown", id=excerpt(id)))
        return
    chats = await _subscribing_chats(ctx)
    await state.repos.federations.subscribe(found.id, chats, ctx.now)
    await federations_changed(ctx.services)
    await ctx.reply(ctx.t("community.fed.joined", name=found.name, chats=len(chats)))
    # Members already here who are on the list go now, as a join would make them.
    for group_id in chats:
        group = await ctx.services.directory.group_by_id(group_id)
        if group is not None:
            for ban in await state.repos.federations.bans(found.id):
                for user_id in accounts_on(await state.repos.links.accounts(ban.account), group.platform):
                    if await ctx.services.members.find(group.id, user_id) is not None:
                        await ban_in(ctx.services, group, user_id, user_id, ban.reason)


@fed.sub("leave", min_role=Role.OWNER)
async def fed_leave(ctx: Context) -> None:
    """This chat stops following its federation."""
    found = await _federation(ctx)
    if found is None:
        return
    assert ctx.group is not None
    await get_state(ctx.services).repos.federations.unsubscribe(ctx.group.id)
    await federations_changed(ctx.services)
    await ctx.reply(ctx.t("community.fed.left", name=found.name))


@fed.sub("promote", args=[Word("member", optional=True, hint="core.param.member")])
async def fed_promote(ctx: Context, member: str | None) -> None:
    """The federation's owner makes someone an admin."""
    await _admins_change(ctx, member, add=True)


@fed.sub("demote", args=[Word("member", optional=True, hint="core.param.member")])
async def fed_demote(ctx: Context, member: str | None) -> None:
    """The federation's owner takes someone's admin rights away."""
    await _admins_change(ctx, member, add=False)


async def _admins_change(ctx: Context, who: str | None, *, add: bool) -> None:
    found = await _federation(ctx)
    if found is None:
        return
    me = Account(ctx.chat.platform, ctx.user.user_id)
    if found.owner not in await get_state(ctx.services).repos.links.accounts(me):
        await ctx.reply(ctx.t("community.fed.owner_only", name=found.name))
        return
    target = await _target(ctx, who)
    repos = get_state(ctx.services).repos.federations
    if add:
        changed = await repos.add_admin(found.id, target.account, ctx.now)
    else:
        changed = target.account != found.owner and await repos.remove_admin(found.id, target.account)
    key = (
        ("community.fed.promoted" if add else "community.fed.demoted")
        if changed
        else "community.fed.no_change"
    )
    await ctx.reply(ctx.t(key, member=target.name, name=found.name))


@router.command(
    "fban",
    usage="community.fban.usage",
    help="community.fban.help",
    args=[Word("member", optional=True, hint="core.param.member"), Rest("reason", limit=REASON_MAX)],
)
async def fban_command(ctx: Context, member: str | None, reason: str) -> None:
    """Put someone on the federation's ban list and ban them in every subscribed chat."""
    found = await _federation(ctx)
    if found is None or not await _is_fed_admin(ctx, found):
        return
    target = await _target(ctx, member)
    reason = " ".join(reason.split()) or None  # type: ignore[assignment]
    state = get_state(ctx.services)
    ban = FederationBan(target.account, reason or None, ctx.user.user_id, ctx.now)
    await state.repos.federations.ban(found.id, [ban])
    done, failed = await _apply(ctx.services, found, target.account, target.name, reason or None, ban=True)
    await ctx.reply(
        ctx.t("community.fban.done", member=target.name, name=found.name, chats=done)
        + (("\n" + ctx.t("community.fban.failed", chats=", ".join(failed))) if failed else "")
    )


@router.command(
    "unfban",
    usage="community.unfban.usage",
    help="community.unfban.help",
    args=[Word("member", optional=True, hint="core.param.member")],
)
async def unfban_command(ctx: Context, member: str | None) -> None:
    """Take someone off the federation's ban list and unban them in every subscribed chat."""
    found = await _federation(ctx)
    if found is None or not await _is_fed_admin(ctx, found):
        return
    target = await _target(ctx, member)
    repos = get_state(ctx.services).repos
    accounts = await repos.links.accounts(target.account)
    if not await repos.federations.unban(found.id, accounts):
        await ctx.reply(ctx.t("community.unfban.not_banned", member=target.name, name=found.name))
        return
    done, _failed = await _apply(ctx.services, found, target.account, target.name, None, ban=False)
    await ctx.reply(ctx.t("community.unfban.done", member=target.name, name=found.name, chats=done))


async def _apply(
    services: Services, federation: Federation, account: Account, name: str, reason: str | None, *, ban: bool
) -> tuple[int, list[str]]:
    """Ban (or unban) every account of the person in every subscribed chat on its platform."""
    repos = get_state(services).repos
    accounts = await repos.links.accounts(account)
    done, failed = 0, []
    for group_id in await repos.federations.chats(federation.id):
        group = await services.directory.group_by_id(group_id)
        if group is None:
            continue
        for user_id in accounts_on(accounts, group.platform):
            if ban:
                ok = await ban_in(services, group, user_id, name, reason)
            else:
                ok = await services.ports.get(MemberSanctions).unban(group, user_id, name, FED_ACTOR)
            if ok:
                done += 1
            else:
                failed.append(f"{group.title or group.scope_id} ({group.platform})")
    return done, failed


async def ban_in(services: Services, group: Group, user_id: str, name: str, reason: str | None) -> bool:
    """Ban ``user_id`` in ``group`` for a federation ban (at /fban, import, or a listed newcomer's
    join); False when the bot could not."""
    why = f"federation ban: {reason}" if reason else "federation ban"
    return await services.ports.get(MemberSanctions).ban(group, user_id, name, why, FED_ACTOR)


@router.command("fedinfo", usage="community.fedinfo.usage", help="community.fedinfo.help")
async def fedinfo_command(ctx: Context) -> None:
    """The chat's federation: name, id, owner, admins, chats and bans."""
    found = await _federation(ctx)
    if found is None:
        return
    repos = get_state(ctx.services).repos.federations
    await ctx.reply(
        ctx.t(
            "community.fedinfo.text",
            name=found.name,
            id=found.code,
            owner=shown(found.owner),
            admins=len(await repos.admins(found.id)),
            chats=len(await repos.chats(found.id)),
            bans=await repos.ban_count(found.id),
        )
    )


@router.command("fedadmins", usage="community.fedadmins.usage", help="community.fedadmins.help")
async def fedadmins_command(ctx: Context) -> None:
    """The federation's admins, the owner first."""
    found = await _federation(ctx)
    if found is None:
        return
    admins = await get_state(ctx.services).repos.federations.admins(found.id)
    await ctx.reply(
        ctx.t("community.fedadmins.header", name=found.name) + "\n" + "\n".join(shown(a) for a in admins)
    )


@router.command("fbanlist", usage="community.fbanlist.usage", help="community.fbanlist.help")
async def fbanlist_command(ctx: Context) -> None:
    """The ban list as CSV, sent privately to a federation admin."""
    found = await _federation(ctx)
    if found is None or not await _is_fed_admin(ctx, found):
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["platform", "user_id", "reason", "banned_by", "banned_at"])
    for ban in await get_state(ctx.services).repos.federations.bans(found.id):
        writer.writerow(
            [
                ban.account.platform,
                ban.account.user_id,
                ban.reason or "",
                ban.banned_by,
                ban.banned_at.isoformat(),
            ]
        )
    try:
        await ctx.send_private(buffer.getvalue().rstrip("\n"))
    except QunyouError:
        await ctx.reply(ctx.t("community.link.no_private"))
        return
    if not ctx.chat.is_private:
        await ctx.reply(ctx.t("community.fbanlist.sent"))


@fed.sub("import", args=[Rest("lines", lines=True)])
async def fed_import(ctx: Context, lines: str) -> None:
    """Add a ban list: one account per line (``user_id``, ``user_id,reason`` or the CSV of
    ``/fbanlist``; CAS's export is a user id per line). Bad lines are named by number."""
    found = await _federation(ctx)
    if found is None or not await _is_fed_admin(ctx, found):
        return
    assert ctx.group is not None
    bans, bad = parse_ban_list(lines, ctx.group.platform, ctx.user.user_id, ctx)
    if not bans and not bad:
        await ctx.reply(ctx.t("community.fed.import_usage"))
        return
    added = await get_state(ctx.services).repos.federations.ban(found.id, bans)
    text = ctx.t("community.fed.imported", added=added, known=len(bans) - added, name=found.name)
    if bad:
        shown_lines = ", ".join(str(n) for n in bad[:20]) + ("…" if len(bad) > 20 else "")
        text += "\n" + ctx.t("community.fed.import_bad", count=len(bad), lines=shown_lines)
    await ctx.reply(text)


def parse_ban_list(text: str, platform: str, by: str, ctx: Context) -> tuple[list[FederationBan], list[int]]:
    """The bans in an imported list, and the numbers of the lines that are not one."""
    bans: list[FederationBan] = []
    bad: list[int] = []
    known = ("console", "telegram", "discord", "onebot")
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if number > IMPORT_MAX:
            bad.append(number)
            break
        cells = [c.strip() for c in row]
        if not cells or not any(cells):
            continue
        if number == 1 and cells[0].lower() in ("platform", "user_id", "id"):
            continue  # a header
        on = platform
        if len(cells) >= 2 and cells[0].lower() in known:
            on, cells = cells[0].lower(), cells[1:]
        user_id, reason = cells[0], ",".join(cells[1:2]).strip() or None
        if not user_id or len(user_id) > 64 or any(ch.isspace() or not ch.isprintable() for ch in user_id):
            bad.append(number)
            continue
        bans.append(FederationBan(Account(on, user_id), (reason or "")[:REASON_MAX] or None, by, ctx.now))
    return bans, bad
