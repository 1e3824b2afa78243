"""The finance-anomaly adapter: rows -> sliding windows -> LSTM forecast of the next row ->
forecast error -> smoothed, normalised score -> flag (telemanom)."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import torch

from seqtool import Adapter, Batch, DataError, Engine, Example, ModelSpec, Record, RegressionMetrics, RobustScaler
from seqtool_finance import transforms
from seqtool_finance.metrics import AnomalyMetrics
from seqtool_finance.rows import value_columns
from seqtool_finance.scored import Scored, StepMeta
from seqtool_finance.scoring import Calibration, Scorer
from seqtool_finance.sequencing import Notes, Sequencer

DEFAULT_WINDOW = 48
DEFAULT_SMOOTHING = 1
#: the refractory period, in windows: 6 x 48 five-minute rows is a day
REFRACTORY_WINDOWS = 6


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
        self.seen = Notes()
        self.scorer: Scorer | None = None
        self.plotted: list[Scored] = []

    # -- state ---------------------------------------------------------------------------------

    def fit(self, records: Sequence[Record]) -> None:
        raw = Sequencer(self._columns_for, [], None, 0, skip=self._skip(counted=False), sort=False)
        rows = list(raw.rows(records))
        if not rows:
            raise DataError(f"{records[0].path}: no usable rows to train on")
        self.columns = list(raw.columns)
        given = self.options.get("transform") or "auto"
        self.transforms = [transforms.choose([r.values[i] for r in rows]) if given == "auto" else given for i in range(len(self.columns))]
        transformed = Sequencer(self._columns_for, self.transforms, None, 0, skip=self._skip(counted=False), sort=self._sort())
        values = [step.current for step in transformed.steps(records) if step.current is not None]
        self.scaler = RobustScaler.fit(list(zip(*values)))
        lead = 1 if any(transforms.needs_previous(t) for t in self.transforms) else 0
        for symbol, count in transformed.counts.items():
            if count < self.window + lead + 2:
                where = f"series {symbol!r}" if symbol else "the series"
                raise DataError(
                    f"{records[0].path}: {where} has {count} rows, too few for a {self.window}-row window "
                    f"(at least {self.window + lead + 2} needed); give more rows or a smaller --window"
                )

    def model_spec(self) -> ModelSpec:
        features = len(self.columns)
        return ModelSpec(input="features", input_size=features, output="pooled", output_size=features, objective="regress")

    def calibrate(self, engine: Engine, examples: Sequence[Example]) -> None:
        """Score the training rows in time order and fix the threshold on them (no labels)."""
        ordered = sorted(examples, key=lambda e: (e.meta.series, e.meta.position))
        errors: dict[tuple[str, str], list[float]] = {}
        for batch, outputs in engine.run(ordered):
            for meta, error in zip(batch.meta, (outputs - batch.target).abs().mean(-1).tolist()):
                errors.setdefault(meta.series, []).append(error)
        self.calibration = Calibration.fit(
            list(errors.values()),
            self.options.get("smoothing") or DEFAULT_SMOOTHING,
            self.options.get("error_span") or self.window,
            self.options.get("threshold_quantile"),
        )

    # -- records <-> tensors -------------------------------------------------------------------

    def _columns_for(self, record: Record) -> tuple[str, ...]:
        return value_columns(record, self.options.get("value_col"), self.columns)

    def _skip(self, *, counted: bool) -> Callable[[Record], None] | None:
        """What a row with a bad value does: stop the run (None), or with --on-bad skip be left
        out, and counted when ``counted`` (fit's own passes over the rows are not)."""
        if self.options.get("on_bad") != "skip":
            return None
        return (lambda record: self.skip(record, "with a missing, non-numeric or infinite value (--on-bad skip)")) if counted else (lambda record: None)

    def _sort(self) -> bool:
        return bool(self.options.get("sort"))

    def examples(self, records: Iterable[Record], *, labelled: bool) -> Iterator[Example]:
        # Before calibration the adapter makes training data: full windows only. A calibrated one
        # scores: every row gets an example (warm-up rows a placeholder) so every row gets a result.
        scoring = self.calibration is not None
        if scoring and self.options.get("plot"):
            from seqtool_finance.plot import require_matplotlib

            require_matplotlib()
        sequencer = Sequencer(self._columns_for, self.transforms, self.scaler, self.window, skip=self._skip(counted=True), sort=self._sort(), notes=self.seen)
        features = len(self.columns)
        placeholder = torch.zeros(1, features)
        for step in sequencer.steps(records):
            ready = step.history is not None and step.current is not None
            if not (ready or scoring):
                continue
            target = torch.tensor(step.current, dtype=torch.float32) if ready else torch.zeros(features)
            inputs = torch.tensor(step.history, dtype=torch.float32) if ready else placeholder
            meta = StepMeta(step.row, step.position, step.current, ready, sequencer.columns)
            span = (step.position - self.window, step.position)  # the rows it reads and the row it forecasts
            yield Example(inputs, target if labelled else None, meta=meta, group=meta.series, span=span)
        if scoring:
            self._check_long_enough(sequencer.counts)

    def _check_long_enough(self, counts: Mapping[str | None, int]) -> None:
        short = [symbol for symbol, count in counts.items() if count <= self.window]
        if short:
            where = f"series {short[0]!r}" if short[0] else "the series"
            raise DataError(
                f"{where} has {counts[short[0]]} rows, no more than the model's {self.window}-row window, so none was scored; "
                "give it more rows or train a model with a smaller --window"
            )

    # -- outputs -> results --------------------------------------------------------------------

    def threshold(self) -> float:
        quantile = self.options.get("threshold_quantile")
        return self.calibration.quantile(quantile) if quantile is not None else self.calibration.threshold

    def scored(self, outputs: torch.Tensor, batch: Batch) -> Iterator[Scored]:
        """Score a batch in order; the EWMA of each series carries over to the next batch."""
        if self.scorer is None:
            refractory = self.options.get("refractory")
            self.scorer = Scorer(self.calibration, self.threshold(), REFRACTORY_WINDOWS * self.window if refractory is None else refractory)
        for meta, forecast in zip(batch.meta, outputs.tolist()):
            if not meta.scored:
                yield Scored(meta, None, None, False)
            else:
                error = sum(abs(f - a) for f, a in zip(forecast, meta.actual)) / len(forecast)
                score, flagged = self.scorer(meta.series, error)
                yield Scored(meta, error, score, flagged)

    def decode(self, outputs: torch.Tensor, batch: Batch) -> Iterator[dict[str, Any]]:
        for item in self.scored(outputs, batch):
            if self.options.get("plot"):
                self.plotted.append(item)
            yield self.result(item)

    def finish(self) -> None:
        if self.options.get("plot"):
            from seqtool_finance.plot import draw

            draw(self.plotted, self.options["plot"], self.options.get("labels"), self.columns[0])

    def result(self, item: Scored) -> dict[str, Any]:
        row = item.meta.row
        record: dict[str, Any] = {} if row.symbol is None else {"symbol": row.symbol}
        record["timestamp"] = row.stamp
        if len(row.values) == 1:
            record["value"] = _plain(row.values[0])
        else:
            record.update({column: _plain(v) for column, v in zip(item.meta.columns, row.values)})
        record["score"] = None if item.score is None else round(item.score, 4)
        record["is_anomaly"] = item.flagged
        return record

    def metrics(self) -> AnomalyMetrics | RegressionMetrics:
        # during training (no threshold yet) only the forecast itself can be judged
        return RegressionMetrics() if self.calibration is None else AnomalyMetrics(self.scored, self.threshold(), self.options.get("labels"))

    def report(self) -> list[str]:
        return self.seen.lines()


def _plain(value: float) -> float | int:
    """Whole numbers are written back without a trailing .0, as they came in."""
    return int(value) if value.is_integer() and math.isfinite(value) and abs(value) < 2**53 else value

