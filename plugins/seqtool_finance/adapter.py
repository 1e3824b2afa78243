"""The finance-anomaly adapter: rows -> sliding windows -> LSTM forecast of the next row ->
forecast error -> smoothed, normalised score -> flag (telemanom).

The generic work on the rows (value columns, order, repeated times, gaps, windows per series, bad
values) is the core's :class:`seqtool.SeriesStepper`; this module adds the domain: stationary
transforms, scaling, scoring and the threshold.

``predict`` answers every input row, in input order: a detector on a live feed must go on
whatever the feed does after training. A row it cannot score (in its series' first window, a
repeated or late timestamp, a value its transform cannot take, a bad value with ``--on-bad
skip``) gets an empty score and a ``note`` saying why, and is counted by note on stderr.
Training leaves such rows out of its windows, and counts them too.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import torch

from seqtool import Adapter, DataError, Engine, Example, ModelSpec, Record, RegressionMetrics, RobustScaler, SeriesNotes, SeriesStepper, Step, find_value_columns
from seqtool_finance import transforms
from seqtool_finance.metrics import AnomalyMetrics
from seqtool_finance.scored import Scored, forecast_error, series_of
from seqtool_finance.scoring import Calibration, Scorer

DEFAULT_WINDOW = 48
DEFAULT_SMOOTHING = 1
#: the refractory period, in windows: 6 x 48 five-minute rows is a day
REFRACTORY_WINDOWS = 6
#: the value columns looked for when --value-col names none
VALUE_COLUMNS = ("value", "close", "adj close", "price", "volume")
#: the note of a row with too little history before it to be forecast
FIRST_WINDOW = "in the first window"


class FinanceAdapter(Adapter):
    #: the value columns training read (the time and symbol columns are the core's: see the Task)
    columns: list[str] | None = None
    transforms: list[str]
    scaler: RobustScaler
    #: set by calibrate, after training: until then the adapter makes training windows only
    calibration: Calibration | None = None

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.window = self.options.get("window") or DEFAULT_WINDOW
        self.seen = SeriesNotes()
        #: the stepper of the pass under way: fit's, then each examples call's
        self.stepper: SeriesStepper | None = None
        self.scorer: Scorer | None = None
        self.plotted: list[Scored] = []
        if self.options.get("plot"):  # before any input is read
            from seqtool_finance.plot import require_matplotlib

            require_matplotlib()

    # -- state ---------------------------------------------------------------------------------

    def fit(self, records: Sequence[Record]) -> None:
        self.stepper = self._stepper()
        ordered = self._ordered(records)
        steps = [step for step in self.stepper.steps(ordered) if step.note is None]
        if not steps:
            raise DataError(f"{records[0].path}: no usable rows to train on")
        self.columns = list(self.stepper.columns)
        given = self.options.get("transform") or "auto"
        self.transforms = [transforms.choose([s.values[i] for s in steps]) if given == "auto" else given for i in range(len(self.columns))]
        # again through the transforms, which leave out the rows they cannot take, as the
        # examples passes will: the scaler sees exactly the rows that make the windows
        self.stepper = self._stepper(features=self._transformed)
        transformed = [step.features for step in self.stepper.steps(ordered) if step.features is not None]
        if not transformed:
            raise DataError(f"{records[0].path}: no row can be transformed with --transform {given}; choose another")
        self.scaler = RobustScaler.fit(list(zip(*transformed)))
        lead = 1 if any(transforms.needs_previous(t) for t in self.transforms) else 0
        for symbol, count in self.stepper.counts.items():
            if count < self.window + lead + 2:
                raise DataError(
                    f"{records[0].path}: {_named(symbol)} has {count} rows, too few for a {self.window}-row window "
                    f"(at least {self.window + lead + 2} needed); give more rows or a smaller --window"
                )

    def model_spec(self) -> ModelSpec:
        features = len(self.columns)
        return ModelSpec(input="features", input_size=features, output="pooled", output_size=features, objective="regress")

    def calibrate(self, engine: Engine, examples: Sequence[Example]) -> None:
        """Score the training rows in time order and fix the threshold on them (no labels)."""
        errors: dict[tuple[str, str], list[float]] = {}
        for output, step in engine.each(sorted(examples, key=lambda e: (e.group, e.meta.position))):
            errors.setdefault(series_of(step), []).append(forecast_error(output.tolist(), step.features))
        self.calibration = Calibration.fit(
            list(errors.values()),
            self.options.get("smoothing") or DEFAULT_SMOOTHING,
            self.options.get("error_span") or self.window,
            self.options.get("threshold_quantile"),
        )

    # -- rows -> examples ----------------------------------------------------------------------

    def _stepper(self, *, window: int = 0, features: Callable[[Step], list[float] | None] | None = None, notes: SeriesNotes | None = None) -> SeriesStepper:
        """The core's stepper for this task's rows: series by symbol, the value columns of
        --value-col or found by name. A bad value stops the run unless --on-bad skip notes it;
        a late row is noted, never an error (a live feed does not wait: --sort is there for
        files). Gaps go to ``notes`` in the examples passes only (they see every row fit saw)."""
        return SeriesStepper(
            lambda record: find_value_columns(record, self.options.get("value_col"), VALUE_COLUMNS, trained=self.columns),
            window=window,
            features=features,
            key="symbol",
            bad="note" if self.options.get("on_bad") == "skip" else "error",
            out_of_order="note",
            bad_fix="fix the row or pass --on-bad skip",
            notes=notes,
        )

    def _ordered(self, records: Iterable[Record]) -> Iterable[Record]:
        return self.stepper.in_order(records) if self.options.get("sort") else records

    def _transformed(self, step: Step) -> list[float] | None:
        """The row's values made stationary; None while a transform that needs the previous row
        has none (the series' first row). A value outside its transform's domain raises
        :class:`seqtool.UnusableRow`: the stepper notes the row and leaves it out."""
        previous = step.previous or (None,) * len(step.values)
        columns = zip(self.transforms, step.values, previous, self.stepper.columns)
        values = [transforms.apply(name, value, before, column) for name, value, before, column in columns]
        return None if None in values else values

    def _scaled(self, step: Step) -> list[float] | None:
        values = self._transformed(step)
        return None if values is None else self.scaler.transform(values)

    def examples(self, records: Iterable[Record], *, labelled: bool) -> Iterator[Example]:
        # The core's loop, with what needs the whole stream around it: --sort reads all of it
        # first, and a scoring run checks at its end that every series outlived the window. A
        # per-record encode can do neither: it never learns where the input ends.
        self.stepper = self._stepper(window=self.window, features=self._scaled, notes=self.seen)
        yield from super().examples(self._ordered(records), labelled=labelled)
        if self.calibration is not None:
            self._check_long_enough(self.stepper.counts)

    def encode(self, record: Record, *, labelled: bool) -> Example | None:
        """A row -> the example forecasting it from its series' window. Before calibration the
        adapter makes training data: rows with a full window only, noted rows left out and
        counted. A calibrated one scores: every row gets an example, a row it cannot score a
        placeholder that decodes to an empty score and the note, so that every row gets a result."""
        step = self.stepper.push(record)
        training = self.calibration is None
        if step.note is None and (step.window is None or step.features is None):
            if training:
                return None  # not a training target, only history for the rows after it
            step.note = FIRST_WINDOW
        if step.note is not None:
            self.skip(record, f"from the training windows: {step.note}" if training else f"from scoring: {step.note}")
            if training:
                return None
        scored = step.note is None
        features = len(self.columns)
        inputs = torch.tensor(step.window, dtype=torch.float32) if scored else torch.zeros(1, features)
        target = torch.tensor(step.features, dtype=torch.float32) if scored else torch.zeros(features)
        # decode needs the row, and its features only when there is a forecast to compare them
        # with; the window is in the inputs now, and the meta need not keep it alive
        meta = replace(step, features=step.features if scored else None, window=None)
        span = (step.position - self.window, step.position)  # the rows it reads and the row it forecasts
        return Example(inputs, target if labelled else None, meta=meta, group=series_of(step), span=span)

    def _check_long_enough(self, counts: Mapping[str, int]) -> None:
        short = [symbol for symbol, count in counts.items() if count <= self.window]
        if short:
            raise DataError(
                f"{_named(short[0])} has {counts[short[0]]} rows, no more than the model's {self.window}-row window, so none was scored; "
                "give it more rows or train a model with a smaller --window"
            )

    # -- outputs -> results --------------------------------------------------------------------

    def threshold(self) -> float:
        quantile = self.options.get("threshold_quantile")
        return self.calibration.quantile(quantile) if quantile is not None else self.calibration.threshold

    def scored(self, output: torch.Tensor, step: Step) -> Scored:
        """Score one row; rows come in arrival order, and each series' EWMA carries over."""
        if self.scorer is None:
            refractory = self.options.get("refractory")
            self.scorer = Scorer(self.calibration, self.threshold(), REFRACTORY_WINDOWS * self.window if refractory is None else refractory)
        if step.features is None:
            return Scored(step, None, None, False)
        error = forecast_error(output.tolist(), step.features)
        score, flagged = self.scorer(series_of(step), error)
        return Scored(step, error, score, flagged)

    def decode(self, output: torch.Tensor, meta: Step) -> dict[str, Any]:
        item = self.scored(output, meta)
        if self.options.get("plot"):
            self.plotted.append(item)
        return self.result(item)

    def finish(self) -> None:
        if self.options.get("plot"):
            from seqtool_finance.plot import draw

            draw(self.plotted, self.options["plot"], self.options.get("labels"), self.columns[0])

    def result(self, item: Scored) -> dict[str, Any]:
        step = item.step
        record: dict[str, Any] = {"symbol": step.series} if "symbol" in step.record else {}
        record["timestamp"] = str(step.record.get("time", "")).strip()
        columns = self.stepper.columns
        # a value that could not be read is written back as it came
        values = [_plain(v) for v in step.values] if step.values else [str(step.record.get(c, "")).strip() for c in columns]
        if len(columns) == 1:
            record["value"] = values[0]
        else:
            record.update(zip(columns, values))
        record["score"] = None if item.score is None else round(item.score, 4)
        record["is_anomaly"] = item.flagged
        record["note"] = step.note
        return record

    def metrics(self) -> AnomalyMetrics | RegressionMetrics:
        # during training (no threshold yet) only the forecast itself can be judged
        return RegressionMetrics() if self.calibration is None else AnomalyMetrics(self.scored, self.threshold(), self.options.get("labels"))

    def report(self) -> list[str]:
        return self.seen.lines()


def _named(symbol: str) -> str:
    return f"series {symbol!r}" if symbol else "the series"


def _plain(value: float) -> float | int:
    """Whole numbers are written back without a trailing .0, as they came in."""
    return int(value) if value.is_integer() and math.isfinite(value) and abs(value) < 2**53 else value
