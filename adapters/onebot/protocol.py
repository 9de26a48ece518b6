"""OneBot 11 frames to core events, and failed action responses to core errors.

Pure functions with no I/O, so every odd frame a bridge may send is unit-testable. A frame that
does not fit raises ``ValueError``; the connection logs it and carries on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.onebot.cq import RawSegment, parse_message
from bot.errors import BotLacksPermission, QunyouError, TargetNotFound, TransportError
from bot.events import (
    ChatRef,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MessageEvent,
    PlatformEvent,
    Segment,
    UserRef,
)
from bot.roles import Role

PLATFORM = "onebot"

ROLES: Mapping[str, Role] = {"owner": Role.OWNER, "admin": Role.ADMIN, "member": Role.MEMBER}


@dataclass(frozen=True, slots=True)
class Meta:
    """A meta event (heartbeat or lifecycle) the connection tracks itself."""

    kind: str
    sub_type: str
    self_id: str
    interval_ms: int | None = None
    online: bool | None = None


@dataclass(frozen=True, slots=True)
class BotMuted:
    """A ``group_ban`` notice about the bot itself: it cannot post there until it ends."""

    group_id: str
    duration: int


@dataclass(frozen=True, slots=True)
class RoleChanged:
    """A ``group_admin`` notice or a member leaving: the cached role is stale."""

    group_id: str
    user_id: str


Parsed = PlatformEvent | Meta | BotMuted | RoleChanged | None


def _id(value: Any, what: str) -> str:
    # OneBot ids are numbers on QQ bridges and strings (wxid_…, …@chatroom) on WeChat bridges.
    if isinstance(value, bool) or value is None or not isinstance(value, int | str):
        raise ValueError(f"{what} is missing or not an id: {value!r}")
    text = str(value).strip()
    if not text:
        raise ValueError(f"{what} is empty")
    return text


def _instant(frame: Mapping[str, Any], now: datetime) -> datetime:
    stamp = frame.get("time")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool) and stamp > 0:
        return datetime.fromtimestamp(stamp, UTC)
    return now


def group_chat(adapter: str, group_id: str) -> ChatRef:
    """The chat for a OneBot group: the group is both the scope and the channel."""
    return ChatRef(PLATFORM, adapter, group_id, group_id, "group")


def private_chat(adapter: str, user_id: str) -> ChatRef:
    """The one-to-one chat with a member."""
    return ChatRef(PLATFORM, adapter, user_id, user_id, "private")


def _user(user_id: str, name: str = "", *, is_bot: bool = False) -> UserRef:
    return UserRef(PLATFORM, user_id, name or user_id, is_bot=is_bot)


def parse_frame(frame: Any, *, adapter: str, self_id: str | None, now: datetime) -> Parsed:
    """Turn one decoded frame into an event, a meta record, or None for frames we do not use.

    ``self_id`` is the bot's own account (when known): its own messages are dropped, mentions of
    it set ``mentions_bot``. Raises ``ValueError`` for a frame that is not valid OneBot 11.
    """
    if not isinstance(frame, dict):
        raise ValueError(f"frame is not a JSON object: {type(frame).__name__}")
    post_type = frame.get("post_type")
    if post_type == "message":
        return _message(frame, adapter, self_id, now)
    if post_type == "notice":
        return _notice(frame, adapter, self_id, now)
    if post_type == "meta_event":
        return _meta(frame)
    if post_type == "request":
        return _request(frame, adapter, self_id, now)
    if post_type == "message_sent":
        # NapCat/LLOneBot report the bot's own posts; never answer ourselves.
        return None
    raise ValueError(f"unknown post_type {post_type!r}")


def _message(
    frame: Mapping[str, Any], adapter: str, self_id: str | None, now: datetime
) -> PlatformEvent | None:
    user_id = _id(frame.get("user_id"), "user_id")
    if self_id is not None and user_id == self_id:
        return None
    message_type = frame.get("message_type")
    sender_info = frame.get("sender") if isinstance(frame.get("sender"), dict) else {}
    assert isinstance(sender_info, dict)
    name = str(sender_info.get("card") or sender_info.get("nickname") or "")
    if message_type == "group":
        chat = group_chat(adapter, _id(frame.get("group_id"), "group_id"))
    elif message_type == "private":
        chat = private_chat(adapter, user_id)
    elif message_type == "guild":
        return None  # go-cqhttp's QQ-channel extension: not a group, nothing of ours lives there
    else:
        raise ValueError(f"unknown message_type {message_type!r}")
    message_id = _id(frame.get("message_id"), "message_id")
    raw = frame.get("message")
    if raw is None:
        raw = frame.get("raw_message", "")
    segments = parse_message(raw)
    text, ours, mentions, mentions_bot, reply_to = _flatten(segments, self_id)
    return MessageEvent(
        event_id=f"{PLATFORM}:{self_id or frame.get('self_id', '')}:m:{message_id}",
        at=_instant(frame, now),
        chat=chat,
        sender=_user(user_id, name),
        message_id=message_id,
        text=text,
        segments=ours,
        reply_to=reply_to,
        mentions=mentions,
        mentions_bot=mentions_bot,
    )


def _flatten(
    segments: list[RawSegment], self_id: str | None
) -> tuple[str, tuple[Segment, ...], tuple[UserRef, ...], bool, str | None]:
    """Plain text (bot mentions removed), core segments, mentions, mentions_bot, reply id."""
    pieces: list[str] = []
    ours: list[Segment] = []
    mentions: list[UserRef] = []
    mentions_bot = False
    reply_to: str | None = None
    for seg in segments:
        if seg.type == "text":
            pieces.append(seg.get("text"))
            ours.append(Segment("text", text=seg.get("text")))
        elif seg.type == "at":
            qq = seg.get("qq")
            if self_id is not None and qq == self_id:
                # "@bot 签到" must run 签到: the address to the bot is not part of the command.
                mentions_bot = True
                continue
            if qq == "all":
                pieces.append("@all")
                ours.append(Segment("mention_all", text="@all"))
                continue
            if not qq:
                continue
            user = _user(qq, seg.get("name"))
            mentions.append(user)
            label = "@" + user.user_id
            pieces.append(label)
            ours.append(Segment("mention", text=label, user=user))
        elif seg.type == "reply":
            reply_to = seg.get("id") or None
            ours.append(Segment("reply", data=reply_to))
        elif seg.type == "image":
            ours.append(Segment("image", data=seg.get("url") or seg.get("file")))
        elif seg.type == "face":
            ours.append(Segment("face", data=seg.get("id")))
        else:
            ours.append(Segment(seg.type, data=seg.get("text") or None))
    return "".join(pieces).strip(), tuple(ours), tuple(mentions), mentions_bot, reply_to


def _notice(frame: Mapping[str, Any], adapter: str, self_id: str | None, now: datetime) -> Parsed:
    notice_type = frame.get("notice_type")
    if notice_type not in ("group_increase", "group_decrease", "group_ban", "group_admin"):
        return None
    group_id = _id(frame.get("group_id"), "group_id")
    user_id = _id(frame.get("user_id"), "user_id")
    sub_type = str(frame.get("sub_type") or "")
    at = _instant(frame, now)
    chat = group_chat(adapter, group_id)
    account = self_id or frame.get("self_id", "")
    event_id = f"{PLATFORM}:{account}:n:{notice_type}:{group_id}:{user_id}:{frame.get('time', '')}"
    is_self = self_id is not None and user_id == self_id
    if notice_type == "group_increase":
        operator = frame.get("operator_id")
        invited_by = None
        # "approve" means an admin let a join request in; only "invite" names someone who brought
        # the member, and only they should be credited for it.
        if sub_type != "approve" and operator not in (None, 0, "0", ""):
            operator_id = _id(operator, "operator_id")
            if operator_id != user_id:
                invited_by = _user(operator_id, is_bot=operator_id == self_id)
        return MemberJoined(event_id, at, chat, _user(user_id, is_bot=is_self), invited_by)
    if notice_type == "group_decrease":
        return MemberLeft(event_id, at, chat, _user(user_id, is_bot=is_self))
    if notice_type == "group_admin":
        return RoleChanged(group_id, user_id)
    # group_ban: only our own mute changes what we can do; others' mutes are the platform's record.
    if is_self:
        duration = frame.get("duration", 0)
        seconds = int(duration) if isinstance(duration, int | float) else 0
        return BotMuted(group_id, 0 if sub_type == "lift_ban" else seconds)
    return None


def _request(frame: Mapping[str, Any], adapter: str, self_id: str | None, now: datetime) -> Parsed:
    """A group join request (``request_type: group``, ``sub_type: add``) as ``JoinRequested``.

    Friend requests and invitations of the bot itself into a group stay a human's decision.
    """
    if frame.get("request_type") != "group" or frame.get("sub_type") != "add":
        return None
    flag = frame.get("flag")
    if not isinstance(flag, str | int) or isinstance(flag, bool) or not str(flag):
        raise ValueError("group request without a flag")
    group_id = _id(frame.get("group_id"), "group_id")
    user_id = _id(frame.get("user_id"), "user_id")
    comment = frame.get("comment")
    account = self_id or frame.get("self_id", "")
    return JoinRequested(
        event_id=f"{PLATFORM}:{account}:r:{group_id}:{user_id}:{flag}",
        at=_instant(frame, now),
        chat=group_chat(adapter, group_id),
        member=_user(user_id),
        answer=comment if isinstance(comment, str) else "",
        request_id=str(flag),
    )


def _meta(frame: Mapping[str, Any]) -> Meta:
    kind = str(frame.get("meta_event_type") or "")
    if kind not in ("heartbeat", "lifecycle"):
        raise ValueError(f"unknown meta_event_type {kind!r}")
    status = frame.get("status")
    online = status.get("online") if isinstance(status, dict) else None
    interval = frame.get("interval")
    return Meta(
        kind=kind,
        sub_type=str(frame.get("sub_type") or ""),
        self_id=str(frame.get("self_id") or ""),
        interval_ms=interval if isinstance(interval, int) and not isinstance(interval, bool) else None,
        online=online if isinstance(online, bool) else None,
    )


_PERMISSION_WORDS = ("permission", "权限", "not admin", "管理员", "no right", "forbidden", "无法操作")
_NOT_FOUND_WORDS = ("not found", "not exist", "不存在", "找不到", "未找到", "unknown message", "不在")


def failure_error(action: str, response: Mapping[str, Any]) -> QunyouError:
    """The core error for a ``status: failed`` response.

    OneBot 11 fixes only the HTTP-like retcodes (1400, 1401, 1403, 1404); bridges put their own
    reason in ``message``/``wording``, so the reason text decides between "we lack the right" and
    "that member or message is gone". Anything else is a transport-level failure.
    """
    retcode = response.get("retcode")
    reason = " ".join(str(response.get(k) or "") for k in ("message", "msg", "wording")).strip()
    detail = f"{action} failed (retcode {retcode}){': ' + reason if reason else ''}"
    lowered = reason.lower()
    if retcode in (1401, 1403) or any(w in lowered for w in _PERMISSION_WORDS):
        return BotLacksPermission(detail)
    if any(w in lowered for w in _NOT_FOUND_WORDS):
        return TargetNotFound(detail)
    if retcode == 1404:
        return TransportError(f"the bridge does not implement {action} (retcode 1404)")
    return TransportError(detail)


def role_of(data: Any) -> Role:
    """Our role for a ``get_group_member_info`` result (or a message's ``sender``)."""
    role = data.get("role") if isinstance(data, dict) else None
    return ROLES.get(str(role or "member"), Role.MEMBER)
