"""Continuing a prompt one token at a time with the recurrent state carried along.

Each new token is fed once through ``SequenceModel.step`` from the state the tokens before it left,
so writing N tokens costs N steps, not the 1 + 2 + ... + N of re-reading the prefix every time.
An ensemble's members step side by side and their log-probabilities are averaged, as
:class:`seqtool.Engine` combines them for every other verb (a normalised geometric mean).
"""

from __future__ import annotations

import math
from typing import Iterator, Sequence

import torch

#: ids below this are the vocabulary's padding and unknown: never written
FIRST_REAL_ID = 2


class Sampler:
    """Picks the next token from log-probabilities: the most likely at temperature 0, else drawn
    from the distribution sharpened (T < 1) or flattened (T > 1) by the temperature, among the
    ``top_k`` most likely only when given."""

    def __init__(self, temperature: float, top_k: int | None, seed: int) -> None:
        self.temperature, self.top_k = temperature, top_k
        self.random = torch.Generator().manual_seed(seed)

    def choose(self, log_probabilities: torch.Tensor) -> int:
        scores = log_probabilities.float().clone()
        scores[:FIRST_REAL_ID] = -math.inf
        if self.temperature == 0:
            return int(scores.argmax())
        if self.top_k is not None and self.top_k < len(scores):
            scores[scores < scores.topk(self.top_k).values[-1]] = -math.inf
        probabilities = (scores / self.temperature).softmax(-1)
        return int(torch.multinomial(probabilities, 1, generator=self.random))


@torch.no_grad()
def generate(members: Sequence[torch.nn.Module], prompt: Sequence[int], first: torch.Tensor, sampler: Sampler) -> Iterator[int]:
    """Token ids following ``prompt``, endlessly: the caller stops reading.

    ``first`` is the log-probabilities of the token after the prompt, which the engine computed
    when it read the prompt in a batch; the members then read the prompt once more, with the
    first token, to build the state they carry from there on.
    """
    device = next(members[0].parameters()).device
    states: list[object] = [None] * len(members)
    token = sampler.choose(first)
    inputs = [*prompt, token]
    while True:
        yield token
        outputs = []
        for i, member in enumerate(members):
            output, states[i] = member.step(torch.tensor([inputs], device=device), states[i])
            outputs.append(output[0, -1].float())
        # one member's logits sample as its log-probabilities would: skip normalising them
        token = sampler.choose(outputs[0] if len(outputs) == 1 else torch.stack(outputs).log_softmax(-1).mean(0))
        inputs = [token]
