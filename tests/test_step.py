"""SequenceModel.step: reading a sequence in chunks, carrying the state, is reading it whole."""

from __future__ import annotations

import pytest
import torch

from seqtool.nn.model import SequenceModel
from seqtool.settings import Settings
from seqtool.types import ModelSpec

CHUNKS = [3, 1, 4]  # uneven on purpose, one of a single step as in generation
BATCH, VOCAB, FEATURES, OUTPUTS = 2, 10, 3, 5


def build(input: str, output: str, **settings) -> SequenceModel:
    torch.manual_seed(0)
    spec = ModelSpec(input, VOCAB if input == "tokens" else FEATURES, output, OUTPUTS, "classify")
    # dropout > 0 so a stray train-mode path would show up as a mismatch
    return SequenceModel(spec, Settings(hidden=6, embedding_dim=4, dropout=0.3, **settings)).eval()


def sequence(input: str) -> torch.Tensor:
    total = sum(CHUNKS)
    if input == "tokens":
        return torch.randint(2, VOCAB, (BATCH, total))  # ids 0/1 are padding/unknown
    return torch.randn(BATCH, total, FEATURES)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("output", ["per_step", "pooled"])
@pytest.mark.parametrize("input", ["tokens", "features"])
@torch.no_grad()
def test_chunks_with_carried_state_equal_one_full_pass(cell, layers, output, input):
    model = build(input, output, cell=cell, layers=layers, pooling="last")
    inputs = sequence(input)

    state, start, outputs = None, 0, []
    for size in CHUNKS:
        out, state = model.step(inputs[:, start : start + size], state)
        start += size
        if output == "pooled":
            # After each chunk: the pooled output of the prefix read so far, as forward gives it.
            assert out.shape == (BATCH, OUTPUTS)
            torch.testing.assert_close(out, model(inputs[:, :start], torch.full((BATCH,), start)))
        else:
            assert out.shape == (BATCH, size, OUTPUTS)
        outputs.append(out)

    full = model(inputs, torch.full((BATCH,), start))
    stepped = outputs[-1] if output == "pooled" else torch.cat(outputs, dim=1)
    torch.testing.assert_close(stepped, full)
    h = state[0] if cell == "lstm" else state
    assert isinstance(state, tuple) == (cell == "lstm") and h.shape == (layers, BATCH, 6)


@pytest.mark.parametrize("output", ["per_step", "pooled"])
def test_a_bidirectional_model_cannot_step(output):
    model = build("tokens", output, bidirectional=True)
    with pytest.raises(ValueError, match="bidirectional"):
        model.step(sequence("tokens"))


@pytest.mark.parametrize("pooling", ["mean", "max", "attention"])
def test_pooling_over_all_steps_cannot_step(pooling):
    model = build("tokens", "pooled", pooling=pooling)
    with pytest.raises(ValueError, match=f"{pooling} pooling"):
        model.step(sequence("tokens"))
