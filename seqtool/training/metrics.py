"""Metric accumulators: fed batch by batch, computed once. Rates are fractions in [0, 1]."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import torch

from seqtool.types import Batch


class ClassificationMetrics:
    """Accuracy, macro-F1, per-class precision and recall and the confusion matrix, for pooled
    (one label per sequence) or per-step (one label per counted step) classification."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels = list(labels)
        self.confusion = torch.zeros(len(labels), len(labels), dtype=torch.int64)

    def update(self, outputs: torch.Tensor, batch: Batch) -> None:
        predicted, target = outputs.argmax(-1), batch.target
        if predicted.dim() == 2:  # per step: only the counted steps
            predicted, target = predicted[batch.step_mask], target[batch.step_mask]
        n = len(self.labels)
        self.confusion += torch.bincount(target.cpu() * n + predicted.cpu(), minlength=n * n).view(n, n)

    def compute(self) -> dict[str, Any]:
        confusion = self.confusion.double()
        true_positive = confusion.diag()
        support = confusion.sum(1)
        predicted = confusion.sum(0)
        precision = torch.where(predicted > 0, true_positive / predicted.clamp(min=1), torch.zeros_like(predicted))
        recall = torch.where(support > 0, true_positive / support.clamp(min=1), torch.zeros_like(support))
        f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall).clamp(min=1e-12), 0.0)
        present = support > 0
        total = confusion.sum().item()
        return {
            "accuracy": true_positive.sum().item() / total if total else 0.0,
            "macro_f1": f1[present].mean().item() if present.any() else 0.0,
            "count": int(total),
            "per_class": {
                label: {"precision": precision[i].item(), "recall": recall[i].item(), "support": int(support[i].item())}
                for i, label in enumerate(self.labels)
            },
            "confusion": {"labels": self.labels, "matrix": self.confusion.tolist()},
        }


class RegressionMetrics:
    """Mean absolute and root mean squared error over targets (counted steps for per-step tasks),
    for the model and for each baseline on the same targets, so a report shows whether the
    network earns its cost.

    ``scale`` (one number, or one per output) turns errors in scaled units back into the data's
    own units; ``baselines`` maps a name to a function from one example's inputs (``[T, F]``, its
    own length) to that baseline's guess, shaped like the model's output for it and in the same
    (scaled) units: ``lambda inputs: inputs[-1].expand(horizon)`` repeats a forecaster's last value.
    """

    def __init__(self, *, scale: float | Sequence[float] = 1.0, baselines: Mapping[str, Callable[[torch.Tensor], torch.Tensor]] = {}) -> None:
        self.scale = torch.as_tensor(scale, dtype=torch.float32)
        self.baselines = dict(baselines)
        self.sums = {name: [0.0, 0.0] for name in ("model", *self.baselines)}
        self.count = 0

    def update(self, outputs: torch.Tensor, batch: Batch) -> None:
        target = batch.target.reshape(outputs.shape)
        guesses = {"model": outputs, **{name: self._guesses(baseline, batch).reshape(outputs.shape) for name, baseline in self.baselines.items()}}
        for name, guess in guesses.items():
            error = (guess - target) * self.scale
            if outputs.dim() == 3:  # per step: only the counted steps
                error = error[batch.step_mask]
            self.sums[name][0] += error.abs().sum().item()
            self.sums[name][1] += error.pow(2).sum().item()
        self.count += int(target[batch.step_mask].numel() if outputs.dim() == 3 else target.numel())

    @staticmethod
    def _guesses(baseline: Callable[[torch.Tensor], torch.Tensor], batch: Batch) -> torch.Tensor:
        """The baseline on each example of the batch, unpadded: a baseline never sees padding."""
        return torch.stack([baseline(inputs[:length]) for inputs, length in zip(batch.inputs, batch.lengths.tolist())])

    def compute(self) -> dict[str, Any]:
        n = max(self.count, 1)
        errors = {name: {"mae": absolute / n, "rmse": (squared / n) ** 0.5} for name, (absolute, squared) in self.sums.items()}
        metrics: dict[str, Any] = {**errors["model"], "count": self.count}
        if self.baselines:
            metrics["baselines"] = errors
        return metrics
