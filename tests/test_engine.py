"""The engine: the one path from examples to outputs, in input order, whatever the batching."""

from __future__ import annotations

import pytest
import torch

from seqtool.engine import Engine
from seqtool.nn.model import Ensemble, SequenceModel
from seqtool.settings import Settings
from seqtool.types import Example, ModelSpec

LENGTHS = [3, 9, 1, 7, 2, 8, 5, 4, 6, 2, 9, 1]


def _model(output: str = "pooled", members: int = 1) -> Ensemble:
    spec = ModelSpec("tokens", 20, output, 4, "classify")
    return Ensemble([SequenceModel(spec, Settings(hidden=6, embedding_dim=5, seed=s)) for s in range(members)]).eval()


def _examples() -> list[Example]:
    generator = torch.Generator().manual_seed(0)
    return [Example(torch.randint(2, 20, (n,), generator=generator), meta=i) for i, n in enumerate(LENGTHS)]


@pytest.mark.parametrize("lazy", [False, True], ids=["list", "stream"])
@pytest.mark.parametrize("batch_size, token_budget", [(1, 1 << 16), (4, 1 << 16), (5, 12), (64, 9)])
def test_outputs_come_back_in_input_order_and_equal_each_example_alone(lazy, batch_size, token_budget):
    model, examples = _model(), _examples()
    alone = [Engine(model, batch_size=1).outputs([e])[0] for e in examples]
    engine = Engine(model, batch_size=batch_size, token_budget=token_budget)
    runs = list(engine.run(iter(examples) if lazy else examples))
    metas = [m for batch, _ in runs for m in batch.meta]
    outputs = [row for _, out in runs for row in out]
    assert metas == list(range(len(examples))), "examples were reordered"
    for got, expected in zip(outputs, alone):
        torch.testing.assert_close(got, expected)
    # outputs follow their own batch: a reordered batch would pair results with the wrong meta
    for batch, out in runs:
        assert out.shape[0] == len(batch) == len(batch.meta)


def test_the_token_budget_bounds_every_forward_pass():
    engine = Engine(_model("per_step"), batch_size=64, token_budget=9)
    for batch, outputs in engine.run(_examples()):
        assert len(batch) * int(batch.lengths.max()) <= 9 or len(batch) == 1
        assert outputs.shape[:2] == batch.inputs.shape[:2]


@pytest.mark.parametrize("members", [1, 3])
def test_classifier_outputs_are_log_probabilities_whatever_the_member_count(members):
    _, outputs = next(Engine(_model(members=members)).run(_examples()))
    torch.testing.assert_close(outputs.exp().sum(-1), torch.ones(len(outputs)))
    assert outputs.dtype == torch.float32 and outputs.device.type == "cpu"


def test_last_step_scores_equal_the_full_output_at_each_last_step():
    model, examples = _model("per_step"), _examples()
    full = [out[: len(e)][-1] for e, out in zip(examples, (row for _, o in Engine(model).run(examples) for row in o))]
    last = [row for _, o in Engine(model).run(examples, last_step=True) for row in o]
    for got, expected in zip(last, full):
        torch.testing.assert_close(got, expected)


def test_a_model_in_training_mode_is_run_in_eval_mode_and_given_back_in_training_mode():
    model = _model()
    model.train()
    model.members[0].input_dropout.p = 0.9  # dropout would make two runs differ
    first = Engine(model).outputs(_examples())
    assert model.training
    torch.testing.assert_close(Engine(model).outputs(_examples()), first)


@pytest.mark.parametrize("members", [1, 3])
def test_each_gives_decode_one_example_at_a_time_as_probabilities_cut_to_its_length(members):
    model, examples = _model("per_step", members=members), _examples()
    pairs = list(Engine(model, batch_size=5, token_budget=12).each(iter(examples)))
    assert [meta for _, meta in pairs] == list(range(len(examples))), "examples were reordered"
    for (output, _), example in zip(pairs, examples):
        assert output.shape == (len(example), 4), "a per-step output must be cut to its example's length"
        torch.testing.assert_close(output.sum(-1), torch.ones(len(example)))
    last = list(Engine(model).each(examples, last_step=True))
    for (output, _), (full, _) in zip(last, pairs):
        torch.testing.assert_close(output, full[-1])
