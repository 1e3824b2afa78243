"""The NAB scoring rules (Lavin & Ahmad 2015; numenta/NAB v1.1, ``nab/sweeper.py``), written
from their description so that the published per-file scores can be reproduced.

A series is a list of rows. Labelled windows mark where detections are wanted. Each row gets a
*sweep weight*: inside a window, the earliest detection earns ``tp * σ(position) / σ(-1)``
(position -1 at the window's left edge, 0 just past its right edge); outside, a detection costs
``fp * σ(distance past the previous window)``, the full ``fp`` before the first window or three
window-widths past one. A window nobody detects costs ``fn``. The first 15% of rows (at most 750)
are the probationary period and are not scored at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

PROBATION_FRACTION = 0.15
PROBATION_CAP_ROWS = 5000  # NAB caps the probation at 15% of 5000 rows


@dataclass(frozen=True)
class Profile:
    tp: float
    fp: float
    fn: float


PROFILES = {
    "standard": Profile(tp=1.0, fp=0.11, fn=1.0),
    "reward_low_FP_rate": Profile(tp=1.0, fp=0.22, fn=1.0),
    "reward_low_FN_rate": Profile(tp=1.0, fp=0.11, fn=2.0),
}


def scaled_sigmoid(position: float) -> float:
    """NAB's reward curve: about 0.987 at -1, 0 at 0, -1 from 3 on."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probation_length(rows: int) -> float:
    return min(math.floor(PROBATION_FRACTION * rows), PROBATION_FRACTION * PROBATION_CAP_ROWS)


@dataclass(frozen=True)
class Row:
    """One scorable row: its sweep weight and the window it lies in (None: outside all)."""

    index: int
    weight: float
    window: int | None


@dataclass
class SeriesScore:
    score: float
    true_positives: int  # detected rows inside windows (NAB's TP counts rows, not windows)
    false_positives: int
    false_negatives: int
    true_negatives: int
    windows: int


def window_rows(timestamps: Sequence, windows: Iterable[tuple]) -> list[tuple[int, int]]:
    """Each ``(start, end)`` window as inclusive row indices: the first row at or after start
    and the last at or before end (for NAB's files these are exact timestamp matches). Windows
    with no row are dropped."""
    spans = []
    for start, end in windows:
        first = next((i for i, t in enumerate(timestamps) if t >= start), None)
        last = next((i for i in range(len(timestamps) - 1, -1, -1) if timestamps[i] <= end), None)
        if first is not None and last is not None and first <= last:
            spans.append((first, last))
    return sorted(spans)


def sweep_rows(rows: int, spans: Sequence[tuple[int, int]], profile: Profile) -> list[Row]:
    """The scorable rows of a series (probation left out) with their sweep weights."""
    max_tp = scaled_sigmoid(-1.0)
    probation = probation_length(rows)
    window_of = {}
    for number, (first, last) in enumerate(spans):
        for i in range(first, last + 1):
            window_of[i] = number
    scored, previous_end, previous_width = [], None, None
    for i in range(rows):
        window = window_of.get(i)
        if window is not None:
            first, last = spans[window]
            width = last - first + 1
            weight = scaled_sigmoid(-(last - i + 1) / width) * profile.tp / max_tp
        else:
            distance = 3.0 if previous_end is None else abs(previous_end - i) / (previous_width - 1)
            weight = scaled_sigmoid(distance) * profile.fp
        if i >= probation:
            scored.append(Row(i, weight, window))
        if window is not None and i == spans[window][1]:
            previous_end, previous_width = i, spans[window][1] - spans[window][0] + 1
    return scored


def score_detections(rows: Sequence[Row], detected: Sequence[bool], profile: Profile) -> SeriesScore:
    """The NAB score of one series given which rows were flagged (indexed by row index)."""
    best: dict[int, float] = {r.window: -profile.fn for r in rows if r.window is not None}
    fp_total, counts = 0.0, {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for row in rows:
        flagged = detected[row.index]
        if row.window is None:
            counts["fp" if flagged else "tn"] += 1
            if flagged:
                fp_total += row.weight
        else:
            counts["tp" if flagged else "fn"] += 1
            if flagged:
                best[row.window] = max(best[row.window], row.weight)
    return SeriesScore(fp_total + sum(best.values()), counts["tp"], counts["fp"], counts["fn"], counts["tn"], len(best))


def normalised(raw: float, windows: int, profile: Profile) -> float:
    """NAB's 0 (no detections) .. 100 (every window caught at its left edge, no false alarms)."""
    null, perfect = -profile.fn * windows, profile.tp * windows
    return 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0


def best_threshold(series: Sequence[tuple[Sequence[Row], Sequence[float]]], profile: Profile) -> tuple[float, float]:
    """The one threshold (detect where score >= threshold) that maximises the summed raw score
    over several series, and that score. Exact: every distinct score is tried, in one pass from
    the highest down (NAB itself runs a local search over the same curve)."""
    points = []
    total = 0.0
    for number, (rows, scores) in enumerate(series):
        for row in rows:
            if math.isfinite(scores[row.index]):  # nan: not scored; -inf: cannot be flagged
                points.append((scores[row.index], number, row))
        total -= profile.fn * len({r.window for r in rows if r.window is not None})
    points.sort(key=lambda p: p[0], reverse=True)
    best: dict[tuple[int, int], float] = {}
    best_total, best_at = total, math.inf
    for position, (score, number, row) in enumerate(points):
        if row.window is None:
            total += row.weight
        else:
            key = (number, row.window)
            previous = best.get(key, -profile.fn)
            if row.weight > previous:
                total += row.weight - previous
                best[key] = row.weight
        last_of_tie = position + 1 == len(points) or points[position + 1][0] != score
        if last_of_tie and total > best_total:
            best_total, best_at = total, score
    return best_at, best_total


def window_f1(spans: Sequence[tuple[int, int]], detected: Sequence[bool], start: int = 0) -> dict[str, float | int]:
    """Window-level detection quality from row ``start`` on: recall is the share of windows with
    at least one flagged row; precision the share of flagged events (runs of consecutive flagged
    rows) that touch a window."""
    inside = [False] * len(detected)
    for first, last in spans:
        for i in range(first, last + 1):
            inside[i] = True
    caught = sum(1 for first, last in spans if last >= start and any(detected[max(first, start) : last + 1]))
    windows = sum(1 for _, last in spans if last >= start)
    events = hits = 0
    i = start
    while i < len(detected):
        if not detected[i]:
            i += 1
            continue
        j = i
        touches = False
        while j < len(detected) and detected[j]:
            touches = touches or inside[j]
            j += 1
        events += 1
        hits += touches
        i = j
    return {"windows": windows, "windows_detected": caught, "events": events, "events_in_windows": hits}


def f1_from_counts(counts: dict[str, float | int]) -> dict[str, float]:
    precision = counts["events_in_windows"] / counts["events"] if counts["events"] else 0.0
    recall = counts["windows_detected"] / counts["windows"] if counts["windows"] else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}
