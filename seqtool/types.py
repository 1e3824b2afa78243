"""The types every part of seqtool and every plugin shares. A leaf: it imports nothing of
seqtool's, and not torch either (tensors appear only in annotations), so anything may import it.

The flow they describe::

    reader -> Record -> Adapter.encode -> Example -> engine (Batch -> model) -> output
           -> Adapter.decode -> result dict -> writer
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Hashable, Literal, Mapping, Protocol

if TYPE_CHECKING:
    import torch


class Record(dict):
    """One input record: a plain dict of fields, plus where it came from.

    ``path`` is the file (``<stdin>`` for standard input) and ``line`` the 1-based line of the
    record (a FASTA entry's header line), or for Python dicts the record's number; :attr:`where`
    puts them together for messages, so no code ever parses a location back out of a string (a
    Windows path has colons of its own).
    """

    def __init__(
        self, fields: Mapping[str, Any] = (), path: str = "", line: int = 0, *, unit: Literal["line", "record"] = "line", table: bool = True
    ) -> None:
        super().__init__(fields)
        self.path = path
        self.line = line
        self.unit = unit
        #: False for the lines reader's records, whose one field (``text``) is fixed: a task's
        #: declared columns are looked for in table records only (csv, tsv, jsonl, FASTA, dicts)
        self.table = table
        #: for a renamed record, each declared column's key -> its name in the input (for messages)
        self.names: dict[str, str] = {}

    def renamed(self, names: Mapping[str, str | None]) -> "Record":
        """A copy with the fields ``names`` maps to (key -> field) under their keys; other fields
        keep their names, and one that would clash with a key is dropped."""
        keys = {field: key for key, field in names.items() if field is not None}
        fields = {keys.get(name, name): value for name, value in self.items() if name in keys or name not in names}
        renamed = Record(fields, self.path, self.line, unit=self.unit, table=self.table)
        renamed.names = {key: field for key, field in names.items() if field is not None}
        return renamed

    @property
    def where(self) -> str:
        """``file:line`` (or ``file: record N``), for error messages."""
        if not self.line:
            return self.path
        return f"{self.path}:{self.line}" if self.unit == "line" else f"{self.path}: record {self.line}"


@dataclass
class Example:
    """One encoded sequence, ready for batching.

    ``inputs`` is ``[T]`` int64 token ids or ``[T, F]`` float32 features. ``target`` is a scalar
    (pooled classification), ``[K]`` (pooled regression), ``[T]`` (per-step classes) or ``[T, K]``
    (per-step values). ``step_mask`` (``[T]`` bool) marks which steps count in the loss and the
    metrics of a per-step task; padding never counts. ``meta`` passes through untouched to
    :meth:`seqtool.Adapter.decode` (the record, an id, a timestamp...).

    ``group`` and ``span`` place the example in its series for a temporal split: the series (a
    user, a symbol, a file) and the ``(first, last)`` positions, inclusive, of the steps it reads
    and predicts. Examples without them can only be split at random.
    """

    inputs: "torch.Tensor"
    target: "torch.Tensor | None" = None
    step_mask: "torch.Tensor | None" = None
    meta: Any = None
    group: Hashable = None
    span: tuple[int, int] | None = None

    def __len__(self) -> int:
        return int(self.inputs.shape[0])


@dataclass
class Batch:
    """Padded tensors for B examples, made by the core. ``lengths`` stays on the CPU;
    ``step_mask`` is False on padding and on steps an example excluded."""

    inputs: "torch.Tensor"
    lengths: "torch.Tensor"
    target: "torch.Tensor | None"
    step_mask: "torch.Tensor"
    meta: list[Any]

    def __len__(self) -> int:
        return int(self.lengths.shape[0])

    def to(self, device: "torch.device") -> "Batch":
        if device.type == "cpu":
            return self
        return Batch(
            self.inputs.to(device, non_blocking=True),
            self.lengths,
            None if self.target is None else self.target.to(device, non_blocking=True),
            self.step_mask.to(device, non_blocking=True),
            self.meta,
        )


@dataclass(frozen=True)
class ModelSpec:
    """The shape of the network the core builds for a task: input -> RecurrentEncoder -> head."""

    input: Literal["tokens", "features"]
    #: vocabulary size for token input (id 0 is padding), features per step otherwise
    input_size: int
    output: Literal["pooled", "per_step"]
    #: number of classes, or of values predicted per sequence / per step
    output_size: int
    objective: Literal["classify", "regress"]


class Metrics(Protocol):
    """What :meth:`seqtool.Adapter.metrics` returns: fed batch by batch, computed once.

    ``outputs`` are the engine's: log-probabilities for a classifier (whatever the number of
    ensemble members), values for a regressor; ``[B, K]`` pooled, ``[B, T, K]`` per step.
    """

    def update(self, outputs: "torch.Tensor", batch: Batch) -> None:
        """Add one batch of outputs and its targets."""

    def compute(self) -> dict[str, Any]:
        """The metrics so far, JSON-able (numbers, lists, dicts)."""
