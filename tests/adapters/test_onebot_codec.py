"""OneBot 11 codecs and frame normalization, without a connection."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.onebot import CONFIG_MODEL, build
from adapters.onebot.cq import RawSegment, escape, parse_cq, parse_message, to_cq, unescape
from adapters.onebot.protocol import BotMuted, Meta, RoleChanged, failure_error, parse_frame, role_of
from bot.errors import BotLacksPermission, ConfigError, TargetNotFound, TransportError
from bot.events import MemberJoined, MemberLeft, MessageEvent
from bot.roles import Role
from tests.fakes.onebot_bridge import GROUP, SELF_ID, Bridge

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def parse(frame: object) -> object:
    return parse_frame(frame, adapter="qq", self_id=SELF_ID, now=NOW)


# -- CQ codes ---------------------------------------------------------------------------------


def test_escape_covers_the_four_escapes() -> None:
    assert escape("a&b[c]d,e") == "a&amp;b&#91;c&#93;d,e"
    assert escape("a&b[c]d,e", in_param=True) == "a&amp;b&#91;c&#93;d&#44;e"


def test_unescape_is_one_pass() -> None:
    # "&amp;#91;" is the escaped form of the literal text "&#91;", not of "[".
    assert unescape("&amp;#91;") == "&#91;"
    assert unescape("&#91;CQ:at,qq=all&#93;") == "[CQ:at,qq=all]"


@given(st.text())
def test_text_survives_escape_round_trip(text: str) -> None:
    assert unescape(escape(text)) == text
    assert unescape(escape(text, in_param=True)) == text


@given(st.text())
def test_escaped_member_text_never_parses_as_a_cq_code(text: str) -> None:
    segments = parse_cq(escape(text))
    assert all(seg.type == "text" for seg in segments)
    assert "".join(seg.get("text") for seg in segments) == text


def test_parse_cq_string_with_codes_and_escapes() -> None:
    segments = parse_cq(
        "[CQ:reply,id=77][CQ:at,qq=10000] 签到 &#91;x&#93;[CQ:face,id=14][CQ:image,file=a.png,url=http://x/a&#44;b]"
    )
    assert segments == [
        RawSegment("reply", {"id": "77"}),
        RawSegment("at", {"qq": "10000"}),
        RawSegment("text", {"text": " 签到 [x]"}),
        RawSegment("face", {"id": "14"}),
        RawSegment("image", {"file": "a.png", "url": "http://x/a,b"}),
    ]


def test_to_cq_round_trips_through_parse() -> None:
    segments = [RawSegment("text", {"text": "a[b]&,"}), RawSegment("at", {"qq": "1,2"})]
    assert parse_cq(to_cq(segments)) == segments


def test_segment_array_with_numbers_and_nulls() -> None:
    segments = parse_message(
        [
            {"type": "at", "data": {"qq": 10000}},
            {"type": "text", "data": {"text": "hi"}},
            {"type": "image", "data": {"file": "x", "url": None}},
        ]
    )
    assert segments[0] == RawSegment("at", {"qq": "10000"})
    assert segments[2].get("url") == ""


@pytest.mark.parametrize("bad", [42, None, [{"data": {}}], [{"type": "text", "data": "x"}], ["text"]])
def test_parse_message_rejects_garbage(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_message(bad)


# -- frames -----------------------------------------------------------------------------------


def test_group_message_cq_string() -> None:
    bridge = Bridge()
    event = parse(bridge.group_message("[CQ:at,qq=10000] 签到", card="小A", message_id=9))
    assert isinstance(event, MessageEvent)
    assert event.text == "签到"
    assert event.mentions_bot
    assert event.chat.platform == "onebot" and event.chat.adapter == "qq"
    assert event.chat.scope_id == event.chat.channel_id == GROUP
    assert event.chat.kind == "group"
    assert event.sender.user_id == "20001" and event.sender.display_name == "小A"
    assert event.message_id == "9"
    assert event.at == datetime.fromtimestamp(bridge.time, UTC)
    assert event.event_id == f"onebot:{SELF_ID}:m:9"


def test_group_message_segment_array_with_reply_mention_image_face() -> None:
    bridge = Bridge()
    event = parse(
        bridge.group_message(
            [
                {"type": "reply", "data": {"id": "41"}},
                {"type": "at", "data": {"qq": "30003", "name": "Bob"}},
                {"type": "text", "data": {"text": " /warn spam"}},
                {"type": "face", "data": {"id": "14"}},
                {"type": "image", "data": {"file": "abc.image", "url": "https://img/x.png"}},
            ]
        )
    )
    assert isinstance(event, MessageEvent)
    assert event.reply_to == "41"
    assert event.text == "@30003 /warn spam"
    assert [m.user_id for m in event.mentions] == ["30003"]
    assert event.mentions[0].display_name == "Bob"
    assert not event.mentions_bot
    kinds = [s.kind for s in event.segments]
    assert kinds == ["reply", "mention", "text", "face", "image"]
    assert event.segments[-1].data == "https://img/x.png"


def test_private_message() -> None:
    frame = Bridge().group_message("/help")
    frame.update(message_type="private", sub_type="friend")
    del frame["group_id"]
    event = parse(frame)
    assert isinstance(event, MessageEvent)
    assert event.chat.is_private and event.chat.channel_id == "20001"


def test_qq_channel_messages_are_not_ours() -> None:
    frame = Bridge().group_message("签到")
    frame.update(message_type="guild", guild_id="1", channel_id="2")
    assert parse(frame) is None


def test_own_messages_are_ignored() -> None:
    bridge = Bridge()
    assert parse(bridge.group_message("hello", user=SELF_ID)) is None
    sent = bridge.group_message("hello")
    sent["post_type"] = "message_sent"
    assert parse(sent) is None


def test_wechat_style_string_ids() -> None:
    frame = Bridge().group_message("签到")
    frame.update(group_id="12345@chatroom", user_id="wxid_abc")
    event = parse(frame)
    assert isinstance(event, MessageEvent)
    assert event.chat.scope_id == "12345@chatroom" and event.sender.user_id == "wxid_abc"


def test_join_invited_credits_the_operator() -> None:
    bridge = Bridge()
    event = parse(bridge.notice("group_increase", sub_type="invite", user_id=20002, operator_id=20001))
    assert isinstance(event, MemberJoined)
    assert event.member.user_id == "20002"
    assert event.invited_by is not None and event.invited_by.user_id == "20001"


def test_join_by_self_or_by_approval_credits_nobody() -> None:
    bridge = Bridge()
    for fields in (
        {"sub_type": "invite", "user_id": 20002, "operator_id": 20002},
        {"sub_type": "invite", "user_id": 20002, "operator_id": 0},
        {"sub_type": "approve", "user_id": 20002, "operator_id": 20001},
    ):
        event = parse(bridge.notice("group_increase", **fields))
        assert isinstance(event, MemberJoined) and event.invited_by is None, fields


def test_leave_ban_and_admin_notices() -> None:
    bridge = Bridge()
    left = parse(bridge.notice("group_decrease", sub_type="kick", user_id=20002, operator_id=20001))
    assert isinstance(left, MemberLeft) and left.member.user_id == "20002"
    assert (
        parse(bridge.notice("group_ban", sub_type="ban", user_id=20002, operator_id=1, duration=60)) is None
    )
    muted = parse(
        bridge.notice("group_ban", sub_type="ban", user_id=int(SELF_ID), operator_id=1, duration=600)
    )
    assert muted == BotMuted(GROUP, 600)
    lifted = parse(bridge.notice("group_ban", sub_type="lift_ban", user_id=int(SELF_ID), duration=0))
    assert lifted == BotMuted(GROUP, 0)
    assert parse(bridge.notice("group_admin", sub_type="set", user_id=20002)) == RoleChanged(GROUP, "20002")
    assert parse(bridge.notice("group_recall", user_id=20002, message_id=3)) is None


def test_meta_events() -> None:
    bridge = Bridge()
    assert parse(bridge.heartbeat(online=False)) == Meta("heartbeat", "", SELF_ID, 5000, False)
    assert parse(bridge.lifecycle("connect")) == Meta("lifecycle", "connect", SELF_ID, None, None)


@pytest.mark.parametrize(
    "frame",
    [
        [],
        "text",
        {"post_type": "weird"},
        {"post_type": "message", "message_type": "group", "user_id": 1, "message": "x"},
        {"post_type": "message", "message_type": "channel", "user_id": 1, "message_id": 1, "message": "x"},
        {"post_type": "message", "message_type": "group", "group_id": 1, "user_id": None, "message_id": 1},
        {
            "post_type": "message",
            "message_type": "group",
            "group_id": 1,
            "user_id": 1,
            "message_id": 1,
            "message": 5,
        },
        {"post_type": "notice", "notice_type": "group_increase", "user_id": 2},
        {"post_type": "meta_event", "meta_event_type": "nonsense"},
    ],
)
def test_malformed_frames_raise_value_error(frame: object) -> None:
    with pytest.raises(ValueError):
        parse(frame)


def test_missing_time_falls_back_to_the_clock() -> None:
    frame = Bridge().group_message("hi")
    del frame["time"]
    event = parse(frame)
    assert isinstance(event, MessageEvent) and event.at == NOW


# -- failures and roles ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "error"),
    [
        ({"status": "failed", "retcode": 100, "message": "权限不足"}, BotLacksPermission),
        ({"status": "failed", "retcode": 200, "wording": "Bot is not admin"}, BotLacksPermission),
        ({"status": "failed", "retcode": 1403}, BotLacksPermission),
        ({"status": "failed", "retcode": 100, "message": "消息不存在"}, TargetNotFound),
        ({"status": "failed", "retcode": 200, "message": "group member not found"}, TargetNotFound),
        ({"status": "failed", "retcode": 1404}, TransportError),
        ({"status": "failed", "retcode": 102, "message": "timeout"}, TransportError),
    ],
)
def test_failures_map_to_core_errors(response: dict[str, object], error: type[Exception]) -> None:
    exc = failure_error("delete_msg", response)
    assert type(exc) is error
    assert "delete_msg" in str(exc)


def test_roles() -> None:
    assert role_of({"role": "owner"}) == Role.OWNER
    assert role_of({"role": "admin"}) == Role.ADMIN
    assert role_of({"role": "member"}) == Role.MEMBER
    assert role_of({"role": "unknown"}) == Role.MEMBER
    assert role_of(None) == Role.MEMBER


# -- config -----------------------------------------------------------------------------------


def test_config_defaults_and_errors() -> None:
    cfg = CONFIG_MODEL.model_validate({"type": "onebot"})
    assert cfg.mode == "reverse" and cfg.host_port == ("127.0.0.1", 6700)
    with pytest.raises(ValueError, match="forward"):
        CONFIG_MODEL.model_validate({"type": "onebot", "mode": "forward"})
    with pytest.raises(ValueError, match="HOST:PORT"):
        CONFIG_MODEL.model_validate({"type": "onebot", "listen": "6700"})
    with pytest.raises(ValueError):
        CONFIG_MODEL.model_validate({"type": "onebot", "acess_token_env": "X"})  # typo is an error


def test_build_needs_the_named_token() -> None:
    cfg = {"type": "onebot", "access_token_env": "ONEBOT_ACCESS_TOKEN"}
    with pytest.raises(ConfigError, match=r"adapters\.qq\.access_token_env"):
        build("qq", cfg, {})
    adapter = build("qq", cfg, {"ONEBOT_ACCESS_TOKEN": "s3cret"})
    assert adapter.name == "qq" and adapter.platform == "onebot"


# -- outbound chunking --------------------------------------------------------------------------


@given(st.lists(st.text(min_size=0, max_size=400), max_size=8), st.integers(min_value=20, max_value=300))
def test_chunks_respect_the_limit_and_lose_nothing(texts: list[str], limit: int) -> None:
    from adapters.onebot.render import chunk as _chunk

    pieces = [{"type": "text", "data": {"text": t}} for t in texts]
    chunks = _chunk(pieces, limit)
    sizes = [sum(len(s["data"]["text"]) for s in chunk) for chunk in chunks]
    assert all(size <= limit for size in sizes)
    assert all(s["type"] == "text" for chunk in chunks for s in chunk)
    joined = "".join(s["data"]["text"] for chunk in chunks for s in chunk)
    # split_text may consume the line break it splits at; nothing else is dropped.
    assert joined.replace("\n", "") == "".join(texts).replace("\n", "")


def test_listening_beyond_loopback_needs_a_token() -> None:
    with pytest.raises(ConfigError, match="not a loopback address"):
        build("qq", {"type": "onebot", "listen": "0.0.0.0:6700"}, {})
    assert build("qq", {"type": "onebot", "listen": "127.0.0.1:6700"}, {}).name == "qq"
    open_but_locked = {"type": "onebot", "listen": "0.0.0.0:6700", "access_token_env": "T"}
    assert build("qq", open_but_locked, {"T": "x"}).name == "qq"


def test_chunks_cut_at_line_breaks() -> None:
    from adapters.onebot.render import chunk as _chunk

    lines = [f"• /command{i} — something to do" for i in range(200)]
    chunks = _chunk([{"type": "text", "data": {"text": "\n".join(lines)}}], 1000)
    texts = ["".join(s["data"]["text"] for s in chunk) for chunk in chunks]
    assert len(texts) > 1
    assert all(len(t) <= 1000 for t in texts)
    # Every message holds whole lines, and together they hold every line once, in order.
    assert [line for t in texts for line in t.split("\n")] == lines
