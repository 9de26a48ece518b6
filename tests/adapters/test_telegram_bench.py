"""The Telegram bench runs and reports every figure (the figures themselves are not asserted)."""

from __future__ import annotations

import pytest

from adapters.telegram import bench


async def test_bench_reports_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    figures = await bench.run(["--updates", "50"])
    assert set(figures) == {
        "telegram.ptb_dejson_us_per_update",
        "telegram.normalize_us_per_update",
        "telegram.normalize_per_s",
        "telegram.event_bytes",
        "telegram.render_per_s",
        "telegram.split_40k_ms",
        "telegram.split_40k_chunks",
    }
    assert all(value > 0 for value in figures.values())
    assert figures["telegram.split_40k_chunks"] >= 10  # 41,000 characters: ten 4,096-character messages
    assert "telegram.normalize_per_s" in capsys.readouterr().out
