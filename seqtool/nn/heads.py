"""Heads on top of the RecurrentEncoder: pool a sequence into one output, or score every step."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

Pooling = Literal["last", "mean", "max", "attention"]


class PooledHead(nn.Module):
    """Pools per-step states into one vector per sequence, then a linear layer.

    ``last`` uses the encoder's final state; ``mean`` and ``max`` look at real steps only;
    ``attention`` learns a weight per step (masked softmax) and exposes the weights of the last
    call as ``attention_weights`` for inspection.
    """

    def __init__(self, input_size: int, output_size: int, pooling: Pooling = "last", dropout: float = 0.0) -> None:
        super().__init__()
        if pooling not in ("last", "mean", "max", "attention"):
            raise ValueError(f"pooling must be last, mean, max or attention, not {pooling!r}")
        self.pooling = pooling
        self.score = nn.Linear(input_size, 1) if pooling == "attention" else None
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(input_size, output_size)
        self.attention_weights: torch.Tensor | None = None

    def forward(self, steps: torch.Tensor, last: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.pooling == "last":
            pooled = last
        elif self.pooling == "mean":
            weights = mask.unsqueeze(-1).to(steps.dtype)
            pooled = (steps * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        elif self.pooling == "max":
            pooled = steps.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(1).values
        else:
            scores = self.score(steps).squeeze(-1).masked_fill(~mask, float("-inf"))
            self.attention_weights = torch.softmax(scores, dim=1)
            pooled = (self.attention_weights.unsqueeze(-1) * steps).sum(1)
        return self.out(self.dropout(pooled))


class PerStepHead(nn.Module):
    """A linear layer applied at every step: ``[B, T, H] -> [B, T, output_size]``."""

    def __init__(self, input_size: int, output_size: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(input_size, output_size)

    def forward(self, steps: torch.Tensor, last: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(steps))
