"""evaluate: the flagged rate and forecast error always; with ``--labels``, window-level
precision/recall/F1 and the NAB standard-profile score at the model's own threshold."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import Any, Callable

import torch

from seqtool import Batch, DataError, Step
from seqtool_finance import nab
from seqtool_finance.labels import load_windows, windows_for
from seqtool_finance.scored import Scored


@dataclass
class _Series:
    times: list[datetime] = field(default_factory=list)
    flagged: list[bool] = field(default_factory=list)


class AnomalyMetrics:
    def __init__(self, scored: Callable[[torch.Tensor, Step], Scored], threshold: float, labels: str | None) -> None:
        """``scored`` scores one row's forecast (the adapter's, which keeps each series' state)."""
        self.score = scored
        self.threshold = threshold
        self.labels_path = labels
        self.windows = load_windows(labels) if labels else None
        self.series: dict[tuple[str, str], _Series] = {}
        self.absolute = self.squared = 0.0
        self.scored = 0

    def update(self, outputs: torch.Tensor, batch: Batch) -> None:
        for output, step in zip(outputs, batch.meta):
            item = self.score(output, step)
            series = self.series.setdefault(item.series, _Series())
            series.times.append(step.time)
            series.flagged.append(item.flagged)
            if item.error is not None:
                self.absolute += item.error
                self.squared += item.error**2
                self.scored += 1

    def compute(self) -> dict[str, Any]:
        rows = sum(len(s.flagged) for s in self.series.values())
        flagged = sum(sum(s.flagged) for s in self.series.values())
        report: dict[str, Any] = {
            "rows": rows,
            "rows_scored": self.scored,
            "flagged": flagged,
            "flagged_rate": flagged / rows if rows else 0.0,
            "threshold": self.threshold,
            "forecast_mae": self.absolute / max(self.scored, 1),
            "forecast_rmse": (self.squared / max(self.scored, 1)) ** 0.5,
        }
        if self.windows is not None:
            report.update(self._labelled())
        return report

    def _labelled(self) -> dict[str, Any]:
        profile = nab.PROFILES["standard"]
        raw, windows, per_series = 0.0, 0, {}
        counts = {"windows": 0, "windows_detected": 0, "events": 0, "events_in_windows": 0}
        for (data_file, symbol), series in self.series.items():
            labelled = windows_for(self.windows, data_file, symbol)
            if labelled is None:
                continue
            spans = nab.window_rows(series.times, labelled)
            score = nab.score_detections(nab.sweep_rows(len(series.times), spans, profile), series.flagged, profile)
            found = nab.window_f1(spans, series.flagged, start=int(nab.probation_length(len(series.times))))
            raw += score.score
            windows += score.windows
            for key in counts:
                counts[key] += found[key]
            per_series[symbol or PurePath(data_file).name] = {
                "nab_raw": score.score,
                "windows": score.windows,
                **nab.f1_from_counts(found),
            }
        if not per_series:
            names = ", ".join(symbol or path for path, symbol in self.series)
            raise DataError(f"{self.labels_path}: no labels for the series evaluated ({names}); key them by symbol or file name")
        return {
            "nab_standard": nab.normalised(raw, windows, profile),
            "nab_raw": raw,
            **{f"window_{k}": v for k, v in nab.f1_from_counts(counts).items()},
            "windows": counts["windows"],
            "windows_detected": counts["windows_detected"],
            "per_series": per_series,
        }
