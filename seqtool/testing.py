"""Helpers for plugin authors' tests (pytest or any other runner).

::

    from seqtool.testing import registered, run_end_to_end, assert_model_roundtrip

    def test_my_task(tmp_path):
        result = run_end_to_end("weather", train="sample.csv", tmp_path=tmp_path)
        assert result.metrics["mae"] < 5
        assert_model_roundtrip(result.model_path, "weather")

``registered(plugin)`` makes a plugin object's tasks available for one block without installing
anything, which is how a test can try a deliberately broken or minimal plugin.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from seqtool.plugins import registry
from seqtool.task import Task

if TYPE_CHECKING:
    from seqtool.training.card import ModelCard

#: settings small enough for a test to train in seconds
TINY = {"epochs": 2, "hidden": 16, "embedding_dim": 16, "batch_size": 16}


@contextlib.contextmanager
def registered(plugin: Any) -> Iterator[list[Task]]:
    """Register ``plugin`` (a module or any object with hook implementations) for the block."""
    tasks = registry().register(plugin)
    try:
        yield tasks
    finally:
        registry().unregister(plugin)


@dataclass
class EndToEnd:
    model_path: Path
    card: "ModelCard"
    metrics: dict[str, Any]
    predictions: list[dict[str, Any]]


def run_end_to_end(
    task_name: str,
    train: str | Path,
    *,
    tmp_path: Path,
    valid: str | Path | None = None,
    test: str | Path | None = None,
    predict: str | Path | None = None,
    settings: Mapping[str, Any] = TINY,
    options: Mapping[str, Any] = {},
) -> EndToEnd:
    """Train -> evaluate -> predict one task in-process, as the CLI would, on small data.

    ``test`` defaults to ``train`` and ``predict`` to ``test``. Predictions are read back from a
    jsonl file, so the writer path is exercised too.
    """
    from seqtool import pipeline
    from seqtool.settings import Settings

    task = registry().task(task_name)
    model_path = Path(tmp_path) / f"{task_name}.model"
    merged = Settings().merged(task.defaults).merged(settings)
    card = pipeline.train(task, str(train), str(valid) if valid else None, model_path, merged, dict(options), quiet=True)
    test = test or train
    with contextlib.redirect_stdout(io.StringIO()):
        report = pipeline.evaluate(task, model_path, str(test), {}, as_json=True, quiet=True)
    out = Path(tmp_path) / f"{task_name}.predictions.jsonl"
    pipeline.predict(task, model_path, str(predict or test), {}, output=str(out), fmt="jsonl", quiet=True)
    predictions = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return EndToEnd(model_path, card, report["metrics"], predictions)


def assert_model_roundtrip(model_path: str | Path, task_name: str) -> None:
    """Loading a model through its task and saving it again gives the same card, adapter state
    and weights: the adapter's ``state()``/``load_state()`` and the file format lose nothing."""
    import torch

    from seqtool.model import load
    from seqtool.training.artefact import load_model, save_model

    card, adapter_state, weights = load_model(Path(model_path))
    loaded = load(registry().task(task_name), Path(model_path))
    copy = Path(model_path).with_suffix(".roundtrip")
    try:
        save_model(copy, loaded.network.state_dict(), {k: v for k, v in card.items() if not k.startswith("format")}, loaded.adapter.state())
        card2, state2, weights2 = load_model(copy)
        assert card2 == card, "the model card changed on a load/save round trip"
        assert state2 == adapter_state, "Adapter.state() after load_state() differs from the stored state"
        assert weights2.keys() == weights.keys(), "weight names changed on a load/save round trip"
        for name in weights:
            assert torch.equal(weights[name], weights2[name]), f"weight {name} changed on a load/save round trip"
    finally:
        copy.unlink(missing_ok=True)
