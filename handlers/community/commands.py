"""``/community`` (create, join, leave, invite, bans) and ``/link`` / ``/unlink`` (accounts).

A community is a set of chats on any platforms that share bans; a chat joins with a one-time
code its owner got in a chat already in it, so nobody adds a chat they do not own. A person
links two accounts the same way: the code goes to one account privately and is sent back from
the other, so linking never happens without both accounts' action.
"""

from __future__ import annotations

from bot.context import Context
from bot.errors import QunyouError
from bot.messages import OutgoingMessage
from bot.params import OnOff, Word, Words
from bot.ports import AccountLinkWatcher
from bot.roles import Role
from bot.router import Router
from handlers.community.state import CODE_TTL, account_of, chat_name, chats_changed, get_state
from storage.community import Account, Code
from storage.models import Group

router = Router("community")

#: Longest community or federation name kept.
NAME_MAX = 64


def shown(account: Account) -> str:
    """``platform:user`` (the console's own ids of other platforms already carry the platform)."""
    if account.user_id.startswith(f"{account.platform}:"):
        return account.user_id
    return f"{account.platform}:{account.user_id}"


async def _notify(ctx: Context, group: Group, key: str, **values: str) -> None:
    """Tell another chat what changed, in its language."""
    text = ctx.services.i18n.t(group.language, key, **values)
    await ctx.services.send(ctx.services.directory.chat_for(group), OutgoingMessage.of(text), group.language)


community = router.group("community", usage="community.usage", help="community.help")


@community.default()
async def community_show(ctx: Context) -> None:
    """The chat's community and its chats."""
    assert ctx.group is not None
    repos = get_state(ctx.services).repos
    found = await repos.communities.of_group(ctx.group.id)
    if found is None:
        await ctx.reply(ctx.t("community.none"))
        return
    names = []
    for group_id in await repos.communities.chats(found.id):
        group = await ctx.services.directory.group_by_id(group_id)
        if group is not None:
            names.append(ctx.t("community.show.chat", chat=chat_name(group)))
    bans = ctx.t("community.show.bans_on" if found.share_bans else "community.show.bans_off")
    await ctx.reply(
        ctx.t("community.show.header", name=found.name, count=len(names), bans=bans) + "\n" + "\n".join(names)
    )


@community.sub("create", args=[Words("name", hint="community.param.name")], min_role=Role.OWNER)
async def community_create(ctx: Context, name: str) -> None:
    """Start a community with this chat in it, and give the code for the next chat."""
    assert ctx.group is not None
    name = " ".join(name.split())[:NAME_MAX]
    if not name:
        await ctx.reply(ctx.t("community.usage"))
        return
    repos = get_state(ctx.services).repos
    existing = await repos.communities.of_group(ctx.group.id)
    if existing is not None:
        await ctx.reply(ctx.t("community.already_in", name=existing.name))
        return
    created = await repos.communities.create(name, ctx.group.id, ctx.user.user_id, ctx.now)
    await chats_changed(ctx.services)
    code = await _invitation(ctx, created.id)
    await ctx.reply(ctx.t("community.created", name=created.name, code=code, minutes=_minutes()))


@community.sub("invite", min_role=Role.OWNER)
async def community_invite(ctx: Context) -> None:
    """A fresh code for another chat to join this chat's community."""
    assert ctx.group is not None
    found = await get_state(ctx.services).repos.communities.of_group(ctx.group.id)
    if found is None:
        await ctx.reply(ctx.t("community.none"))
        return
    code = await _invitation(ctx, found.id)
    await ctx.reply(ctx.t("community.invite", name=found.name, code=code, minutes=_minutes()))


async def take_code(ctx: Context, account: Account, code: str, kind: str) -> Code | None:
    """Use up a one-time code of ``kind`` for ``account``; answers and returns None when it is
    wrong, spent or expired, or the account has guessed too often."""
    state = get_state(ctx.services)
    if not state.may_try(account, ctx.now):
        await ctx.reply(ctx.t("community.too_many_codes"))
        return None
    taken = await state.repos.codes.take(code.strip().upper(), kind, ctx.now)
    if taken is None:
        state.wrong_code(account, ctx.now)
        await ctx.reply(ctx.t("community.bad_code"))
    return taken


def _minutes() -> str:
    return str(int(CODE_TTL.total_seconds() // 60))


async def _invitation(ctx: Context, community_id: int) -> str:
    assert ctx.group is not None
    state = get_state(ctx.services)
    code = state.new_code("C")
    await state.repos.codes.put(
        Code(
            code,
            "community",
            community_id,
            ctx.group.platform,
            ctx.user.user_id,
            ctx.group.id,
            ctx.now + CODE_TTL,
        )
    )
    return code


@community.sub("join", args=[Word("code", hint="core.param.code")], min_role=Role.OWNER)
async def community_join(ctx: Context, code: str) -> None:
    """Add this chat to the community whose code its owner got elsewhere."""
    assert ctx.group is not None
    state = get_state(ctx.services)
    existing = await state.repos.communities.of_group(ctx.group.id)
    if existing is not None:
        await ctx.reply(ctx.t("community.already_in", name=existing.name))
        return
    taken = await take_code(ctx, account_of(ctx.group, ctx.user.user_id), code, "community")
    if taken is None:
        return
    found = await _community_by_id(ctx, taken)
    if found is None:
        await ctx.reply(ctx.t("community.bad_code"))
        return
    try:
        await state.repos.communities.add_chat(taken.target, ctx.group.id, ctx.user.user_id, ctx.now)
    except QunyouError:
        raise
    except Exception:  # the key refused it: a concurrent join put the chat in a community first
        await ctx.reply(ctx.t("community.bad_code"))
        return
    await chats_changed(ctx.services)
    await ctx.reply(ctx.t("community.joined", name=found))
    origin = await ctx.services.directory.group_by_id(taken.group_id) if taken.group_id else None
    if origin is not None and origin.id != ctx.group.id:
        await _notify(ctx, origin, "community.joined_elsewhere", name=found, chat=chat_name(ctx.group))


async def _community_by_id(ctx: Context, code: Code) -> str | None:
    repos = get_state(ctx.services).repos
    if code.group_id is None:
        return None
    found = await repos.communities.of_group(code.group_id)
    return found.name if found is not None and found.id == code.target else None


@community.sub("leave", min_role=Role.OWNER)
async def community_leave(ctx: Context) -> None:
    """Take this chat out of its community."""
    assert ctx.group is not None
    repos = get_state(ctx.services).repos
    found = await repos.communities.of_group(ctx.group.id)
    if found is None:
        await ctx.reply(ctx.t("community.none"))
        return
    await repos.communities.remove_chat(ctx.group.id)
    await chats_changed(ctx.services)
    await ctx.reply(ctx.t("community.left", name=found.name))


@community.sub("bans", args=[OnOff("on")], min_role=Role.OWNER)
async def community_bans(ctx: Context, on: bool) -> None:
    """Whether a ban or mute in one chat applies in all of the community's chats."""
    assert ctx.group is not None
    repos = get_state(ctx.services).repos
    found = await repos.communities.of_group(ctx.group.id)
    if found is None:
        await ctx.reply(ctx.t("community.none"))
        return
    await repos.communities.set_share_bans(found.id, on)
    await ctx.reply(ctx.t("community.bans_on" if on else "community.bans_off", name=found.name))


# -- linked accounts --------------------------------------------------------------------------


def _caller(ctx: Context) -> Account:
    return Account(ctx.chat.platform, ctx.user.user_id)


@router.command(
    "link",
    usage="community.link.usage",
    help="community.link.help",
    where="any",
    args=[Word("code", optional=True, hint="core.param.code")],
)
async def link_command(ctx: Context, code: str | None) -> None:
    """Without a code: list the linked accounts and send a code privately; with one: link."""
    state = get_state(ctx.services)
    me = _caller(ctx)
    if code is None:
        accounts = await state.repos.links.accounts(me)
        new = state.new_code("L")
        await state.repos.codes.put(Code(new, "link", 0, me.platform, me.user_id, None, ctx.now + CODE_TTL))
        listing = ", ".join(shown(a) for a in accounts)
        try:
            await ctx.send_private(ctx.t("community.link.code", code=new, minutes=_minutes()))
        except QunyouError:
            await ctx.reply(ctx.t("community.link.no_private"))
            return
        key = "community.link.sent_private" if not ctx.chat.is_private else "community.link.listing"
        await ctx.reply(ctx.t(key, accounts=listing))
        return
    taken = await take_code(ctx, me, code, "link")
    if taken is None:
        return
    other = Account(taken.platform, taken.user_id)
    if other == me:
        await ctx.reply(ctx.t("community.link.same_account"))
        return
    await state.repos.links.link(other, me, ctx.now)
    accounts = await state.repos.links.accounts(me)
    await ctx.reply(ctx.t("community.link.linked", accounts=", ".join(shown(a) for a in accounts)))


@router.command(
    "unlink",
    usage="community.unlink.usage",
    help="community.unlink.help",
    where="any",
    args=[Word("account", optional=True, hint="community.param.account")],
)
async def unlink_command(ctx: Context, account: str | None) -> None:
    """Take one of your accounts (this one by default) out of your linked accounts."""
    state = get_state(ctx.services)
    me = _caller(ctx)
    mine = await state.repos.links.accounts(me)
    target = me
    if account is not None:
        matches = [a for a in mine if account.strip() in (shown(a), a.user_id)]
        if len(matches) != 1:
            await ctx.reply(ctx.t("community.unlink.unknown", accounts=", ".join(shown(a) for a in mine)))
            return
        target = matches[0]
    if len(mine) < 2 or not await state.repos.links.unlink(target):
        await ctx.reply(ctx.t("community.unlink.none"))
        return
    watcher = ctx.services.ports.find(AccountLinkWatcher)
    if watcher is not None:
        # After the unlink, so a merge racing it cannot pull the share back in.
        others = [(a.platform, a.user_id) for a in mine if a != target]
        await watcher.unlinked((target.platform, target.user_id), others)
    await ctx.reply(ctx.t("community.unlink.done", account=shown(target)))
