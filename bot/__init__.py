"""Qunyou (群友): the shared core of a multi-platform community bot."""

__version__ = "0.1.0"
