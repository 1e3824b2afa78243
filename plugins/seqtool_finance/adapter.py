"""The finance-anomaly adapter: rows -> sliding windows -> LSTM forecast of the next row ->
forecast error -> smoothed, normalised score -> flag (telemanom)."""

from __future__ import annotations

import math
from typing import Any, Iterable, Iterator, Mapping, Sequence

import torch

from seqtool import Adapter, DataError, Engine, Example, ModelSpec, Record
from seqtool import Batch
from seqtool import RegressionMetrics
from seqtool_finance import transforms
from seqtool_finance.metrics import AnomalyMetrics
from seqtool_finance.rows import Columns, find_columns
from seqtool_finance.scored import Scored, StepMeta
from seqtool_finance.scoring import Calibration, Scorer
from seqtool_finance.sequencing import Notes, Sequencer
from seqtool_finance.transforms import RobustScaler

DEFAULT_WINDOW = 48
DEFAULT_SMOOTHING = 1
#: the refractory period, in windows: 6 x 48 five-minute rows is a day
REFRACTORY_WINDOWS = 6


class FinanceAdapter(Adapter):
    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.window = self.options.get("window") or DEFAULT_WINDOW
        self.columns: Columns | None = None
        self.transform_names: list[str] = []
        self.scaler: RobustScaler | None = None
        self.calibration: Calibration | None = None
        self.notes = Notes()
        self.scorer: Scorer | None = None
        self.plotted: list[Scored] = []

    # -- state ---------------------------------------------------------------------------------

    def fit(self, records: Sequence[Record]) -> None:
        raw = Sequencer(self._columns_for, [], None, 0, skip_bad=self._skip_bad(), sort=False)
        rows = list(raw.rows(records))
        if not rows:
            raise DataError(f"{records[0].path}: no usable rows to train on")
        self.columns = raw.columns
        given = self.options.get("transform") or "auto"
        self.transform_names = [
            transforms.choose([r.values[i] for r in rows]) if given == "auto" else given for i in range(len(self.columns.values))
        ]
        transformed = Sequencer(self._columns_for, self.transform_names, None, 0, skip_bad=self._skip_bad(), sort=self._sort())
        values = [step.current for step in transformed.steps(records) if step.current is not None]
        self.scaler = RobustScaler.fit(list(zip(*values)))
        lead = 1 if any(transforms.needs_previous(t) for t in self.transform_names) else 0
        for symbol, count in transformed.notes.rows.items():
            if count < self.window + lead + 2:
                where = f"series {symbol!r}" if symbol else "the series"
                raise DataError(
                    f"{records[0].path}: {where} has {count} rows, too few for a {self.window}-row window "
                    f"(at least {self.window + lead + 2} needed); give more rows or a smaller --window"
                )

    def state(self) -> dict[str, Any]:
        return {
            "columns": self.columns.state(),
            "transforms": self.transform_names,
            "scaler": self.scaler.state(),
            "calibration": self.calibration.state() if self.calibration else None,
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        self.columns = Columns.from_state(state["columns"])
        self.transform_names = list(state["transforms"])
        self.scaler = RobustScaler(**state["scaler"])
        self.calibration = Calibration.from_state(state["calibration"])

    def model_spec(self) -> ModelSpec:
        features = len(self.columns.values)
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

    def _columns_for(self, record: Record) -> Columns:
        return find_columns(record, self.options, self.columns)

    def _skip_bad(self) -> bool:
        return self.options.get("on_bad") == "skip"

    def _sort(self) -> bool:
        return bool(self.options.get("sort"))

    def examples(self, records: Iterable[Record], *, labelled: bool) -> Iterator[Example]:
        # Before calibration the adapter makes training data: full windows only. A calibrated one
        # scores: every row gets an example (warm-up rows a placeholder) so every row gets a result.
        scoring = self.calibration is not None
        if scoring and self.options.get("plot"):
            from seqtool_finance.plot import require_matplotlib

            require_matplotlib()
        sequencer = Sequencer(self._columns_for, self.transform_names, self.scaler, self.window, skip_bad=self._skip_bad(), sort=self._sort())
        features = len(self.columns.values)
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
        self._add_notes(sequencer.notes)
        if scoring:
            self._check_long_enough(sequencer.notes)

    def _check_long_enough(self, notes: Notes) -> None:
        short = [symbol for symbol, count in notes.rows.items() if count <= self.window]
        if short:
            where = f"series {short[0]!r}" if short[0] else "the series"
            raise DataError(
                f"{where} has {notes.rows[short[0]]} rows, no more than the model's {self.window}-row window, so none was scored; "
                "give it more rows or train a model with a smaller --window"
            )

    def _add_notes(self, notes: Notes) -> None:
        self.notes.skipped_bad += notes.skipped_bad
        self.notes.duplicates += notes.duplicates
        self.notes.first_duplicate = self.notes.first_duplicate or notes.first_duplicate
        self.notes.gaps += notes.gaps
        self.notes.longest_gap = max(self.notes.longest_gap, notes.longest_gap)

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

            draw(self.plotted, self.options["plot"], self.options.get("labels"), self.columns.values[0])

    def result(self, item: Scored) -> dict[str, Any]:
        row, columns = item.meta.row, item.meta.columns
        record: dict[str, Any] = {"symbol": row.symbol} if columns.symbol else {}
        record["timestamp"] = row.stamp
        if len(row.values) == 1:
            record["value"] = _plain(row.values[0])
        else:
            record.update({column: _plain(v) for column, v in zip(columns.values, row.values)})
        record["score"] = None if item.score is None else round(item.score, 4)
        record["is_anomaly"] = item.flagged
        return record

    def metrics(self) -> AnomalyMetrics | RegressionMetrics:
        # during training (no threshold yet) only the forecast itself can be judged
        return RegressionMetrics() if self.calibration is None else AnomalyMetrics(self.scored, self.threshold(), self.options.get("labels"))

    def report(self) -> list[str]:
        return self.notes.lines()


def _plain(value: float) -> float | int:
    """Whole numbers are written back without a trailing .0, as they came in."""
    return int(value) if value.is_integer() and math.isfinite(value) and abs(value) < 2**53 else value

