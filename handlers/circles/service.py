"""What the circle commands and buttons share: reading a circle's name, the ``/circles`` card,
joining and leaving (with the circle's platform role), and the chunked ping.

A circle's name is one word as members type it; ``Games``, ``games`` and full-width ``ｇａｍｅｓ``
name the same circle (the stored key is the NFKC case-folded form).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import timedelta
from math import ceil
from typing import TYPE_CHECKING

from bot.adapter import Capability
from bot.args import BadArgument
from bot.errors import QunyouError
from bot.events import ButtonPressed, UserRef
from bot.mentions import mention_messages
from bot.messages import Button, OutgoingMessage
from bot.timeparse import excerpt
from handlers.circles.settings import CirclesSettings
from handlers.circles.state import CardKey, circle_repo, circles_state
from storage.circles import Circle

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

log = logging.getLogger(__name__)

#: Longest circle name (characters, after folding): a button label and a word in a command.
MAX_NAME = 24
#: Longest description.
MAX_DESCRIPTION = 200
#: Longest ping text.
MAX_PING = 500
#: Circles per group: one button each under ``/circles``, four to a row, and Discord shows at
#: most five rows.
MAX_CIRCLES = 20
BUTTONS_PER_ROW = 4
#: A ``/circles`` card is edited at most this often while members press its buttons.
CARD_EDIT_SECONDS = 5.0
#: Button data: ``cc:t:<circle id>`` toggles the presser's membership.
BUTTON_PREFIX = "cc:"
#: A Discord role as typed: ``<@&123…>``, ``@&123…`` or the bare id.
_ROLE = re.compile(r"<?@?&?(\d{15,21})>?")
#: Words that unbind a circle's role.
NO_ROLE = frozenset({"off", "none", "-", "关", "关闭", "无", "取消"})


def _clean(text: str) -> str:
    # Control and format characters (NUL, zero-width space, RTL marks…) never make a name.
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if unicodedata.category(ch) not in ("Cc", "Cf")).strip()


def fold_name(raw: str) -> tuple[str, str]:
    """The name to show and the key to store for a name a moderator typed.

    Raises ``BadArgument`` for an empty name (only invisible characters) or one too long."""
    name = _clean(raw).lstrip("#＃").strip()
    if not name:
        raise BadArgument("circles.err_name_empty")
    if len(name) > MAX_NAME:
        raise BadArgument("circles.err_name_long", limit=MAX_NAME, length=len(name))
    if any(ch.isspace() for ch in name):
        raise BadArgument("circles.err_name_space")
    return name, name.casefold()


def clean_text(raw: str, limit: int, key: str) -> str:
    """Free text (a description, a ping) without control characters; ``key`` when too long."""
    text = "".join(ch for ch in raw if unicodedata.category(ch) not in ("Cc", "Cf") or ch == "\n").strip()
    if len(text) > limit:
        raise BadArgument(key, limit=limit, length=len(text))
    return text


def parse_role(word: str) -> str | None:
    """A Discord role id from ``<@&id>``, ``@&id`` or the id; None for the words that unbind.

    Raises ``BadArgument`` for anything else."""
    if word.strip().casefold() in NO_ROLE:
        return None
    match = _ROLE.fullmatch(word.strip())
    if match is None:
        raise BadArgument("circles.err_role", value=excerpt(word))
    return match.group(1)


async def find(ctx: Context, name: str) -> Circle | None:
    """The group's circle of that name; None (after telling the member, without the usage line:
    the command was well formed) when there is none."""
    assert ctx.group is not None
    try:
        _, key = fold_name(name)
    except BadArgument:
        key = None
    circle = await circle_repo(ctx.services).by_name(ctx.group.id, key) if key else None
    if circle is None:
        await ctx.reply(ctx.t("circles.err_unknown", name=excerpt(name)))
    return circle


async def card(ctx: Context) -> OutgoingMessage:
    """``/circles``: every circle with its size and description, a toggle button for each."""
    assert ctx.group is not None
    return await card_of(ctx.services, ctx.group.id, ctx.lang)


async def card_of(services: Services, group_id: int, lang: str) -> OutgoingMessage:
    """The ``/circles`` card of a group as it stands, in ``lang``."""
    listed = await circle_repo(services).listing(group_id)

    def t(key: str, **values: object) -> str:
        return services.i18n.t(lang, key, **values)

    if not listed:
        return OutgoingMessage.of(t("circles.none"))
    # The card is the group's, not the asker's: no marks of who is in what (that is /circle mine).
    lines = [t("circles.list_title", count=len(listed))]
    for circle, size in listed:
        key = "circles.list_line_desc" if circle.description else "circles.list_line"
        lines.append(t(key, name=circle.name, count=size, description=circle.description or ""))
    lines.append(t("circles.list_hint"))
    buttons = [
        Button(circle.name, f"{BUTTON_PREFIX}t:{circle.id}", command=f"/circle join {circle.name}")
        for circle, _ in listed
    ]
    rows = tuple(tuple(buttons[i : i + BUTTONS_PER_ROW]) for i in range(0, len(buttons), BUTTONS_PER_ROW))
    return OutgoingMessage.of("\n".join(lines), buttons=rows)


async def _role(ctx: Context, circle: Circle, grant: bool) -> str:
    """Apply the circle's platform role; the note to add to the answer ('' when nothing to say)."""
    if circle.role_id is None or not ctx.adapter.supports(Capability.ROLES):
        return ""
    try:
        if grant:
            await ctx.adapter.grant_role(ctx.chat, ctx.user.user_id, circle.role_id)
        else:
            await ctx.adapter.revoke_role(ctx.chat, ctx.user.user_id, circle.role_id)
    except QunyouError as exc:
        # The membership is committed either way; the member hears the role did not follow.
        log.warning("circle %s role %s for %s failed: %s", circle.id, circle.role_id, ctx.user.user_id, exc)
        return "\n" + ctx.t("circles.role_failed")
    return ""


async def join(ctx: Context, circle: Circle) -> str:
    """Put the member in the circle (and give its role); the answer to show them."""
    assert ctx.member is not None
    outcome = await circle_repo(ctx.services).join(circle.id, ctx.member.id, ctx.now)
    if outcome == "gone":
        return ctx.t("circles.err_gone")
    if outcome == "already":
        return ctx.t("circles.already", name=circle.name)
    return ctx.t("circles.joined", name=circle.name) + await _role(ctx, circle, grant=True)


async def leave(ctx: Context, circle: Circle) -> str:
    """Take the member out of the circle (and its role back); the answer to show them."""
    assert ctx.member is not None
    if not await circle_repo(ctx.services).leave(circle.id, ctx.member.id):
        return ctx.t("circles.not_in", name=circle.name)
    return ctx.t("circles.left", name=circle.name) + await _role(ctx, circle, grant=False)


async def toggle(ctx: Context, circle: Circle) -> str:
    """A press of the circle's button: join when out, leave when in; the card's counts follow."""
    assert ctx.member is not None
    if await circle_repo(ctx.services).is_member(circle.id, ctx.member.id):
        answer = await leave(ctx, circle)
    else:
        answer = await join(ctx, circle)
    await card_changed(ctx)
    return answer


async def card_changed(ctx: Context) -> None:
    """A press changed a circle's size: edit its card now, or mark it for the batcher's flush
    when it was edited less than ``CARD_EDIT_SECONDS`` ago. Only where buttons and edits exist:
    elsewhere the card's numbered lines are what a reply presses, and they stay as posted."""
    event = ctx.event
    if not isinstance(event, ButtonPressed) or ctx.group is None:
        return
    if not (ctx.adapter.supports(Capability.EDIT) and ctx.adapter.supports(Capability.BUTTONS)):
        return
    book = circles_state(ctx.services).cards
    key = (ctx.chat.adapter, ctx.chat.channel_id, event.message_id)
    book.dirty[key] = (ctx.chat, ctx.group.id, ctx.group.language)
    if book.due(key, ctx.now, CARD_EDIT_SECONDS):
        await _edit_card(ctx.services, key)


async def flush_cards(services: Services) -> None:
    """The batcher's flush: edit every marked card whose interval has passed."""
    for key in circles_state(services).cards.ripe(services.clock.now(), CARD_EDIT_SECONDS):
        await _edit_card(services, key)


async def _edit_card(services: Services, key: CardKey) -> None:
    book = circles_state(services).cards
    entry = book.dirty.get(key)
    if entry is None:
        return
    chat, group_id, lang = entry
    book.edited(key, services.clock.now())
    adapter = services.adapters.get(chat.adapter)
    if adapter is None:
        return
    try:
        await adapter.edit(chat, key[2], await card_of(services, group_id, lang))
    except QunyouError as exc:
        # The card is a view of the circles, not their state: a refused edit is only logged.
        log.info("circles card %s could not be edited: %s", key, exc)


async def ping(ctx: Context, circle: Circle, text: str) -> None:
    """``/circle ping``: mention the circle's members (not the muted, not the sender), a few per
    message, at most once per cooldown in the group."""
    assert ctx.group is not None
    repo = circle_repo(ctx.services)
    settings = await ctx.settings(CirclesSettings)
    me = ctx.member.id if ctx.member else None
    listeners = [p for p in await repo.listeners(circle.id) if p.member_id != me]
    if not listeners:
        await ctx.reply(ctx.t("circles.ping_nobody", name=circle.name))
        return
    wait = timedelta(minutes=settings.ping_cooldown)
    last = await repo.claim_ping(ctx.group.id, circle.id, me, ctx.now, wait, len(listeners))
    if last is not None:
        left = ceil((last + wait - ctx.now).total_seconds() / 60)
        await ctx.reply(ctx.t("circles.err_cooldown", minutes=max(1, left)))
        return
    users = [UserRef(ctx.group.platform, p.user_id, p.display_name, username=p.username) for p in listeners]
    size = max(1, min(settings.ping_chunk, ctx.adapter.max_mentions))

    def heading(number: int, total: int) -> str:
        if number == 1:
            return ctx.t("circles.ping_head", name=circle.name, by=ctx.user.display_name) + "\n" + text
        return ctx.t("circles.ping_more", name=circle.name, n=number, total=total)

    for message in mention_messages(users, size, heading):
        await ctx.send(message)
