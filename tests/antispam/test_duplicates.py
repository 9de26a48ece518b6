"""Near-duplicate spam across accounts and moderators' spam samples, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from tests.antispam.test_probation import of, public
from tests.harness import Harness, texts

WAVE = ["加群领福利 t.me/fuli3 免费送", "加群领福利啦 t.me/fuli3 免费送哦", "加群领福利 t.me/fuli3 免费送!!"]


async def test_same_link_spam_from_three_accounts_is_removed_with_its_first_copies(
    tmp_path: Path, db_url: str
) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hello", role="moderator")
        # Members the bot never saw join, so probation does not catch them first: the detector must.
        first = await h.say("demo", "s1", WAVE[0])
        second = await h.say("demo", "s2", WAVE[1])
        assert of(first, "delete") == [] and of(second, "delete") == []
        third = await h.say("demo", "s3", WAVE[2])
        deleted = {r["message"] for r in of(third, "delete")}
        assert deleted == {first[0]["id"], second[0]["id"], third[0]["id"]}
        assert {r["user"] for r in of(third, "ban")} == {"s1", "s2", "s3"}
        assert public(third) == []
        alerts = public(third, "demo-mods")
        assert len(alerts) == 1 and "3" in alerts[0]
        fourth = await h.say("demo", "s4", WAVE[0])
        assert of(fourth, "delete") and of(fourth, "ban")
        assert public(fourth, "demo-mods") == []  # one alert a minute per group: the wave is one alert


async def test_regulars_saying_the_same_words_are_left_alone(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        for user in ("a", "b", "c", "d"):
            out = await h.say("demo", user, "同意这个提议，周六下午去爬山吧")
            assert of(out, "delete") == []


async def test_similar_text_outside_the_window_is_not_a_wave(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "s1", WAVE[0])
        await h.advance(6 * 60)
        await h.say("demo", "s2", WAVE[1])
        await h.advance(6 * 60)
        out = await h.say("demo", "s3", WAVE[2])
        assert of(out, "delete") == []  # s1's copy is older than ten minutes


async def test_spam_command_teaches_a_sample(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hello", role="moderator")
        spam = await h.say("demo", "s1", "💰日赚500 加V: fuli388 💰 名额有限速来")
        out = await h.say("demo", "max", "/spam", role="moderator", reply_to=spam[0]["id"])
        assert [r["message"] for r in of(out, "delete")] == [spam[0]["id"]]
        assert [r["user"] for r in of(out, "ban")] == ["s1"]
        assert texts(out) == ["已删除并封禁发送者，内容已记为垃圾样本（本群共 1 条）。"]
        await h.restart()
        again = await h.say("demo", "s9", "💰日赚600 加V: fuli388 💰 名额有限速来")
        assert of(again, "delete") and of(again, "ban")
        chat = await h.say("demo", "bob", "今天的会议改到下午三点")
        assert of(chat, "delete") == []


async def test_ban_never_adds_a_sample(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hello", role="moderator")
        msg = await h.say("demo", "s1", "💰日赚500 加V: fuli388 💰 名额有限速来")
        await h.say("demo", "max", "/ban @s1", role="moderator", reply_to=msg[0]["id"])
        later = await h.say("demo", "s2", "💰日赚500 加V: fuli388 💰 名额有限速来")
        assert of(later, "delete") == []


async def test_spam_command_bad_input(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "hello", role="moderator")
        out = await h.say("demo", "max", "/spam", role="moderator")
        assert texts(out)[0].startswith("用法：")
        mod = await h.say("demo", "max", "my words")
        out = await h.say("demo", "max", "/spam", role="moderator", reply_to=mod[0]["id"])
        assert texts(out)[0].startswith("这是管理员的消息")
        plain = await h.say("demo", "bob", "hello")
        out = await h.say("demo", "bob", "/spam", reply_to=plain[0]["id"])
        assert len(texts(out)) == 1 and of(out, "ban") == []  # members may not


async def test_training_mode_detects_a_wave_and_acts_on_none(tmp_path: Path, db_url: str) -> None:
    async with Harness(tmp_path, db_url=db_url) as h:
        await h.say("demo", "max", "/set language en", role="moderator")
        await h.say("demo", "max", "/set antispam.training on", role="moderator")
        records = []
        for i, text in enumerate(WAVE):
            records += await h.say("demo", f"s{i}", text)
        assert of(records, "delete") == [] and of(records, "ban") == []
        alerts = public(records, "demo-mods")
        assert len(alerts) == 1 and alerts[0].startswith("🧪 Training mode")
