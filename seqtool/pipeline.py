"""What the verbs do: read -> encode -> train / evaluate / predict -> write.

Generic for every task: a plugin supplies only its :class:`seqtool.Adapter`.
"""

from __future__ import annotations

import json
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Any, Iterator, Mapping

import torch

from seqtool import __version__
from seqtool.data.splits import hold_out
from seqtool.engine import Engine
from seqtool.errors import DataError, Interrupted, ModelFileError, UsageError
from seqtool.io.readers import input_format as resolve_input_format
from seqtool.io.readers import read_records
from seqtool.io.writers import WRITERS, open_output, output_format
from seqtool.nn.model import Ensemble, SequenceModel
from seqtool.settings import Settings
from seqtool.task import Adapter, Example, ModelSpec, Record, Task, resolve
from seqtool.train import distributed
from seqtool.train.artefact import load_model, save_model
from seqtool.train.checkpoint import Checkpointer
from seqtool.train.progress import Progress
from seqtool.train.trainer import Trainer, resolve_device, scalars, seed_everything, validate

HOLDOUT_FRACTION = 0.1


def read(task: Task, path: str, input_format: str | None, encoding: str) -> Iterator[Record]:
    return read_records(path, resolve_input_format(path, input_format, task.input_format), encoding=encoding)


@distributed.in_process_group
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
) -> dict[str, Any]:
    """Fit the adapter and the model on ``data`` and write the model file; returns the card.

    Under torchrun every process runs this; all read and encode the same data (so adapters fit
    identically), each trains on its shard, and only the main process writes files or talks.
    """
    if resume and not checkpoint_dir:
        raise UsageError("--resume needs --checkpoint-dir, the folder the interrupted run wrote to")
    if task.causal and settings.bidirectional:
        raise UsageError(f"task {task.name} predicts what comes next, so it reads forward only; drop bidirectional")
    progress = Progress(quiet=quiet or not distributed.is_main())
    started = time.perf_counter()
    adapter = task.adapter_class()(options)
    records = list(read(task, data, input_format, encoding))
    if not records:
        raise DataError(f"{data}: no records to train on")
    adapter.fit(records)
    labelled = list(adapter.examples(records, labelled=True))
    if not labelled:
        raise DataError(f"{data}: none of the {len(records)} records gave a usable training example")
    shared_valid = list(adapter.examples(read(task, valid, input_format, encoding), labelled=True)) if valid else None
    fingerprint = {"task": task.name, "data": data, "valid": valid, "settings": settings.as_dict(), "options": adapter.options}
    spec = adapter.model_spec()

    def split(seed: int) -> tuple[list[Example], list[Example]]:
        # Without --valid each member holds out its own seeded part (a random split; the others
        # are the same for every seed): together they learn from more of the examples, and their
        # different views of the data make them disagree usefully.
        return (labelled, shared_valid) if valid else hold_out(labelled, task.split, fraction=HOLDOUT_FRACTION, seed=seed)

    members, results = [], []
    for member in range(settings.ensemble):
        member_settings = settings.merged({"seed": settings.seed + member})
        train_examples, valid_examples = split(member_settings.seed)
        if member == 0 and not valid and valid_examples:
            held = "each member holds out its own" if settings.ensemble > 1 and task.split == "random" else "held out"
            purged = len(labelled) - len(train_examples) - len(valid_examples)
            dropped = f"; {purged} overlapping them left out of training" if purged else ""
            progress.say(f"no --valid given: {len(valid_examples)} of the training examples {held} for early stopping ({task.split} split{dropped})")
        if settings.ensemble > 1:
            progress.say(f"member {member + 1} of {settings.ensemble} (seed {member_settings.seed})")
        seed_everything(member_settings.seed)
        model = SequenceModel(spec, member_settings)
        adapter.initialise(model)
        checkpointer = Checkpointer(checkpoint_dir, fingerprint, member) if checkpoint_dir else None
        monitor = task.monitor if valid_examples else ("loss", "min")
        trainer = Trainer(model, member_settings, monitor=monitor, metrics=adapter.metrics, progress=progress, checkpointer=checkpointer)
        # a later member of an interrupted ensemble may not have started: it starts afresh
        resume_member = resume and (member == 0 or checkpointer.path.is_file())
        try:
            results.append(trainer.fit(train_examples, valid_examples, resume=resume_member))
        except KeyboardInterrupt:
            kept = f"the checkpoint of the last finished epoch is in {checkpoint_dir}; add --resume to continue" if checkpoint_dir else "no model written (--checkpoint-dir keeps progress across interruptions)"
            raise Interrupted(f"training interrupted: {kept}") from None
        members.append(model)
    model = Ensemble(members)
    if len(members) == 1:
        metrics = results[0].best_metrics
    elif valid:
        metrics = validate(model, shared_valid, settings.batch_size, adapter.metrics)
    else:  # no example is unseen by every member: the members' own held-out scores, averaged
        metrics = {name: sum(r.best_metrics[name] for r in results) / len(results) for name in scalars(results[0].best_metrics)}
    train_examples, valid_examples = split(settings.seed)  # the first member's: calibration and the card use it
    model.eval()
    adapter.calibrate(Engine(model, batch_size=settings.batch_size), train_examples)
    card = {
        "task": task.name,
        "plugin": task.plugin,
        "plugin_version": task.plugin_version,
        "seqtool_version": __version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": settings.as_dict(),
        "model_spec": asdict(spec),
        "options": adapter.options,
        "parameters": sum(p.numel() for p in model.parameters()),
        "data": {"train": data, "valid": valid, "train_examples": len(train_examples), "valid_examples": len(valid_examples)},
        "processes": distributed.world_size(),
        "training": {
            "seconds": round(time.perf_counter() - started, 2),
            "members": [
                {"seed": settings.seed + member, "best_epoch": r.best_epoch, "stopped_early": r.stopped_early, "metrics": scalars(r.best_metrics), "history": r.history}
                for member, r in enumerate(results)
            ],
        },
        "metrics": _json_safe(metrics),
    }
    if distributed.is_main():
        save_model(output, model.state_dict(), card, adapter.state())
    for line in adapter.report():
        progress.say(line)
    best = metrics.get(monitor[0])
    epochs = f"best epoch {', '.join(str(r.best_epoch) for r in results)}"
    scored = "members' mean valid" if len(results) > 1 and not valid else "valid"
    progress.say(f"saved {output} ({epochs}, {scored} {monitor[0]} {best:.4f})" if best is not None else f"saved {output} ({epochs})")
    return card


def load(task: Task, path: Path, options: Mapping[str, Any]) -> tuple[Ensemble, Adapter, dict[str, Any]]:
    """The model and adapter stored in ``path``; options given now override those from training."""
    card, adapter_state, weights = load_model(path)
    if card.get("task") != task.name:
        raise ModelFileError(f"{path}: a model for task {card.get('task')!r}; use `seqtool run {card.get('task')} ...`")
    adapter = task.adapter_class()({**card.get("options", {}), **{k: v for k, v in options.items() if v is not None}})
    adapter.load_state(adapter_state)
    settings = Settings().merged(card["settings"])
    model = Ensemble([SequenceModel(ModelSpec(**card["model_spec"]), settings) for _ in range(settings.ensemble)])
    try:
        model.load_state_dict(weights)
    except RuntimeError as error:
        raise ModelFileError(f"{path}: the weights do not fit the model the card describes ({str(error).splitlines()[0]})") from None
    model.to(resolve_device("auto"))  # where it was trained does not matter; where it runs now does
    model.eval()
    return model, adapter, card


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
) -> dict[str, Any]:
    """Score the model on labelled ``data``; prints and returns ``{task, model, data, metrics}``."""
    model, adapter, _ = load(task, model_path, options)
    adapter.engine = engine = Engine(model, batch_size=batch_size)
    metrics = adapter.metrics()
    count = 0
    for batch, outputs in engine.run(adapter.examples(read(task, data, input_format, encoding), labelled=True)):
        metrics.update(outputs, batch)
        count += len(batch)
    if count == 0:
        raise DataError(f"{data}: no labelled examples to evaluate")
    report = {"task": task.name, "model": str(model_path), "data": data, "metrics": _json_safe(metrics.compute())}
    _notes(adapter, quiet)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        from seqtool.report import print_metrics

        print_metrics(report)
    return report


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
) -> None:
    """Stream results for ``data`` to stdout or ``output``, one batch in memory at a time."""
    writers = {**WRITERS, **task.writers}
    to_terminal = (output is None or output == "-") and sys.stdout.isatty()
    default = (task.terminal_format if to_terminal else None) or task.output_format
    writer_class = resolve(writers[output_format(output, fmt, default, writers)])
    model, adapter, _ = load(task, model_path, options)
    adapter.engine = engine = Engine(model, batch_size=batch_size)
    examples = adapter.examples(read(task, data, input_format, encoding), labelled=False)
    with open_output(output, writer_class) as writer:
        written = 0
        for batch, outputs in engine.run(examples, last_step=adapter.predicts_last_step):
            for result in islice(adapter.decode(outputs, batch), None if limit is None else limit - written):
                writer.write(result)
                written += 1
            if output is None or output == "-":
                sys.stdout.flush()  # a pipeline downstream sees each batch as soon as it is scored
            if written == limit:
                break
        adapter.finish()
    _notes(adapter, quiet)


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


def _notes(adapter: Adapter, quiet: bool) -> None:
    if not quiet:
        for line in adapter.report():
            print(line, file=sys.stderr)


def _json_safe(value: Any) -> Any:
    """Metrics as plain JSON (tensors and numpy numbers become Python numbers)."""
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))
