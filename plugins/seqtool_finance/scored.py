"""What one scored row carries from the adapter to decode, the metrics and the plot."""

from __future__ import annotations

from dataclasses import dataclass

from seqtool_finance.rows import Row


@dataclass(frozen=True)
class StepMeta:
    """What a row's example carries to decode and the metrics."""

    row: Row
    position: int
    #: the row's transformed, scaled values: what the model should have forecast
    actual: list[float] | None
    #: False for rows in a series' first ``window`` steps, which have nothing to forecast from
    scored: bool
    #: the value columns of this input (--value-col may name others than training's)
    columns: tuple[str, ...]

    @property
    def series(self) -> tuple[str, str | None]:
        return (self.row.path, self.row.symbol)


@dataclass(frozen=True)
class Scored:
    meta: StepMeta
    error: float | None
    score: float | None
    flagged: bool
