"""Making raw prices and volumes stationary enough to forecast.

Prices wander, so their log-returns are forecast; counts and volumes are skewed, so log1p; a
series that can be negative gets differences or nothing. The result is then scaled by
seqtool.RobustScaler (median and interquartile range, which the very anomalies we look for
barely move).
"""

from __future__ import annotations

import math
from typing import Sequence

from seqtool import DataError


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


def apply(name: str, value: float, previous: float | None, column: str, source: str) -> float | None:
    """The transformed value, or None when it needs a previous value that does not exist yet."""
    if name == "log1p":
        if value <= -1:
            raise DataError(f"{source}: {column} is {value}; log1p needs values above -1; use --transform none or diff")
        return math.log1p(value)
    if name == "none":
        return value
    if previous is None:
        return None
    if name == "diff":
        return value - previous
    if value <= 0 or previous <= 0:
        raise DataError(f"{source}: {column} is {value} after {previous}; log-returns need positive prices; use --transform diff or none")
    return math.log(value / previous)

