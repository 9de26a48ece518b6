"""Posts with pictures (#23) end to end through the console: scheduled posts, the welcome and
activity announcements carry a picture, stored once by SHA-256, refused clearly when bad."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from adapters.console.adapter import Record
from bot.capability import Capability
from bot.ports import MediaLibrary
from handlers.media.library import Library
from tests.harness import Harness, sends, texts
from tests.media.pictures import png, write

MOD = {"role": "moderator"}


def _library(h: Harness) -> Library:
    library = h.services.ports.get(MediaLibrary)
    assert isinstance(library, Library)
    return library


def _config(media_dir: Path, **extra: Any) -> dict[str, Any]:
    return {"media": {"dir": str(media_dir), **extra}}


def _sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _posts(records: list[Record], *wanted: str) -> list[Record]:
    """The bot's posts with these texts (badge announcements and the like left out)."""
    return [r for r in sends(records) if r["text"] in wanted]


def _seen(records: list[Record]) -> str:
    return next(r["id"] for r in records if r["action"] == "seen")


async def test_a_reply_to_a_picture_goes_with_two_posts_and_is_stored_once(
    db_url: str, tmp_path: Path
) -> None:
    photo = write(tmp_path / "upload" / "cat.png", png(seed=7))
    async with Harness(tmp_path, db_url=db_url) as h:
        # The console's ``message`` line with ``image``: a member posts a photo with a caption.
        posted = await h.line(type="message", chat="demo", user="alice", text="我家猫", image=str(photo))
        picture = _seen(posted)
        first = await h.say("demo", "mod", "/schedule add daily 09:30 早安", reply_to=picture, **MOD)
        assert texts(first) == ["已保存定时消息 #1：每天 09:30。下次发送：2026-03-02 09:30。\n已附上图片。"]
        second = await h.say("demo", "mod", "/schedule add daily 10:00 Morning", reply_to=picture, **MOD)
        assert texts(second)[0].endswith("已附上图片。")
        assert await _library(h).repo.count() == 1  # two posts, one picture
        plain = await h.say("demo", "mod", "/schedule add daily 11:00 无图", **MOD)
        assert "图片" not in texts(plain)[0]
        due = _posts(await h.advance(to="2026-03-02T11:00:00+08:00"), "早安", "Morning", "无图")
    assert [(r["text"], r.get("image") is not None) for r in due] == [
        ("早安", True),
        ("Morning", True),
        ("无图", False),
    ]
    assert _sha(due[0]["image"]) == _sha(due[1]["image"]) == hashlib.sha256(png(seed=7)).hexdigest()


async def test_a_named_file_in_the_media_folder_goes_with_the_post(tmp_path: Path) -> None:
    media = tmp_path / "media-files"
    write(media / "banners" / "spring.png", png(seed=3))
    async with Harness(tmp_path, config=_config(media)) as h:
        added = await h.say(
            "demo", "mod", "/schedule add urgent image:banners/spring.png daily 09:30 春天", **MOD
        )
        assert texts(added)[0].endswith("已附上图片。")
        # The same picture again (named the other way round): still one stored copy.
        again = await h.say("demo", "mod", "/schedule add 图片：banners/spring.png daily 10:00 again", **MOD)
        assert texts(again)[0].endswith("已附上图片。")
        assert await _library(h).repo.count() == 1
        due = sends(await h.advance(to="2026-03-02T10:00:00+08:00"))
    assert [r["text"] for r in due] == ["春天", "again"]
    assert all(_sha(r["image"]) == hashlib.sha256(png(seed=3)).hexdigest() for r in due)


async def test_bad_pictures_are_refused_clearly_and_leave_no_post(db_url: str, tmp_path: Path) -> None:
    media = tmp_path / "media-files"
    write(media / "ok.png", png())
    write(media / "notes.png", b"just some text, named like a picture\n")  # the name lies
    write(media / "huge.png", png() + b"\x00" * 5000)
    secret = write(tmp_path / "secret.png", png(seed=9))
    (media / "link.png").symlink_to(secret)  # a link out of the folder is outside it
    async with Harness(tmp_path, db_url=db_url, config=_config(media, max_bytes=4096)) as h:

        async def add(word: str) -> str:
            return texts(await h.say("demo", "mod", f"/schedule add {word} daily 09:30 x", **MOD))[0]

        assert (await add("image:notes.png")).startswith("这个文件不是图片（支持 PNG、JPEG、GIF、WebP）。")
        assert (await add("image:huge.png")).startswith("图片太大：最多 4 KB。")
        assert (await add("image:../secret.png")).startswith("“../secret.png”不是机器人图片目录里的文件。")
        assert (await add("image:/etc/hosts")).startswith("“/etc/hosts”不是机器人图片目录里的文件。")
        assert (await add("image:link.png")).startswith("“link.png”不是机器人图片目录里的文件。")
        assert (await add("image:missing.png")).startswith("机器人图片目录里没有图片“missing.png”。")
        assert (await add("image:")).startswith("请在“image:”后写上图片文件名")
        # A member's picture that is not one (a text file sent as a photo) is refused too.
        fake = write(tmp_path / "upload" / "fake.jpg", b"GIF8 not really")
        seen = _seen(await h.line(type="message", chat="demo", user="alice", text="看", image=str(fake)))
        refused = texts(await h.say("demo", "mod", "/schedule add daily 09:30 x", reply_to=seen, **MOD))
        assert refused[0].startswith("这个文件不是图片")
        assert texts(await h.say("demo", "mod", "/schedule list", **MOD)) == [
            "还没有定时消息。用 /schedule add 每天 09:00 内容 添加一条。"
        ]
        assert await _library(h).repo.count() == 0
        # In English, too.
        await h.say("demo", "owner", "/lang en", role="owner")
        english = await h.say("demo", "mod", "/schedule add image:../x.png daily 09:30 x", **MOD)
        assert texts(english)[0].startswith("“../x.png” is not a file in the bot's media folder.")


async def test_naming_files_is_off_without_a_media_folder(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h:
        answer = texts(await h.say("demo", "mod", "/schedule add image:a.png daily 09:30 x", **MOD))
    assert answer[0].startswith("本机器人未开放按文件名指定图片（未设置 [media] dir）")


async def test_a_restart_keeps_the_picture_of_a_post_due_later(db_url: str, tmp_path: Path) -> None:
    photo = write(tmp_path / "upload" / "poster.png", png(seed=42))
    async with Harness(
        tmp_path, db_url=db_url, config={"media": {"cache_dir": str(tmp_path / "cache")}}
    ) as h:
        seen = _seen(await h.line(type="message", chat="demo", user="alice", text="海报", image=str(photo)))
        await h.say("demo", "mod", "/schedule add once 2026-03-03 20:00 今晚见", reply_to=seen, **MOD)
        await h.restart()
        # The member deleted their upload and the cache is gone: the database has the bytes.
        photo.unlink()
        shutil.rmtree(tmp_path / "cache", ignore_errors=True)
        due = sends(await h.advance(to="2026-03-03T20:00:00+08:00"))
    assert [r["text"] for r in due] == ["今晚见"]
    assert _sha(due[0]["image"]) == hashlib.sha256(png(seed=42)).hexdigest()


async def test_a_deleted_post_takes_its_picture_link_along(tmp_path: Path) -> None:
    media = tmp_path / "media-files"
    write(media / "a.png", png())
    async with Harness(tmp_path, config=_config(media)) as h:
        await h.say("demo", "mod", "/schedule add image:a.png daily 09:30 x", **MOD)
        group = await h.services.groups.find("console", "demo")
        assert group is not None
        assert await _library(h).path_of(group, "schedule:1") is not None
        await h.say("demo", "mod", "/schedule del 1", **MOD)
        assert await _library(h).path_of(group, "schedule:1") is None


async def test_the_welcome_carries_its_picture_until_a_new_one_without(tmp_path: Path) -> None:
    photo = write(tmp_path / "upload" / "hello.png", png(seed=1))
    async with Harness(tmp_path) as h:
        seen = _seen(
            await h.line(type="message", chat="demo", user="mod", text="欢迎图", image=str(photo), **MOD)
        )
        set_ = texts(await h.say("demo", "mod", "/setwelcome 欢迎 {name}！", reply_to=seen, **MOD))
        assert set_ == ["欢迎语已保存，预览：\n欢迎 mod！\n已附上图片。"]
        welcome = sends(await h.join("demo", "newbie"))
        assert welcome[0]["text"] == "欢迎 @newbie！"
        assert _sha(welcome[0]["image"]) == hashlib.sha256(png(seed=1)).hexdigest()
        await h.say("demo", "mod", "/setwelcome 你好 {name}", **MOD)
        plain = sends(await h.join("demo", "second"))
    assert [(r["text"], r.get("image")) for r in plain][:1] == [("你好 @second", None)]


async def test_an_activity_announcement_carries_its_picture(tmp_path: Path) -> None:
    media = tmp_path / "media-files"
    write(media / "board-games.png", png(seed=5))
    async with Harness(tmp_path, config=_config(media)) as h:
        out = sends(await h.say("demo", "mod", "/event add image:board-games.png 桌游 | 明天 19:00", **MOD))
        assert out[0]["text"].split("\n")[1].startswith("#1 桌游")
        assert _sha(out[0]["image"]) == hashlib.sha256(png(seed=5)).hexdigest()
        assert out[0]["buttons"]  # the RSVP buttons stay
        refused = texts(await h.say("demo", "mod", "/event add image:nope.png 桌游 | 明天 19:00", **MOD))
        assert refused[0].startswith("机器人图片目录里没有图片“nope.png”。")
        assert texts(await h.say("demo", "alice", "/events"))[0].count("桌游") == 1


async def test_a_platform_without_pictures_gets_the_text_and_a_note(tmp_path: Path) -> None:
    media = tmp_path / "media-files"
    write(media / "a.png", png())
    photo = write(tmp_path / "upload" / "b.png", png(seed=2))
    poorer = frozenset(Capability) - {Capability.IMAGES}
    async with Harness(tmp_path, config=_config(media), capabilities=poorer) as h:
        seen = _seen(await h.line(type="message", chat="demo", user="alice", text="图", image=str(photo)))
        fetched = texts(await h.say("demo", "mod", "/schedule add daily 09:30 x", reply_to=seen, **MOD))
        assert fetched[0].startswith("此平台不允许机器人获取图片：请用 image:文件名 指定图片。")
        await h.say("demo", "mod", "/schedule add image:a.png daily 09:30 早", **MOD)
        note = "早\n（本帖附有一张图片，此平台无法显示图片。）"
        due = _posts(await h.advance(to="2026-03-02T09:30:00+08:00"), note)
    assert [(r["text"], r.get("image")) for r in due] == [(note, None)]


async def test_a_picture_no_post_carries_any_more_is_deleted_after_the_grace(
    db_url: str, tmp_path: Path
) -> None:
    media = tmp_path / "media-files"
    write(media / "a.png", png(seed=1))
    write(media / "b.png", png(seed=2))
    async with Harness(tmp_path, db_url=db_url, config=_config(media)) as h:
        await h.say("demo", "mod", "/schedule add image:a.png daily 09:30 x", **MOD)
        await h.say("demo", "mod", "/schedule add image:a.png daily 10:30 y", **MOD)
        await h.say("demo", "mod", "/schedule add image:b.png daily 11:30 z", **MOD)
        assert await _library(h).repo.count() == 2
        await h.say("demo", "mod", "/schedule del 1", **MOD)
        await h.advance(7200)
        await h.say("demo", "mod", "/schedule del 3", **MOD)
        # b.png went with post 3; a.png stays, post 2 still carries it.
        assert await _library(h).repo.count() == 1
        group = await h.services.groups.find("console", "demo")
        assert group is not None
        path = await _library(h).path_of(group, "schedule:2")
    assert path is not None and _sha(path) == hashlib.sha256(png(seed=1)).hexdigest()


async def test_hostile_file_names_are_refused_and_the_bot_goes_on(tmp_path: Path) -> None:
    media = tmp_path / "media-files"
    write(media / "ok.png", png())
    (media / "loop.png").symlink_to(media / "loop.png")  # a symlink to itself
    async with Harness(tmp_path, config=_config(media)) as h:
        for name in ("loop.png", "a" * 5000, "sub/../ok.png", "."):
            answer = texts(await h.say("demo", "mod", f"/schedule add image:{name} daily 09:30 x", **MOD))
            assert answer[0].startswith(("“", "机器人图片目录里没有图片")), (name[:20], answer)
        assert texts(await h.say("demo", "mod", "/schedule add image:./ok.png daily 09:30 x", **MOD))[
            0
        ].endswith("已附上图片。")
