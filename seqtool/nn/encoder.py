"""RecurrentEncoder: one RNN/LSTM/GRU stack for every task, exact on variable-length batches."""

from __future__ import annotations

from typing import Literal, TypeAlias

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

Cell = Literal["rnn", "lstm", "gru"]
_CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
#: A recurrent stack's state between :meth:`RecurrentEncoder.step` calls, as torch keeps it:
#: ``h`` (``[layers, B, hidden]``) for rnn/gru, ``(h, c)`` for lstm.
State: TypeAlias = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


class RecurrentEncoder(nn.Module):
    """Runs a recurrent stack over padded ``[B, T, input_size]`` input of known ``lengths``.

    Padding never enters the recurrence of a real step: a sequence gives the same outputs alone
    or in a padded batch. Returns per-step states ``[B, T, output_size]`` (zero on padding) and
    the last state of each sequence ``[B, output_size]`` (for a bidirectional stack, the forward
    state after the last step joined with the backward state after the first).

    Why not ``pack_padded_sequence``: on CPU, torch runs packed input one step at a time with a
    shrinking batch and no precomputed input projection, 3-5x slower than padded input (see
    BENCHMARKS.md). Padded input is exact as it is for a forward direction, because padding
    trails every sequence. A backward direction would read padding first, so it runs on each
    sequence reversed within its own length, layer by layer, and its outputs are reversed back.
    The weights stay those of one ``nn.RNN``/``nn.LSTM``/``nn.GRU``, so model files are unchanged.
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
        # One single-layer, single-direction cell per layer, used only as the function the
        # bidirectional path calls with this stack's weights; a tuple keeps its own (unused)
        # parameters out of the state dict, the optimiser and ``.to(device)``.
        self._one_direction: tuple[nn.RNNBase, ...] = tuple(
            _CELLS[cell](input_size if layer == 0 else self.output_size, hidden, batch_first=True)
            for layer in range(layers)
        ) if bidirectional else ()

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lengths = lengths.to(inputs.device)
        if self.directions == 1:
            steps, _ = self.rnn(inputs)
        else:
            steps = self._bidirectional(inputs, lengths)
        real = torch.arange(inputs.shape[1], device=inputs.device).unsqueeze(0) < lengths.unsqueeze(1)
        steps = steps * real.unsqueeze(-1).to(steps.dtype)
        rows = torch.arange(inputs.shape[0], device=inputs.device)
        forward_last = steps[rows, lengths - 1, : self.rnn.hidden_size]
        if self.directions == 1:
            return steps, forward_last
        return steps, torch.cat([forward_last, steps[:, 0, self.rnn.hidden_size :]], dim=-1)

    def step(self, inputs: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Continues a forward-only stack from ``state`` (``None``: zeros, a fresh sequence) over
        ``[B, T, input_size]`` more steps; returns their outputs ``[B, T, output_size]`` and the
        state after them, so generation and streaming read each step once, not the whole prefix.

        Every sequence in the batch has the same ``T`` steps here: there are no ``lengths`` and
        no padding, which would otherwise run through the recurrence and corrupt the state.
        """
        if self.directions != 1:
            # The backward direction's output at any step depends on every later step, so no
            # state carried forward can stand in for the rest of the sequence.
            raise ValueError("a bidirectional encoder cannot step: its backward direction needs the whole sequence; use forward()")
        return self.rnn(inputs, state)

    def _bidirectional(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        time = torch.arange(inputs.shape[1], device=inputs.device).unsqueeze(0)
        # Position t of sequence b holds its step (length - 1 - t); padding stays in place, so the
        # same index maps reversed outputs back.
        reverse_index = torch.where(time < lengths.unsqueeze(1), lengths.unsqueeze(1) - 1 - time, time)

        def reverse(x: torch.Tensor) -> torch.Tensor:
            return x.gather(1, reverse_index.unsqueeze(-1).expand_as(x))

        x = inputs
        for layer, one_direction in enumerate(self._one_direction):
            if layer > 0:
                x = F.dropout(x, self.rnn.dropout, self.training)
            forward, _ = functional_call(one_direction, self._weights(layer, ""), (x,))
            backward, _ = functional_call(one_direction, self._weights(layer, "_reverse"), (reverse(x),))
            x = torch.cat([forward, reverse(backward)], dim=-1)
        return x

    def _weights(self, layer: int, suffix: str) -> dict[str, torch.Tensor]:
        """This stack's weights for one layer and direction, named as a single-layer cell names them."""
        return {
            f"{name}_l0": getattr(self.rnn, f"{name}_l{layer}{suffix}")
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        }
