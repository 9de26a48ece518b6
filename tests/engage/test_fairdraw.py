"""The provably fair draw: reproducible from the seed and the list, independent of entry order."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import fairdraw
from bot.cli import main

SEED = "6c902549c6ce5131f3e1b0e55e04343c3b53d7960eaf4cdc9459c6dc4ad9d38e"


def test_commitment_and_ticket_are_plain_sha256() -> None:
    assert fairdraw.commitment(SEED) == "d4cdda61bb4850b030a73465199e4fb343811c81f23f9029119d3938e1b4f0ce"
    # The documented one-liner in docs/engagement.md computes exactly this.
    assert (
        fairdraw.ticket(SEED, "alice") == "14a3893ef5d226cfcd60aad7ef8925a5667d40b1ec2766b23889963a53efdb33"
    )
    assert len(fairdraw.new_seed()) == 64 and fairdraw.new_seed() != fairdraw.new_seed()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=40, unique=True), st.randoms())
def test_the_draw_ignores_entry_order_and_never_repeats_a_winner(people: list[str], rnd: object) -> None:
    shuffled = list(people)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert fairdraw.ranking(SEED, people) == fairdraw.ranking(SEED, shuffled)
    first = fairdraw.pick(SEED, people, 3)
    second = fairdraw.pick(SEED, shuffled, 3, exclude=first)
    assert not set(first) & set(second)
    assert first + second == fairdraw.ranking(SEED, people)[: len(first) + len(second)]


def test_the_entrant_list_round_trips_through_csv() -> None:
    rows = [("123", 'Alice, "the" first'), ("456", "鲍勃")]
    assert fairdraw.read_entrants(fairdraw.entrants_csv(rows)) == ["123", "456"]


def test_verify_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "entrants.csv"
    path.write_text(fairdraw.entrants_csv([("alice", "alice"), ("bob", "bob")]), encoding="utf-8")
    commit = fairdraw.commitment(SEED)
    assert main(["giveaway", "verify", SEED, str(path), "--winners", "1", "--commitment", commit]) == 0
    out = capsys.readouterr().out
    assert "1\talice\t" in out and "2\tbob\t" in out and out.count("  winner") == 1
    assert main(["giveaway", "verify", SEED, str(path), "--commitment", "0" * 64]) == 1
    assert main(["giveaway", "verify", SEED, str(tmp_path / "missing.csv")]) == 2
