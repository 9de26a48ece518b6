"""Hostile requests get a clear answer and the bot keeps running."""

from __future__ import annotations

from pathlib import Path

from tests.harness import Harness, texts
from tests.web.helpers import dashboard, log_in


async def test_garbled_bodies_paths_and_cookies(tmp_path: Path) -> None:
    async with Harness(tmp_path) as h, dashboard(h) as client:
        await h.say("demo", "max", "hello", role="moderator")
        csrf = await log_in(h, client, "demo", "max")
        form = {"content-type": "application/x-www-form-urlencoded"}
        bodies = [
            b"csrf=" + csrf.encode() + b"&term=%FF%FE%80&level=red",
            b"csrf=" + csrf.encode() + b"&term=%zz%&level=%",
            b"csrf=" + csrf.encode() + b"&term=\x00\x00&level=red\x00",
            b"\xff\xfe\xfd",
            b"csrf=" + csrf.encode() + b"&term=" + b"A" * 300_000 + b"&level=red",
        ]
        for body in bodies:
            answer = await client.post("/g/1/lexicon/add", content=body, headers=form)
            assert answer.status_code in (200, 400, 403), (body[:40], answer.status_code)
        multipart = await client.post(
            "/g/1/lexicon/test", files={"text": ("x.txt", b"\xff" * 10)}, data={"csrf": csrf}
        )
        assert multipart.status_code in (200, 400, 403)
        for path in ("/g/1/%00", "/g/%FF/desk", "/login/" + "x" * 5000, "/g/1/desk/%00/ack"):
            assert (await client.get(path)).status_code in (400, 404, 405)
        client.cookies.set("qunyou_session", "\x7f" * 200)
        assert (await client.get("/")).status_code == 401
        # Still serving, still chatting.
        assert texts(await h.say("demo", "bob", "/ping"))
