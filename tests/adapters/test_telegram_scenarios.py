"""The console's golden scenarios, replayed on Telegram, must give the same records.

Each scenario in ``tests/scenarios`` was written for the console adapter. Here the same script
drives the bot through a real ``TelegramAdapter`` (updates in, Bot API calls out) and the calls
are read back as console records: same replies, same order, same times, same buttons.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Settings, load_settings
from tests.fakes.telegram_replay import TelegramScriptSession, plain_text
from tests.test_scenarios import CASES, SCENARIOS, _options

#: Every golden scenario must hold on Telegram as written. A scenario that differs by design
#: (name → why) goes here, with a Telegram test of its own; none does today (checked with
#: checkin_week, help_and_errors, language_restart, moderation_demo, stats_week, week_of_a_group).
DIFFERS_BY_DESIGN: dict[str, str] = {}
SCENARIO_NAMES = [c.stem for c in CASES if c.stem not in DIFFERS_BY_DESIGN]


async def _replay(name: str) -> list[dict[str, object]]:
    path = SCENARIOS / f"{name}.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    config = path.with_suffix(".toml")
    settings = load_settings(config) if config.exists() else Settings()
    return await _run(lines, settings, _options(lines))


async def _run(lines: list[str], settings: Settings, start: object) -> list[dict[str, object]]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="qunyou-tg-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bot.db'}"
        settings = settings.model_copy(update={"storage": settings.storage.model_copy(update={"url": url})})
        session = TelegramScriptSession(settings, start=start)  # type: ignore[arg-type]
        await session.start()
        try:
            await session.run(lines)
        finally:
            await session.stop()
        return [dict(r) for r in session.bridge.take()]


@pytest.mark.parametrize("name", SCENARIO_NAMES)
async def test_console_scenario_behaves_the_same_on_telegram(name: str) -> None:
    expected_path = SCENARIOS / f"{name}.expected.jsonl"
    expected = [json.loads(line) for line in expected_path.read_text(encoding="utf-8").splitlines() if line]
    got = await _replay(name)
    assert got == expected


def test_plain_text_reads_telegram_html_like_the_console() -> None:
    markup = '<b>1 &lt; 2</b> <a href="tg://user?id=5">Bob</a> <a href="https://x.org/?a=1&amp;b=2">docs</a>'
    assert plain_text(markup) == "1 < 2 @Bob docs (https://x.org/?a=1&b=2)"


async def _console(lines: list[str], settings: Settings, start: object) -> list[dict[str, object]]:
    import io
    import tempfile

    from adapters.console.script import run_script

    out = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="qunyou-console-") as tmp:
        await run_script(
            lines, settings=settings, start=start, db_path=Path(tmp) / "c.db", out=out, make_app=App
        )  # type: ignore[arg-type]
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_an_ad_hoc_script_gives_the_same_records_on_console_and_telegram() -> None:
    from bot.clock import parse_instant

    script = [
        '{"type":"message","chat":"demo","user":"alice","name":"Alice","text":"早上好 <everyone> & @bob"}',
        '{"type":"join","chat":"demo","user":"bob","invited_by":"alice","name":"Bob"}',
        '{"type":"message","chat":"demo","user":"bob","text":"！ping"}',
        '{"type":"message","chat":"demo","user":"mod","role":"moderator","text":"/stats chart"}',
        '{"type":"message","chat":"demo","user":"bob","text":"/forgetme"}',
        '{"type":"leave","chat":"demo","user":"bob"}',
        '{"type":"dm","user":"alice","text":"/help"}',
    ]
    start = parse_instant("2026-03-04T10:00:00+08:00")
    console = await _console(script, Settings(), start)
    telegram = await _run(script, Settings(), start)
    # Each run renders its chart into its own temporary directory: compare that one was sent.
    for record in (*console, *telegram):
        if "image" in record:
            record["image"] = Path(str(record["image"])).suffix
    assert telegram == console
    assert [r["image"] for r in console if "image" in r] == [".png"], "the chart went out on both"
