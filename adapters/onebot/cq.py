"""OneBot 11 message codecs: the CQ-code string form and the segment-array form.

Bridges deliver a message either as a CQ-code string (``hi [CQ:at,qq=10001] &#91;x&#93;``) or as
an array of ``{"type": ..., "data": {...}}`` segments, depending on their ``message_post_format``
setting; both are normalized here into one list of ``RawSegment``. Outbound we always send the
array form, so member-provided text travels as a ``text`` segment and can never be read by the
bridge as a CQ code (no injection of ``[CQ:at,qq=all]`` through a nickname or a topic title).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The four escapes of OneBot 11. Text outside CQ codes escapes & [ ]; values inside a CQ code
# also escape the comma, which separates parameters.
_TEXT_ESCAPES = (("&", "&amp;"), ("[", "&#91;"), ("]", "&#93;"))
_PARAM_ESCAPES = (*_TEXT_ESCAPES, (",", "&#44;"))
_UNESCAPE = re.compile(r"&(amp|#91|#93|#44);")
_UNESCAPE_MAP = {"amp": "&", "#91": "[", "#93": "]", "#44": ","}
# A CQ code: ``[CQ:type,key=value,...]``; values may not contain a raw ``]`` or ``,``.
_CQ = re.compile(r"\[CQ:([A-Za-z0-9_.\-]+)((?:,[^,\]]*)*)\]")


@dataclass(frozen=True, slots=True)
class RawSegment:
    """One OneBot segment: its type and its string-valued parameters."""

    type: str
    data: Mapping[str, str] = field(default_factory=dict)

    def get(self, key: str, default: str = "") -> str:
        """A parameter's value, or ``default`` when the bridge left it out."""
        return self.data.get(key, default)


def escape(text: str, *, in_param: bool = False) -> str:
    """CQ-escape ``text`` (``in_param`` also escapes the comma, for values inside a CQ code)."""
    for raw, escaped in _PARAM_ESCAPES if in_param else _TEXT_ESCAPES:
        text = text.replace(raw, escaped)
    return text


def unescape(text: str) -> str:
    """Undo CQ escaping in one pass, so ``&amp;#91;`` stays the literal text ``&#91;``."""
    return _UNESCAPE.sub(lambda m: _UNESCAPE_MAP[m.group(1)], text)


def parse_cq(message: str) -> list[RawSegment]:
    """Split a CQ-code string into segments; text between codes becomes ``text`` segments."""
    segments: list[RawSegment] = []
    pos = 0
    for match in _CQ.finditer(message):
        if match.start() > pos:
            segments.append(RawSegment("text", {"text": unescape(message[pos : match.start()])}))
        params: dict[str, str] = {}
        for pair in match.group(2).split(",")[1:]:
            key, sep, value = pair.partition("=")
            if sep:
                params[key.strip()] = unescape(value)
        segments.append(RawSegment(match.group(1), params))
        pos = match.end()
    if pos < len(message):
        segments.append(RawSegment("text", {"text": unescape(message[pos:])}))
    return segments


def to_cq(segments: list[RawSegment]) -> str:
    """Render segments as a CQ-code string (used for logs and for bridges that want strings)."""
    out: list[str] = []
    for seg in segments:
        if seg.type == "text":
            out.append(escape(seg.get("text")))
        else:
            params = "".join(f",{k}={escape(str(v), in_param=True)}" for k, v in seg.data.items())
            out.append(f"[CQ:{seg.type}{params}]")
    return "".join(out)


def parse_message(message: Any) -> list[RawSegment]:
    """Normalize a ``message`` field in either form; raises ``ValueError`` when it is neither."""
    if isinstance(message, str):
        return parse_cq(message)
    if isinstance(message, list):
        segments: list[RawSegment] = []
        for item in message:
            if not isinstance(item, dict) or not isinstance(item.get("type"), str):
                raise ValueError(f"not a message segment: {item!r}")
            data = item.get("data") or {}
            if not isinstance(data, dict):
                raise ValueError(f"segment data is not an object: {item!r}")
            # Bridges disagree on whether ids are numbers or strings; we keep strings.
            segments.append(
                RawSegment(item["type"], {str(k): "" if v is None else str(v) for k, v in data.items()})
            )
        return segments
    raise ValueError(f"message is neither a CQ string nor a segment array: {type(message).__name__}")


def segment(type_: str, **data: str) -> dict[str, Any]:
    """One outbound segment in the array form."""
    return {"type": type_, "data": dict(data)}
