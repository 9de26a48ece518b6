"""The pages' actions do what the chat does: the desk's buttons, the lexicon, the settings."""

from __future__ import annotations

import re
from pathlib import Path

from handlers.moderation.service import get_state
from handlers.moderation.settings import ModerationSettings
from tests.harness import Harness
from tests.moderation.helpers import actions
from tests.web.helpers import dashboard, log_in


async def _setup(h: Harness) -> None:
    await h.say("demo", "bob", "hi")
    await h.say("demo", "max", "hello", role="moderator", name="Max")
    await h.say("other", "zoe", "hello", role="moderator")


async def test_acknowledge_from_the_desk_is_the_chat_button(db_url: str, tmp_path: Path) -> None:
    async with Harness(tmp_path, db_url=db_url) as h, dashboard(h) as client:
        await _setup(h)
        hit = await h.say("demo", "bob", "来玩百家乐")
        alert_messages = [r["id"] for r in actions(hit, "send") if r.get("chat") == "demo-mods"]
        csrf = await log_in(h, client, "demo", "max")
        desk = await client.get("/g/1/desk")
        assert 'id="alert-1"' in desk.text and "bob" in desk.text
        answer = await client.post("/g/1/desk/1/ack", data={"csrf": csrf})
        assert answer.status_code == 200 and "告警 #1 已确认" in answer.text
        # In chat: the alert message is edited to say who handled it, as after the button.
        edits = actions(h.adapter.take(), "edit")
        assert edits and {e["id"] for e in edits} <= set(alert_messages)
        assert any("Max" in e["text"] for e in edits)
        alert = await get_state(h.services).repos.alerts.alert(1)
        assert alert is not None and alert.status == "acked" and alert.handled_by == "max"
        log = await get_state(h.services).repos.audit.log_rows(1)
        assert [(r.actor, r.action) for r in log][:1] == [("max", "alert_ack")]
        # Handled once: a second press says by whom, and nothing changes.
        again = await client.post("/g/1/desk/1/ack", data={"csrf": csrf})
        assert "已" in again.text and again.status_code == 200
        assert 'action="/g/1/desk/1/ack"' not in (await client.get("/g/1/desk")).text
        assert 'id="alert-1"' in (await client.get("/g/1/desk?status=all")).text


async def test_undo_and_ban_from_the_desk(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _setup(h)
        await h.say("demo", "bob", "来玩百家乐")
        await h.say("demo", "eve", "加我微信代刷流水")
        csrf = await log_in(h, client, "demo", "max")
        h.adapter.take()
        undone = await client.post("/g/1/desk/1/undo", data={"csrf": csrf})
        assert undone.status_code == 200
        assert actions(h.adapter.take(), "unmute")
        banned = await client.post("/g/1/desk/2/ban", data={"csrf": csrf})
        assert banned.status_code == 200
        assert actions(h.adapter.take(), "ban")
        rows = await get_state(h.services).repos.audit.log_rows(1)
        assert {"alert_undo", "alert_ban"} <= {r.action for r in rows if r.actor == "max"}


async def test_the_desk_refuses_bad_actions_and_other_groups_alerts(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _setup(h)
        await h.say("other", "carl", "来玩百家乐")  # alert 1 belongs to the other group
        csrf = await log_in(h, client, "demo", "max")
        other = await client.post("/g/1/desk/1/ack", data={"csrf": csrf})
        assert other.status_code == 400 and "#1" in other.text
        assert (await client.post("/g/2/desk/1/ack", data={"csrf": csrf})).status_code == 404
        assert (await client.post("/g/1/desk/1/del", data={"csrf": csrf})).status_code == 400
        assert (await client.post("/g/1/desk/abc/ack", data={"csrf": csrf})).status_code == 404
        assert (await client.post("/g/1/desk/" + "9" * 30 + "/ack", data={"csrf": csrf})).status_code == 404
        alert = await get_state(h.services).repos.alerts.alert(1)
        assert alert is not None and alert.status == "open"
        for garbled in ("?page=abc", "?page=-3", "?page=99999999999", "?status=%00"):
            assert (await client.get("/g/1/desk" + garbled)).status_code == 200


async def test_lexicon_add_test_search_remove_and_the_chat_reacts(db_url: str, tmp_path: Path) -> None:
    async with Harness(tmp_path, db_url=db_url) as h, dashboard(h) as client:
        await _setup(h)
        csrf = await log_in(h, client, "demo", "max")
        added = await client.post(
            "/g/1/lexicon/add",
            data={"csrf": csrf, "term": "cheap pills", "level": "yellow", "category": "ads", "mode": "text"},
        )
        assert added.status_code == 200 and "已添加“cheap pills”" in added.text
        listing = await client.get("/g/1/lexicon?q=PILLS")
        assert "cheap pills" in listing.text and "本群词条（1）" in listing.text
        assert "本群词条（0）" in (await client.get("/g/1/lexicon?q=nothing")).text
        # The chat screens with the new term at once.
        hit = await h.say("demo", "bob", "buy CHEAP  PILLS here")
        assert actions(hit, "delete")
        # The test box: the folded text and the term, and nothing saved or counted.
        alerts_before = await get_state(h.services).repos.alerts.alerts(1, limit=100)
        tested = await client.post("/g/1/lexicon/test", data={"csrf": csrf, "text": "c.h.e.a.p p.i.l.l.s!"})
        assert tested.status_code == 200
        verdict = tested.text[tested.text.index('id="verdict"') :]
        assert "cheappills" in verdict and "cheap pills" in verdict and "会被标记" in verdict
        clean = await client.post("/g/1/lexicon/test", data={"csrf": csrf, "text": "你好"})
        assert "不会被标记" in clean.text
        assert await get_state(h.services).repos.alerts.alerts(1, limit=100) == alerts_before
        removed = await client.post("/g/1/lexicon/remove", data={"csrf": csrf, "term": "cheap pills"})
        assert removed.status_code == 200 and "已删除" in removed.text
        assert not actions(await h.say("demo", "bob", "cheap pills again"), "delete")
        log = await get_state(h.services).repos.audit.log_rows(1)
        assert {"kw_add", "kw_del"} <= {r.action for r in log if r.actor == "max"}


async def test_lexicon_bad_input_gets_the_chat_errors(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _setup(h)
        csrf = await log_in(h, client, "demo", "max")
        cases = [
            ({"level": "purple", "term": "词"}, "级别“purple”不对"),
            ({"level": "red", "term": "!!!"}, "去掉符号和空格后什么都不剩"),
            ({"level": "red", "term": "(a|aa)+$", "mode": "regex"}, "太慢"),
            ({"level": "red", "term": "(oops", "mode": "regex"}, "无法编译"),
            ({"level": "red", "term": "长" * 61}, "太长"),
            ({"level": "red", "term": "x", "mode": "fuzzy"}, "匹配方式只能是"),
            ({"level": "red", "term": "   "}, "请填写要添加的词条"),
            ({"level": "red", "term": "\x00" * 5000}, ""),
        ]
        for form, message in cases:
            answer = await client.post("/g/1/lexicon/add", data={"csrf": csrf, **form})
            assert answer.status_code == 400, form
            assert message in answer.text, (form, re.findall(r'class="error"[^<]*<', answer.text))
        assert "本群词条（0）" in (await client.get("/g/1/lexicon")).text
        missing = await client.post("/g/1/lexicon/remove", data={"csrf": csrf, "term": "nope"})
        assert missing.status_code == 400
        empty = await client.post("/g/1/lexicon/test", data={"csrf": csrf, "text": ""})
        assert empty.status_code == 200 and 'id="verdict"' not in empty.text
        huge = await client.post("/g/1/lexicon/test", data={"csrf": csrf, "text": "词" * 100_000})
        assert huge.status_code == 200


async def test_lexicon_edit_changes_level_and_category_as_kw_add_does(db_url: str, tmp_path: Path) -> None:
    async with Harness(tmp_path, db_url=db_url) as h, dashboard(h) as client:
        await _setup(h)
        await h.say("demo", "max", "/kw add blue 团购接龙 ads")
        assert not actions(await h.say("demo", "bob", "团购接龙来了"), "delete")  # blue: noted only
        csrf = await log_in(h, client, "demo", "max")
        page = await client.get("/g/1/lexicon")
        assert 'action="/g/1/lexicon/edit"' in page.text and 'for="edit-level-1"' in page.text
        edited = await client.post(
            "/g/1/lexicon/edit",
            data={"csrf": csrf, "term": "团购接龙", "mode": "text", "level": "red", "category": "fraud"},
        )
        assert edited.status_code == 200 and "已保存“团购接龙”" in edited.text
        terms = await get_state(h.services).repos.lexicon.terms(1)
        assert [(t.term, t.level, t.category, t.mode) for t in terms] == [
            ("团购接龙", "red", "fraud", "text")
        ]
        # The chat screens at the new level at once.
        assert actions(await h.say("demo", "bob", "团购接龙又来了"), "delete")
        log = await get_state(h.services).repos.audit.log_rows(1)
        mine = [(r.action, r.detail) for r in log if r.actor == "max" and r.action == "kw_add"]
        assert ("kw_add", "level=red category=fraud mode=text") in mine and len(mine) == 2


async def test_lexicon_edit_refuses_bad_input_and_strangers(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        await _setup(h)
        await h.say("demo", "max", "/kw add yellow 拼单 ads")
        good = {"term": "拼单", "mode": "text", "level": "red", "category": "x"}
        async with dashboard(h) as client:
            csrf = await log_in(h, client, "demo", "max")
            cases = [
                ({**good, "level": "purple"}, "级别“purple”不对"),
                ({**good, "term": "nope"}, "没有"),
                ({**good, "mode": "regex"}, "没有"),
                ({**good, "term": "   "}, "请填写要添加的词条"),
                ({**good, "term": "\x00" * 5000}, ""),
                ({"level": "red"}, "请填写要添加的词条"),
            ]
            for form, message in cases:
                answer = await client.post("/g/1/lexicon/edit", data={"csrf": csrf, **form})
                assert answer.status_code == 400, form
                assert message in answer.text, (form, re.findall(r'class="error"[^<]*<', answer.text))
            for data in ({}, {"csrf": "forged"}):
                assert (await client.post("/g/1/lexicon/edit", data={**good, **data})).status_code == 403
        async with dashboard(h) as client:
            assert (await client.post("/g/1/lexicon/edit", data={**good, "csrf": "x"})).status_code == 401
            other = await log_in(h, client, "other", "zoe")
            assert (await client.post("/g/1/lexicon/edit", data={**good, "csrf": other})).status_code == 404
        async with dashboard(h) as client:
            member = await log_in(h, client, "", "bob")
            assert (await client.post("/g/1/lexicon/edit", data={**good, "csrf": member})).status_code == 404
        terms = await get_state(h.services).repos.lexicon.terms(1)
        assert [(t.level, t.category) for t in terms] == [("yellow", "ads")]
        assert not [r for r in await get_state(h.services).repos.audit.log_rows(1) if r.actor != "max"]


async def test_settings_are_validated_like_set(db_url: str, tmp_path: Path) -> None:
    async with Harness(tmp_path, db_url=db_url) as h, dashboard(h) as client:
        await _setup(h)
        csrf = await log_in(h, client, "demo", "max")
        page = await client.get("/g/1/settings")
        assert 'id="setting-moderation-red_mute_minutes"' in page.text
        saved = await client.post(
            "/g/1/settings", data={"csrf": csrf, "key": "moderation.red_mute_minutes", "value": "90"}
        )
        assert saved.status_code == 200 and "moderation.red_mute_minutes" in saved.text
        assert (await h.services.settings.of(1, ModerationSettings)).red_mute_minutes == 90
        toggled = await client.post(
            "/g/1/settings", data={"csrf": csrf, "key": "moderation.pinyin", "value": "on"}
        )
        assert toggled.status_code == 200
        assert (await h.services.settings.of(1, ModerationSettings)).pinyin is True
        # The same words as /set in chat.
        chat = await h.say("demo", "max", "/set moderation.red_mute_minutes 0")
        bad = await client.post(
            "/g/1/settings", data={"csrf": csrf, "key": "moderation.red_mute_minutes", "value": "0"}
        )
        assert bad.status_code == 400
        reason = chat[-1]["text"].splitlines()[0]  # the chat adds the usage line below it
        assert reason == "“moderation.red_mute_minutes” 的值不对，可以是：1..525600"
        assert reason in bad.text
        assert (await h.services.settings.of(1, ModerationSettings)).red_mute_minutes == 90
        assert (
            await client.post("/g/1/settings", data={"csrf": csrf, "key": "nope", "value": "1"})
        ).status_code == 400
        guarded = await client.post("/g/1/settings", data={"csrf": csrf, "key": "mod_chat", "value": "x"})
        assert guarded.status_code == 403
        assert (
            await client.post("/g/2/settings", data={"csrf": csrf, "key": "moderation.pinyin", "value": "on"})
        ).status_code == 404


async def test_overview_shows_the_stats_figures(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _setup(h)
        csrf = await log_in(h, client, "demo", "max")
        assert csrf
        empty = await client.get("/g/1")
        assert empty.status_code == 200 and "还没有一整天的数据" in empty.text
        for n in range(5):
            await h.say("demo", "bob", f"今天聊点什么 {n}")
        await h.flush()
        await h.advance(seconds=86400)
        page = await client.get("/g/1?days=7")
        assert page.status_code == 200
        assert 'data-key="dau"' in page.text and 'data-key="members"' in page.text
        assert 'data-key="stage_active"' in page.text
        assert (await client.get("/g/1?days=30")).status_code == 200
        assert (await client.get("/g/1?days=garbage")).status_code == 200
        english = await client.post("/lang", data={"csrf": csrf, "lang": "en", "back": "/g/1"})
        assert english.status_code == 303
        assert "Daily active (avg)" in (await client.get("/g/1")).text


async def test_charts_draw_the_stats_numbers_and_export_them(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _setup(h)
        await log_in(h, client, "demo", "max")
        for n in range(3):
            await h.say("demo", "bob", f"消息 {n}")
        await h.say("demo", "eve", "我也来")
        await h.flush()
        await h.advance(seconds=86400)
        page = await client.get("/g/1/charts?days=7")
        assert page.status_code == 200
        # Activity, the heatmap and the stages recorded last night (hot words: their own test).
        for label in ("近 7 天消息数与活跃人数", "一周各时段活跃度", "近 7 天各阶段成员数"):
            assert f'role="img" aria-label="{label}">' in page.text
        assert "2026-03-02: 消息数 7, 活跃人数 3" in page.text
        assert "周一" in page.text  # the heatmap's weekday labels
        exported = await client.get("/g/1/charts.csv?days=7")
        assert exported.headers["content-type"].startswith("text/csv")
        assert "attachment" in exported.headers["content-disposition"]
        lines = exported.text.splitlines()
        assert lines[0] == "day,messages,active_members" and len(lines) == 8
        assert lines[-1] == "2026-03-02,7,3"  # bob 4, eve 1, max 2 (one is /dashboard)
        overview = await client.get("/g/1?days=7")
        assert overview.text.count('class="spark"') == 2
        for garbled in ("?days=0", "?days=-1", "?days=abc", "?days=100000"):
            assert (await client.get("/g/1/charts" + garbled)).status_code == 200


async def test_members_search_and_a_members_ledger(db_url: str, tmp_path: Path) -> None:
    async with Harness(tmp_path, db_url=db_url) as h, dashboard(h) as client:
        await _setup(h)
        await h.say("demo", "alice", "签到", name="Alice Wu")
        await h.say("demo", "max", "/points give @alice 15 help at the meetup")
        await log_in(h, client, "demo", "max")
        listing = await client.get("/g/1/members")
        assert listing.status_code == 200 and "Alice Wu" in listing.text and "bob" in listing.text
        found = await client.get("/g/1/members?q=WU")
        assert "Alice Wu" in found.text and ">bob<" not in found.text
        assert "共 0 名成员" in (await client.get("/g/1/members?q=%25")).text  # % is not a wildcard
        alice = await h.services.members.find(1, "alice")
        assert alice is not None
        page = await client.get(f"/g/1/members/{alice.id}")
        assert page.status_code == 200
        assert "help at the meetup" in page.text and "+15" in page.text
        assert 'data-key="balance"' in page.text and 'data-key="credit"' in page.text
        zoe = await h.services.members.find(2, "zoe")
        assert zoe is not None
        assert (await client.get(f"/g/1/members/{zoe.id}")).status_code == 404  # another group's
        for garbled in ("abc", "-1", "9" * 20, "99999"):
            assert (await client.get(f"/g/1/members/{garbled}")).status_code == 404


async def test_the_audit_log_filters_and_exports(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await _setup(h)
        await h.say("demo", "bob", "来玩百家乐")  # the bot's own actions are audited as "bot"
        await h.say("demo", "max", "/kw add red 团购接龙 ads")
        await h.advance(seconds=2 * 86400)
        csrf = await log_in(h, client, "demo", "max")
        await client.post("/g/1/desk/1/ack", data={"csrf": csrf})
        everything = await client.get("/g/1/audit")
        assert (
            everything.status_code == 200 and "kw_add" in everything.text and "alert_ack" in everything.text
        )
        mine = await client.get("/g/1/audit?actor=max&action=kw_add")
        assert "kw_add" in mine.text and "alert_ack" not in mine.text and "共 1 条" in mine.text
        today = h.now.date().isoformat()
        recent = await client.get(f"/g/1/audit?from={today}&to={today}")
        assert "alert_ack" in recent.text and "kw_add" not in recent.text
        bad = await client.get("/g/1/audit?from=yesterday")
        assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text
        exported = await client.get("/g/1/audit.csv?actor=max")
        rows = exported.text.splitlines()
        assert rows[0] == "at,actor,action,member,detail" and len(rows) == 3
        assert (await client.get("/g/2/audit")).status_code == 404
