"""The command line: ``seqtool [plugins | run | info | plugin]``.

Only Click and the standard library are imported here, so ``seqtool --help``, ``seqtool
plugins`` and ``seqtool run --help`` stay fast; each command imports what it needs when it runs.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sys
from typing import Any

import click

from seqtool import __version__
from seqtool.console import guard_standard_streams
from seqtool.errors import EXIT_ERROR, Interrupted, SeqtoolError
from seqtool.plugins import blame, registry

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="seqtool", message="%(prog)s %(version)s")
def cli() -> None:
    """Train, evaluate and apply recurrent neural networks (RNN, LSTM, GRU) to sequence data.

    \b
    Examples:
      seqtool run                                  # the tasks installed
      seqtool run sentiment demo                   # train on bundled data, evaluate, predict
      seqtool run sentiment train reviews.csv -o sent.model
      cat lines.txt | seqtool run sentiment predict -m sent.model
      seqtool info sent.model                      # the model card

    Set SEQTOOL_DEBUG=1 to see tracebacks; SEQTOOL_LOAD_PLUGINS=a,b to load only those plugin
    distributions (empty: none).
    """


class TaskGroup(click.Group):
    """``seqtool run``: one subcommand per task, named from entry-point metadata; a task's plugin
    is imported only when that task is invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return registry().task_names()

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from seqtool.commands import task_group

        return task_group(registry().task(name))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Click would build every task's command (importing every plugin) for its one-line help.
        rows = []
        for name, entries in sorted(registry().entries().items()):
            problem = registry().conflict(name, entries)
            rows.append((name, problem or ", ".join(f"from {e.distribution} {e.version}" for e in entries)))
        with formatter.section("Tasks"):
            formatter.write_dl(rows or [("(none)", "no task plugins are installed or enabled")])


@cli.group(cls=TaskGroup, invoke_without_command=True)
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run a task: demo, train, evaluate or predict.

    \b
    Examples:
      seqtool run sentiment demo
      seqtool run protein-ss train train.csv --valid valid.csv -o ss.model
      seqtool run behaviour evaluate -m beh.model test.csv --json
      seqtool run finance-anomaly predict -m fa.model prices.csv -o scored.csv
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--check", is_flag=True, help="Also import each plugin and report any that fail to load.")
def plugins(as_json: bool, check: bool) -> None:
    """List installed plugins, their versions and tasks.

    Listing reads package metadata only; --check imports every plugin, which is how a plugin that
    fails to load or registers something invalid is found.

    \b
    Examples:
      seqtool plugins
      seqtool plugins --check --json
    """
    infos = registry().describe(check=check)
    if as_json:
        click.echo(json.dumps([info.__dict__ for info in infos], indent=2))
    else:
        from rich.table import Table

        from seqtool.console import stdout

        table = Table("plugin", "distribution", "version", "tasks", "problem", box=None)
        for info in infos:
            table.add_row(info.name, info.distribution, info.version, ", ".join(info.tasks), info.error or "")
        stdout().print(table if infos else "no plugins installed or enabled")
    if check and any(info.error for info in infos):  # a script or CI job can rely on --check
        raise click.exceptions.Exit(EXIT_ERROR)


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the whole card as JSON.")
def info(model: str, as_json: bool) -> None:
    """Show a model file's card: task, plugin and versions, settings, training, metrics.

    \b
    Example:
      seqtool info sent.model --json
    """
    from pathlib import Path

    from seqtool.report import print_card
    from seqtool.training.artefact import read_card

    card = read_card(Path(model))
    if as_json:
        click.echo(json.dumps(card, indent=2))
    else:
        print_card(card)


@cli.group()
def plugin() -> None:
    """Tools for plugin authors."""


@plugin.command("new")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Where to write the package (default: ./seqtool-NAME).")
def plugin_new(name: str, directory: str | None) -> None:
    """Write a ready-to-install plugin package with one task, NAME.

    The task is a working next-day temperature forecaster with sample data and tests, so a new
    plugin trains from the first minute. docs/plugins.md explains every part.

    \b
    Example:
      seqtool plugin new weather --dir ./seqtool-weather
      pip install -e ./seqtool-weather && seqtool run weather demo
    """
    from pathlib import Path

    from seqtool.scaffold import new_plugin

    target = new_plugin(name, Path(directory) if directory else None)
    click.echo(f"wrote {target}; next: pip install -e {target} && seqtool run {name} demo", err=True)


#: the exit code of a run stopped by SIGTERM (128 + 15, as shells report it)
EXIT_TERMINATED = 143
#: set when SIGTERM arrived: the run then stops as on Ctrl-C, and says which it was
_terminated = False


def main() -> None:
    """Console entry point: the process-wide set-up, then :func:`run_cli` on the arguments."""
    guard_standard_streams()
    signal.signal(signal.SIGTERM, _terminate)
    _exit(run_cli(sys.argv[1:]))


def run_cli(args: list[str]) -> int:
    """Run one command line and return its exit code: one line per error, 1 (2 for usage, 130 for
    Ctrl-C, 143 for SIGTERM), tracebacks only with SEQTOOL_DEBUG=1; ``| head`` ends quietly with 0.
    Touches no process-wide state but stdout after a broken pipe, so tests may call it in-process."""
    debug = os.environ.get("SEQTOOL_DEBUG") == "1"
    try:
        # Not cli.main(): Click would turn a broken pipe into exit 1, and an EOFError from the
        # code that runs (a truncated input) into "interrupted".
        with cli.make_context("seqtool", list(args)) as ctx:
            cli.invoke(ctx)
    except click.exceptions.Exit as done:
        return done.exit_code
    except (KeyboardInterrupt, click.Abort):
        return _stopped("")
    except Interrupted as error:
        if debug:
            raise
        return _stopped(str(error))
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except SeqtoolError as error:
        if debug:
            raise
        click.echo(f"seqtool: error: {error}", err=True)
        return error.exit_code
    except BrokenPipeError:
        _quiet_broken_pipe()
    except SystemExit as error:  # a plugin's sys.exit() while a verb runs
        culprit = blame(error)
        if culprit is None or debug:
            raise
        click.echo(f"seqtool: error: {culprit}", err=True)
        return EXIT_ERROR
    except Exception as error:  # a bug: one line, and how to see more
        if debug:
            raise
        culprit = blame(error)  # a plugin's bug is the plugin's, named with the way to switch it off
        if culprit:
            click.echo(f"seqtool: error: {culprit}", err=True)
            return EXIT_ERROR
        click.echo(f"seqtool: internal error: {type(error).__name__}: {error} (SEQTOOL_DEBUG=1 shows the traceback)", err=True)
        return EXIT_ERROR
    return 0


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM (``kill``, a scheduler ending a job) stops a run as Ctrl-C does: the same clean-up
    (no temporary file left, the checkpoint to resume from named) and one message."""
    global _terminated
    _terminated = True
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up short
    raise KeyboardInterrupt


def _stopped(detail: str) -> int:
    """Ctrl-C or SIGTERM: one line (``detail`` says what was kept) and the code shells expect."""
    if _terminated:
        click.echo(f"seqtool: terminated (SIGTERM){': ' + detail if detail else ''}", err=True)
        return EXIT_TERMINATED
    click.echo(f"seqtool: error: {detail}" if detail else "seqtool: interrupted", err=True)
    return Interrupted.exit_code


def _exit(code: int) -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    sys.exit(code)


def _quiet_broken_pipe() -> None:
    """The reader went away (``| head``): what is still buffered for stdout goes to /dev/null, so
    that Python's flush at exit does not complain; the run ends with 0."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
