"""The search's trials on stderr: a table kept up to date on a terminal, a line per finished trial
otherwise."""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Iterator

import optuna
from optuna.trial import FrozenTrial, TrialState

from seqtool.console import stderr

#: how the table orders trials below the complete ones (best first)
_ORDER = {TrialState.PRUNED: 1, TrialState.RUNNING: 2, TrialState.WAITING: 2, TrialState.FAIL: 3}
#: how often the table re-reads the study (every process's trials), per second
_REFRESH = 1.0


def state_name(state: TrialState) -> str:
    """complete, pruned, failed, running or waiting."""
    return "failed" if state == TrialState.FAIL else state.name.lower()


def trial_line(metric: str) -> Callable[[optuna.Study, FrozenTrial], None]:
    """An Optuna callback that prints one line per finished trial of this process."""

    def say(study: optuna.Study, trial: FrozenTrial) -> None:
        epochs = len(trial.intermediate_values)
        if trial.state == TrialState.COMPLETE:
            outcome = f"{metric} {trial.value:.4f} in {epochs} epoch{'s' if epochs != 1 else ''}"
        else:
            outcome = f"{state_name(trial.state)} after {epochs} epoch{'s' if epochs != 1 else ''}"
        seconds = f", {trial.duration.total_seconds():.1f} s" if trial.duration else ""
        print(f"trial {trial.number}: {outcome}{seconds} ({_params(trial)})", file=sys.stderr, flush=True)

    return say


@contextlib.contextmanager
def live_table(study: optuna.Study, metric: str) -> Iterator[None]:
    """For the block, a table of the study's trials on stderr, the best first, re-read from the
    study every second, so it shows what every search process has done."""
    from rich.live import Live

    with Live(get_renderable=lambda: trials_table(study, metric), console=stderr(), refresh_per_second=_REFRESH):
        yield


def trials_table(study: optuna.Study, metric: str) -> Any:
    from rich.table import Table

    trials = study.get_trials(deepcopy=False)
    names = list(dict.fromkeys(name for t in trials for name in t.params))
    headers = [name.replace("_", "-") for name in names]
    table = Table("trial", metric, "epochs", "seconds", "state", *headers, box=None, title="trials, the best first", title_justify="left")
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    for trial in sorted(trials, key=lambda t: (_ORDER.get(t.state, 0), -(t.value or 0) if maximize else t.value or 0, t.number)):
        seconds = f"{trial.duration.total_seconds():.1f}" if trial.duration else ""
        value = f"{trial.value:.4f}" if trial.value is not None else ""
        table.add_row(str(trial.number), value, str(len(trial.intermediate_values)), seconds, state_name(trial.state), *(_value(trial.params.get(n)) for n in names))
    return table


def _params(trial: FrozenTrial) -> str:
    return ", ".join(f"{name.replace('_', '-')} {_value(value)}" for name, value in trial.params.items())


def _value(value: Any) -> str:
    """As the space file writes it, floats to 3 digits: ``0.00125``, ``true``, ``gru``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:.3g}" if isinstance(value, float) else str(value)
