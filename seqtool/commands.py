"""The four verbs every task gets: ``demo``, ``train``, ``evaluate``, ``predict``.

This module only declares the Click commands (light); the work is in :mod:`seqtool.pipeline`,
imported when a verb runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from seqtool.settings import SETTING_NAMES, Settings, load_config
from seqtool.task import Task

_SETTING_HELP: dict[str, tuple[Any, str]] = {
    "cell": (click.Choice(["lstm", "gru", "rnn"]), "Recurrent cell."),
    "hidden": (click.IntRange(1), "Hidden units per direction and layer."),
    "layers": (click.IntRange(1), "Stacked recurrent layers."),
    "dropout": (click.FloatRange(0, 1, max_open=True), "Dropout on inputs, between layers and before the head."),
    "token_dropout": (click.FloatRange(0, 1, max_open=True), "While training, replace this share of tokens by <unk> (token input only), so the model does not lean on single words."),
    "embedding_dim": (click.IntRange(1), "Embedding size (token input only)."),
    "pooling": (click.Choice(["last", "mean", "max", "attention"]), "How a sequence becomes one vector (pooled tasks)."),
    "epochs": (click.IntRange(1), "Most epochs to train."),
    "batch_size": (click.IntRange(1), "Sequences per batch."),
    "lr": (click.FloatRange(0, min_open=True), "AdamW learning rate."),
    "weight_decay": (click.FloatRange(0), "AdamW weight decay."),
    "patience": (click.IntRange(1), "Stop after this many epochs without a better validation metric."),
    "clip": (click.FloatRange(0, min_open=True), "Gradient-norm clipping."),
    "seed": (int, "Random seed: the same seed and data give the same model."),
    "ensemble": (click.IntRange(1), "Train this many models from seeds seed, seed+1, ... and average their predictions (N times the training time)."),
    "device": (str, "auto (CUDA when present), cpu, cuda or cuda:N."),
}


def _setting_options(defaults: Settings) -> list[click.Option]:
    options = []
    for name in SETTING_NAMES:
        shown = getattr(defaults, name)
        if name == "bidirectional":
            options.append(click.Option(["--bidirectional/--unidirectional"], default=None, show_default=("bidirectional" if shown else "unidirectional"), help="Read sequences in both directions or forward only."))
            continue
        kind, text = _SETTING_HELP[name]
        options.append(click.Option([f"--{name.replace('_', '-')}"], type=kind, default=None, show_default=str(shown), help=text))
    return options


def _data_options(task: Task) -> list[click.Option]:
    return [
        click.Option(["--input-format"], type=click.Choice(["csv", "tsv", "jsonl", "lines", "fasta"]), help=f"Input format when the file extension does not tell (default: {task.input_format})."),
        click.Option(["--encoding"], default="utf-8", show_default=True, help="Text encoding of the input, e.g. latin-1."),
    ]


def _quiet() -> click.Option:
    return click.Option(["-q", "--quiet"], is_flag=True, help="No progress or notes on stderr.")


def _epilog(task: Task, verb: str) -> str | None:
    lines = [line for line in task.examples if f" {verb}" in line]
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines) if lines else None


def _split(task: Task, given: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Command-line values -> (settings overrides, task options); None means not given."""
    task_keys = {o.option.name for o in task.options}
    settings = {k: v for k, v in given.items() if k in SETTING_NAMES}
    options = {k: v for k, v in given.items() if k in task_keys}
    return settings, options


def task_group(task: Task) -> click.Group:
    """The ``seqtool run TASK`` group with its verbs."""
    defaults = Settings().merged(task.defaults)
    group = click.Group(task.name, help=task.description, context_settings={"help_option_names": ["-h", "--help"]})

    def command(verb: str, summary: str, params: list[click.Parameter], callback: Callable[..., None]) -> None:
        group.add_command(
            click.Command(verb, params=params + task.options_for(verb), callback=callback, help=summary, short_help=summary.split("\n")[0], epilog=_epilog(task, verb))
        )

    def train(data: str, valid: str | None, output: str, config: Path | None, checkpoint_dir: Path | None, resume: bool, quiet: bool, input_format: str | None, encoding: str, **given: Any) -> None:
        from seqtool import pipeline

        file_values = load_config(config) if config else {}
        file_settings, file_options = _split(task, file_values)
        unknown = set(file_values) - set(file_settings) - set(file_options)
        if unknown:
            raise click.UsageError(f"{config}: unknown key {sorted(unknown)[0]!r}; keys are the long option names of `seqtool run {task.name} train --help`")
        cli_settings, cli_options = _split(task, given)
        settings = defaults.merged(file_settings).merged(cli_settings)
        options = {**file_options, **{k: v for k, v in cli_options.items() if v is not None}}
        pipeline.train(task, data, valid, Path(output), settings, options, input_format=input_format, encoding=encoding, quiet=quiet, checkpoint_dir=checkpoint_dir, resume=resume)

    command(
        "train",
        "Train a model on DATA and write it to -o MODEL.",
        [
            click.Argument(["data"]),
            click.Option(["--valid"], help="Validation data for early stopping (default: 10% of DATA held out)."),
            click.Option(["-o", "--output"], required=True, type=click.Path(dir_okay=False), help="Where to write the model file."),
            click.Option(["--config"], type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TOML file of settings and task options; flags override it."),
            click.Option(["--checkpoint-dir"], type=click.Path(file_okay=False, path_type=Path), help="Save a checkpoint after every epoch here, so an interrupted run can --resume."),
            click.Option(["--resume"], is_flag=True, help="Continue from the checkpoint in --checkpoint-dir."),
            *_setting_options(defaults),
            *_data_options(task),
            _quiet(),
        ],
        train,
    )

    def evaluate(model: str, data: str, as_json: bool, batch_size: int, quiet: bool, input_format: str | None, encoding: str, **options: Any) -> None:
        from seqtool import pipeline

        pipeline.evaluate(task, Path(model), data, options, as_json=as_json, batch_size=batch_size, input_format=input_format, encoding=encoding, quiet=quiet)

    model_option = click.Option(["-m", "--model"], required=True, type=click.Path(dir_okay=False), help="A model file from `train`.")
    batch_option = click.Option(["--batch-size"], type=click.IntRange(1), default=256, show_default=True, help="Sequences per batch.")
    command(
        "evaluate",
        "Score a model on labelled DATA.",
        [model_option, click.Argument(["data"]), click.Option(["--json", "as_json"], is_flag=True, help="Print JSON: {task, model, data, metrics}."), batch_option, *_data_options(task), _quiet()],
        evaluate,
    )

    def predict(model: str, data: str, fmt: str | None, output: str | None, batch_size: int, quiet: bool, input_format: str | None, encoding: str, **options: Any) -> None:
        from seqtool import pipeline

        pipeline.predict(task, Path(model), data, options, output=output, fmt=fmt, batch_size=batch_size, input_format=input_format, encoding=encoding, quiet=quiet)

    command(
        "predict",
        "Apply a model to DATA (default: stdin), streaming results to stdout or -o.",
        [
            model_option,
            click.Argument(["data"], default="-", required=False),
            click.Option(["--format", "fmt"], help=f"Output format: jsonl, csv, tsv{''.join(', ' + w for w in task.writers)} (default: from -o's extension, else {task.output_format})."),
            click.Option(["-o", "--output"], type=click.Path(dir_okay=False), help="Write here (atomically) instead of stdout."),
            batch_option,
            *_data_options(task),
            _quiet(),
        ],
        predict,
    )

    def demo(quiet: bool, **options: Any) -> None:
        from seqtool import pipeline

        pipeline.demo(task, defaults, options, quiet=quiet)

    command("demo", "Train on the bundled sample data, evaluate, and show a few predictions.", [_quiet()], demo)
    return group

