"""Forecast errors -> anomaly scores -> flags, after telemanom (Hundman et al., KDD 2018).

The absolute forecast error is smoothed with an EWMA (``--smoothing``; span 1 keeps it raw) and
divided by the series' recent error level (an EWMA over ``--error-span`` rows), so a busy hour
with noisy forecasts does not look like an anomaly and a surprise in a calm hour does. That
ratio is normalised by its mean and standard deviation on the training rows, so a score reads as
"standard deviations above a normal surprise" and one threshold fits every series.

The threshold is telemanom's nonparametric dynamic threshold, chosen on the training scores, or a
quantile of them (``--threshold-quantile``). A row is flagged when its score reaches the
threshold *and* beats every score of its series in the last ``--refractory`` rows: an anomaly
is reported where it starts or grows, not again on every row of its aftermath.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from seqtool import Fitted

#: telemanom's candidate thresholds: mean + z * sd for z in 2.5, 3.0, ... below 12
Z_CANDIDATES = [2.5 + 0.5 * i for i in range(19)]
#: rows either side of an exceedance that count as part of the same anomalous sequence
#: (telemanom's error_buffer, scaled down from its 100 for series sampled more coarsely)
ERROR_BUFFER = 10
#: telemanom rejects thresholds that cut the errors into more sequences than this
MAX_SEQUENCES = 5
#: quantiles of the training scores kept in the model file, for --threshold-quantile
QUANTILE_STEPS = 1000


def dynamic_threshold(scores: Sequence[float]) -> float:
    """telemanom's choice of z: the threshold whose removal of the points above it most reduces
    the mean and spread of the rest, per anomalous sequence (squared) and point it creates."""
    mean, sd = statistics.fmean(scores), statistics.pstdev(scores)
    best_z, best = Z_CANDIDATES[-1] + 0.5, -math.inf
    if sd == 0:
        # Errors that never varied (a constant series) have no spread to choose by; an infinite
        # threshold would never flag anything. Like Calibration, take one unit as the spread:
        # the strictest z then flags a surprise far above the usual, such as any change at all.
        return mean + best_z
    n = len(scores)
    for z in Z_CANDIDATES:
        epsilon = mean + z * sd
        below = [s for s in scores if s < epsilon]
        above = [i for i, s in enumerate(scores) if s >= epsilon]
        flagged = sorted({j for i in above for j in range(i - ERROR_BUFFER + 1, i + ERROR_BUFFER) if 0 <= j < n})
        if not flagged or len(below) < 2:
            continue
        sequences = sum(1 for k, i in enumerate(flagged) if (k == 0 or flagged[k - 1] != i - 1))
        decrease = (mean - statistics.fmean(below)) / mean if mean else 0.0
        decrease += (sd - statistics.pstdev(below)) / sd
        score = decrease / (sequences**2 + len(flagged))
        if score >= best and sequences <= MAX_SEQUENCES and len(flagged) < n / 2:
            best, best_z = score, z
    return mean + best_z * sd


@dataclass
class Calibration(Fitted):
    """Everything needed to turn a raw error into a score and a flag, stored in the model file."""

    smoothing: int
    error_span: int
    #: the error level a series starts from, before it has errors of its own
    initial_level: float
    ratio_mean: float
    ratio_sd: float
    threshold: float
    quantiles: list[float]

    @classmethod
    def fit(cls, errors_by_series: Sequence[Sequence[float]], smoothing: int, error_span: int, quantile: float | None) -> "Calibration":
        initial = statistics.fmean(e for errors in errors_by_series for e in errors) or 1.0
        ratios = []
        for errors in errors_by_series:
            surprise = Surprise(smoothing, error_span, initial)
            ratios.extend(surprise(e) for e in errors)
        mean, sd = statistics.fmean(ratios), statistics.pstdev(ratios) or 1.0
        quantiles = sorted((r - mean) / sd for r in ratios)
        quantiles = [quantiles[round(q * (len(quantiles) - 1) / QUANTILE_STEPS)] for q in range(QUANTILE_STEPS + 1)]
        calibration = cls(smoothing, error_span, initial, mean, sd, 0.0, quantiles)
        if quantile is None:  # telemanom works on the errors themselves, in series order
            calibration.threshold = (dynamic_threshold(ratios) - mean) / sd
        else:
            calibration.threshold = calibration.quantile(quantile)
        return calibration

    def quantile(self, q: float) -> float:
        position = q * QUANTILE_STEPS
        low = math.floor(position)
        high = min(low + 1, QUANTILE_STEPS)
        return self.quantiles[low] + (position - low) * (self.quantiles[high] - self.quantiles[low])

    def state(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "Calibration":
        return cls(**state)


def ewma_step(level: float | None, value: float, span: int) -> float:
    """One step of an EWMA that starts at its first value (pandas' ``adjust=False``)."""
    alpha = 2.0 / (span + 1.0)
    return value if level is None else alpha * value + (1 - alpha) * level


@dataclass
class Surprise:
    """A series' smoothed error divided by its error level over the rows before it."""

    smoothing: int
    error_span: int
    level: float
    smoothed: float | None = field(default=None)

    def __call__(self, error: float) -> float:
        self.smoothed = ewma_step(self.smoothed, error, self.smoothing)
        ratio = self.smoothed / max(self.level, 1e-12)
        self.level = ewma_step(self.level, self.smoothed, self.error_span)
        return ratio


class Scorer:
    """Scores rows in arrival order, with state per series, so batches can come one at a time."""

    def __init__(self, calibration: Calibration, threshold: float, refractory: int) -> None:
        self.calibration = calibration
        self.threshold = threshold
        self.refractory = refractory
        self.surprises: dict[Any, Surprise] = {}
        self.recent: dict[Any, deque[float]] = {}

    def __call__(self, series: Any, error: float) -> tuple[float, bool]:
        c = self.calibration
        surprise = self.surprises.setdefault(series, Surprise(c.smoothing, c.error_span, c.initial_level))
        score = (surprise(error) - c.ratio_mean) / c.ratio_sd
        recent = self.recent.setdefault(series, deque(maxlen=self.refractory))
        flagged = score >= self.threshold and all(score > earlier for earlier in recent)
        recent.append(score)
        return score, flagged
