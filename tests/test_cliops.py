"""Operator-side rough edges of issue 21: input that killed the console, start-up messages,
``db backup``, config errors, and relative paths. Each test failed before its fix."""

from __future__ import annotations

import io
import json
from pathlib import Path

from adapters.console.script import run_script
from bot.app import App
from bot.config import Settings


async def _script(lines: list[str], tmp_path: Path) -> list[dict[str, object]]:
    out = io.StringIO()
    code = await run_script(
        lines, settings=Settings(), start=None, db_path=tmp_path / "s.db", out=out, make_app=App
    )
    assert code == 0
    return [json.loads(x) for x in out.getvalue().splitlines()]


async def test_deeply_nested_json_is_an_error_record_and_the_run_goes_on(tmp_path: Path) -> None:
    nested = "[" * 20_000 + "]" * 20_000
    deep_object = '{"type":"message","chat":"g","user":"u","text":' + "[" * 5000 + "]" * 5000 + "}"
    records = await _script(
        [nested, deep_object, '{"type":"message","chat":"g","user":"u","text":"/ping"}'], tmp_path
    )
    errors = [r for r in records if r["action"] == "error"]
    assert [e["line"] for e in errors] == [1, 2]
    assert "nested too deeply" in str(errors[0]["error"])
    assert records[-1]["action"] == "send" and records[-1]["text"] == "pong 🏓 我在。"
