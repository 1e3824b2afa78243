"""SequenceModel: the network every task trains, assembled from its ModelSpec and Settings;
Ensemble: one or more of them, trained from different seeds, answering as one."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from seqtool.types import Batch
from seqtool.nn.encoder import RecurrentEncoder, State
from seqtool.nn.heads import PerStepHead, PooledHead
from seqtool.settings import Settings
from seqtool.types import ModelSpec


class SequenceModel(nn.Module):
    """Token ids or feature vectors -> RecurrentEncoder -> pooled or per-step head.

    ``forward`` returns logits (classify) or values (regress): ``[B, output_size]`` for a pooled
    task, ``[B, T, output_size]`` for a per-step one.
    """

    def __init__(self, spec: ModelSpec, settings: Settings) -> None:
        super().__init__()
        self.spec = spec
        if spec.input == "tokens":
            self.embedding: nn.Module = nn.Embedding(spec.input_size, settings.embedding_dim, padding_idx=0)
            encoder_input = settings.embedding_dim
        else:
            self.embedding = nn.Identity()
            encoder_input = spec.input_size
        self.input_dropout = nn.Dropout(settings.dropout)
        self.token_dropout = settings.token_dropout if spec.input == "tokens" else 0.0
        self.encoder = RecurrentEncoder(
            encoder_input,
            cell=settings.cell,
            hidden=settings.hidden,
            layers=settings.layers,
            bidirectional=settings.bidirectional,
            dropout=settings.dropout,
        )
        if spec.output == "pooled":
            self.head: nn.Module = PooledHead(self.encoder.output_size, spec.output_size, settings.pooling, settings.dropout)
        else:
            self.head = PerStepHead(self.encoder.output_size, spec.output_size, settings.dropout)

    def embed(self, inputs: torch.Tensor) -> torch.Tensor:
        """The encoder's input: embeddings for token ids, the features themselves otherwise.

        Token dropout swaps real tokens (ids >= 2) for the unknown id 1 at random, anew in every
        batch; that is why it lives here and not in an adapter, whose examples are encoded once.
        """
        if self.training and self.token_dropout > 0:
            dropped = (torch.rand(inputs.shape, device=inputs.device) < self.token_dropout) & (inputs > 1)
            inputs = inputs.masked_fill(dropped, 1)
        return self.input_dropout(self.embedding(inputs))

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.forward_embedded(self.embed(inputs), lengths)

    def forward_embedded(self, embedded: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Forward from the encoder's input on; attribution methods differentiate through here."""
        steps, last = self.encoder(embedded, lengths)
        mask = torch.arange(steps.shape[1], device=steps.device).unsqueeze(0) < lengths.to(steps.device).unsqueeze(1)
        return self.head(steps, last, mask)

    def last_step(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """A per-step model's outputs at each sequence's last real step, ``[B, output_size]``:
        what comes next, without building ``[B, T, output_size]`` (large for a big vocabulary)."""
        steps, last = self.encoder(self.embed(inputs), lengths)
        rows = torch.arange(steps.shape[0], device=steps.device)
        final = steps[rows, (lengths - 1).to(steps.device)].unsqueeze(1)
        return self.head(final, last, torch.ones_like(final[..., 0], dtype=torch.bool))[:, 0]

    def step(self, inputs: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Reads ``T`` more steps of B equal-length sequences (no padding) from the encoder's
        ``state`` (``None``: a fresh sequence) and returns the outputs and the new state, so a
        generator or a stream feeds each step once instead of the whole prefix again.

        Per-step head: ``[B, T, output_size]``. Pooled head (``last`` pooling only):
        ``[B, output_size]``, the output for the whole sequence read so far. Train/eval mode is
        the caller's: dropout applies as in ``forward``. Bidirectional encoders cannot step.
        """
        if isinstance(self.head, PooledHead) and self.head.pooling != "last":
            # Checked before any work: mean/max/attention pool over every step, and a carried
            # state does not keep the earlier ones.
            raise ValueError(f"a model with {self.head.pooling} pooling cannot step: it pools over all steps; only last pooling can")
        steps, state = self.encoder.step(self.embed(inputs), state)
        # Forward-only, so the last step's output is the final state over everything read so far:
        # what forward() gives a "last" pooled head. A per-step head ignores it.
        mask = torch.ones_like(steps[..., 0], dtype=torch.bool)
        return self.head(steps, steps[:, -1], mask), state

    def loss(self, outputs: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Cross-entropy (classify) or mean squared error (regress), over counted steps only."""
        target = batch.target
        if self.spec.output == "per_step":
            mask = batch.step_mask
            outputs, target = outputs[mask], target[mask]
        if self.spec.objective == "classify":
            return F.cross_entropy(outputs, target)
        return F.mse_loss(outputs, target.view_as(outputs))


class Ensemble(nn.Module):
    """Members of one spec trained from different seeds, answering as one model.

    Classifiers average their members' log-probabilities (a normalised geometric mean: the
    softmax of the output is the ensemble's distribution); regressors average their values.
    On small data, recurrent models that differ only in their seed disagree by points of
    accuracy, and the average is better than a typical member (BENCHMARKS.md, sentiment).
    Every model file holds an ensemble; a single member's outputs pass through unchanged.
    """

    def __init__(self, members: Sequence[SequenceModel]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.spec: ModelSpec = members[0].spec

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self._combine([member(inputs, lengths) for member in self.members])

    def last_step(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """:meth:`SequenceModel.last_step`, combined over the members."""
        return self._combine([member.last_step(inputs, lengths) for member in self.members])

    def loss(self, outputs: torch.Tensor, batch: Batch) -> torch.Tensor:
        return self.members[0].loss(outputs, batch)  # log-probabilities are logits to cross-entropy

    def _combine(self, outputs: list[torch.Tensor]) -> torch.Tensor:
        if len(outputs) == 1:
            return outputs[0]
        stacked = torch.stack(outputs)
        if self.spec.objective == "classify":
            return stacked.float().log_softmax(-1).mean(0)
        return stacked.mean(0)
