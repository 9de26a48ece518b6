"""The outgoing-message model. Handlers build these; each adapter renders them itself.

Handlers never build platform markup: user-provided text goes in as ``Text`` and is escaped by
the adapter for its own format.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.events import UserRef


@dataclass(frozen=True, slots=True)
class Text:
    """Plain text, escaped by the adapter."""

    text: str


@dataclass(frozen=True, slots=True)
class Bold:
    """Emphasised text."""

    text: str


@dataclass(frozen=True, slots=True)
class Mention:
    """A mention of a member that notifies them where the platform can."""

    user: UserRef


@dataclass(frozen=True, slots=True)
class Link:
    """A hyperlink with a label."""

    text: str
    url: str


Part = Text | Bold | Mention | Link


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a message; ``command`` is what a member types where buttons are missing."""

    text: str
    data: str
    command: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message the bot wants to post."""

    parts: tuple[Part, ...]
    reply_to: str | None = None
    buttons: tuple[tuple[Button, ...], ...] | None = None
    image: str | None = None
    silent: bool = False
    #: Mentions that may notify; adapters that can restrict notifications use this list.
    notify: tuple[UserRef, ...] = field(default=())

    @classmethod
    def of(cls, *parts: Part | str, **kwargs: object) -> OutgoingMessage:
        """Build a message from parts, where a bare string means ``Text``."""
        return cls(parts=tuple(Text(p) if isinstance(p, str) else p for p in parts), **kwargs)  # type: ignore[arg-type]

    def with_parts(self, extra: Iterable[Part]) -> OutgoingMessage:
        """A copy with more parts appended."""
        return OutgoingMessage(
            parts=self.parts + tuple(extra),
            reply_to=self.reply_to,
            buttons=self.buttons,
            image=self.image,
            silent=self.silent,
            notify=self.notify,
        )

    @property
    def mentioned(self) -> tuple[UserRef, ...]:
        """Every member this message mentions."""
        return tuple(p.user for p in self.parts if isinstance(p, Mention))


def render_plain(parts: Sequence[Part]) -> str:
    """The plain-text rendering a member would see; mentions render as ``@name``."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, Mention):
            out.append("@" + (part.user.display_name or part.user.user_id))
        elif isinstance(part, Link):
            out.append(f"{part.text} ({part.url})" if part.text != part.url else part.url)
        else:
            out.append(part.text)
    return "".join(out)


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` characters, preferring line breaks."""
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
            chunks.append(rest[:cut])
            rest = rest[cut:]
        else:
            chunks.append(rest[:cut])
            rest = rest[cut + 1 :]
    if rest:
        chunks.append(rest)
    return chunks
