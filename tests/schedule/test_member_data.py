"""/mydata gives back what the planning features keep about a member; /forgetme erases it."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from storage.activities import activity_rsvps
from storage.schedules import scheduled_posts
from storage.topics import topic_replies, topic_suggestions
from tests.harness import Harness, sends, texts

MOD = {"role": "moderator"}


async def test_export_and_forget(h: Harness) -> None:
    await h.say("demo", "mod", "/set welcome.onboarding on", **MOD)
    await h.join("demo", "alice")
    topic = sends(await h.say("demo", "bob", "/topic"))[0]["id"]
    await h.say("demo", "alice", "my answer", reply_to=topic)
    await h.say("demo", "alice", "/topic suggest 你最喜欢的季节？")
    await h.say("demo", "mod", "/event add 读书会 | 明天 20:00", **MOD)
    await h.say("demo", "alice", "/join 1")
    dm = [
        r
        for r in await h.say("demo", "alice", "/mydata")
        if r["action"] == "send" and r.get("user") == "alice"
    ]
    exported = json.loads(dm[0]["text"].split("\n", 1)[1])["groups"][0]["stored"]
    suggestions = exported["topic_suggestions"]
    assert [(s["text"], s["status"]) for s in suggestions] == [("你最喜欢的季节？", "pending")]
    assert [r["count"] for r in exported["topic_replies"]] == [1]
    assert [(r["activity_id"], r["status"]) for r in exported["activity_rsvps"]] == [(1, "going")]
    assert exported["onboarding"][0]["spoke_at"] is not None
    assert "scheduled_posts" not in exported

    confirm = sends(await h.say("demo", "alice", "/forgetme"))[0]
    await h.press("demo", "alice", confirm["id"], confirm["buttons"][0][0]["data"])
    async with h.services.db.begin() as conn:
        for table in (topic_replies, topic_suggestions, activity_rsvps):
            assert (await conn.execute(select(func.count()).select_from(table))).scalar_one() == 0, table.name
    # Nothing more is sent to a forgotten newcomer.
    later = texts(await h.advance(8 * 86400))
    assert not [t for t in later if "@alice" in t]


async def test_moderator_export_lists_planned_posts_and_forget_keeps_them(h: Harness) -> None:
    await h.say("demo", "mod", "/schedule add daily 09:30 早", **MOD)
    dm = [
        r
        for r in await h.say("demo", "mod", "/mydata", **MOD)
        if r["action"] == "send" and r.get("user") == "mod"
    ]
    exported = json.loads(dm[0]["text"].split("\n", 1)[1])["groups"][0]["stored"]
    posts = exported["scheduled_posts"]
    assert [(p["when_text"], p["text"], p["created_by"]) for p in posts] == [("daily 09:30", "早", "mod")]
    confirm = sends(await h.say("demo", "mod", "/forgetme", **MOD))[0]
    await h.press("demo", "mod", confirm["id"], confirm["buttons"][0][0]["data"])
    async with h.services.db.begin() as conn:
        rows = (await conn.execute(select(scheduled_posts.c.created_by))).all()
    assert [r.created_by for r in rows] == [None]
    assert texts(await h.advance(3600)) == ["早"]  # the group's post still goes out


async def test_deleting_a_post_also_drops_its_deferred_run(h: Harness) -> None:
    await h.say("demo", "mod", "/quiet 22:00-08:00", **MOD)
    await h.say("demo", "mod", "/schedule add daily 23:00 晚安", **MOD)
    await h.advance(to="2026-03-02T23:30:00+08:00")
    # The deferred run is named after where it goes: the end of the window (08:00 = 00:00 UTC).
    assert [j.id for j in await h.services.scheduler.list("sched:1~")] == ["sched:1~20260303T0000"]
    await h.say("demo", "mod", "/schedule del 1", **MOD)
    assert await h.services.scheduler.list("sched:1") == []
    assert texts(await h.advance(86400)) == []
