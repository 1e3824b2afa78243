"""Forecast errors per horizon step, in the data's units, beside the naive forecasts on the same
targets: persistence (the last value, repeated) and seasonal naive (the value one season before
each target). A network that does not beat both has not earned its cost.

Definitions: MAE and RMSE as scikit-learn's; MASE is the MAE divided by the in-sample MAE of the
one-step naive forecast on the training series (Hyndman & Koehler 2006; sktime's default ``sp=1``);
sMAPE is the mean of 2|F - A| / (|A| + |F|), a fraction in [0, 2] (0 when both are 0), as sktime's
``symmetric=True`` MAPE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

import torch

from seqtool import Batch


@dataclass(frozen=True)
class Window:
    """What a forecast needs besides its inputs (an example's meta): where it is, and the values
    the forecast is measured against, scaled, ``[targets]`` and ``[H, targets]``."""

    series: str
    last_time: datetime | None
    #: the window's last value of each target: the persistence forecast
    latest: torch.Tensor
    #: the value one season before each forecast step, from the whole series (a season may reach
    #: further back than the window); the last value where the series does not reach back a season
    seasonal_naive: torch.Tensor
    #: per step, the naive forecast the network corrects: outputs and targets are changes from it
    reference: torch.Tensor


class ForecastMetrics:
    """``centre`` and ``scale`` unscale each target column; ``naive_mae`` is each target's in-sample
    one-step naive MAE (the MASE denominator). Each example's meta is its :class:`Window`. Sums
    only are kept, so evaluating a long file takes flat memory."""

    NAMES = ("model", "persistence", "seasonal_naive")

    def __init__(self, horizon: int, centre: Sequence[float], scale: Sequence[float], naive_mae: Sequence[float]) -> None:
        self.horizon, self.targets = horizon, len(centre)
        self.centre = torch.tensor(centre, dtype=torch.float32)
        self.scale = torch.tensor(scale, dtype=torch.float32)
        self.naive_mae = torch.tensor(naive_mae, dtype=torch.float32)
        targets = self.targets
        #: per guess: absolute errors per (step, target), squared errors, sMAPE terms
        self.absolute = {name: torch.zeros(horizon, targets, dtype=torch.float64) for name in self.NAMES}
        self.squared = dict.fromkeys(self.NAMES, 0.0)
        self.smape = dict.fromkeys(self.NAMES, 0.0)
        self.windows = 0

    def update(self, outputs: torch.Tensor, batch: Batch) -> None:
        shape = (len(outputs), self.horizon, self.targets)
        reference = torch.stack([window.reference for window in batch.meta])
        actual = self._unscaled(batch.target.reshape(shape) + reference)  # targets are changes from it
        guesses = {
            "model": outputs.reshape(shape) + reference,
            "persistence": torch.stack([window.latest for window in batch.meta]).unsqueeze(1).expand(shape),
            "seasonal_naive": torch.stack([window.seasonal_naive for window in batch.meta]),
        }
        for name, guess in guesses.items():
            guess = self._unscaled(guess)
            error = guess - actual
            self.absolute[name] += error.abs().sum(0).double()
            self.squared[name] += error.pow(2).sum().item()
            denominator = actual.abs() + guess.abs()
            self.smape[name] += torch.where(denominator > 0, 2 * error.abs() / denominator.clamp(min=1e-12), torch.zeros_like(denominator)).sum().item()
        self.windows += len(outputs)

    def _unscaled(self, values: torch.Tensor) -> torch.Tensor:
        return values * self.scale + self.centre

    def compute(self) -> dict[str, Any]:
        count = self.windows * self.horizon * self.targets
        if not count:
            return {"count": 0}
        table = {}
        for name in self.NAMES:
            per_target_mae = self.absolute[name].sum(0) / (self.windows * self.horizon)
            table[name] = {
                "mae": self.absolute[name].sum().item() / count,
                "rmse": (self.squared[name] / count) ** 0.5,
                "mase": (per_target_mae / self.naive_mae.double().clamp(min=1e-12)).mean().item(),
                "smape": self.smape[name] / count,
            }
        per_step = self.absolute["model"].sum(1) / (self.windows * self.targets)
        return {**table["model"], "count": count, "baselines": table, "mae_by_step": {f"t+{h + 1}": v for h, v in enumerate(per_step.tolist())}}
