"""What every bench section shares: a percentile, and figures printed beside their goals."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping


def percentile(values: list[float], fraction: float) -> float:
    """The value at ``fraction`` (0–1) of the sorted values (0.0 for none)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def print_figures(figures: Mapping[str, float], goals: Mapping[str, tuple[str, float]], width: int) -> None:
    """One line per figure: its value, its goal (``>=`` or ``<=`` a bound) and ok / MISSED."""
    for name, value in figures.items():
        goal = goals.get(name)
        target = f"{goal[0]} {goal[1]:g}" if goal else ""
        met = goal is not None and (value >= goal[1] if goal[0] == ">=" else value <= goal[1])
        verdict = "" if goal is None else ("ok" if met else "MISSED")
        print(f"  {name.ljust(width)} {value:>12.3f}  {target:>8}  {verdict}")


def positive_int(text: str) -> int:
    """An argparse ``type``: a whole number above zero, or a one-line usage error."""
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be above zero")
    return value


def positive_float(text: str) -> float:
    """An argparse ``type``: a finite number above zero, or a one-line usage error."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number above zero")
    return value
