"""Numbers that are not numbers: a diverging run stops with one line, JSON output never holds NaN
or Infinity, and a tie in the monitored validation metric goes to the lower validation loss."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import torch

from conftest import run_seqtool
from seqtool import pipeline
from seqtool.nn.model import SequenceModel
from seqtool.plugins import registry
from seqtool.settings import Settings
from seqtool.training.card import finite, json_safe
from seqtool.training.trainer import Trainer, seed_everything
from seqtool.types import Example, ModelSpec


def test_a_diverging_run_stops_with_one_line_naming_lr_and_keeps_the_old_model(tmp_path, sentiment_csv):
    model = tmp_path / "old.model"
    model.write_bytes(b"the user's old model")
    result = run_seqtool(
        "run", "sentiment", "train", str(sentiment_csv), "-o", str(model), "--lr", "1e20",
        "--epochs", "3", "--hidden", "8", "--embedding-dim", "8", "--ensemble", "1", "-q",
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "not a finite number" in result.stderr and "--lr" in result.stderr
    assert model.read_bytes() == b"the user's old model"


@pytest.mark.parametrize("lr", ["inf", "nan"])
def test_lr_inf_or_nan_is_refused_before_training(tmp_path, sentiment_csv, lr):
    result = run_seqtool("run", "sentiment", "train", str(sentiment_csv), "-o", str(tmp_path / "m.model"), "--lr", lr, "-q")
    assert result.returncode == 2 and "--lr" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "m.model").exists()


def test_finite_makes_nan_and_infinity_null_everywhere():
    value = {"p": math.nan, "q": [1.0, math.inf, (-math.inf, 2)], "r": "nan", "s": 3}
    assert finite(value) == {"p": None, "q": [1.0, None, (None, 2)], "r": "nan", "s": 3}
    assert json_safe({"loss": torch.tensor(math.nan), "n": torch.tensor(2)}) == {"loss": None, "n": 2}


class _FakeModel:
    """A model gone bad: every probability NaN, every metric infinite."""

    def predict(self, records: Any):
        for record in records:
            yield {"text": record["text"], "probability": math.nan, "probabilities": {"pos": math.inf}}

    def evaluate(self, records: Any, *, source: str) -> dict[str, Any]:
        return {"accuracy": math.nan, "loss": math.inf, "per_class": {"pos": {"recall": math.nan}}}

    def notes(self) -> list[str]:
        return []


def test_predict_and_evaluate_json_never_hold_nan_or_infinity(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pipeline, "load", lambda *args, **kwargs: _FakeModel())
    task = registry().task("sentiment")
    data = tmp_path / "in.csv"
    data.write_text("text,label\na film,pos\n")
    out = tmp_path / "out.jsonl"
    pipeline.predict(task, tmp_path / "any.model", str(data), {}, output=str(out), quiet=True)
    for line in out.read_text().splitlines():
        assert json.loads(line, parse_constant=_refuse)["probability"] is None
    pipeline.evaluate(task, tmp_path / "any.model", str(data), {}, as_json=True, quiet=True)
    report = json.loads(capsys.readouterr().out, parse_constant=_refuse)
    assert report["metrics"] == {"accuracy": None, "loss": None, "per_class": {"pos": {"recall": None}}}


def _refuse(word: str) -> None:
    raise AssertionError(f"{word} is not JSON")


class _AlwaysPerfect:
    """Validation accuracy 1.0 every epoch, as on small easy data."""

    def update(self, outputs: Any, batch: Any) -> None:
        pass

    def compute(self) -> dict[str, float]:
        return {"accuracy": 1.0}


def toy_examples(n: int, seed: int) -> list[Example]:
    generator = torch.Generator().manual_seed(seed)
    examples = []
    for _ in range(n):
        tokens = torch.randint(2, 12, (6,), generator=generator)
        examples.append(Example(tokens, torch.tensor(int((tokens > 6).sum() > 3))))
    return examples


def test_a_tie_in_the_monitored_metric_goes_to_the_lower_validation_loss():
    settings = Settings(hidden=16, embedding_dim=8, epochs=6, batch_size=8, patience=10, lr=0.01)
    seed_everything(0)
    model = SequenceModel(ModelSpec("tokens", 12, "pooled", 2, "classify"), settings)
    trainer = Trainer(model, settings, monitor=("accuracy", "max"), metrics=_AlwaysPerfect)
    result = trainer.fit(toy_examples(64, 0), toy_examples(32, 1))
    losses = [epoch["valid"]["loss"] for epoch in result.history]
    assert losses.index(min(losses)) > 0  # the data must make the earliest epoch the wrong answer
    assert result.best_epoch == 1 + losses.index(min(losses))
