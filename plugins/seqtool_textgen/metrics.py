"""Cross-entropy of the model and of the n-gram baseline on the very same targets.

Reported per unit of text, as language models are compared: nats and bits per character for a
character model (bits = nats / ln 2), nats per word and perplexity (e^nats) for a word model.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from seqtool import Batch
from seqtool_textgen.ngram import KneserNey


class CrossEntropy:
    """Fed the engine's log-probabilities; ``batch.meta`` holds each example's ids before its
    first step, so the baseline sees the same context across chunk boundaries."""

    def __init__(self, unit: str, baseline: KneserNey) -> None:
        self.unit, self.baseline = unit, baseline
        self.name = f"kneser-ney (order {baseline.order})"
        self.model_nats = 0.0
        self.baseline_nats = 0.0
        self.count = 0

    def update(self, outputs: torch.Tensor, batch: Batch) -> None:
        mask = batch.step_mask
        nats = -outputs.gather(-1, batch.target.unsqueeze(-1)).squeeze(-1)
        self.model_nats += float(nats[mask].double().sum())
        self.count += int(mask.sum())
        for row, (before, length) in enumerate(zip(batch.meta, batch.lengths.tolist())):
            history = [*before, *batch.inputs[row, :length].tolist()]
            targets = batch.target[row].tolist()
            for step in mask[row, :length].nonzero().flatten().tolist():
                end = len(before) + step + 1  # the target's context: everything read up to it
                context = history[max(0, end - self.baseline.order + 1) : end]
                self.baseline_nats -= self.baseline.log_probability(context, targets[step])

    def compute(self) -> dict[str, Any]:
        return {**self._per_unit(self.model_nats), "count": self.count, "baselines": {self.name: self._per_unit(self.baseline_nats)}}

    def _per_unit(self, nats: float) -> dict[str, float]:
        mean = nats / max(self.count, 1)
        if self.unit == "word":
            return {"nats_per_word": mean, "perplexity": math.exp(mean)}
        return {"nats_per_char": mean, "bits_per_char": mean / math.log(2)}
