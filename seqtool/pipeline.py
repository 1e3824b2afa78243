"""What the verbs do: read -> encode -> train / evaluate / predict -> write.

Generic for every task: a plugin supplies only its :class:`seqtool.Adapter`.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import asdict
from itertools import islice
from pathlib import Path
from typing import Any, Iterator, Mapping

import torch

from seqtool.data.columns import column_flags, resolve_columns
from seqtool.data.splits import hold_out
from seqtool.engine import Engine
from seqtool.errors import DataError, UsageError
from seqtool.io.atomic import check_folder, check_output
from seqtool.io.readers import input_format as resolve_input_format
from seqtool.io.readers import display_name, read_records
from seqtool.io.writers import WRITERS, open_output, output_format, writer_for
from seqtool.jobs import running_model
from seqtool.model import Model, load
from seqtool.runtime import apply_threads, requested_threads, threads_for, threads_message
from seqtool.settings import Settings
from seqtool.task import Task, resolve
from seqtool.training import distributed
from seqtool.training.artefact import save_model
from seqtool.training.card import MemberCard, ModelCard, finite, json_safe
from seqtool.training.ensemble import TrainedMembers, ensemble_metrics, train_members
from seqtool.training.lock import exclusive_outputs
from seqtool.training.progress import Progress
from seqtool.types import Example, Record

def read(task: Task, path: str, input_format: str | None, encoding: str) -> Iterator[Record]:
    return read_records(path, resolve_input_format(path, input_format, task.input_format), encoding=encoding)


@running_model()
@distributed.in_process_group
@exclusive_outputs  # a second run writing the same model or checkpoints is refused, not lost
def train(
    task: Task,
    data: str,
    valid: str | None,
    output: Path,
    settings: Settings,
    options: Mapping[str, Any],
    *,
    input_format: str | None = None,
    encoding: str = "utf-8",
    quiet: bool = False,
    checkpoint_dir: Path | None = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> ModelCard:
    """Fit the adapter and the model on ``data`` and write the model file; returns the card.
    ``progress`` hears of each epoch (a search reports them to its pruner); by default, lines on
    stderr.

    Under torchrun every process runs this; all read and encode the same data (so adapters fit
    identically), each trains on its shard, and only the main process writes files or talks.
    """
    if resume and not checkpoint_dir:
        raise UsageError("--resume needs --checkpoint-dir, the folder the interrupted run wrote to")
    if task.causal and settings.bidirectional:
        raise UsageError(f"task {task.name} predicts what comes next, so it reads forward only; drop bidirectional")
    if distributed.is_main():  # the paths are checked before the data is read: a run never ends on them
        check_output(output, inputs=[path for path in (data, valid) if path])
        if checkpoint_dir:
            check_folder(checkpoint_dir)
    progress = progress or Progress(quiet=quiet or not distributed.is_main())
    started = time.perf_counter()
    threads = apply_threads(threads_for(settings.threads))  # what torch now runs with
    column_names, options = column_flags(task.columns, options)
    adapter = task.adapter_class()(options)
    found: dict[str, str | None] = {}  # the training file's columns: what the model remembers

    def records_of(path: str) -> Iterator[Record]:
        return resolve_columns(read(task, path, input_format, encoding), task.columns, given=column_names, trained=found, labelled=True, found=found)

    records = list(records_of(data))
    if not records:
        raise DataError(f"{data}: no records to train on")
    adapter.fit(records)
    labelled = list(adapter.examples(records, labelled=True))
    if not labelled:
        raise DataError(f"{data}: none of the {len(records)} records gave a usable training example")
    shared_valid = list(adapter.examples(records_of(valid), labelled=True)) if valid else None
    # again: jobs started with this one have registered while it read the data, and the share counts them
    threads = apply_threads(threads_for(settings.threads))
    progress.say(threads_message(settings.threads, threads))  # once the data has been read: an error stays one line

    def split(seed: int) -> tuple[list[Example], list[Example]]:
        # Without --valid each member holds out its own seeded part (a random split; the others
        # are the same for every seed): together they learn from more of the examples, and their
        # different views of the data make them disagree usefully.
        return (labelled, shared_valid) if shared_valid is not None else hold_out(labelled, task.split, seed=seed)

    train_examples, valid_examples = split(settings.seed)  # the first member's: calibration and the card use it
    if not valid and valid_examples:
        _say_held_out(progress, task, settings, len(labelled), len(train_examples), len(valid_examples))
    # threads are where it runs, not what it learns: an interrupted run may resume with other threads
    resumable = {k: v for k, v in settings.as_dict().items() if k != "threads"}
    fingerprint = {"task": task.name, "data": data, "valid": valid, "settings": resumable, "options": adapter.options, "columns": column_names}
    trained = train_members(
        adapter.model_spec(), settings, adapter, split,
        monitor=task.monitor, progress=progress, checkpoint_dir=checkpoint_dir, fingerprint=fingerprint, resume=resume,
    )
    metrics = ensemble_metrics(trained, shared_valid, settings.batch_size, adapter.metrics)
    adapter.calibrate(Engine(trained.model, batch_size=settings.batch_size), train_examples)
    card = ModelCard(
        task=task.name,
        plugin=task.plugin,
        plugin_version=task.plugin_version,
        settings={**settings.as_dict(), "threads": threads},  # the number it ran with, not "auto"
        model_spec=asdict(trained.model.spec),
        options=adapter.options,
        columns=found,
        parameters=sum(p.numel() for p in trained.model.parameters()),
        data={"train": data, "valid": valid, "train_examples": len(train_examples), "valid_examples": len(valid_examples)},
        processes=distributed.world_size(),
        seconds=round(time.perf_counter() - started, 2),
        members=[MemberCard.of(settings.seed + i, r) for i, r in enumerate(trained.results)],
        metrics=metrics,
        torch_version=torch.__version__,
    )
    if distributed.is_main():
        save_model(output, trained.model.state_dict(), card.to_dict(), adapter.state())
    for line in adapter.notes():
        progress.say(line)
    _say_saved(progress, output, trained, metrics, averaged=len(trained.results) > 1 and not valid)
    return card


def _say_held_out(progress: Progress, task: Task, settings: Settings, examples: int, train: int, valid: int) -> None:
    held = "each member holds out its own" if settings.ensemble > 1 and task.split == "random" else "held out"
    purged = examples - train - valid
    dropped = f"; {purged} overlapping them left out of training" if purged else ""
    progress.say(f"no --valid given: {valid} of the training examples {held} for early stopping ({task.split} split{dropped})")


def _say_saved(progress: Progress, output: Path, trained: TrainedMembers, metrics: dict[str, Any], *, averaged: bool) -> None:
    name = trained.monitor[0]
    best = metrics.get(name)
    epochs = f"best epoch {', '.join(str(r.best_epoch) for r in trained.results)}"
    scored = "members' mean valid" if averaged else "valid"
    progress.say(f"saved {output} ({epochs}, {scored} {name} {best:.4f})" if best is not None else f"saved {output} ({epochs})")


@running_model()
def evaluate(
    task: Task,
    model_path: Path,
    data: str,
    options: Mapping[str, Any],
    *,
    as_json: bool = False,
    batch_size: int = 256,
    input_format: str | None = None,
    encoding: str = "utf-8",
    quiet: bool = False,
    threads: int | str | None = None,
) -> dict[str, Any]:
    """Score the model on labelled ``data``; prints and returns ``{task, model, data, metrics}``.
    ``threads``: a number or "auto"; None: SEQTOOL_THREADS, else auto."""
    apply_threads(threads_for(requested_threads(threads)))
    model = load(task, model_path, options, batch_size=batch_size)
    metrics = model.evaluate(read(task, data, input_format, encoding), source=data)
    report = {"task": task.name, "model": str(model_path), "data": data, "metrics": json_safe(metrics)}
    _notes(model, quiet)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        from seqtool.report import print_metrics

        print_metrics(report)
    return report


@running_model()
def predict(
    task: Task,
    model_path: Path,
    data: str,
    options: Mapping[str, Any],
    *,
    output: str | None = None,
    fmt: str | None = None,
    batch_size: int = 256,
    input_format: str | None = None,
    encoding: str = "utf-8",
    quiet: bool = False,
    limit: int | None = None,
    threads: int | str | None = None,
) -> None:
    """Stream results for ``data`` to stdout or ``output``, one batch in memory at a time.
    ``threads``: a number or "auto"; None: SEQTOOL_THREADS, else auto."""
    apply_threads(threads_for(requested_threads(threads)))
    writers = {**WRITERS, **task.writers}
    to_terminal = (output is None or output == "-") and sys.stdout.isatty()
    default = (task.terminal_format if to_terminal else None) or task.output_format
    writer_class = resolve(writer_for(output_format(output, fmt, default, writers), writers))
    model = load(task, model_path, options, batch_size=batch_size)
    written = 0
    with open_output(output, writer_class, inputs=[model_path, data]) as writer:
        for result in islice(model.predict(read(task, data, input_format, encoding)), limit):
            writer.write(finite(result))  # NaN is not JSON: a model gone bad writes null
            written += 1
    _notes(model, quiet)
    if not written and not quiet:  # empty input is ordinary in a pipeline (exit 0), but say so
        print(f"{display_name(data)}: no records to predict", file=sys.stderr)


def demo(task: Task, defaults: Settings, options: Mapping[str, Any], *, quiet: bool = False) -> None:
    """Train on the plugin's sample data, evaluate, and show a few predictions, in a temp dir."""
    sample = task.sample_data
    if sample is None:
        raise DataError(f"task {task.name!r} ships no sample data, so it has no demo")
    say = Progress(quiet=quiet).say
    with tempfile.TemporaryDirectory(prefix="seqtool-demo-") as folder:
        model_path = Path(folder) / f"{task.name}.model"
        say(f"== training {task.name} on {sample.train.name}")
        train(task, str(sample.train), str(sample.valid) if sample.valid else None, model_path, defaults, options, quiet=quiet)
        test = sample.test or sample.valid
        if test:
            say(f"== evaluating on {test.name}")
            evaluate(task, model_path, str(test), options, quiet=quiet)
        if sample.predict:
            say(f"== predicting {sample.predict.name} (the first 5 results)")
            predict(task, model_path, str(sample.predict), options, quiet=quiet, limit=5)


def _notes(model: Model, quiet: bool) -> None:
    if not quiet:
        for line in model.notes():
            print(line, file=sys.stderr)
