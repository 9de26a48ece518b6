"""Render core message parts as Discord markdown, and cut them into messages Discord accepts.

Member-provided text is escaped with ``discord.utils.escape_markdown`` (and ``@everyone``/``@here``
are defused), so nobody can smuggle formatting or a mass ping into what the bot repeats. Splitting
works on *atoms* (an escape sequence, a mention, a link, one bold run) so a cut never lands
inside markup and breaks it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import discord

from bot.messages import Bold, Link, Mention, Part, Text

#: Discord refuses message content longer than this.
MAX_CONTENT = 2000

_BRACKET = re.compile(r"(?<!\\)([\[\]])")
_USER_MENTION = re.compile(r"<@!?(\d{15,21})>")


def escape(text: str) -> str:
    """Escape member text so it shows literally and cannot ping everyone."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


_ATOM = re.compile(r"\\.|@\u200b|\n|[^\\@\n]{1,64}|.", re.S)


def _escaped_atoms(text: str) -> list[str]:
    """Split escaped text into pieces a cut may fall between: an escape stays with its character,
    a line break stands alone (cuts prefer it), plain runs come in short slices."""
    return _ATOM.findall(text)


def _atoms(parts: Sequence[Part], limit: int) -> list[str]:
    out: list[str] = []
    for part in parts:
        if isinstance(part, Mention):
            out.append(f"<@{part.user.user_id}>")
        elif isinstance(part, Link):
            label = _BRACKET.sub(r"\\\1", escape(part.text))
            url = part.url.replace(")", "%29").replace(" ", "%20")
            atom = f"[{label}]({url})" if part.text and part.text != part.url else f"<{url}>"
            out.append(atom if len(atom) <= limit else url[:limit])
        elif isinstance(part, Bold):
            inner = _escaped_atoms(escape(part.text))
            # A bold run longer than one message is cut into several bold runs.
            run: list[str] = []
            size = 0
            for atom in inner:
                if size + len(atom) > limit - 4:
                    out.append("**" + "".join(run) + "**")
                    run, size = [], 0
                run.append(atom)
                size += len(atom)
            if run:
                out.append("**" + "".join(run) + "**")
        elif isinstance(part, Text):
            out.extend(_escaped_atoms(escape(part.text)))
    return out


def render(parts: Sequence[Part]) -> str:
    """The whole message as one Discord markdown string (no length limit applied)."""
    return "".join(_atoms(parts, 1 << 30))


def render_chunks(parts: Sequence[Part], limit: int = MAX_CONTENT) -> list[str]:
    """The message as Discord markdown, cut into chunks of at most ``limit`` characters.

    Cuts prefer the last line break inside the window; a chunk never starts with that break.
    """
    atoms = _atoms(parts, limit)
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    last_break = -1  # index in ``current`` of the last newline atom
    for atom in atoms:
        if size + len(atom) > limit and current:
            if last_break > 0:
                chunks.append("".join(current[:last_break]))
                current = current[last_break + 1 :]
            else:
                chunks.append("".join(current))
                current = []
            size = sum(len(a) for a in current)
            last_break = max((i for i, a in enumerate(current) if a == "\n"), default=-1)
        if atom == "\n":
            last_break = len(current)
        current.append(atom)
        size += len(atom)
    if current:
        chunks.append("".join(current))
    return [c for c in chunks if c.strip()] or [""]


def mentioned_ids(text: str) -> list[str]:
    """User ids of the ``<@id>`` mentions in raw Discord text, in order, without repeats."""
    seen: dict[str, None] = {}
    for match in _USER_MENTION.finditer(text):
        seen.setdefault(match.group(1), None)
    return list(seen)
