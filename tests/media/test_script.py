"""The console script protocol's ``image`` field, through ``run_script`` (what
``python -m bot console --script`` runs): twice on one database, as a restart between runs."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

from adapters.console.script import run_script
from bot.app import App
from bot.clock import parse_instant
from bot.config import parse_settings
from tests.media.pictures import png, write


async def _run(lines: list[dict[str, Any]], db: Path, cache: Path, start: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    settings = parse_settings({"media": {"cache_dir": str(cache)}})
    code = await run_script(
        [json.dumps(line, ensure_ascii=False) for line in lines],
        settings=settings,
        start=parse_instant(start),
        db_path=db,
        out=out,
        make_app=App,
    )
    assert code == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_a_script_sends_a_picture_and_a_later_run_posts_it(tmp_path: Path) -> None:
    photo = write(tmp_path / "upload" / "poster.png", png(seed=99))
    db, cache = tmp_path / "bot.db", tmp_path / "cache"
    first = await _run(
        [
            {
                "type": "message",
                "chat": "demo",
                "user": "alice",
                "id": "p",
                "text": "海报",
                "image": str(photo),
            },
            {"type": "message", "chat": "demo", "user": "bob", "text": "no picture", "image": 5},
            {
                "type": "message",
                "chat": "demo",
                "user": "mod",
                "role": "moderator",
                "reply_to": "p",
                "text": "/schedule add once 2026-03-03 20:00 今晚见",
            },
        ],
        db,
        cache,
        "2026-03-02T09:00:00+08:00",
    )
    assert [r["action"] for r in first][:2] == ["seen", "seen"]
    (added,) = [r for r in first if r["action"] == "send" and r.get("reply_to")]
    assert added["text"].endswith("已附上图片。")
    photo.unlink()
    second = await _run(
        [{"type": "advance", "to": "2026-03-03T20:00:00+08:00"}], db, cache, "2026-03-03T19:00:00+08:00"
    )
    (post,) = [r for r in second if r["action"] == "send" and r["text"] == "今晚见"]
    digest = hashlib.sha256(png(seed=99)).hexdigest()
    assert post["image"] == str(cache / f"{digest}.png")
    assert hashlib.sha256(Path(post["image"]).read_bytes()).hexdigest() == digest
