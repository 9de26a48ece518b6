"""The Content page: scheduled posts, topics and suggestions, activities and onboarding texts,
each action doing what the chat command or button does, audited as the moderator."""

from __future__ import annotations

from pathlib import Path

from handlers.moderation.service import get_state
from tests.harness import Harness, sends, texts
from tests.web.helpers import dashboard, log_in


async def _setup(h: Harness) -> None:
    await h.say("demo", "bob", "hi")
    await h.say("demo", "max", "hello", role="moderator", name="Max")
    await h.say("other", "zoe", "hello", role="moderator")


async def _audit(h: Harness) -> list[tuple[str, str]]:
    rows = await get_state(h.services).repos.audit.log_rows(1)
    return [(r.actor, r.action) for r in rows]


async def test_a_scheduled_post_planned_paused_edited_and_deleted_in_the_browser(
    db_url: str, tmp_path: Path
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h, dashboard(h) as client:
        await _setup(h)
        csrf = await log_in(h, client, "demo", "max")
        added = await client.post(
            "/g/1/content/posts/add", data={"csrf": csrf, "when": "daily 10:00", "text": "早上好，各位"}
        )
        assert added.status_code == 200 and "定时消息 #1 已计划" in added.text
        # Its next run, in the group's timezone (Asia/Shanghai; the clock is 09:00 there).
        assert 'id="post-1"' in added.text and "2026-03-02 10:00" in added.text
        listed = texts(await h.say("demo", "max", "/schedule list"))
        assert any("早上好，各位" in line for line in listed)
        # It goes out at 10:00, as one planned in chat would.
        fired = await h.advance(to="2026-03-02T10:00:30+08:00")
        assert any(r.get("text") == "早上好，各位" for r in sends(fired))
        paused = await client.post("/g/1/content/posts/1/pause", data={"csrf": csrf})
        assert paused.status_code == 200 and "已暂停" in paused.text
        assert not any(
            r.get("text") == "早上好，各位" for r in sends(await h.advance(to="2026-03-03T10:00:30+08:00"))
        )
        edited = await client.post(
            "/g/1/content/posts/1/edit", data={"csrf": csrf, "when": "daily 11:00", "text": "午安"}
        )
        assert edited.status_code == 200 and "#1 已修改" in edited.text
        assert "已暂停" in edited.text  # still paused after the edit
        resumed = await client.post("/g/1/content/posts/1/resume", data={"csrf": csrf})
        assert resumed.status_code == 200 and "2026-03-03 11:00" in resumed.text
        fired = await h.advance(to="2026-03-03T11:00:30+08:00")
        assert [r["text"] for r in sends(fired)] == ["午安"]
        deleted = await client.post("/g/1/content/posts/1/delete", data={"csrf": csrf})
        assert deleted.status_code == 200 and 'id="post-1"' not in deleted.text
        assert not any("午安" in line for line in texts(await h.say("demo", "max", "/schedule list")))
        actions = await _audit(h)
        for action in (
            "schedule_add",
            "schedule_pause",
            "schedule_edit",
            "schedule_resume",
            "schedule_delete",
        ):
            assert ("max", action) in actions, action


async def test_bad_post_input_gets_the_chat_errors_and_changes_nothing(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _setup(h)
        await h.say("other", "zoe", "/schedule add daily 08:00 别的群")  # post 1, the other group's
        csrf = await log_in(h, client, "demo", "max")
        for when, text in (("someday", "hi"), ("", "hi"), ("daily 09:00", ""), ("daily 09:00 extra", "hi")):
            answer = await client.post(
                "/g/1/content/posts/add", data={"csrf": csrf, "when": when, "text": text}
            )
            assert answer.status_code == 400 and 'role="alert"' in answer.text, (when, text)
        assert (
            "“someday”"
            in (
                await client.post(
                    "/g/1/content/posts/add", data={"csrf": csrf, "when": "someday", "text": "x"}
                )
            ).text
        )
        # Another group's post is not there for this group; a garbled id or action is a 404.
        other = await client.post("/g/1/content/posts/1/pause", data={"csrf": csrf})
        assert other.status_code == 400 and "#1" in other.text
        assert (await client.post("/g/1/content/posts/x/pause", data={"csrf": csrf})).status_code == 404
        assert (await client.post("/g/1/content/posts/1/explode", data={"csrf": csrf})).status_code == 404
        assert (
            await client.post("/g/1/content/posts/" + "9" * 30 + "/delete", data={"csrf": csrf})
        ).status_code == 404
        assert any("别的群" in line for line in texts(await h.say("other", "zoe", "/schedule list")))
        assert 'id="post-1"' not in (await client.get("/g/1/content")).text


async def test_suggestions_approved_in_the_browser_credit_the_author_like_the_button(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _setup(h)
        await h.say("demo", "bob", "/checkin")
        await h.say("demo", "bob", "/topic suggest 你最近在读什么书？")
        await h.say("demo", "bob", "/topic suggest 随便聊聊")
        csrf = await log_in(h, client, "demo", "max")
        page = await client.get("/g/1/content")
        assert 'id="suggestion-1"' in page.text and "你最近在读什么书？" in page.text and "bob" in page.text
        before = texts(await h.say("demo", "bob", "/points"))
        approved = await client.post("/g/1/content/suggestions/1/approve", data={"csrf": csrf})
        assert approved.status_code == 200 and "已采纳" in approved.text
        assert (
            'id="suggestion-1"' not in approved.text and "你最近在读什么书？" in approved.text
        )  # in the bank now
        after = texts(await h.say("demo", "bob", "/points"))
        assert before != after  # the author was credited, as after the chat button
        again = await client.post("/g/1/content/suggestions/1/approve", data={"csrf": csrf})
        assert again.status_code == 400 and "已经" in again.text
        rejected = await client.post("/g/1/content/suggestions/2/reject", data={"csrf": csrf})
        assert rejected.status_code == 200 and "建议 #2 已拒绝" in rejected.text
        assert (
            await client.post("/g/1/content/suggestions/99/approve", data={"csrf": csrf})
        ).status_code == 400
        assert (await client.post("/g/1/content/suggestions/1/maybe", data={"csrf": csrf})).status_code == 404
        assert {("max", "topic_approve"), ("max", "topic_reject")} <= set(await _audit(h))


async def test_topics_added_and_removed_in_the_browser_are_the_chat_bank(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _setup(h)
        csrf = await log_in(h, client, "demo", "max")
        added = await client.post("/g/1/content/topics/add", data={"csrf": csrf, "text": "周末去哪儿玩？"})
        assert added.status_code == 200 and "已加入话题库" in added.text
        topic_id = int(added.text.split("话题 #")[1].split(" ")[0])
        assert any("周末去哪儿玩？" in line for line in texts(await h.say("demo", "max", "/topic list")))
        duplicate = await client.post(
            "/g/1/content/topics/add", data={"csrf": csrf, "text": "周末去哪儿玩？"}
        )
        assert duplicate.status_code == 400 and "话题库里已经有这个话题了" in duplicate.text
        too_long = await client.post("/g/1/content/topics/add", data={"csrf": csrf, "text": "长" * 501})
        assert too_long.status_code == 400
        removed = await client.post(f"/g/1/content/topics/{topic_id}/delete", data={"csrf": csrf})
        assert removed.status_code == 200 and f"话题 #{topic_id} 已从话题库删除" in removed.text
        assert not any("周末去哪儿玩？" in line for line in texts(await h.say("demo", "max", "/topic list")))
        assert (
            await client.post(f"/g/1/content/topics/{topic_id}/delete", data={"csrf": csrf})
        ).status_code == 400
        await h.say("demo", "max", "/topic schedule 20:00")
        page = await client.get("/g/1/content")
        assert "每日话题在 20:00 发布；下次：2026-03-02 20:00" in page.text
        assert {("max", "topic_add"), ("max", "topic_delete")} <= set(await _audit(h))


async def test_activities_show_their_start_and_sign_ups_and_onboarding_texts_save(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _setup(h)
        await h.say("demo", "max", "/event add 读书会 | 明天 20:00 | 2h | 带本书 | 5")
        await h.say("demo", "bob", "/join 1")
        csrf = await log_in(h, client, "demo", "max")
        page = await client.get("/g/1/content")
        assert 'id="activity-1"' in page.text and "读书会" in page.text and "2026-03-03 20:00" in page.text
        assert "1 / 5" in page.text
        saved = await client.post(
            "/g/1/content/welcome", data={"csrf": csrf, "key": "welcome.rules", "value": "不刷屏，不广告"}
        )
        assert saved.status_code == 200 and "welcome.rules 已保存" in saved.text
        assert any("不刷屏，不广告" in line for line in texts(await h.say("demo", "bob", "/rules")))
        bad = await client.post(
            "/g/1/content/welcome", data={"csrf": csrf, "key": "welcome.onboarding", "value": "maybe"}
        )
        assert bad.status_code == 400 and 'role="alert"' in bad.text
        other_key = await client.post(
            "/g/1/content/welcome", data={"csrf": csrf, "key": "core.language", "value": "en"}
        )
        assert other_key.status_code == 400


async def test_content_permission_matrix(tmp_path: Path) -> None:
    posts = (
        "/g/1/content/posts/add",
        "/g/1/content/posts/1/edit",
        "/g/1/content/posts/1/pause",
        "/g/1/content/topics/add",
        "/g/1/content/topics/1/delete",
        "/g/1/content/suggestions/1/approve",
        "/g/1/content/welcome",
    )
    async with Harness(tmp_path) as h:
        await _setup(h)
        await h.say("demo", "max", "/schedule add daily 10:00 早安")
        async with dashboard(h) as anonymous:
            assert (await anonymous.get("/g/1/content")).status_code == 401
            for path in posts:
                assert (await anonymous.post(path, data={"csrf": "x"})).status_code == 401, path
        async with dashboard(h) as member:
            csrf = await log_in(h, member, "", "bob")
            assert (await member.get("/g/1/content")).status_code == 404
            for path in posts:
                assert (
                    await member.post(path, data={"csrf": csrf, "when": "daily 09:00", "text": "x"})
                ).status_code == 404
        async with dashboard(h) as stranger:
            csrf = await log_in(h, stranger, "other", "zoe")
            assert (await stranger.get("/g/1/content")).status_code == 404
            for path in posts:
                assert (await stranger.post(path, data={"csrf": csrf, "text": "x"})).status_code == 404, path
        async with dashboard(h) as moderator:
            await log_in(h, moderator, "demo", "max")
            for path in posts:
                assert (
                    await moderator.post(path, data={"text": "x", "key": "welcome.rules"})
                ).status_code == 403
                assert (await moderator.post(path, data={"csrf": "forged", "text": "x"})).status_code == 403
            page = await moderator.get("/g/1/content")
            assert 'id="post-1"' in page.text and "已暂停" not in page.text
        assert any("早安" in line for line in texts(await h.say("demo", "max", "/schedule list")))


async def test_an_activity_created_and_cancelled_in_the_browser_is_announced_in_the_group(
    db_url: str, tmp_path: Path
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h, dashboard(h) as client:
        await _setup(h)
        csrf = await log_in(h, client, "demo", "max")
        h.adapter.take()
        form = {"csrf": csrf, "title": "读书会", "start": "明天 20:00", "duration": "2h", "capacity": "5"}
        added = await client.post("/g/1/content/activities/add", data={**form, "description": "带本书"})
        assert added.status_code == 200 and "活动 #1 已创建" in added.text
        assert 'id="activity-1"' in added.text and "2026-03-03 20:00" in added.text
        # The announcement with its sign-up buttons, in the group, as /event add posts it.
        posted = [r for r in sends(h.adapter.take()) if r.get("chat") == "demo"]
        assert len(posted) == 1 and "读书会" in posted[0]["text"] and "/join 1" in posted[0]["text"]
        assert posted[0].get("buttons"), posted[0]
        await h.say("demo", "bob", "/join 1")
        assert "1 / 5" in (await client.get("/g/1/content")).text
        # The chat's own errors, with the form kept as it was sent.
        for bad, key in (
            ({"title": "", "start": "明天 20:00"}, 'role="alert"'),
            ({"title": "x", "start": "someday"}, "someday"),
            ({"title": "x", "start": "明天 20:00", "capacity": "many"}, "many"),
        ):
            refused = await client.post("/g/1/content/activities/add", data={"csrf": csrf, **bad})
            assert refused.status_code == 400 and key in refused.text, bad
        cancelled = await client.post("/g/1/content/activities/1/cancel", data={"csrf": csrf})
        assert cancelled.status_code == 200 and "活动 #1 已取消" in cancelled.text
        assert 'id="activity-1"' not in cancelled.text
        told = [r for r in sends(h.adapter.take()) if r.get("chat") == "demo"]
        assert len(told) == 1 and "读书会" in told[0]["text"] and "bob" in told[0]["text"]
        again = await client.post("/g/1/content/activities/1/cancel", data={"csrf": csrf})
        assert again.status_code == 400
        assert (
            await client.post("/g/1/content/activities/99/cancel", data={"csrf": csrf})
        ).status_code == 400
        assert (await client.post("/g/1/content/activities/x/cancel", data={"csrf": csrf})).status_code == 404
        assert {("max", "event_add"), ("max", "event_cancel")} <= set(await _audit(h))
        # The chat sees the same: the activity is cancelled there too.
        assert any("取消" in line for line in texts(await h.say("demo", "bob", "/event info 1")))


async def test_activity_actions_permission_matrix(tmp_path: Path) -> None:
    paths = ("/g/1/content/activities/add", "/g/1/content/activities/1/cancel")
    data = {"title": "夜跑", "start": "明天 20:00"}
    async with Harness(tmp_path) as h:
        await _setup(h)
        await h.say("demo", "max", "/event add 读书会 | 明天 20:00")
        async with dashboard(h) as anonymous:
            for path in paths:
                assert (await anonymous.post(path, data={"csrf": "x", **data})).status_code == 401, path
        async with dashboard(h) as member:
            csrf = await log_in(h, member, "", "bob")
            for path in paths:
                assert (await member.post(path, data={"csrf": csrf, **data})).status_code == 404, path
        async with dashboard(h) as stranger:
            csrf = await log_in(h, stranger, "other", "zoe")
            for path in paths:
                assert (await stranger.post(path, data={"csrf": csrf, **data})).status_code == 404, path
        async with dashboard(h) as moderator:
            await log_in(h, moderator, "demo", "max")
            for path in paths:
                assert (await moderator.post(path, data=data)).status_code == 403, path
                assert (await moderator.post(path, data={"csrf": "forged", **data})).status_code == 403, path
            page = (await moderator.get("/g/1/content")).text
            assert 'id="activity-1"' in page and 'id="activity-2"' not in page
