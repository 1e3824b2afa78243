"""What a search leaves: its trials summed up, the best trial's model written to ``-o`` with the
search in its card, and the best trial's settings as a TOML file ``train --config`` takes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from seqtool.errors import SeqtoolError
from seqtool.io.atomic import atomic_path
from seqtool.settings import SETTINGS
from seqtool.task import Task
from seqtool.training.artefact import load_model, save_model
from seqtool.tuning.search import Search
from seqtool.tuning.table import state_name
from seqtool.tuning.trial import trial_model

#: the trials a search counts towards --trials: a pruned trial was judged, a failed one was not
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass(frozen=True)
class TrialSummary:
    number: int
    #: complete, pruned, failed, running or waiting
    state: str
    #: the validation metric of its model (None unless complete)
    value: float | None
    #: the epochs it trained (a pruned trial's are fewer)
    epochs: int
    seconds: float | None
    params: dict[str, Any]

    @classmethod
    def of(cls, trial: FrozenTrial) -> "TrialSummary":
        seconds = round(trial.duration.total_seconds(), 2) if trial.duration else None
        return cls(trial.number, state_name(trial.state), trial.value, len(trial.intermediate_values), seconds, dict(trial.params))


@dataclass(frozen=True)
class SearchResult:
    """What :func:`seqtool.tune` returns: every trial of the study, the best one, and the files."""

    metric: str
    direction: str
    best: TrialSummary
    trials: list[TrialSummary]
    model: Path
    config: Path
    card: dict[str, Any]


def save_best(search: Search, task: Task, study: optuna.Study, output: Path, config: Path, seconds: float) -> SearchResult:
    """Write the best trial's settings to ``config`` and its model to ``output`` (atomically, the
    search recorded in its card under ``search``)."""
    trials = study.get_trials(deepcopy=False)
    if not any(t.state == TrialState.COMPLETE for t in trials):
        counts = ", ".join(f"{sum(t.state == s for t in trials)} {state_name(s)}" for s in (TrialState.PRUNED, TrialState.FAIL))
        raise SeqtoolError(f"no trial of the search finished ({counts}), so there is no best model; search longer (--trials, --timeout) or with --pruner none")
    best = study.best_trial
    write_config(config, task, search, best, sum(t.state in FINISHED for t in trials))
    model = trial_model(search.models, best.number)
    if not model.is_file():
        raise SeqtoolError(f"{model}: the model of the best trial ({best.number}) is gone; train it again: seqtool run {task.name} train DATA --config {config} -o {output}")
    card, adapter_state, weights = load_model(model)
    card["search"] = {
        "metric": search.metric,
        "direction": search.direction,
        "value": best.value,
        "best_trial": best.number,
        "trials": {state_name(state): sum(t.state == state for t in trials) for state in (*FINISHED, TrialState.FAIL)},
        "params": best.params,
        "space": search.space.as_dict(),
        "sampler": search.sampler,
        "pruner": search.pruner,
        "jobs": search.jobs,
        "seconds": round(seconds, 2),
    }
    save_model(output, weights, card, adapter_state)
    return SearchResult(search.metric, search.direction, TrialSummary.of(best), [TrialSummary.of(t) for t in trials], output, config, card)


def write_config(path: Path, task: Task, search: Search, best: FrozenTrial, trials: int) -> None:
    """The best trial's settings and task options, as the long option names ``train --config``
    reads; every setting that shapes the model or its training, so that the file alone makes it."""
    values = {
        name: value for name, value in best.user_attrs["settings"].items()
        if SETTINGS[name].applies_to(task) and SETTINGS[name].kind != "runtime" and name != "ensemble"
    }
    chosen = {**search.space.fixed, **best.params}
    values.update({name: value for name, value in chosen.items() if name not in SETTINGS and value is not None})
    lines = [
        f"# seqtool run {task.name} tune: the best of {trials} trials (trial {best.number}, validation {search.metric} {best.value:.4f}), on {search.data}",
        f"# seqtool run {task.name} train DATA --config {path.name} -o MODEL trains it again.",
    ]
    if task.defaults.get("ensemble", 1) > 1:
        lines.append(f"# ensemble is left to the task's default ({task.defaults['ensemble']} models): each trial trained one.")
    lines += [f"{name.replace('_', '-')} = {_toml(value)}" for name, value in values.items()]
    with atomic_path(path) as temporary:
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _toml(value: Any) -> str:
    """A bool, number or string as TOML writes it (JSON's string escapes are TOML's too)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)
