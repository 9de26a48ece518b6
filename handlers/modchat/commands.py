"""``/modchat``, ``/modchat link [CODE]`` and ``/modchat unlink``."""

from __future__ import annotations

import random
import secrets
import string
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.args import BadArgument
from bot.context import Context
from bot.events import ChatRef
from bot.messages import OutgoingMessage
from bot.params import Word
from bot.ports import AuditTrail
from bot.roles import Role
from bot.router import Router
from bot.services import Services
from storage.modchat import ModChatLink, ModChatRepo
from storage.models import Group

router = Router("modchat")

#: How long a link code stays valid.
CODE_TTL = timedelta(minutes=10)
#: Wrong codes one chat may try within ``CODE_TTL`` before it must wait: guessing is pointless.
MAX_WRONG_CODES = 5
#: Letters and digits a person cannot confuse (no 0/O, 1/I/L).
_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1IL")
_CODE_LENGTH = 8
STATE_KEY = "modchat"


@dataclass
class _State:
    """Per-process: the code generator and the recent wrong guesses per chat."""

    rng: random.Random
    wrong: dict[tuple[str, str], deque[datetime]] = field(default_factory=dict)


def _state(services: Services) -> _State:
    state = services.state.get(STATE_KEY)
    if state is None:
        # Codes must be unguessable in production; under the virtual clock (scripts, tests)
        # runs must be byte-identical, so the generator is seeded there.
        rng: random.Random = random.Random(0) if services.clock.is_virtual else secrets.SystemRandom()
        state = _State(rng)
        services.state[STATE_KEY] = state
    assert isinstance(state, _State)
    return state


def _repo(ctx: Context) -> ModChatRepo:
    return ctx.services.alerts.links


def _name(group: Group) -> str:
    return f"{group.title or group.scope_id} ({group.scope_id})"


async def _audit(ctx: Context, group: Group, action: str, detail: str) -> None:
    await ctx.services.ports.get(AuditTrail).record(group.id, ctx.now, ctx.user.user_id, action, detail)


async def _post(ctx: Context, audience: Group, where: ChatRef, key: str, **values: str) -> None:
    """Tell another chat what changed, in its group's language."""
    text = ctx.services.i18n.t(audience.language, key, **values)
    await ctx.services.send(where, OutgoingMessage.of(text), audience.language)


modchat = router.group("modchat", usage="modchat.usage", help="modchat.help", min_role=Role.MODERATOR)


@modchat.default()
async def modchat_show(ctx: Context) -> None:
    """Show this group's moderator chat."""
    assert ctx.group is not None
    await _show(ctx, ctx.group)


@modchat.sub("link", args=[Word("code", optional=True, hint="core.param.code")])
async def modchat_link(ctx: Context, code: str | None) -> None:
    """Without a code: ask for one (in the moderator chat); with one: accept the link."""
    assert ctx.group is not None
    if code is None:
        await _ask_code(ctx, ctx.group)
    else:
        await _accept(ctx, ctx.group, code.strip().upper())


@modchat.sub("unlink")
async def modchat_unlink(ctx: Context) -> None:
    """Undo this group's link."""
    assert ctx.group is not None
    await _unlink(ctx, ctx.group)


async def _require_admin(ctx: Context) -> bool:
    if await ctx.role() >= Role.ADMIN:
        return True
    await ctx.reply(ctx.t("modchat.admins_only"))
    return False


async def _show(ctx: Context, group: Group) -> None:
    services = ctx.services
    repo = _repo(ctx)
    own = await repo.link_of(group.id)
    lines: list[str] = []
    if own is not None:
        chat = await services.groups.get(own.chat_group_id)
        lines.append(
            ctx.t(
                "modchat.show.linked",
                chat=_name(chat) if chat else "?",
                by=own.requested_by,
                accepted=own.accepted_by,
                date=own.linked_at.date().isoformat(),
            )
        )
    served = await repo.link_served_by(group.id)
    if served is not None:
        target = await services.groups.get(served.group_id)
        lines.append(ctx.t("modchat.show.serves", group=_name(target) if target else "?"))
    if not lines:
        default = await services.alerts.moderator_chat(group)
        if default is not None:
            lines.append(ctx.t("modchat.show.default", chat=default.title or default.channel_id))
        else:
            lines.append(ctx.t("modchat.show.none"))
    await ctx.reply("\n".join(lines))


async def _ask_code(ctx: Context, group: Group) -> None:
    if not await _require_admin(ctx):
        return
    state = _state(ctx.services)
    code = "".join(state.rng.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    await _repo(ctx).put_code(group.id, code, ctx.user.user_id, ctx.now + CODE_TTL)
    await _audit(ctx, group, "modchat.code", "")
    await ctx.reply(ctx.t("modchat.code", code=code, minutes=int(CODE_TTL.total_seconds() // 60)))


def _too_many_wrong(ctx: Context) -> bool:
    """Record nothing; say whether this chat used up its wrong guesses for now."""
    wrong = _state(ctx.services).wrong.get((ctx.chat.adapter, ctx.chat.channel_id))
    if not wrong:
        return False
    while wrong and wrong[0] <= ctx.now - CODE_TTL:
        wrong.popleft()
    return len(wrong) >= MAX_WRONG_CODES


def _note_wrong(ctx: Context) -> None:
    key = (ctx.chat.adapter, ctx.chat.channel_id)
    _state(ctx.services).wrong.setdefault(key, deque(maxlen=MAX_WRONG_CODES)).append(ctx.now)


async def _accept(ctx: Context, chat_group: Group, code: str) -> None:
    """An admin of this chat accepts a code: this chat becomes the code's group's moderator chat."""
    if not await _require_admin(ctx):
        return
    if _too_many_wrong(ctx):
        raise BadArgument("modchat.slow_down")
    if len(code) != _CODE_LENGTH or any(c not in _ALPHABET for c in code):
        _note_wrong(ctx)
        raise BadArgument("modchat.bad_code")
    services = ctx.services
    repo = _repo(ctx)
    pending = await repo.take_code(code, ctx.now)
    group = await services.groups.get(pending.group_id) if pending else None
    if pending is None or group is None:
        _note_wrong(ctx)
        raise BadArgument("modchat.bad_code")
    if group.id == chat_group.id:
        raise BadArgument("modchat.same_chat")
    if group.adapter != chat_group.adapter:
        raise BadArgument("modchat.other_platform")
    if await ctx.role_in(group) < Role.MODERATOR:
        # The code may have been seen by anyone in the group: only its moderators may use it.
        raise BadArgument("modchat.not_moderator_there", group=_name(group))
    busy = await repo.link_served_by(chat_group.id)
    if busy is not None and busy.group_id != group.id:
        other = await services.groups.get(busy.group_id)
        raise BadArgument("modchat.busy", group=_name(other) if other else "?")
    channel = None if ctx.chat.channel_id == chat_group.scope_id else ctx.chat.channel_id
    replaced = await repo.link(
        group.id, chat_group.id, channel, pending.created_by, ctx.user.user_id, ctx.now
    )
    detail = f"chat={chat_group.scope_id} requested_by={pending.created_by} accepted_by={ctx.user.user_id}"
    await _audit(ctx, group, "modchat.link", detail)
    await _audit(ctx, chat_group, "modchat.serve", f"group={group.scope_id}")
    await ctx.reply(ctx.t("modchat.linked_here", group=_name(group)))
    await _post(
        ctx, group, services.directory.chat_for(group), "modchat.linked_group", chat=_name(chat_group)
    )
    if replaced is not None and replaced.chat_group_id != chat_group.id:
        await _tell_old_chat(ctx, group, replaced)


async def _tell_old_chat(ctx: Context, group: Group, old: ModChatLink) -> None:
    old_chat = await ctx.services.groups.get(old.chat_group_id)
    if old_chat is not None:
        chat = ctx.services.directory.chat_for(old_chat, old.channel_id)
        await _post(ctx, old_chat, chat, "modchat.unlinked_other", group=_name(group))


async def _unlink(ctx: Context, here: Group) -> None:
    """Remove this group's moderator chat, or stop this chat being another group's."""
    if not await _require_admin(ctx):
        return
    services = ctx.services
    repo = _repo(ctx)
    link = await repo.link_of(here.id) or await repo.link_served_by(here.id)
    if link is None:
        raise BadArgument("modchat.nothing_linked")
    await repo.unlink(link.group_id)
    group = await services.groups.get(link.group_id)
    chat_group = await services.groups.get(link.chat_group_id)
    if group is None or chat_group is None:
        return
    await _audit(ctx, group, "modchat.unlink", f"chat={chat_group.scope_id}")
    await _audit(ctx, chat_group, "modchat.unserve", f"group={group.scope_id}")
    await ctx.reply(ctx.t("modchat.unlinked"))
    if here.id == group.id:
        await _post(
            ctx,
            chat_group,
            services.directory.chat_for(chat_group, link.channel_id),
            "modchat.unlinked_other",
            group=_name(group),
        )
    else:
        await _post(
            ctx, group, services.directory.chat_for(group), "modchat.unlinked_group", chat=_name(here)
        )
