"""Welcome, rules and onboarding on the real core."""

from __future__ import annotations

from tests.harness import Harness, sends, texts

MOD = {"role": "moderator"}


def first_line(records: list[dict[str, object]]) -> list[str]:
    return [t.split("\n用法")[0].split("\nUsage")[0] for t in texts(records)]


async def test_default_welcome_mentions_the_newcomer(h: Harness) -> None:
    out = await h.join("demo", "newbie", name="小新")
    assert texts(out) == ["欢迎 @小新 加入 demo！👋 请先发送 /rules 看看群规，再和大家打个招呼吧。"]


async def test_custom_template_rules_and_off(h: Harness) -> None:
    out = await h.say("demo", "mod", "/setrules 1. 友善交流\n2. 禁止广告", **MOD)
    assert texts(out) == ["群规已保存，/rules 可查看。"]
    out = await h.say(
        "demo", "mod", "/setwelcome 欢迎 {name} 来到 {group}！群规：\n{rules}\n{unknown} 保持原样", **MOD
    )
    assert texts(out) == [
        "欢迎语已保存，预览：\n欢迎 mod 来到 demo！群规：\n1. 友善交流\n2. 禁止广告\n{unknown} 保持原样"
    ]
    out = await h.join("demo", "amy")
    assert texts(out) == ["欢迎 @amy 来到 demo！群规：\n1. 友善交流\n2. 禁止广告\n{unknown} 保持原样"]
    assert texts(await h.say("demo", "amy", "/rules")) == ["📜 群规：\n1. 友善交流\n2. 禁止广告"]
    assert texts(await h.say("demo", "amy", "群规")) == ["📜 群规：\n1. 友善交流\n2. 禁止广告"]
    assert texts(await h.say("demo", "mod", "/setwelcome off", **MOD)) == ["之后不再发送入群欢迎。"]
    assert texts(await h.join("demo", "ben")) == []
    assert texts(await h.say("demo", "mod", "/setwelcome reset", **MOD)) == ["已恢复默认欢迎语。"]
    assert texts(await h.join("demo", "cat"))[0].startswith("欢迎 @cat 加入 demo！")
    assert texts(await h.say("demo", "mod", "/setrules off", **MOD)) == ["群规已清除。"]
    assert texts(await h.say("demo", "amy", "/rules")) == ["本群还没有写群规。"]


async def test_template_cannot_reach_attributes(h: Harness) -> None:
    await h.say("demo", "mod", "/setwelcome {name.__class__} {0} {group}", **MOD)
    out = await h.join("demo", "eve")
    assert texts(out) == ["{name.__class__} {0} demo"]


async def test_welcome_bad_input(h: Harness) -> None:
    assert first_line(await h.say("demo", "mod", "/setwelcome", **MOD)) == [
        "请在命令后写上欢迎语，例如：/setwelcome 欢迎 {name} 加入 {group}！{rules}"
    ]
    assert first_line(await h.say("demo", "mod", "/setrules", **MOD)) == [
        "请在命令后写上群规：/setrules 友善交流，禁止广告。"
    ]
    assert texts(await h.say("demo", "alice", "/setrules 我说了算")) == ["抱歉，这个命令只有管理员可以使用。"]
    assert texts(await h.say("demo", "alice", "/setwelcome hi")) == ["抱歉，这个命令只有管理员可以使用。"]
    h.adapter.max_text_length = 4096
    assert first_line(await h.say("demo", "mod", "/setrules " + "规" * 5000, **MOD)) == [
        "内容有 5000 个字，本平台一条消息最多 4096 个字。"
    ]
    assert texts(await h.say("demo", "alice", "/rules")) == ["本群还没有写群规。"]


async def test_onboarding_week_with_skips(h: Harness) -> None:
    await h.say("demo", "mod", "/set welcome.onboarding on", **MOD)
    await h.say("demo", "mod", "/setrules 友善交流", **MOD)
    await h.join("demo", "newbie")
    await h.join("demo", "quiet")
    # newbie reads the rules and says hello at once; quiet does neither.
    await h.say("demo", "newbie", "/rules")
    await h.say("demo", "newbie", "大家好，我是新人")
    posted = sends(await h.advance(8 * 86400))
    got = [(r["at"], r["text"].split("\n")[0]) for r in posted]
    assert got == [
        ("2026-03-02T10:00:00+08:00", "@quiet 再次欢迎！这是本群的群规，供你参考："),
        ("2026-03-03T09:00:00+08:00", "@newbie 小提示：每天发送 签到（或 /checkin）可以领积分、攒连续天数。"),
        ("2026-03-03T09:00:00+08:00", "@quiet 小提示：每天发送 签到（或 /checkin）可以领积分、攒连续天数。"),
        ("2026-03-04T09:00:00+08:00", "@quiet 大家都想认识你：来做个简单的自我介绍吧！"),
        ("2026-03-08T09:00:00+08:00", "@newbie 你加入本群已经一周啦，谢谢你！你的第一周："),
        ("2026-03-08T09:00:00+08:00", "@quiet 你加入本群已经一周啦，谢谢你！你的第一周："),
    ]
    assert posted[-1]["text"].split("\n")[1:] == ["• 话题回复 0 条", "• 参加活动 0 次"]


async def test_onboarding_stops_when_the_member_leaves(h: Harness) -> None:
    await h.say("demo", "mod", "/set welcome.onboarding on", **MOD)
    await h.join("demo", "drifter")
    await h.leave("demo", "drifter")
    assert texts(await h.advance(8 * 86400)) == []


async def test_onboarding_survives_restart_and_respects_quiet_hours(h: Harness) -> None:
    await h.say("demo", "mod", "/set welcome.onboarding on", **MOD)
    await h.say("demo", "mod", "/quiet 22:00-08:00", **MOD)
    await h.say("demo", "mod", "/setrules 友善交流", **MOD)
    await h.advance(to="2026-03-02T23:00:00+08:00")
    await h.join("demo", "owl")  # at 23:00: the rules step falls at midnight, the nudge at 23:00 next day
    await h.restart()
    first = sends(await h.advance(to="2026-03-03T09:00:00+08:00"))
    await h.restart()
    second = sends(await h.advance(to="2026-03-04T09:00:00+08:00"))
    assert [(r["at"], r["text"].split("\n")[0]) for r in first + second] == [
        ("2026-03-03T08:00:00+08:00", "@owl 再次欢迎！这是本群的群规，供你参考："),
        ("2026-03-04T08:00:00+08:00", "@owl 小提示：每天发送 签到（或 /checkin）可以领积分、攒连续天数。"),
    ]


async def test_private_onboarding(h: Harness) -> None:
    await h.say("demo", "mod", "/set welcome.onboarding on", **MOD)
    await h.say("demo", "mod", "/set welcome.onboarding_private on", **MOD)
    await h.join("demo", "shy")
    posted = sends(await h.advance(2 * 86400))
    assert [(r.get("user"), r.get("chat"), r["text"]) for r in posted] == [
        ("shy", None, "小提示：每天发送 签到（或 /checkin）可以领积分、攒连续天数。"),
        ("shy", None, "大家都想认识你：来做个简单的自我介绍吧！"),
    ]
