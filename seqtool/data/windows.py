"""Long sequences cut into windows that each re-read the end of the one before.

A per-step task over a long sequence (a user's years of events, a book) cannot take it in one
piece: one batch would hold [B, very long T, vocabulary] scores. Cut into plain pieces, each piece
would start from a cold recurrent state. So each window after the first re-reads the last quarter
of the one before as warm-up context, not counted: every step is counted exactly once, and never
from a cold start.
"""

from __future__ import annotations

from typing import Iterator


def warm_windows(length: int, size: int) -> Iterator[tuple[int, int, int]]:
    """``(start, end, counted_from)`` windows over ``length`` steps, each at most ``size`` long;
    the steps before ``start + counted_from`` are warm-up (0 for the first window)."""
    warm_up = size // 4
    start = 0
    while True:
        end = min(start + size, length)
        yield start, end, 0 if start == 0 else warm_up
        if end == length:
            return
        start = end - warm_up
