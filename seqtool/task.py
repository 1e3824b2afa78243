"""What a plugin provides: a :class:`Task` (name, defaults, options, sample data) and an
:class:`Adapter`, the one data contract every task implements.

The flow is always the same::

    records (dicts from a reader) --Adapter.examples--> Examples (tensors)
        --core engine: batches, model--> one output per example --Adapter.decode--> result records

The core owns everything generic (readers, batching, the recurrent model, training, the model
file). An adapter owns only the domain: which fields make a record, how a record becomes tensors
and an output becomes a result, which metrics matter. Importing this module does not import torch.
"""

from __future__ import annotations

import importlib
import types
import typing
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Mapping, Sequence

import click

from seqtool.data.columns import Column
from seqtool.data.fitted import Fitted
from seqtool.data.series import Series, group_series
from seqtool.types import Example, Metrics, ModelSpec, Record

if TYPE_CHECKING:
    import torch

    from seqtool.engine import Engine
    from seqtool.io.writers import Writer

VERBS = ("demo", "train", "evaluate", "predict")


@dataclass(frozen=True)
class SampleData:
    """Small files bundled with a plugin: ``demo`` trains on ``train``, early-stops on ``valid``,
    evaluates on ``test`` (``valid`` when absent) and shows predictions for ``predict``."""

    train: Path
    valid: Path | None = None
    test: Path | None = None
    predict: Path | None = None


@dataclass(frozen=True)
class TaskOption:
    """A task-specific command-line option and the verbs it applies to."""

    option: click.Option
    verbs: frozenset[str]


def option(*param_decls: str, verbs: Iterable[str] = ("train", "evaluate", "predict"), **attrs: Any) -> TaskOption:
    """Declare a task option with Click's own arguments, e.g.
    ``option("--text-col", help="column holding the text")``. Its value reaches the adapter as
    ``self.options["text_col"]``. Values given at ``train`` are stored in the model file and reused
    by ``evaluate`` and ``predict`` unless given again."""
    unknown = set(verbs) - set(VERBS)
    if unknown:
        raise ValueError(f"unknown verbs {sorted(unknown)}; choose from {VERBS}")
    attrs.setdefault("default", None)
    return TaskOption(click.Option(param_decls, **attrs), frozenset(verbs))


@dataclass
class Task:
    """A named task a plugin registers.

    ``adapter`` is the :class:`Adapter` subclass or, better, its ``"module:Class"`` path: the
    module is imported only when the task runs, so listing and ``--help`` stay fast.
    ``defaults`` override the core's model and training settings (see ``seqtool.settings``).
    ``monitor`` is the validation metric early stopping watches and whether higher is better.
    ``writers`` add or replace output formats for this task (name -> writer class).
    ``input``, ``output`` and ``causal`` say what kind of network the task needs, so that its
    ``--help`` offers only the settings that mean something for it.
    """

    name: str
    description: str
    adapter: "type[Adapter] | str"
    sample_data: SampleData | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    monitor: tuple[str, Literal["min", "max"]] = ("loss", "min")
    options: Sequence[TaskOption] = ()
    #: the fields a table record holds, found by name in each input and renamed to their keys
    #: for the adapter; each gets a --KEY-col flag (seqtool.data.columns)
    columns: Sequence[Column] = ()
    #: what a sequence is made of: "tokens" (ids from a vocabulary, embedded: --embedding-dim and
    #: --token-dropout apply) or "features" (numeric vectors per step, fed to the cell as they are)
    input: Literal["tokens", "features"] = "tokens"
    #: "pooled": one output per sequence (--pooling says how the steps become one vector);
    #: "per_step": one output per step
    output: Literal["pooled", "per_step"] = "pooled"
    #: a causal task predicts what comes next, so it must read forward only: no --bidirectional
    causal: bool = False
    #: how training holds out validation examples when no --valid is given: "random" for
    #: independent records, "temporal" (the latest examples of each series, with the windows that
    #: overlap them purged) for windows over series, "group" (whole series) (seqtool.data.splits)
    split: Literal["random", "temporal", "group"] = "random"
    writers: Mapping[str, "str | type[Writer]"] = field(default_factory=dict)
    #: shell lines shown under "Examples" in the task's --help
    examples: Sequence[str] = ()
    #: how stdin, extension-less and .txt files are read, and what predict writes by default
    input_format: str = "lines"
    output_format: str = "jsonl"
    #: the output format when predict writes to a terminal and no --format is given (e.g. a
    #: coloured view from ``writers``); None keeps ``output_format``
    terminal_format: str | None = None
    #: set by the plugin manager: the plugin (module) and distribution version that registered it
    plugin: str = ""
    plugin_version: str = ""

    def adapter_class(self) -> "type[Adapter]":
        return resolve(self.adapter)

    def all_options(self) -> list[TaskOption]:
        """The task's own options and one --KEY-col flag per declared column."""
        flags = [option(c.flag, c.option, verbs=c.verbs, help=c.help) for c in self.columns]
        return [*flags, *self.options]

    def options_for(self, verb: str) -> list[click.Option]:
        return [o.option for o in self.all_options() if verb in o.verbs]


def resolve(target: "type | str") -> Any:
    """Import ``"module:attribute"`` on first use; pass classes through."""
    if not isinstance(target, str):
        return target
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


class Adapter(ABC):
    """Turns one task's records into tensors and model outputs back into records.

    An adapter is stateful: :meth:`fit` learns what it needs from the training records (a
    vocabulary, label names, a scaler), and the model file keeps it. What it learns is declared
    as class-level annotations, e.g. ``vocabulary: Vocabulary`` and ``labels: LabelSet``
    (:class:`~seqtool.data.fitted.Fitted` components that save themselves) or ``lowercase: bool``
    (any JSON-able value): :meth:`state` and :meth:`load_state` save and restore exactly those,
    so an adapter rarely writes either. ``options`` holds the task's option values (see
    :func:`option`).
    """

    #: a declared column that groups records into series (a user's events, a symbol's prices):
    #: :meth:`encode` then receives one time-ordered :class:`~seqtool.Series` per key, not one record
    group_by: str | None = None
    #: how to fix streamed input that is not grouped by ``group_by`` (ends the error message)
    regroup_hint: str = ""
    #: predict needs a per-step model's outputs after each sequence's last step only (what
    #: comes next): the engine then computes ``[B, K]`` instead of ``[B, T, K]``
    predicts_last_step: bool = False

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = dict(options)
        #: the engine that runs the loaded model, set by the core before evaluate and predict,
        #: for work that needs more model outputs than decode receives (explanations, say)
        self.engine: "Engine | None" = None
        #: records skipped, by reason: the core reports them once after a run
        self.skipped: Counter[str] = Counter()

    @abstractmethod
    def fit(self, records: Sequence[Record]) -> None:
        """Learn the adapter state from the training records (called once, before training)."""

    def state(self) -> dict[str, Any]:
        """JSON-able state for the model file: the declared attributes (see the class docstring)."""
        declared = (name for name in _state_types(type(self)) if hasattr(self, name))
        return {name: (value.state() if isinstance(value := getattr(self, name), Fitted) else value) for name in declared}

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state` returned."""
        for name, kind in _state_types(type(self)).items():
            if name in state:
                value = state[name]
                setattr(self, name, kind.from_state(value) if isinstance(kind, type) and issubclass(kind, Fitted) else value)

    def skip(self, record: Record, reason: str) -> None:
        """Count a record left out; the core reports each reason once (``skipped 3 record(s)
        with no text``), so ``reason`` completes "record(s) ..."."""
        self.skipped[reason] += 1

    @abstractmethod
    def model_spec(self) -> ModelSpec:
        """The network shape, known after :meth:`fit` or :meth:`load_state`."""

    def examples(self, records: Iterable[Record], *, labelled: bool) -> Iterator[Example]:
        """The core's loop: each record, or with :attr:`group_by` each series, through
        :meth:`encode`, lazily (predict streams through here).

        A list of records (training) is grouped in memory; a stream must come grouped by the
        key, so that one series is held at a time (:func:`~seqtool.data.series.group_series`),
        and :attr:`regroup_hint` completes the error when it is not. An adapter overrides this
        only to wrap the loop: to read a whole stream first (``--sort``), or to check something
        once the input has ended."""
        items: Iterable[Record | Series] = records
        if self.group_by is not None:
            stream = not isinstance(records, Sequence)
            items = group_series(records, key=self.group_by, stream=stream, skip=self.skip, regroup=self.regroup_hint)
        for item in items:
            encoded = self.encode(item, labelled=labelled)
            if isinstance(encoded, Example):
                yield encoded
            elif encoded is not None:
                yield from encoded

    @abstractmethod
    def encode(self, item: "Record | Series", *, labelled: bool) -> "Example | Iterable[Example] | None":
        """One record (or one series, with :attr:`group_by`) -> its example, its examples, or
        None when it gives none. With ``labelled`` the examples carry targets. A record that
        cannot be used raises :class:`seqtool.DataError` naming ``record.where``, or is passed
        to :meth:`skip` and counted, as the task documents."""

    @abstractmethod
    def decode(self, output: "torch.Tensor", meta: Any) -> dict[str, Any]:
        """Turn one example's output into its result record; ``meta`` is the example's.

        ``output`` comes from the engine, float32 on the CPU: a classifier's class probabilities,
        a regressor's values; ``[K]`` for a pooled task (or with :attr:`predicts_last_step`),
        ``[T, K]`` per step, cut to the example's ``T`` steps."""

    @abstractmethod
    def metrics(self) -> "Metrics":
        """A fresh metrics accumulator for evaluation and validation."""

    def initialise(self, model: "torch.nn.Module") -> None:
        """Called once on each freshly built model before training (to load pretrained
        embeddings, say). Does nothing by default."""

    def calibrate(self, engine: "Engine", examples: Sequence[Example]) -> None:
        """Called once after training with the trained model's :class:`~seqtool.engine.Engine`
        and the training examples, for state that needs model outputs (an anomaly threshold,
        say). ``engine.run(examples)`` yields ``(batch, outputs)`` in the order given. Does
        nothing by default."""

    def finish(self) -> None:
        """Called once after ``predict`` has written the last result (to draw a plot of the
        whole run, say). Does nothing by default."""

    def report(self) -> list[str]:
        """Lines for stderr after a run beyond the skipped records (unknown tokens seen...)."""
        return []

    def notes(self) -> list[str]:
        """Everything to say on stderr after a run: the records skipped, by reason, then :meth:`report`."""
        return [f"skipped {count} record(s) {reason}" for reason, count in self.skipped.items()] + self.report()


AdapterFactory = Callable[[Mapping[str, Any]], Adapter]


def _state_types(cls: type[Adapter]) -> dict[str, Any]:
    """An adapter class's declared state: its class-level annotations (its own and its bases'
    below :class:`Adapter`), name -> type, with ``X | None`` read as ``X``."""
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass is Adapter or not issubclass(klass, Adapter):
            continue
        hints.update(dict.fromkeys(name for name in vars(klass).get("__annotations__", {}) if not name.startswith("_")))
        resolved = typing.get_type_hints(klass)
        hints.update({name: _unoptional(resolved[name]) for name in hints if name in resolved})
    return hints


def _unoptional(kind: Any) -> Any:
    arguments = [a for a in typing.get_args(kind) if a is not type(None)]
    return arguments[0] if typing.get_origin(kind) in (typing.Union, types.UnionType) and len(arguments) == 1 else kind
