"""Metric accumulators: fed batch by batch, computed once. Rates are fractions in [0, 1]."""

from __future__ import annotations

from typing import Any, Sequence

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
    """Mean absolute and root mean squared error over targets (counted steps for per-step tasks)."""

    def __init__(self) -> None:
        self.absolute = 0.0
        self.squared = 0.0
        self.count = 0

    def update(self, outputs: torch.Tensor, batch: Batch) -> None:
        error = outputs - batch.target.reshape(outputs.shape)
        if outputs.dim() == 3:  # per step: only the counted steps
            error = error[batch.step_mask]
        self.absolute += error.abs().sum().item()
        self.squared += error.pow(2).sum().item()
        self.count += error.numel()

    def compute(self) -> dict[str, Any]:
        n = max(self.count, 1)
        return {"mae": self.absolute / n, "rmse": (self.squared / n) ** 0.5, "count": self.count}
