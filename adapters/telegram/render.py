"""Render outgoing messages as Telegram HTML, split to Telegram's length limit.

Every piece of text that reaches Telegram passes through ``html.escape`` here, so a member whose
name is ``<b>admin</b>`` is shown literally and cannot inject markup or a fake link.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from bot.messages import Bold, Link, Mention, Part, Text

#: Telegram counts message length after entity parsing; 4,096 for text, 1,024 for a caption.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def visible_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), so emoji never push a chunk over."""
    return len(text.encode("utf-16-le")) // 2


def mention_html(part: Mention) -> str:
    """A mention that notifies: ``@username`` when known, else a ``tg://user`` link.

    The link form works for members without a username, which plain ``@`` text cannot reach.
    """
    user = part.user
    if user.username:
        return "@" + html.escape(user.username, quote=False)
    label = html.escape(user.display_name or user.user_id, quote=False)
    if user.user_id.isdigit():
        return f'<a href="tg://user?id={user.user_id}">{label}</a>'
    # Chats (an anonymous admin's group, a channel) have negative ids that tg:// cannot link.
    return label


def _mention_visible(part: Mention) -> str:
    user = part.user
    return "@" + user.username if user.username else (user.display_name or user.user_id)


@dataclass(frozen=True, slots=True)
class _Atom:
    """A piece that is never cut in two (unless one text line alone exceeds the limit)."""

    visible: str
    markup: str
    ends_line: bool


def _text_atoms(text: str, bold: bool) -> list[_Atom]:
    atoms = []
    for line in text.splitlines(keepends=True):
        body = html.escape(line, quote=False)
        if bold:
            stripped = body.rstrip("\n")
            body = f"<b>{stripped}</b>" + body[len(stripped) :] if stripped else body
        atoms.append(_Atom(line, body, line.endswith("\n")))
    return atoms


def _atoms(parts: Sequence[Part]) -> list[_Atom]:
    atoms: list[_Atom] = []
    for part in parts:
        if isinstance(part, Text):
            atoms.extend(_text_atoms(part.text, bold=False))
        elif isinstance(part, Bold):
            atoms.extend(_text_atoms(part.text, bold=True))
        elif isinstance(part, Mention):
            atoms.append(_Atom(_mention_visible(part), mention_html(part), False))
        elif isinstance(part, Link):
            href = html.escape(part.url, quote=True)
            label = html.escape(part.text or part.url, quote=False)
            atoms.append(_Atom(part.text or part.url, f'<a href="{href}">{label}</a>', False))
    return atoms


def _hard_split(atom: _Atom, limit: int, bold: bool) -> list[_Atom]:
    """Cut one over-long line into limit-sized pieces (re-escaping each piece)."""
    pieces: list[_Atom] = []
    rest = atom.visible
    while rest:
        cut = limit
        # Never cut a surrogate pair: shrink until the piece fits in UTF-16 units.
        while visible_length(rest[:cut]) > limit:
            cut -= 1
        piece, rest = rest[:cut], rest[cut:]
        pieces.extend(_text_atoms(piece, bold))
    return pieces


def render_chunks(parts: Sequence[Part], limit: int = TEXT_LIMIT) -> list[str]:
    """Telegram HTML for ``parts``, as one or more messages of at most ``limit`` visible characters.

    Chunks are cut at line breaks where possible; mentions and links are never cut.
    """
    atoms: list[_Atom] = []
    for atom in _atoms(parts):
        if visible_length(atom.visible) > limit:
            atoms.extend(_hard_split(atom, limit, bold=atom.markup.startswith("<b>")))
        else:
            atoms.append(atom)

    chunks: list[list[_Atom]] = []
    current: list[_Atom] = []
    size = 0
    for atom in atoms:
        length = visible_length(atom.visible)
        while current and size + length > limit:
            # Prefer to cut after the last complete line in the chunk being built.
            cut = max((i + 1 for i, a in enumerate(current) if a.ends_line), default=len(current))
            chunks.append(current[:cut])
            current = current[cut:]
            size = sum(visible_length(a.visible) for a in current)
        current.append(atom)
        size += length
    if current:
        chunks.append(current)

    rendered = []
    for chunk in chunks:
        markup = "".join(a.markup for a in chunk).strip("\n")
        if markup.strip():
            rendered.append(markup)
    return rendered or [""]


def render_html(parts: Sequence[Part]) -> str:
    """The whole message as one HTML string (for edits, which cannot be split)."""
    return "".join(a.markup for a in _atoms(parts))


def render_visible(parts: Sequence[Part]) -> str:
    """What a member sees, without markup (used by tests and logs)."""
    return "".join(a.visible for a in _atoms(parts))
