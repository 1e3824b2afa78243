"""Making raw prices and volumes stationary enough to forecast.

Prices wander, so their log-returns are forecast; counts and volumes are skewed, so log1p; a
series that can be negative gets differences or nothing. The result is then scaled by
seqtool.RobustScaler (median and interquartile range, which the very anomalies we look for
barely move).

A live series may later take a value its transform cannot (a 0 after all-positive training
rows, for log-returns). Such a row is not an error: it is noted and left unscored, and the series
goes on from its last usable row (:class:`seqtool.UnusableRow`). ``auto`` cannot foresee it from
the training rows: positive values that may reach 0 (a CPU load) look like those that cannot (a
price), and taking log-returns only for series that stay far from 0 would change the transform
of most positive series on no evidence that they then score better. Counts and volumes, which
are often 0, are whole numbers and already get log1p, which takes 0.
"""

from __future__ import annotations

import math
from typing import Sequence

from seqtool import UnusableRow


def needs_previous(name: str) -> bool:
    return name in ("logret", "diff")


def choose(values: Sequence[float]) -> str:
    """``auto``: log1p for non-negative whole numbers (counts, volumes), log-returns for
    positive prices, none otherwise."""
    if all(v >= 0 and v == int(v) for v in values):
        return "log1p"
    if all(v > 0 for v in values):
        return "logret"
    return "none"


def apply(name: str, value: float, previous: float | None, column: str) -> float | None:
    """The transformed value, or None when it needs a previous value that does not exist yet.
    A value outside the transform's domain raises :class:`seqtool.UnusableRow` with the row's note."""
    if name == "none":
        return value
    if name == "log1p":
        if value <= -1:
            raise UnusableRow(f"{column} outside log1p's domain (values above -1)")
        return math.log1p(value)
    # checked before the previous row is needed: a series' first row must not pass unchecked and
    # then become the previous row of the next
    if name == "logret" and value <= 0:
        raise UnusableRow(f"{column} outside log-returns' domain (values above 0)")
    if previous is None:
        return None
    return value - previous if name == "diff" else math.log(value / previous)
