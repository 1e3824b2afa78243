"""The one path from examples to model outputs.

Validation during training, ``evaluate``, ``predict``, calibration, explanations and last-step
scoring all run the model through :class:`Engine`, so they share one set of guarantees:

- **Input order.** Batches are consecutive runs of the examples as given, and their outputs come
  back in that order. Nothing sorts by length, so a task whose metrics or decoding carry state
  across examples (a time series, a running threshold) sees them as they came.
- **Flat memory.** A batch holds at most ``batch_size`` examples and is cut again so that no
  forward pass sees more than ``token_budget`` padded steps: a batch of very long sequences runs
  in slices, a single sequence longer than the budget alone.
- **One kind of output.** A classifier's outputs are always normalised log-probabilities,
  whatever the number of ensemble members; a regressor's are its values. Both are float32 on
  the CPU, so decoding and metrics never depend on the device or on the mixed-precision dtype.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Protocol, Sequence

import torch

from seqtool.data.batching import collate, stream_batches
from seqtool.types import Batch, Example, ModelSpec

#: most padded steps (sequences x longest sequence) one forward pass sees by default
TOKEN_BUDGET = 1 << 16


class Scorer(Protocol):
    """What the engine runs: a :class:`~seqtool.nn.model.SequenceModel` or an ensemble of them."""

    spec: ModelSpec

    def __call__(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor: ...

    def last_step(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor: ...

    def parameters(self) -> Iterator[torch.nn.Parameter]: ...


class Engine:
    """Runs ``model`` in eval mode over examples, batch by batch.

    ``last_step`` asks a per-step model only for its outputs after each sequence's last step
    (``[B, K]``: what comes next), never building ``[B, T, K]``, which is large when K is a
    vocabulary.
    """

    def __init__(self, model: Scorer, *, batch_size: int = 256, token_budget: int = TOKEN_BUDGET) -> None:
        self.model = model
        self.batch_size = batch_size
        self.token_budget = token_budget
        self.per_step = model.spec.output == "per_step"
        self.device = next(model.parameters()).device

    def run(self, examples: Iterable[Example], *, last_step: bool = False) -> Iterator[tuple[Batch, torch.Tensor]]:
        """``(batch, outputs)`` pairs in input order; ``batch`` is on the CPU, as collated.

        A list is cut into batches directly; any other iterable is read lazily by a reader thread
        (:func:`~seqtool.data.batching.stream_batches`), so encoding overlaps the model and a slow
        source gets each example scored as soon as it arrives.
        """
        training = getattr(self.model, "training", False)
        if training:
            self.model.eval()  # type: ignore[attr-defined]
        try:
            with torch.no_grad():
                for batch in self._batches(examples):
                    for part in self._slices(batch):
                        yield part, self._outputs(part, last_step)
        finally:
            if training:
                self.model.train()  # type: ignore[attr-defined]

    def each(self, examples: Iterable[Example], *, last_step: bool = False) -> Iterator[tuple[torch.Tensor, Any]]:
        """``(output, meta)`` for each example, in input order: what :meth:`Adapter.decode
        <seqtool.Adapter.decode>` receives. A classifier's output is probabilities; a per-step
        output is cut to the example's own length (``[T, K]``), a pooled one is ``[K]``."""
        probabilities = self.model.spec.objective == "classify"
        for batch, outputs in self.run(examples, last_step=last_step):
            if probabilities:
                outputs = outputs.exp()
            cut = self.per_step and not last_step
            for output, length, meta in zip(outputs, batch.lengths.tolist(), batch.meta):
                yield (output[:length] if cut else output), meta

    def outputs(self, examples: Sequence[Example], *, last_step: bool = False) -> torch.Tensor:
        """The outputs of a pooled model (or of ``last_step``) for a few examples, stacked ``[N, K]``."""
        return torch.cat([outputs for _, outputs in self.run(list(examples), last_step=last_step)])

    def _batches(self, examples: Iterable[Example]) -> Iterator[Batch]:
        if isinstance(examples, Sequence):
            for start in range(0, len(examples), self.batch_size):
                yield collate(examples[start : start + self.batch_size], self.per_step)
        else:
            yield from stream_batches(examples, self.batch_size, self.per_step)

    def _outputs(self, batch: Batch, last_step: bool) -> torch.Tensor:
        inputs = batch.inputs.to(self.device, non_blocking=True)
        if last_step:
            outputs = self.model.last_step(inputs, batch.lengths)
        else:
            outputs = self.model(inputs, batch.lengths)
        outputs = outputs.float()
        if self.model.spec.objective == "classify":
            # idempotent on an ensemble's averaged log-probabilities, normalising on one model's logits
            outputs = outputs.log_softmax(-1)
        return outputs.cpu()

    def _slices(self, batch: Batch) -> Iterator[Batch]:
        """Consecutive parts of ``batch`` whose padded size fits the token budget, each cut to its
        own longest sequence; one sequence longer than the budget goes alone."""
        lengths = batch.lengths.tolist()
        if len(lengths) * max(lengths) <= self.token_budget:
            yield batch
            return
        start = 0
        while start < len(lengths):
            end, longest = start + 1, lengths[start]
            while end < len(lengths) and (end - start + 1) * max(longest, lengths[end]) <= self.token_budget:
                longest = max(longest, lengths[end])
                end += 1
            yield Batch(
                batch.inputs[start:end, :longest],
                batch.lengths[start:end],
                None if batch.target is None else batch.target[start:end, :longest] if self.per_step else batch.target[start:end],
                batch.step_mask[start:end, :longest],
                batch.meta[start:end],
            )
            start = end
