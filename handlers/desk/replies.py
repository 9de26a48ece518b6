"""Standard replies (话术库): ``/reply NAME [@member]`` posts one, ``/replies`` lists them,
``/replies show|set|remove`` edit them from chat.

A reply has the 3T structure — fact, impact, plan — between a calming opening and closing. The
starter set (apology, outage, maintenance, rules, complaint, refund, event_change) is in the
catalogs, in zh-CN and en; a group's own version of a reply, per language, is a row
(``storage/desk/replies.py``) that replaces the starter of the same name or adds a new one.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from bot.args import BadArgument
from bot.context import Context
from bot.errors import QunyouError
from bot.events import UserRef
from bot.messages import Mention, OutgoingMessage, Part, Text
from bot.params import Member, Rest, Word
from bot.roles import Role
from handlers.desk.commands import router
from handlers.desk.state import get_state
from storage.desk import FIELDS
from storage.models import Member as MemberRow

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

#: The starter set; its texts are ``desk.reply.<name>.<field>`` in each catalog.
STARTERS = ("apology", "outage", "maintenance", "rules", "complaint", "refund", "event_change")
#: Words members type for the starters and the fields.
NAME_ALIASES = {
    "道歉": "apology",
    "故障": "outage",
    "维护": "maintenance",
    "群规": "rules",
    "投诉": "complaint",
    "退款": "refund",
    "补偿": "refund",
    "活动变更": "event_change",
}
FIELD_ALIASES = {"开场": "opening", "事实": "fact", "影响": "impact", "计划": "plan", "结尾": "closing"}
FIELD_MAX = 1000
_NAME = re.compile(r"[\w-]{1,32}")


def reply_name(word: str) -> str:
    """The reply a typed name means (aliases of the starters folded), or ``BadArgument``."""
    key = word.strip().lower()
    key = NAME_ALIASES.get(key, key)
    if not _NAME.fullmatch(key):
        raise BadArgument("desk.reply.bad_name", value=word[:20])
    return key


async def fields_of(ctx: Context, name: str) -> dict[str, str] | None:
    """The reply's fields in the group's language: the group's own, else the starter, else None."""
    assert ctx.group is not None
    return await reply_fields(ctx.services, ctx.group.id, ctx.lang, name)


async def reply_fields(services: Services, group_id: int, lang: str, name: str) -> dict[str, str] | None:
    """``fields_of`` for a group and language named outright (a private complaint, level 1)."""
    own = await get_state(services).repos.replies.get(group_id, name, lang)
    if own is not None:
        return own.fields
    if name in STARTERS:
        return {f: services.i18n.t(lang, f"desk.reply.{name}.{f}") for f in FIELDS}
    return None


def render(fields: dict[str, str], *, group: str) -> str:
    """The reply as posted: the non-empty fields, one paragraph each, ``{group}`` filled
    (``{name}`` is left for the caller: a mention or a word)."""
    body = "\n".join(fields[f].strip() for f in FIELDS if fields.get(f, "").strip())
    return body.replace("{group}", group)


async def post_reply(ctx: Context, name: str, member: MemberRow | None) -> bool:
    """Post the named reply in the chat (addressed to ``member`` when given: ``{name}`` becomes a
    mention, or the reply starts with one); False when the group has no reply of that name."""
    fields = await fields_of(ctx, name)
    if fields is None:
        return False
    assert ctx.group is not None
    text = render(fields, group=ctx.group.title or ctx.chat.title or "")
    if member is None:
        await ctx.send(text.replace("{name}", ctx.t("desk.reply.everyone")))
        return True
    ref = UserRef(ctx.group.platform, member.user_id, member.display_name, username=member.username)
    pieces = text.split("{name}")
    parts: list[Part] = [] if len(pieces) > 1 else [Mention(ref), Text(" ")]
    for index, piece in enumerate(pieces):
        if index:
            parts.append(Mention(ref))
        if piece:
            parts.append(Text(piece))
    await ctx.send(OutgoingMessage(parts=tuple(parts)))
    return True


@router.command(
    "reply",
    aliases=("话术",),
    min_role=Role.MODERATOR,
    usage="desk.reply.usage",
    help="desk.reply.help",
    args=[Word("name"), Member("member", optional=True)],
)
async def reply(ctx: Context, name: str, member: MemberRow | None) -> None:
    """``/reply NAME [@member]``: the bot posts the reply; the moderator's command goes."""
    key = reply_name(name)
    if await fields_of(ctx, key) is None:
        raise BadArgument("desk.reply.unknown", name=key)
    message = ctx.message
    if message is not None:
        try:
            await ctx.adapter.delete(ctx.chat, message.message_id)
        except QunyouError as exc:  # no right to delete, or the platform cannot: post anyway
            log.info("could not delete the /reply command: %s", exc)
    await post_reply(ctx, key, member)


replies = router.group(
    "replies",
    aliases=("话术库",),
    min_role=Role.MODERATOR,
    usage="desk.reply.list_usage",
    help="desk.reply.list_help",
)


@replies.default()
async def replies_list(ctx: Context) -> None:
    """``/replies``: every reply of the group in its language, with its first line."""
    assert ctx.group is not None
    own = {r.name: r.fields for r in await get_state(ctx.services).repos.replies.all(ctx.group.id, ctx.lang)}
    lines = [ctx.t("desk.reply.list_title")]
    for name in sorted(set(STARTERS) | set(own)):
        fields = own.get(name) or {f: ctx.t(f"desk.reply.{name}.{f}") for f in FIELDS}
        first = next((fields[f] for f in ("fact", "opening", "plan") if fields.get(f, "").strip()), "")
        first = first if len(first) <= 40 else first[:39] + "…"
        mark = ctx.t("desk.reply.custom") if name in own else ""
        lines.append(ctx.t("desk.reply.list_item", name=name, mark=mark, text=first))
    await ctx.reply("\n".join(lines))


@replies.sub("show", aliases=("查看",), args=[Word("name")])
async def replies_show(ctx: Context, name: str) -> None:
    """``/replies show NAME``: each field of a reply."""
    key = reply_name(name)
    fields = await fields_of(ctx, key)
    if fields is None:
        raise BadArgument("desk.reply.unknown", name=key)
    lines = [ctx.t("desk.reply.show_title", name=key)]
    lines += [
        ctx.t("desk.reply.show_field", field=ctx.t(f"desk.reply.field_{f}"), text=fields[f]) for f in FIELDS
    ]
    await ctx.reply("\n".join(lines))


@replies.sub("set", aliases=("设置",), args=[Word("name"), Word("field"), Rest("text", limit=FIELD_MAX * 2)])
async def replies_set(ctx: Context, name: str, field: str, text: str) -> None:
    """``/replies set NAME FIELD TEXT`` (``-`` empties the field): a new reply, or the group's own
    version of one, in the group's language."""
    assert ctx.group is not None
    key = reply_name(name)
    wanted = FIELD_ALIASES.get(field.strip(), field.strip().lower())
    if wanted not in FIELDS:
        raise BadArgument("desk.reply.bad_field", value=field[:20], fields="|".join(FIELDS))
    if len(text) > FIELD_MAX:
        raise BadArgument("desk.reply.too_long", max=FIELD_MAX)
    fields = dict(await fields_of(ctx, key) or dict.fromkeys(FIELDS, ""))
    fields[wanted] = "" if text.strip() == "-" else text.strip()
    if not any(v.strip() for v in fields.values()):
        raise BadArgument("desk.reply.all_empty")
    state = get_state(ctx.services)
    await state.repos.replies.put(ctx.group.id, key, ctx.lang, fields, ctx.user.user_id, ctx.now)
    await state.audit(ctx.group.id, ctx.now, ctx.user.user_id, "reply_set", f"name={key} field={wanted}")
    await ctx.reply(ctx.t("desk.reply.saved", name=key, field=ctx.t(f"desk.reply.field_{wanted}")))


@replies.sub("remove", aliases=("del", "delete", "rm", "删除"), args=[Word("name")])
async def replies_remove(ctx: Context, name: str) -> None:
    """``/replies remove NAME``: drop the group's own version (a starter comes back as shipped)."""
    assert ctx.group is not None
    key = reply_name(name)
    state = get_state(ctx.services)
    if not await state.repos.replies.remove(ctx.group.id, key, ctx.lang):
        raise BadArgument("desk.reply.not_own", name=key)
    await state.audit(ctx.group.id, ctx.now, ctx.user.user_id, "reply_remove", f"name={key}")
    key_done = "desk.reply.restored" if key in STARTERS else "desk.reply.removed"
    await ctx.reply(ctx.t(key_done, name=key))
