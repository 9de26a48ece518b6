"""Join verification through the console harness, on SQLite and PostgreSQL: a newcomer's own
challenge (pass, one more try, removal, timeout, restart, forged and concurrent presses) and the
raid's one standing challenge."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.antispam.test_probation import of, public
from tests.harness import Harness

Record = dict[str, Any]
STALE = "这个验证已结束或已失效，没有做任何改动。"
NOT_YOURS = "这不是你的验证，只有被提到的新成员才能作答。"


async def _always(h: Harness) -> None:
    await h.say("demo", "max", "/set antispam.verification always", role="moderator")
    await h.say("demo", "reg", "hello everyone")


def _challenge(records: list[Record]) -> Record:
    found = [r for r in of(records, "send") if r.get("chat") == "demo" and r.get("buttons")]
    assert len(found) == 1, records
    return found[0]


def _job(challenge: Record) -> str:
    """The challenge's timeout job, named by the group and member in its button data."""
    fields = str(challenge["buttons"][0][0]["data"]).split(":")
    return f"antispam-verify:{fields[2]}:{fields[3]}"


async def _answer(h: Harness, challenge: Record) -> int:
    job = await h.services.scheduler.get(_job(challenge))
    assert job is not None
    return int(job.payload["answer"])


def _data(challenge: Record, choice: int) -> str:
    return str(challenge["buttons"][0][choice]["data"])


async def test_a_newcomer_is_restricted_challenged_and_welcomed_after_passing(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _always(h)
        joined = await h.join("demo", "newbie")
        assert [r["user"] for r in of(joined, "mute")] == ["newbie"]
        challenge = _challenge(joined)
        assert challenge["text"].startswith("@newbie 欢迎！") and len(challenge["buttons"][0]) == 4
        assert not any(t.startswith("欢迎 @newbie") for t in public(joined))  # the welcome waits
        said = await h.say("demo", "newbie", "let me in")
        assert [r["message"] for r in of(said, "delete")] == [said[0]["id"]]
        answer = await _answer(h, challenge)
        passed = await h.press("demo", "newbie", challenge["id"], _data(challenge, answer))
        assert [r["user"] for r in of(passed, "unmute")] == ["newbie"]
        assert [r["message"] for r in of(passed, "delete")] == [challenge["id"]]
        assert [t for t in public(passed) if t.startswith("欢迎 @newbie")]
        assert await h.services.scheduler.get(_job(challenge)) is None
        assert of(await h.say("demo", "newbie", "hi all, glad to be here"), "delete") == []
        # Pressing again after passing: stale, answered privately, nothing else happens.
        again = await h.press("demo", "newbie", challenge["id"], _data(challenge, answer))
        assert [r["text"] for r in of(again, "send")] == [STALE] and of(again, "send")[0]["user"] == "newbie"
        assert of(again, "kick") == [] and of(again, "unmute") == []


async def test_a_wrong_press_gets_one_more_try_then_removal(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _always(h)
        challenge = _challenge(await h.join("demo", "newbie"))
        answer = await _answer(h, challenge)
        first = await h.press("demo", "newbie", challenge["id"], _data(challenge, (answer + 1) % 4))
        assert of(first, "kick") == []
        edits = of(first, "edit")
        assert len(edits) == 1 and edits[0]["id"] == challenge["id"]
        assert "再给你一次机会" in edits[0]["text"] and edits[0]["buttons"] != challenge["buttons"]
        # The first question's buttons are stale now, even its right answer.
        old = await h.press("demo", "newbie", challenge["id"], _data(challenge, answer))
        assert [r["text"] for r in of(old, "send")] == [STALE] and of(old, "unmute") == []
        renewed = edits[0]
        answer = await _answer(h, challenge)
        second = await h.press("demo", "newbie", challenge["id"], _data(renewed, (answer + 1) % 4))
        assert [r["user"] for r in of(second, "kick")] == ["newbie"]
        assert [r["message"] for r in of(second, "delete")] == [challenge["id"]]
        assert await h.services.scheduler.get(_job(challenge)) is None


async def test_only_the_newcomer_may_answer_and_forged_data_changes_nothing(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _always(h)
        challenge = _challenge(await h.join("demo", "newbie"))
        answer = await _answer(h, challenge)
        other = await h.press("demo", "reg", challenge["id"], _data(challenge, answer))
        assert [(r.get("user"), r["text"]) for r in of(other, "send")] == [("reg", NOT_YOURS)]
        assert of(other, "unmute") == [] and public(other) == []
        _, _, group, member, nonce, _ = _data(challenge, 0).split(":")
        for forged in (
            "as:v:",
            f"as:v:{group}:{member}",
            f"as:v:{group}:{member}:{nonce}:9",
            f"as:v:{group}:{member}:{nonce}:-1",
            f"as:v:{group}:{member}:{nonce}:01",
            f"as:v:99:{member}:{nonce}:{answer}",
            f"as:v:{group}:999999999999:{nonce}:{answer}",
            f"as:v:{group}:{member}:ffffff:{answer}",
            f"as:v:{group}:{member}:" + "x" * 5000 + ":0",
            f"as:h:{group}:1:abc:0",
        ):
            out = await h.press("demo", "newbie", challenge["id"], forged)
            assert [r["text"] for r in of(out, "send")] == [STALE], forged
            assert of(out, "unmute") == [] and of(out, "kick") == [] and of(out, "edit") == []
        # On another message, the right data is stale too.
        elsewhere = await h.press("demo", "newbie", "b1", _data(challenge, answer))
        assert [r["text"] for r in of(elsewhere, "send")] == [STALE]
        # Still open, still answerable.
        passed = await h.press("demo", "newbie", challenge["id"], _data(challenge, answer))
        assert of(passed, "unmute")


async def test_no_answer_in_time_removes_the_newcomer_and_the_challenge(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _always(h)
        challenge = _challenge(await h.join("demo", "newbie"))
        assert of(await h.advance(170), "kick") == []
        out = await h.advance(15)
        assert [r["user"] for r in of(out, "kick")] == ["newbie"]
        assert [r["message"] for r in of(out, "delete")] == [challenge["id"]]
        assert public(out) == []  # removed without a word in public


async def test_the_timeout_setting_is_respected(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _always(h)
        await h.say("demo", "max", "/set antispam.verification_minutes 10", role="moderator")
        await h.join("demo", "newbie")
        assert of(await h.advance(9 * 60), "kick") == []
        assert of(await h.advance(61), "kick")


async def test_a_restart_mid_challenge_keeps_both_the_answer_and_the_timer(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _always(h)
        challenge = _challenge(await h.join("demo", "newbie"))
        late = _challenge(await h.join("demo", "late"))
        await h.advance(60)
        await h.restart()
        # Still restricted after the restart: what they post goes.
        said = await h.say("demo", "late", "am I in?")
        assert [r["message"] for r in of(said, "delete")] == [said[0]["id"]]
        answer = await _answer(h, challenge)
        passed = await h.press("demo", "newbie", challenge["id"], _data(challenge, answer))
        assert of(passed, "unmute") and [t for t in public(passed) if t.startswith("欢迎 @newbie")]
        out = await h.advance(125)
        assert [r["user"] for r in of(out, "kick")] == ["late"]
        assert [r["message"] for r in of(out, "delete")] == [late["id"]]


async def test_concurrent_presses_are_handled_once(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _always(h)
        challenge = _challenge(await h.join("demo", "newbie"))
        answer = await _answer(h, challenge)
        data = _data(challenge, answer)
        tasks = [h.adapter.button("demo", "newbie", challenge["id"], data) for _ in range(3)]
        await asyncio.gather(*(t for t in tasks if t is not None))
        assert h.app.dispatcher is not None
        await h.app.dispatcher.drain()
        out = h.adapter.take()
        assert len(of(out, "unmute")) == 1
        assert len([t for t in public(out) if t.startswith("欢迎 @newbie")]) == 1
        assert [r["text"] for r in of(out, "send") if r.get("user") == "newbie"] == [STALE, STALE]


async def test_leaving_before_answering_takes_the_challenge_along(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _always(h)
        challenge = _challenge(await h.join("demo", "newbie"))
        out = await h.leave("demo", "newbie")
        assert [r["message"] for r in of(out, "delete")] == [challenge["id"]]
        assert of(await h.advance(600), "kick") == []


async def test_by_default_there_is_no_challenge_outside_a_raid(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "reg", "hello everyone")
        out = await h.join("demo", "newbie")
        assert of(out, "mute") == [] and [t for t in public(out) if t.startswith("欢迎 @newbie")]
        bad = await h.say("demo", "max", "/set antispam.verification sometimes", role="moderator")
        assert public(bad) and "off | raid-only | always" in public(bad)[0]
        assert await h.services.scheduler.list("antispam-verify:") == []


async def test_an_approved_member_coming_back_is_not_challenged(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _always(h)
        challenge = _challenge(await h.join("demo", "newbie"))
        await h.press("demo", "newbie", challenge["id"], _data(challenge, await _answer(h, challenge)))
        await h.say("demo", "max", "/approve @newbie", role="moderator")
        await h.leave("demo", "newbie")
        back = await h.join("demo", "newbie")
        assert of(back, "mute") == [] and not [r for r in of(back, "send") if r.get("buttons")]


async def _raid(h: Harness, joins: int = 12) -> list[Record]:
    await h.say("demo", "max", "hi", role="moderator")
    await h.say("demo", "reg", "hello everyone")
    out: list[Record] = []
    for i in range(joins):
        out += await h.join("demo", f"r{i}")
    return out


async def test_a_raid_posts_one_standing_challenge_not_one_per_joiner(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        out = await _raid(h, joins=15)
        with_buttons = [r for r in of(out, "send") if r.get("chat") == "demo" and r.get("buttons")]
        assert len(with_buttons) == 1 and with_buttons[0]["text"].startswith("🛡")
        notice = with_buttons[0]
        raid = h.services.state["antispam.raids"].raids[1]
        right = _data(notice, raid.challenge[1])
        wrong = _data(notice, (raid.challenge[1] + 1) % 4)
        # A regular member pressing: not theirs. A held joiner answering right: let in.
        reg = await h.press("demo", "reg", notice["id"], right)
        assert [(r.get("user"), r["text"]) for r in of(reg, "send")] == [("reg", NOT_YOURS)]
        ok = await h.press("demo", "r12", notice["id"], right)
        assert [r["user"] for r in of(ok, "unmute")] == ["r12"] and public(ok) == []
        again = await h.press("demo", "r12", notice["id"], right)
        assert of(again, "unmute") == [] and len(of(again, "send")) == 1
        # Two wrong answers remove the joiner; one does not.
        assert of(await h.press("demo", "r13", notice["id"], wrong), "kick") == []
        gone = await h.press("demo", "r13", notice["id"], wrong)
        assert [r["user"] for r in of(gone, "kick")] == ["r13"]
        forged = await h.press("demo", "r14", notice["id"], right.replace(":1:", ":2:", 1))
        assert of(forged, "unmute") == [] and len(of(forged, "send")) == 1
        end = await h.advance(11 * 60)
        # The standing challenge loses its buttons; the passed joiner is in the one welcome.
        assert [r for r in of(end, "edit") if r["id"] == notice["id"] and not r.get("buttons")]
        welcomes = [t for t in public(end) if t.startswith("👋")]
        assert len(welcomes) == 1 and "@r12" in welcomes[0] and "@r13" not in welcomes[0]
        late = await h.press("demo", "r14", notice["id"], right)
        assert [r["text"] for r in of(late, "send")] == [STALE] and of(late, "unmute") == []


async def test_with_verification_off_the_raid_notice_has_no_challenge(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "/set antispam.verification off", role="moderator")
        out = await _raid(h, joins=12)
        notices = [r for r in of(out, "send") if r.get("chat") == "demo" and r["text"].startswith("🛡")]
        assert len(notices) == 1 and not notices[0].get("buttons")


async def test_join_requests_follow_the_groups_answer(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "reg", "hello everyone")
        assert [r for r in await h.request("demo", "a", "芝麻开门") if r["action"] != "seen"] == []
        await h.say("demo", "max", "/set antispam.join_answer 芝麻 开门", role="moderator")
        ok = await h.request("demo", "a", "问题：暗号？\n答案：ＺＨＩ 芝麻开门!")
        assert [(r["action"], r["request"]) for r in of(ok, "approve")] == [("approve", "demo:a")]
        for wrong in ("", "不知道", "\x00" * 3, "芝" * 5000):
            out = await h.request("demo", "b", wrong)
            assert of(out, "approve") == [] and len(of(out, "reject")) == 1, wrong
        assert public(out) == []


async def test_without_buttons_the_newcomer_answers_by_replying_with_the_number(
    tmp_path: Path, db_url: str
) -> None:
    """OneBot has no buttons: the challenge is numbered lines answered by a reply, so the newcomer
    is not muted (they could not reply) and whatever else they post is deleted until they pass."""
    from bot.adapter import ALL_CAPABILITIES, Capability

    caps = ALL_CAPABILITIES - {Capability.BUTTONS, Capability.EDIT}
    async with Harness(tmp_path, db_url=db_url, capabilities=caps) as h:
        await _always(h)
        joined = await h.join("demo", "newbie")
        assert of(joined, "mute") == []
        (challenge,) = [r for r in of(joined, "send") if r.get("chat") == "demo"]
        assert "\n1. " in challenge["text"] and "\n4. " in challenge["text"]
        job = await h.services.scheduler.list("antispam-verify:")
        answer = int(job[0].payload["answer"])
        said = await h.say("demo", "newbie", "spam t.me/x")
        assert [r["message"] for r in of(said, "delete")] == [said[0]["id"]]
        wrong = await h.say("demo", "newbie", str((answer + 1) % 4 + 1), reply_to=challenge["id"])
        assert of(wrong, "kick") == [] and of(wrong, "unmute") == []
        renewed = [r for r in of(wrong, "send") if r.get("chat") == "demo"]
        assert len(renewed) == 1  # no edits here: the new question is a new message
        answer = int((await h.services.scheduler.list("antispam-verify:"))[0].payload["answer"])
        passed = await h.say("demo", "newbie", str(answer + 1), reply_to=renewed[0]["id"])
        assert [t for t in public(passed) if t.startswith("欢迎 @newbie")]
        assert await h.services.scheduler.list("antispam-verify:") == []


async def test_with_verification_always_a_raid_still_posts_no_challenge_per_joiner(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _always(h)
        before = [
            len([r for r in of(await h.join("demo", f"r{i}"), "send") if r.get("buttons")]) for i in range(9)
        ]
        assert before == [1] * 9  # below the raid threshold: each their own challenge
        during: list[Record] = []
        for i in range(9, 30):
            during += await h.join("demo", f"r{i}")
        with_buttons = [r for r in of(during, "send") if r.get("chat") == "demo" and r.get("buttons")]
        # The tenth join starts the raid: from then on only the one standing challenge.
        assert len(with_buttons) == 1 and with_buttons[0]["text"].startswith("🛡")


async def _typed(h: Harness) -> None:
    await h.say("demo", "max", "/set antispam.join_answer 芝麻开门", role="moderator")
    await h.say("demo", "max", "/set antispam.join_answer_in_group on", role="moderator")


async def test_the_join_answer_typed_in_the_group_lets_the_newcomer_in(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _typed(h)
        # A wrong answer in the request is a second chance: let in, asked to type it.
        assert of(await h.request("demo", "a", "问题：暗号？\n答案：不知道"), "approve")
        joined = await h.join("demo", "a")
        (asked,) = [r for r in of(joined, "send") if r.get("chat") == "demo"]
        assert "入群问题的答案" in asked["text"] and of(joined, "mute") == []
        other = await h.say("demo", "a", "加我好友 领红包")
        assert [r["message"] for r in of(other, "delete")] == [other[0]["id"]]
        passed = await h.say("demo", "a", "答案是 ＺＨＩ麻 开门？ 芝麻开门！")
        assert [r["message"] for r in of(passed, "delete")] == [passed[0]["id"], asked["id"]]
        assert [t for t in public(passed) if t.startswith("欢迎 @a")] and of(passed, "unmute") == []
        assert of(await h.say("demo", "a", "大家好"), "delete") == []
        # The right answer in the request: never asked again. Moderators are never asked.
        await h.request("demo", "b", "答案：芝麻开门")
        assert [r for r in of(await h.join("demo", "b"), "send") if "入群问题" in r["text"]] == []
        await h.say("demo", "mia", "hi", role="moderator")
        await h.leave("demo", "mia")
        assert [r for r in of(await h.join("demo", "mia"), "send") if "入群问题" in r["text"]] == []


async def test_no_typed_answer_in_time_removes_the_newcomer_even_across_a_restart(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await _typed(h)
        joined = await h.join("demo", "quiet")
        (asked,) = [r for r in of(joined, "send") if r.get("chat") == "demo"]
        assert of(await h.advance(2 * 60), "kick") == []
        await h.restart()
        # Still screened after the restart; the answer's timer kept its time.
        assert of(await h.say("demo", "quiet", "t.me/spam"), "delete")
        gone = await h.advance(61)
        assert [r["user"] for r in of(gone, "kick")] == ["quiet"]
        assert asked["id"] in [r["message"] for r in of(gone, "delete")]
        # Off again: nobody is asked.
        await h.say("demo", "max", "/set antispam.join_answer_in_group off", role="moderator")
        assert [r for r in of(await h.join("demo", "later"), "send") if "入群问题" in r["text"]] == []
