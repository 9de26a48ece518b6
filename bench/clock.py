"""The benches' clock: virtual time, but the batched writes keep their production timer.

Under a plain ``VirtualClock`` the batcher flushes only as the scheduler moves the clock, which
makes scripts and tests deterministic. A bench that moves the clock by hand would then measure the
hot path without the once-a-second flushes that production pays for, and pay them all at stop.
"""

from __future__ import annotations

from bot.clock import VirtualClock


class BenchClock(VirtualClock):
    """A virtual clock under which the batcher flushes every wall-clock second, as in production."""

    moves_on_its_own = True
