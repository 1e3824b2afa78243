"""The forecast adapter: each series' rows -> windows of the last N steps (targets, covariates and
calendar features) -> the next H values of each target, at once (a direct multi-output forecast)."""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

import torch

from seqtool import Adapter, Example, ModelSpec, Record, RobustScaler, Series, find_column, find_value_columns, group_series, parse_numbers
from seqtool_forecast import calendar
from seqtool_forecast.metrics import ForecastMetrics, Window

TARGET_NAMES = ("value", "y", "target", "temperature", "temp", "temp_max", "tmax", "demand", "load", "close", "price")
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
    #: per step ahead: whether the network corrects the seasonal naive forecast (else persistence)
    seasonal_steps: list[bool]
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
        self.seasonal_steps = self._seasonal_steps(series)

    def _seasonal_steps(self, series: list[Series]) -> list[bool]:
        """For each step ahead, whether the seasonal naive forecast beat persistence on the training
        series (mean absolute error over the scaled targets). The network forecasts the correction
        to the better of the two, so an output of zero is already the naive forecast to beat, and
        training starts from it: persistence for series that wander (prices, weather from day to
        day), the value a season ago for series that repeat (a day's temperature cycle)."""
        errors = torch.zeros(2, self.horizon, dtype=torch.float64)  # persistence, seasonal
        for one in series:
            targets = self._steps(one)[:, : len(self.targets)]
            ends = torch.arange(1, len(targets) - self.horizon + 1)
            for h in range(self.horizon):
                earlier = ends + self._lag(h)
                seasonal = torch.where((earlier >= 0).unsqueeze(-1), targets[earlier.clamp(min=0)], targets[ends - 1])
                errors[0, h] += (targets[ends + h] - targets[ends - 1]).abs().sum()
                errors[1, h] += (targets[ends + h] - seasonal).abs().sum()
        return (errors[1] < errors[0]).tolist()

    def _lag(self, h: int) -> int:
        """Where the seasonal naive forecast of step ``h`` ahead (0-based) looks, from the forecast's
        first step: one season back, the last season repeated for longer horizons."""
        return h % self.season - self.season

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
        chosen = torch.tensor(self.seasonal_steps).unsqueeze(-1)
        for end in ends:
            seasonal = self._seasonal_naive(targets, end)
            reference = torch.where(chosen, seasonal, targets[end - 1])  # what the network corrects (see fit)
            target = (targets[end : end + self.horizon] - reference).reshape(-1) if labelled else None
            meta = Window(series.key, series.times[end - 1] if series.times else None, targets[end - 1], seasonal, reference)
            yield Example(steps[end - self.window : end], target, meta=meta, group=series.key, span=(end - self.window, end + self.horizon - 1))

    def _seasonal_naive(self, targets: torch.Tensor, end: int) -> torch.Tensor:
        """The seasonal-naive forecast of the H steps from ``end`` (see :class:`Window`)."""
        earlier = [end + self._lag(h) for h in range(self.horizon)]
        return torch.stack([targets[i] if i >= 0 else targets[end - 1] for i in earlier])

    def _steps(self, series: Series) -> torch.Tensor:
        scaled = [self.scaler.transform(values) for values in self._numbers(series)]
        if self.calendar:
            scaled = [row + calendar.calendar(time, self.calendar) for row, time in zip(scaled, series.times)]
        return torch.tensor(scaled, dtype=torch.float32).reshape(len(scaled), -1)

    def _count_gaps(self, series: Series) -> None:
        self.gaps += sum((b - a).total_seconds() > GAP_FACTOR * self.interval for a, b in zip(series.times, series.times[1:]))

    def decode(self, output: torch.Tensor, window: Window) -> dict[str, Any]:
        steps = (output.reshape(self.horizon, len(self.targets)) + window.reference).tolist()
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
