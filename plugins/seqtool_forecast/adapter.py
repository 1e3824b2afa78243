"""The forecast adapter: each series' rows -> windows of the last N steps (targets, covariates and
calendar features) -> the next H values of each target, at once (a direct multi-output forecast)."""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

import torch

from seqtool import Adapter, Example, ModelSpec, Record, RobustScaler, Series, find_column, find_value_columns, group_series, parse_numbers
from seqtool_forecast import calendar
from seqtool_forecast.metrics import ForecastMetrics, Window

TARGET_NAMES = ("value", "y", "target", "temperature", "temp", "demand", "load", "close", "price")
DEFAULT_HORIZON = 1
#: a gap is an interval this many times the usual one
GAP_FACTOR = 1.5


class ForecastAdapter(Adapter):
    group_by = "series"
    regroup_hint = " (the header, then the rows sorted by series keeping time order), or give one file per series"
    targets: list[str]
    covariates: list[str]
    scaler: RobustScaler  # targets first, then covariates
    #: in-sample MAE of the one-step naive forecast per target, in the data's units (MASE)
    naive_mae: list[float]
    interval: float  # seconds between rows, usually
    season: int
    calendar: list[str]
    window: int
    horizon: int

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.gaps = 0
        self.short: list[str] = []  # series too short to forecast in this run

    def fit(self, records: Sequence[Record]) -> None:
        self.targets = list(find_value_columns(records[0], self.options.get("target_col"), TARGET_NAMES, flag="--target-col"))
        given = self.options.get("covariate_col")
        self.covariates = [find_column(records[0], name.strip(), (), what="covariate", flag="--covariate-col", source=records[0].where) for name in given.split(",")] if given else []
        series = list(group_series(records, key="series"))
        rows = [self._numbers(s) for s in series]
        self.scaler = RobustScaler.fit(list(zip(*[row for values in rows for row in values])))
        self.naive_mae = [_naive_mae([[row[t] for row in values] for values in rows]) for t in range(len(self.targets))]
        self.interval = calendar.usual_interval([s.times for s in series])
        self.season = calendar.best_season([[row[0] for row in values] for values in rows], calendar.seasons_for(self.interval))
        self.calendar = calendar.features_for(self.interval) if all(s.times for s in series) else []
        self.horizon = self.options.get("horizon") or DEFAULT_HORIZON
        self.window = self.options.get("window") or _default_window(self.interval)

    def _numbers(self, series: Series) -> list[tuple[float, ...]]:
        return [parse_numbers(record, [*self.targets, *self.covariates], fix="fix the row") for record in series.records]

    def model_spec(self) -> ModelSpec:
        features = len(self.targets) + len(self.covariates) + 2 * len(self.calendar)
        return ModelSpec(input="features", input_size=features, output="pooled", output_size=self.horizon * len(self.targets), objective="regress")

    def encode(self, series: Series, *, labelled: bool) -> Iterator[Example]:
        """Training and evaluation: every window of N steps with the H after it. Predicting: each
        series' last N steps, to forecast the H steps after its data ends."""
        steps = self._steps(series)
        needed = self.window + (self.horizon if labelled else 0)
        if len(steps) < needed:
            self.short.append(f"{series.key or 'the series'} ({series.records[0].where}, {len(steps)} rows)")
            return
        self._count_gaps(series)
        targets = steps[:, : len(self.targets)]
        ends = range(self.window, len(steps) - self.horizon + 1) if labelled else [len(steps)]
        for end in ends:
            # the network forecasts the change from the window's last value: an output of zero is
            # persistence, the forecast it must beat, so training starts from it instead of from
            # the series' median (this matters most for series that wander, such as prices)
            target = (targets[end : end + self.horizon] - targets[end - 1]).reshape(-1) if labelled else None
            meta = Window(series.key, series.times[end - 1] if series.times else None, targets[end - 1], self._seasonal_naive(targets, end))
            yield Example(steps[end - self.window : end], target, meta=meta, group=series.key, span=(end - self.window, end + self.horizon - 1))

    def _seasonal_naive(self, targets: torch.Tensor, end: int) -> torch.Tensor:
        """The seasonal-naive forecast of the H steps from ``end`` (see :class:`Window`)."""
        earlier = [end + h - self.season for h in range(self.horizon)]
        return torch.stack([targets[i] if 0 <= i < end else targets[end - 1] for i in earlier])

    def _steps(self, series: Series) -> torch.Tensor:
        scaled = [self.scaler.transform(values) for values in self._numbers(series)]
        if self.calendar:
            scaled = [row + calendar.calendar(time, self.calendar) for row, time in zip(scaled, series.times)]
        return torch.tensor(scaled, dtype=torch.float32).reshape(len(scaled), -1)

    def _count_gaps(self, series: Series) -> None:
        self.gaps += sum((b - a).total_seconds() > GAP_FACTOR * self.interval for a, b in zip(series.times, series.times[1:]))

    def decode(self, output: torch.Tensor, window: Window) -> dict[str, Any]:
        steps = (output.reshape(self.horizon, len(self.targets)) + window.latest).tolist()
        values = [self.scaler.inverse(row + [0.0] * len(self.covariates))[: len(self.targets)] for row in steps]
        result: dict[str, Any] = {"series": window.series} if window.series else {}
        if window.last_time is not None:
            result["time"] = [t.isoformat() for t in calendar.after(window.last_time, self.interval, self.horizon)]
        result.update({name: [round(row[i], 4) for row in values] for i, name in enumerate(self.targets)})
        return result

    def metrics(self) -> ForecastMetrics:
        return ForecastMetrics(self.horizon, self.scaler.centre[: len(self.targets)], self.scaler.scale[: len(self.targets)], self.naive_mae)

    def report(self) -> list[str]:
        lines = []
        if self.short:
            lines.append(f"{len(self.short)} series shorter than the window and horizon ({self.window}+{self.horizon} rows) left out: {', '.join(self.short[:3])}")
        if self.gaps:
            lines.append(f"{self.gaps} gap(s) longer than {GAP_FACTOR}x the usual interval of {self.interval:g} s; the rows either side were treated as consecutive")
        return lines


def _default_window(interval: float) -> int:
    """Two days of sub-daily data, four weeks of daily data, two years of weekly or monthly data, else 8."""
    if interval <= calendar.DAY / 2:
        return max(8, round(2 * calendar.DAY / interval))
    if interval <= 1.5 * calendar.DAY:
        return 28
    return 104 if interval <= 10 * calendar.DAY else 24 if interval <= 40 * calendar.DAY else 8


def _naive_mae(series: Sequence[Sequence[float]]) -> float:
    """Mean absolute change from one row to the next, over all series (0 changes: 1, so MASE stays finite)."""
    changes = [abs(b - a) for values in series for a, b in zip(values, values[1:])]
    return (sum(changes) / len(changes) if changes else 0.0) or 1.0
