"""The bench runs end to end on a small lexicon and reports every figure it promises.

Speed targets are measured by ``python -m bot bench moderation``, never asserted here.
"""

from __future__ import annotations

from bench import moderation as bench


async def test_bench_reports_all_figures_on_a_small_run(capsys) -> None:  # type: ignore[no-untyped-def]
    figures = await bench.run(
        ["--terms", "500", "--messages", "400", "--baseline-messages", "20", "--passes", "1"]
    )
    for key in (
        "msgs_per_s",
        "p50_us",
        "p99_us",
        "speedup_vs_regex",
        "rebuild_s",
        "matcher_rss_mb",
        "pinyin_mean_us",
    ):
        assert key in figures
    assert figures["terms"] == 500
    assert figures["msgs_per_s"] > 0
    assert figures["p50_us"] <= figures["p99_us"] <= figures["max_us"]
    # The stream plants plain and evasive lexicon hits in about 5% of messages: some must be found.
    assert 0 < figures["flag_rate"] <= figures["candidate_rate"] <= 1
    out = capsys.readouterr().out
    assert "speed-up vs regex" in out and "latency p99" in out and "pinyin view on" in out
    # The pinyin view only adds hits.
    assert figures["pinyin_flag_rate"] >= figures["flag_rate"]


def test_generation_is_seeded() -> None:
    a = bench.generate(300, 50, seed=7)
    b = bench.generate(300, 50, seed=7)
    assert a.messages == b.messages
    assert [e.term for e in a.entries] == [e.term for e in b.entries]
    assert len({e.term for e in a.entries}) == 300


def test_lexicon_bench_prints_baseline_and_new_figures(capsys) -> None:  # type: ignore[no-untyped-def]
    from bench import lexicon as lexicon_bench

    figures = lexicon_bench.run(
        ["--benign", "300", "--per-transform", "8", "--speed-terms", "6500", "--passes", "1"]
    )
    for key in (
        "benign_flag_rate",
        "benign_flag_rate_after_lint",
        "recall_homoglyph_uts39",
        "msgs_per_s_14k",
    ):
        assert key in figures
    assert 0 <= figures["benign_flag_rate_after_lint"] <= figures["benign_flag_rate"] <= 1
    assert figures["recall_homoglyph_uts39"] >= 0.9 and figures["recall_leet"] > 0
    out = capsys.readouterr().out
    assert "baseline" in out and "recall: homoglyph_uts39" in out and "throughput at" in out
