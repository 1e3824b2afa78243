"""Q3 / Q8 accuracy, per-state precision and recall, and SOV'99 over the residues that count."""

from __future__ import annotations

from typing import Any

import torch

from seqtool import Batch
from seqtool import ClassificationMetrics
from seqtool_protein.sov import NOT_SCORED, sov99
from seqtool_protein.states import Q3, Q8_TO_Q3_INDEX, alphabet


class SecondaryStructureMetrics:
    """The core's classification metrics in the model's alphabet, plus ``q3`` (8-state
    predictions and labels reduced to H/E/C when the model has 8 states), ``q8`` for an 8-state
    model, and ``sov3``: SOV'99 on the 3 states, per chain, averaged over chains."""

    def __init__(self, states: int) -> None:
        self.states = states
        self.by_state = ClassificationMetrics(list(alphabet(states)))
        self.to_q3 = torch.tensor(Q8_TO_Q3_INDEX) if states == 8 else torch.arange(len(Q3))
        self.sov_sum = 0.0
        self.sov_chains = 0

    def update(self, outputs: torch.Tensor, batch: Batch) -> None:
        self.by_state.update(outputs, batch)
        not_counted = ~batch.step_mask.cpu()
        predicted = self.to_q3[outputs.argmax(-1).cpu()].masked_fill(not_counted, NOT_SCORED)
        target = self.to_q3[batch.target.cpu()].masked_fill(not_counted, NOT_SCORED)
        for chain, length in enumerate(batch.lengths.tolist()):
            score = sov99(target[chain, :length].tolist(), predicted[chain, :length].tolist())
            if score is not None:
                self.sov_sum += score
                self.sov_chains += 1

    def compute(self) -> dict[str, Any]:
        by_state = self.by_state.compute()
        # a residue is a Q3 hit when its predicted and true states reduce to the same one of H/E/C
        confusion = self.by_state.confusion
        same_q3 = self.to_q3[:, None] == self.to_q3[None, :]
        total = int(confusion.sum())
        headline = {"accuracy": by_state.pop("accuracy"), "q3": int(confusion[same_q3].sum()) / total if total else 0.0}
        if self.states == 8:
            headline["q8"] = headline["accuracy"]
        headline["sov3"] = self.sov_sum / self.sov_chains if self.sov_chains else 0.0
        return {**headline, **by_state}
