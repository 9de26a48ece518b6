"""The Telegram bench runs and reports every figure (the figures themselves are not asserted)."""

from __future__ import annotations

import pytest

from bench import telegram_adapter as bench


async def test_bench_reports_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    figures = await bench.run(["--updates", "50", "--messages", "20"])
    assert set(figures) == {
        "telegram.ptb_dejson_us_per_update",
        "telegram.normalize_us_per_update",
        "telegram.normalize_per_s",
        "telegram.event_bytes",
        "telegram.render_per_s",
        "telegram.split_40k_ms",
        "telegram.split_40k_chunks",
        "telegram.pipeline_messages_per_s",
        "telegram.pipeline_p50_ms",
        "telegram.pipeline_p99_ms",
        "telegram.pipeline_mean_ms",
        "telegram.ping_round_trips_per_s",
        "telegram.ping_replies",
        "telegram.pipeline_moderation_actions",
    }
    assert all(value > 0 for key, value in figures.items() if key != "telegram.pipeline_moderation_actions")
    # Ordinary chat must not trip flood control or the lexicon in the bench.
    assert figures["telegram.pipeline_moderation_actions"] == 0
    assert figures["telegram.split_40k_chunks"] >= 10  # 41,000 characters: ten 4,096-character messages
    # Every /ping through the real core got its reply over PTB (none lost to rate limiting).
    assert figures["telegram.ping_replies"] == 200
    assert "telegram.normalize_per_s" in capsys.readouterr().out
