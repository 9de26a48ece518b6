"""Benchmarks: ``python -m bot bench [SECTION] [OPTIONS]``.

This package sits outside the product. It may import anything (``bot``, ``handlers``,
``adapters``, ``storage``, even ``tests.fakes``); nothing in the product imports it, except the
one lazy ``import bench`` in ``bot/cli.py``'s ``bench`` subcommand (``tests/test_architecture.py``
holds both rules).

Sections (``bench/runner.py`` lists them): ``core``, ``startup`` (the headline figures: console
start-up to first answer and open-loop check-in p99; ``core`` and ``startup`` are what a plain
``bench`` runs), ``antispam``, ``checkin``, ``engage``, ``moderation``, ``schedule``, ``stats``, and the
platform adapters
``telegram``, ``discord`` and ``onebot``.
The adapter modules are named ``<platform>_adapter.py``, never after the library they import.
"""

from __future__ import annotations

from bench.runner import SECTIONS, main

__all__ = ["SECTIONS", "main"]
