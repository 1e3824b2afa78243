"""``seqtool run TASK tune``: the command's declaration only (Click and the standard library), so
``--help`` stays fast; the search is imported when the command runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from seqtool.task import Task

SUMMARY = "Search settings for DATA (grid, random or Bayesian) and write the best model to -o MODEL."
SHORT = "Search settings (grid, random or Bayesian); keep the best model."


def _help(task: Task) -> str:
    return f"""{SUMMARY}

    Each trial trains as `train` does and is scored on --valid, or on the examples the task holds
    out of DATA ({task.split} split): keep the data you will judge the model on out of both, or the
    search will have tuned on it. Each epoch's score goes to the pruner, which stops hopeless
    trials early; a trial whose model diverges stops at once.

    The search tries hidden size, layers, dropout, learning rate, batch size, cell and the other
    settings that shape this task's model, around its defaults. A --space TOML file changes that,
    keys named as train's long options: `hidden = {{low = 32, high = 512, log = true}}` (a range),
    `cell = ["lstm", "gru"]` (a choice; for --sampler grid, the grid), `epochs = 20` (fixed).

    The best trial's settings are written as TOML (--best-config) that `train --config` reads, and
    its model to -o with the search in its card. With --study the trials are kept in an SQLite
    file: Ctrl-C keeps the finished ones, and the same command continues the search.
    """


def tune_command(task: Task) -> click.Command:
    """The ``tune`` verb of ``seqtool run TASK``."""

    def tune(
        data: str, valid: str | None, output: Path, space: Path | None, trials: int | None, timeout: str | None, sampler: str, pruner: str,
        study: Path | None, jobs: int, metric: str | None, best_config: Path | None, quiet: bool, input_format: str | None, encoding: str,
        **options: Any,
    ) -> None:
        from seqtool.tuning.runner import tune as search

        given = {name: value for name, value in options.items() if value is not None}
        search(
            task, data, output, valid=valid, space=space, given=given, trials=trials, timeout=timeout, sampler=sampler, pruner=pruner,
            study=study, jobs=jobs, metric=metric, best_config=best_config, input_format=input_format, encoding=encoding, quiet=quiet,
        )

    monitor, mode = task.monitor
    params = [
        click.Argument(["data"]),
        click.Option(["--valid"], help="Validation data that scores the trials (default: the task's own hold-out of DATA)."),
        click.Option(["-o", "--output"], required=True, type=click.Path(dir_okay=False, path_type=Path), help="Where to write the best trial's model."),
        click.Option(["--trials"], type=click.IntRange(1), help="Stop when the study holds N finished trials, those of earlier runs included (default: 20; the whole grid for --sampler grid; no limit with --timeout)."),
        click.Option(["--timeout"], metavar="DURATION", help="Start no trial after this long: 90s, 30m, 2h."),
        click.Option(["--sampler"], type=click.Choice(["tpe", "random", "grid"]), default="tpe", show_default=True, help="tpe (Bayesian), random, or grid (the lists of --space)."),
        click.Option(["--pruner"], type=click.Choice(["median", "asha", "none"]), default="median", show_default=True, help="Stop trials worse than the median at the same epoch, or by successive halving (asha), or never."),
        click.Option(["--space"], type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TOML file of ranges, lists and fixed values that change the default search."),
        click.Option(["--study"], type=click.Path(dir_okay=False, path_type=Path), help="SQLite file that keeps the trials (and FILE.models, the best trial's model): an interrupted or finished search continues from it."),
        click.Option(["--jobs"], type=click.IntRange(1), default=1, show_default=True, help="Processes running trials side by side, sharing the study and the CPUs."),
        click.Option(["--metric"], metavar="NAME[:max|:min]", help=f"Validation metric to optimise (default: {monitor}, {'higher' if mode == 'max' else 'lower'} is better)."),
        click.Option(["--best-config"], type=click.Path(dir_okay=False, path_type=Path), help="Where to write the best settings as TOML (default: -o's path with .toml)."),
        click.Option(["--input-format"], metavar="FORMAT", help=f"Input format when the file extension does not tell (default: {task.input_format})."),
        click.Option(["--encoding"], default="utf-8", show_default=True, help="Text encoding of the input, e.g. latin-1."),
        click.Option(["-q", "--quiet"], is_flag=True, help="No progress on stderr."),
        *task.options_for("train"),
    ]
    epilog = "\b\nExamples:\n" + "\n".join(
        f"  {line}"
        for line in (
            f"seqtool run {task.name} tune train.csv --valid valid.csv -o best.model --trials 30 --study study.db",
            f"seqtool run {task.name} tune train.csv -o best.model --sampler grid --space grid.toml",
            f"seqtool run {task.name} train train.csv --config best.toml -o final.model",
        )
    )
    return click.Command("tune", params=params, callback=tune, help=_help(task), short_help=SHORT, epilog=epilog)
