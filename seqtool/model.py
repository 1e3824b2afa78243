"""A trained model, loaded: the network, the adapter that encodes and decodes for it, and its card.

The CLI's ``evaluate`` and ``predict`` and the Python API (``seqtool.load``) are this one object,
so a model answers the same from a shell pipeline and from Python.
"""

from __future__ import annotations

from itertools import count
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from seqtool.data.columns import column_flags, resolve_columns
from seqtool.engine import Engine
from seqtool.errors import DataError, ModelFileError
from seqtool.nn.model import Ensemble, SequenceModel
from seqtool.settings import Settings
from seqtool.task import Adapter, Task
from seqtool.training.artefact import load_model
from seqtool.training.card import ModelCard
from seqtool.training.trainer import resolve_device
from seqtool.types import ModelSpec, Record


class Model:
    """A model file ready to use: :meth:`predict` streams result dicts, :meth:`evaluate` scores
    labelled records, :attr:`card` says how the model was made."""

    def __init__(
        self, task: Task, network: Ensemble, adapter: Adapter, card: ModelCard, *, columns: Mapping[str, str | None] = {}, batch_size: int = 256
    ) -> None:
        self.task = task
        self.network = network
        self.adapter = adapter
        self.card = card
        #: the column flags given now: they name this input's columns, over those training found
        self.columns = dict(columns)
        self.engine = adapter.engine = Engine(network, batch_size=batch_size)

    def predict(self, records: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
        """One result dict per usable record, in input order, read and scored lazily: memory stays
        flat however many records come in. Records are dicts with the task's fields (or the
        :class:`~seqtool.Record` objects a reader makes)."""
        examples = self.adapter.examples(self._records(records, labelled=False), labelled=False)
        for output, meta in self.engine.each(examples, last_step=self.adapter.predicts_last_step):
            yield self.adapter.decode(output, meta)
        self.adapter.finish()

    def evaluate(self, records: Iterable[Mapping[str, Any]], *, source: str = "the input") -> dict[str, Any]:
        """The task's metrics on labelled records. ``source`` names them in the error raised when
        none of them gives an example."""
        metrics = self.adapter.metrics()
        examples = 0
        for batch, outputs in self.engine.run(self.adapter.examples(self._records(records, labelled=True), labelled=True)):
            metrics.update(outputs, batch)
            examples += len(batch)
        if not examples:
            raise DataError(f"{source}: no labelled examples to evaluate")
        return metrics.compute()

    def _records(self, records: Iterable[Mapping[str, Any]], *, labelled: bool) -> Iterator[Record]:
        trained = self.card.columns
        return resolve_columns(_records(records), self.task.columns, given=self.columns, trained=trained, labelled=labelled)

    def notes(self) -> list[str]:
        """What the adapter has to say about the records it read (skipped, unknown...)."""
        return self.adapter.notes()


def load(task: Task, path: Path, options: Mapping[str, Any] = {}, *, batch_size: int = 256) -> Model:
    """The model in ``path``, for ``task``; ``options`` given now override those from training."""
    card, adapter_state, weights = load_model(path)
    if card.get("task") != task.name:
        raise ModelFileError(f"{path}: a model for task {card.get('task')!r}; use `seqtool run {card.get('task')} ...`")
    columns, options = column_flags(task.columns, options)
    adapter = task.adapter_class()({**card.get("options", {}), **{k: v for k, v in options.items() if v is not None}})
    adapter.load_state(adapter_state)
    settings = Settings().merged(card["settings"])
    network = Ensemble([SequenceModel(ModelSpec(**card["model_spec"]), settings) for _ in range(settings.ensemble)])
    try:
        network.load_state_dict(weights)
    except RuntimeError as error:
        raise ModelFileError(f"{path}: the weights do not fit the model the card describes ({str(error).splitlines()[0]})") from None
    network.to(resolve_device("auto"))  # where it was trained does not matter; where it runs now does
    network.eval()
    return Model(task, network, adapter, ModelCard.from_dict(card), columns=columns, batch_size=batch_size)


def _records(records: Iterable[Mapping[str, Any]]) -> Iterator[Record]:
    """Readers' records pass through; plain dicts from Python become records numbered from 1, so
    an error can still name the one at fault."""
    for number, record in zip(count(1), records):
        yield record if isinstance(record, Record) else Record(record, "<python>", number, unit="record")
