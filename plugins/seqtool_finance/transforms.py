"""Making raw prices and volumes stationary enough to forecast, and scaling them robustly.

Prices wander, so their log-returns are forecast; counts and volumes are skewed, so log1p; a
series that can be negative gets differences or nothing. Scaling uses the median and the
interquartile range, which the very anomalies we look for barely move.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence

from seqtool import DataError

TRANSFORMS = ("auto", "logret", "log1p", "diff", "none")
#: the IQR of a normal distribution in standard deviations: makes the scale comparable to one
IQR_PER_SD = 1.349


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


@dataclass
class RobustScaler:
    centre: list[float]
    scale: list[float]

    @classmethod
    def fit(cls, columns: Sequence[Sequence[float]]) -> "RobustScaler":
        centre, scale = [], []
        for values in columns:
            quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
            spread = (quartiles[2] - quartiles[0]) / IQR_PER_SD
            if spread <= 0:  # mostly constant: fall back to the standard deviation, then to 1
                spread = statistics.pstdev(values) or 1.0
            centre.append(quartiles[1])
            scale.append(spread)
        return cls(centre, scale)

    def __call__(self, values: Sequence[float]) -> list[float]:
        return [(v - c) / s for v, c, s in zip(values, self.centre, self.scale)]

    def state(self) -> dict[str, list[float]]:
        return {"centre": self.centre, "scale": self.scale}
