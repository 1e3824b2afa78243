"""RecurrentEncoder: one RNN/LSTM/GRU stack for every task, on packed variable-length batches."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

Cell = Literal["rnn", "lstm", "gru"]
_CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentEncoder(nn.Module):
    """Runs a recurrent stack over padded ``[B, T, input_size]`` input of known ``lengths``.

    Sequences are packed, so padding never enters the recurrence: a sequence gives the same
    outputs alone or in a padded batch. Returns per-step states ``[B, T, output_size]`` (zero on
    padding) and the last state of each sequence ``[B, output_size]`` (for a bidirectional stack,
    the forward state after the last step joined with the backward state after the first).
    """

    def __init__(
        self,
        input_size: int,
        *,
        cell: Cell = "lstm",
        hidden: int = 128,
        layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"cell must be one of {sorted(_CELLS)}, not {cell!r}")
        self.rnn = _CELLS[cell](
            input_size,
            hidden,
            num_layers=layers,
            bidirectional=bidirectional,
            dropout=dropout if layers > 1 else 0.0,  # torch applies it between layers only
            batch_first=True,
        )
        self.directions = 2 if bidirectional else 1
        self.output_size = hidden * self.directions

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_out, state = self.rnn(packed)
        steps, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=inputs.shape[1])
        h_n = state[0] if isinstance(state, tuple) else state  # LSTM returns (h, c)
        # h_n is [layers * directions, B, hidden]; keep the top layer's directions.
        last = h_n[-self.directions :].transpose(0, 1).reshape(inputs.shape[0], self.output_size)
        return steps, last
