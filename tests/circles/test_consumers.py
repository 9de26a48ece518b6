"""What other features read of the circles through ports: ``/stats circles`` (``CircleFacts``)
and a giveaway for a circle (``CircleMembers``), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handlers import FEATURES
from tests.harness import Harness, texts

Record = dict[str, Any]


def public(records: list[Record], chat: str = "demo") -> list[Record]:
    """Messages posted in a group chat."""
    return [r for r in records if r["action"] == "send" and r.get("chat") == chat]


async def test_stats_circles_shows_size_and_activity(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hello", role="moderator")
        assert texts(await h.say("demo", "max", "/stats circles")) == ["本群还没有兴趣圈。"]
        await h.say("demo", "max", "/circle add games")
        await h.say("demo", "max", "/circle add 徒步")
        for who in ("alice", "bob", "carol"):
            await h.say("demo", who, "/circle join games")
        await h.say("demo", "carol", "/circle mute games")
        await h.say("demo", "max", "/circle ping games 开黑")
        await h.advance(3600)
        for _ in range(3):
            await h.say("demo", "alice", "今晚谁在")
        await h.say("demo", "dave", "路过")  # not in any circle: not counted
        await h.flush()
        report = texts(await h.say("demo", "max", "/stats 圈子"))[-1]  # after any badge news
        lines = report.splitlines()
        assert lines[0] == "兴趣圈（最近 7 天）："
        # alice, bob and carol each typed /circle join (carol also /circle mute); alice 3 more.
        assert lines[1] == "• games：3 人（1 人免打扰），新加入 3，活跃 3 人，发言 7 条，通知 1 次"
        assert lines[2] == "• 徒步：0 人（0 人免打扰），新加入 0，活跃 0 人，发言 0 条，通知 0 次"
        # Members see it only where they may see /stats itself.
        assert texts(await h.say("demo", "alice", "/stats circles")) == texts(
            await h.say("demo", "alice", "/stats")
        )


async def test_stats_circles_without_the_circles_feature(tmp_path: Path) -> None:
    features = [f for f in FEATURES if f.name != "circles"]
    async with Harness(tmp_path, features=features) as h:
        await h.say("demo", "max", "hello", role="moderator")
        assert texts(await h.say("demo", "max", "/stats circles")) == ["这个机器人没有安装兴趣圈功能。"]
        out = texts(await h.say("demo", "max", "/giveaway start 1h 1 T恤 | circle games"))
        assert out[0].startswith("这个机器人没有安装兴趣圈功能，抽奖不能指定兴趣圈。")


async def test_a_giveaway_for_a_circle_mentions_its_unmuted_members(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hello", role="moderator")
        await h.say("demo", "max", "/circle add games")
        people = [f"p{i:02d}" for i in range(23)]
        for who in people:
            await h.say("demo", who, "/circle join games")
        await h.say("demo", "p00", "/circle mute games")
        out = await h.say("demo", "max", "/giveaway start 2h 1 周边T恤 | circle GAMES | points 0")
        posts = public(out)
        assert posts[0]["text"].startswith("🎁 抽奖 #1：周边T恤") and posts[0]["buttons"]
        # 22 unmuted members: 20 mentions (the platform's share) then 2.
        assert posts[1]["text"] == "🎁 抽奖 #1（周边T恤）送给兴趣圈「games」的朋友们：\n" + " ".join(
            f"@{p}" for p in people[1:21]
        )
        assert posts[2]["text"] == "@p21 @p22"
        assert len(posts) == 3
        out = texts(await h.say("demo", "max", "/giveaway start 2h 1 T恤 | circle chess"))
        assert out[0].startswith("没有叫「chess」的兴趣圈。")
        listed = texts(await h.say("demo", "max", "/giveaway list"))[0]
        assert "#1" in listed and "#2" not in listed  # nothing was stored for the refused one


async def test_a_scheduled_post_tagging_a_circle_mentions_its_unmuted_members(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hello", role="moderator")
        await h.say("demo", "max", "/circle add 徒步")
        for who in ("alice", "bob", "carol"):
            await h.say("demo", who, "/circle join 徒步")
        await h.say("demo", "carol", "/circle mute 徒步")
        await h.say("demo", "max", "/schedule add daily 10:00 #徒步 周六爬山，报名走起 #nosuchcircle")
        posted = public(await h.advance(to="2026-03-02T10:00:30+08:00"))
        post = [r for r in posted if "周六爬山" in r["text"]]
        call = [r for r in posted if "兴趣圈「徒步」" in r["text"]]
        assert len(post) == 1 and len(call) == 1, posted
        assert "@alice" in call[0]["text"] and "@bob" in call[0]["text"]
        assert "@carol" not in call[0]["text"]  # muted the circle's pings
        assert posted.index(post[0]) < posted.index(call[0])  # after the post


async def test_a_scheduled_post_without_the_circles_feature_is_plain_text(tmp_path: Path) -> None:
    features = [f for f in FEATURES if f.name != "circles"]
    async with Harness(tmp_path, features=features) as h:
        await h.say("demo", "max", "hello", role="moderator")
        await h.say("demo", "max", "/schedule add daily 10:00 #徒步 周六爬山")
        posted = public(await h.advance(to="2026-03-02T10:00:30+08:00"))
    assert [r["text"] for r in posted if "周六爬山" in r["text"]] == ["#徒步 周六爬山"]
    assert not [r for r in posted if "兴趣圈" in r["text"]]


async def test_an_activity_and_a_topic_tagging_a_circle_mention_its_members(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hello", role="moderator")
        await h.say("demo", "max", "/circle add 徒步")
        await h.say("demo", "alice", "/circle join 徒步")
        out = public(await h.say("demo", "max", "/event add 周日爬山 #徒步 | 03-15 08:00 | 4h | 北门集合"))
        assert "周日爬山" in out[0]["text"] and out[0]["buttons"]  # the announcement first
        assert [r["text"] for r in out[1:]] == ["📣 兴趣圈「徒步」的朋友们：\n@alice"]
        await h.say("demo", "max", "/topic add #徒步 这周末想去哪儿走走？")
        out = public(await h.say("demo", "max", "/topic now"))
        assert "这周末想去哪儿走走" in out[0]["text"]
        assert [r["text"] for r in out[1:]] == ["📣 兴趣圈「徒步」的朋友们：\n@alice"]
        # Untagged posts mention nobody.
        out = public(await h.say("demo", "max", "/event add 读书会 | 03-17 20:00"))
        assert len(out) == 1
