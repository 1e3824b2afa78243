"""The four verbs every task gets: ``demo``, ``train``, ``evaluate``, ``predict``.

This module only declares the Click commands (light); the work is in :mod:`seqtool.pipeline`,
imported when a verb runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from seqtool.errors import PluginError, UsageError
from seqtool.settings import SETTINGS, Setting, Settings, environment_settings, load_config
from seqtool.tuning.command import tune_command
from seqtool.task import Task


def offered_settings(task: Task) -> list[Setting]:
    """The settings that mean something for ``task``: no embeddings for numeric input, no
    pooling for per-step output, no backward reading for a causal task."""
    return [spec for spec in SETTINGS.values() if spec.applies_to(task)]


class _NumberOrWord(click.ParamType):
    """A number setting that also takes words (``--threads auto``), checked by its declaration."""

    def __init__(self, spec: Setting) -> None:
        self.spec = spec
        self.name = "|".join([*spec.words, "N" if spec.type is int else "X"])

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            if self.spec.accepts(value):
                return value
            value = str(value)
        try:
            return self.spec.parse(value)
        except ValueError as error:
            self.fail(f"{value!r}: {error}", param, ctx)


def _click_type(spec: Setting) -> Any:
    if spec.words:
        return _NumberOrWord(spec)
    if spec.choices:
        return click.Choice(spec.choices)
    if spec.type is str:
        return click.STRING
    if spec.low is None and spec.high is None:
        return click.INT if spec.type is int else click.FLOAT
    ranged = click.IntRange if spec.type is int else click.FloatRange
    return ranged(spec.low, spec.high, min_open=spec.low_open, max_open=spec.high_open)


def _setting_option(spec: Setting, shown: Any) -> click.Option:
    if spec.type is bool:
        flags = f"{spec.flag}/{spec.negative_flag}"
        return click.Option([flags], default=None, show_default=(spec.flag if shown else spec.negative_flag)[2:], help=spec.help)
    return click.Option([spec.flag], type=_click_type(spec), default=None, show_default=str(shown), help=spec.help)


def _setting_options(task: Task, defaults: Settings) -> list[click.Option]:
    return [_setting_option(spec, getattr(defaults, spec.name)) for spec in offered_settings(task)]


def _threads() -> click.Option:
    """``--threads`` for evaluate and predict, which take no other settings."""
    return _setting_option(SETTINGS["threads"], SETTINGS["threads"].default)


def _task_defaults(task: Task) -> Settings:
    """The core defaults with the task's own; a default that breaks a setting's rules, or a causal
    task that reads backwards, is the plugin's error."""
    try:
        defaults = Settings().merged(task.defaults)
    except UsageError as error:
        raise PluginError(f"task {task.name} ({task.plugin or 'its plugin'}) declares an invalid default: {error}") from None
    if task.causal and defaults.bidirectional:
        raise PluginError(f"task {task.name} ({task.plugin or 'its plugin'}) is causal but defaults to bidirectional = true; a causal task reads forward only")
    return defaults


def _not_offered(spec: Setting, task: Task) -> str:
    """Why ``task`` does not offer the setting ``spec``."""
    for key, wanted in spec.requires.items():
        actual = getattr(task, key)
        if actual == wanted:
            continue
        if key == "causal":
            return "it predicts what comes next, so it reads forward only"
        return f"its {key} is {actual}, not {wanted}"
    return "it does not use it"


def _data_options(task: Task) -> list[click.Option]:
    return [
        click.Option(["--input-format"], metavar="FORMAT", help=f"Input format when the file extension does not tell: csv, tsv, jsonl, lines, fasta, or a plugin's (default: {task.input_format})."),
        click.Option(["--encoding"], default="utf-8", show_default=True, help="Text encoding of the input, e.g. latin-1."),
    ]


def _quiet() -> click.Option:
    return click.Option(["-q", "--quiet"], is_flag=True, help="No progress or notes on stderr.")


def _epilog(task: Task, verb: str) -> str | None:
    lines = [line for line in task.examples if f" {verb}" in line]
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines) if lines else None


def _split(task: Task, given: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Command-line or config values -> (settings overrides, task options); None means not given."""
    task_keys = {o.option.name for o in task.all_options()}
    offered = {spec.name for spec in offered_settings(task)}
    settings = {k: v for k, v in given.items() if k in offered}
    options = {k: v for k, v in given.items() if k in task_keys}
    return settings, options


def task_group(task: Task) -> click.Group:
    """The ``seqtool run TASK`` group with its verbs."""
    defaults = _task_defaults(task)
    group = click.Group(task.name, help=task.description, context_settings={"help_option_names": ["-h", "--help"]})

    def command(verb: str, summary: str, params: list[click.Parameter], callback: Callable[..., None]) -> None:
        group.add_command(
            click.Command(verb, params=params + task.options_for(verb), callback=callback, help=summary, short_help=summary.split("\n")[0], epilog=_epilog(task, verb))
        )

    def train(data: str, valid: str | None, output: str, config: Path | None, checkpoint_dir: Path | None, resume: bool, quiet: bool, input_format: str | None, encoding: str, **given: Any) -> None:
        from seqtool import pipeline

        file_values = load_config(config) if config else {}
        file_settings, file_options = _split(task, file_values)
        unknown = sorted(set(file_values) - set(file_settings) - set(file_options))
        not_offered = [key for key in unknown if key in SETTINGS]
        if not_offered:
            key = not_offered[0]
            raise UsageError(f"{config}: {key} does not apply to task {task.name} ({_not_offered(SETTINGS[key], task)}); remove it")
        if unknown:
            raise UsageError(f"{config}: unknown key {unknown[0]!r}; keys are the long option names of `seqtool run {task.name} train --help`")
        cli_settings, cli_options = _split(task, given)
        settings = defaults.merged(environment_settings()).merged(file_settings).merged(cli_settings)
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
            *_setting_options(task, defaults),
            *_data_options(task),
            _quiet(),
        ],
        train,
    )

    def evaluate(model: str, data: str, as_json: bool, batch_size: int, threads: int | str | None, quiet: bool, input_format: str | None, encoding: str, **options: Any) -> None:
        from seqtool import pipeline

        pipeline.evaluate(task, Path(model), data, options, as_json=as_json, batch_size=batch_size, input_format=input_format, encoding=encoding, quiet=quiet, threads=threads)

    model_option = click.Option(["-m", "--model"], required=True, type=click.Path(dir_okay=False), help="A model file from `train`.")
    batch_option = click.Option(["--batch-size"], type=click.IntRange(1), default=256, show_default=True, help="Sequences per batch.")
    command(
        "evaluate",
        "Score a model on labelled DATA.",
        [model_option, click.Argument(["data"]), click.Option(["--json", "as_json"], is_flag=True, help="Print JSON: {task, model, data, metrics}."), batch_option, _threads(), *_data_options(task), _quiet()],
        evaluate,
    )

    def predict(model: str, data: str, fmt: str | None, output: str | None, batch_size: int, threads: int | str | None, quiet: bool, input_format: str | None, encoding: str, **options: Any) -> None:
        from seqtool import pipeline

        pipeline.predict(task, Path(model), data, options, output=output, fmt=fmt, batch_size=batch_size, input_format=input_format, encoding=encoding, quiet=quiet, threads=threads)

    command(
        "predict",
        "Apply a model to DATA (default: stdin), streaming results to stdout or -o.",
        [
            model_option,
            click.Argument(["data"], default="-", required=False),
            click.Option(["--format", "fmt"], help=f"Output format: jsonl, csv, tsv{''.join(', ' + w for w in task.writers)} (default: from -o's extension, else {task.output_format})."),
            click.Option(["-o", "--output"], type=click.Path(dir_okay=False), help="Write here (atomically) instead of stdout."),
            batch_option,
            _threads(),
            *_data_options(task),
            _quiet(),
        ],
        predict,
    )

    def demo(quiet: bool, **options: Any) -> None:
        from seqtool import pipeline

        pipeline.demo(task, defaults.merged(environment_settings()), options, quiet=quiet)

    group.add_command(tune_command(task))
    command("demo", "Train on the bundled sample data, evaluate, and show a few predictions.", [_quiet()], demo)
    return group

