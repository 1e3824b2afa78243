"""What one scored row carries from the adapter to decode, the metrics and the plot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from seqtool import Step


@dataclass(frozen=True)
class Scored:
    #: the row (from the core's stepper); its ``features`` are what the model should have
    #: forecast, None for a row not scored (its ``note`` says why: in a series' first window, say)
    step: Step
    error: float | None
    score: float | None
    flagged: bool

    @property
    def series(self) -> tuple[str, str]:
        return series_of(self.step)


def series_of(step: Step) -> tuple[str, str]:
    """A row's series: its file and symbol (one symbol in two files is two series)."""
    return (step.record.path, step.series)


def forecast_error(forecast: Sequence[float], actual: Sequence[float]) -> float:
    """The mean absolute error of a row's forecast, in scaled units."""
    return sum(abs(f - a) for f, a in zip(forecast, actual)) / len(actual)
