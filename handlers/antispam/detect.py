"""What a probation member may not post, read from one message: pure functions, no core needed.

Links are found in two passes: anything with a scheme or ``www.``, and bare domains
(``fuli3.com``, ``t.me/xyz``) whose suffix is a real public suffix. The suffix check is
``publicsuffixlist``'s bundled Public Suffix List (no network at run time, no dependencies), so
``v2.0`` or ``1.5`` are not links while ``bit.ly`` and ``t.me`` are. Contact offers (加V, 加微信,
wx: …) are the Chinese spammer's link and are treated as one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import regex
from publicsuffixlist import PublicSuffixList

from bot.events import MessageEvent
from bot.parsed import ParsedMessage

#: Scheme or www. links, up to the next space (CJK punctuation ends them too).
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'，。！？、）】》]+", re.IGNORECASE)
#: Bare-domain candidates: labels joined by dots, an optional path. ASCII only, not inside an
#: e-mail address or a longer word.
_BARE = re.compile(
    r"(?<![\w@.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62})(/[^\s<>\"'，。！？、）】》]*)?",
    re.IGNORECASE | re.ASCII,
)
#: Invite links: a way into another group or server, the raider's usual payload.
_INVITE = re.compile(
    r"(?:t\.me|telegram\.me)/(?:joinchat/|\+)|discord(?:app)?\.(?:gg|com/invite)/|(?:qm|jq)\.qq\.com/",
    re.IGNORECASE,
)
#: Contact offers: "add me on WeChat / V / QQ", with the usual homophones (薇, 威, 卫), or an
#: account id after a WeChat/QQ label. Run on NFKC-folded, case-folded text.
_CONTACT = re.compile(
    r"加\s*(?:v\b|v[^a-z]|vx|wx|微|薇|威|卫|扣|q|群)"
    r"|(?:微信|薇信|威信|v信|vx|wx|weixin|wechat)\s*(?:号)?\s*[:：]?\s*[a-z0-9_-]{5,}"
    r"|(?:qq|扣扣|企鹅)\s*(?:号|群)?\s*[:：]?\s*\d{5,}",
    re.IGNORECASE,
)
_EMOJI = regex.compile(r"\p{Extended_Pictographic}")
_GRAPHEME = regex.compile(r"\X")


@lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    # accept_unknown=False: "foo.notatld" is not a domain (the default treats any TLD as one).
    return PublicSuffixList(accept_unknown=False)


@lru_cache(maxsize=4096)
def _is_domain(host: str) -> bool:
    # A known public suffix and a name before it: "1.5" and "a.b" are not domains, "t.me" is.
    registered = _suffixes().privatesuffix(host)
    return registered is not None and not registered.split(".", 1)[0].isdigit()


def warm() -> None:
    """Load the Public Suffix List now (about 0.5 s; see ``similar.warm``)."""
    _suffixes()


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


#: Links found in a case-folded text: the span of each and where it leads (``domain/path``).
Spans = tuple[tuple[tuple[int, int], str], ...]


def links(text: str) -> list[str]:
    """Every link in ``text`` as ``domain/path`` (no scheme, no ``www.``, no query), in order.

    Links are compared by where they lead: ``https://T.me/fuli3?x=1`` and ``t.me/fuli3`` are one.
    """
    return [link for _, link in link_spans(text)[1]]


def message_links(parsed: ParsedMessage) -> list[str]:
    """:func:`links` of a message, read from its shared parse (found once per message)."""
    return [link for _, link in parsed.view(message_link_spans)]


def without_links(text: str) -> tuple[str, list[str]]:
    """``text`` (NFKC, case-folded) with its links cut out, and the links as ``domain/path``."""
    return cut_links(*link_spans(text))


def cut_links(folded: str, spans: Spans) -> tuple[str, list[str]]:
    """The case-folded text with each link in ``spans`` replaced by a space, and the links."""
    rest = folded
    for (start, end), _ in reversed(spans):
        rest = rest[:start] + " " + rest[end:]
    return rest, [link for _, link in spans]


@lru_cache(maxsize=1024)
def link_spans(text: str) -> tuple[str, Spans]:
    """The NFKC, case-folded text and where in it each link is, with its ``domain/path``.

    For texts outside the message path (stored samples, tests); a message's links come from
    its shared parse (:func:`message_link_spans`)."""
    folded = _folded(text)
    return folded, spans_in(folded)


def message_link_spans(parsed: ParsedMessage) -> Spans:
    """Where the links of a message are, in ``parsed.casefolded`` (use through
    ``parsed.view``, so probation, the duplicate check and the sketch find them once)."""
    return spans_in(parsed.casefolded)


def spans_in(folded: str) -> Spans:
    """Where each link is in an already NFKC, case-folded text, with its ``domain/path``."""
    found: list[tuple[tuple[int, int], str]] = []
    for match in _URL.finditer(folded):
        found.append((match.span(), canonical_link(match.group(0))))
    taken = [span for span, _ in found]
    for match in _BARE.finditer(folded):
        start = match.start()
        if any(a <= start < b for a, b in taken):
            continue
        if _is_domain(match.group(1)):
            found.append((match.span(), canonical_link(match.group(0))))
    found.sort()
    return tuple(found)


def canonical_link(url: str) -> str:
    """``domain/path`` of a link: lower case, no scheme, ``www.``, query, fragment or final slash."""
    text = _folded(url)
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.removeprefix("www.")
    text = re.split(r"[?#]", text, maxsplit=1)[0]
    return text.rstrip("/.,;:!)")


def emoji_count(text: str) -> int:
    """How many emoji (grapheme clusters with a pictograph) ``text`` holds."""
    if text.isascii():
        return 0
    return sum(1 for g in _GRAPHEME.findall(text) if _EMOJI.search(g))


@dataclass(frozen=True, slots=True)
class Findings:
    """Why a message would break probation (empty: it would not)."""

    reasons: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.reasons)


def probation_findings(
    message: MessageEvent, parsed: ParsedMessage, *, max_emoji: int, max_mentions: int
) -> Findings:
    """The probation rules ``message`` breaks: ``invite``, ``link``, ``contact``, ``forward``,
    ``emoji``, ``mentions``, in that order.

    Forwards and shared contacts come from the adapter as ``forward`` / ``contact`` segments;
    the text is read from the message's shared parse (case-folded once).
    """
    text = message.text
    folded = parsed.casefolded
    reasons: list[str] = []
    if _INVITE.search(folded):
        reasons.append("invite")
    elif message_links(parsed):
        reasons.append("link")
    if _CONTACT.search(folded):
        reasons.append("contact")
    kinds = {segment.kind for segment in message.segments}
    if "forward" in kinds:
        reasons.append("forward")
    if "contact" in kinds and "contact" not in reasons:
        reasons.append("contact")
    if emoji_count(text) > max_emoji:
        reasons.append("emoji")
    if _mention_count(message) > max_mentions:
        reasons.append("mentions")
    return Findings(tuple(reasons))


def _mention_count(message: MessageEvent) -> int:
    segments: Sequence[str] = [s.kind for s in message.segments]
    return max(len(message.mentions), sum(1 for kind in segments if kind in ("mention", "mention_all")))


def in_probation(
    started_at: datetime, messages: int, approved: bool, now: datetime, *, max_messages: int, hours: int
) -> bool:
    """True while a member is on probation: their first ``max_messages`` clean messages or their
    first ``hours`` hours, whichever ends later, unless a moderator approved them."""
    if approved:
        return False
    return messages < max_messages or now < started_at + timedelta(hours=hours)
