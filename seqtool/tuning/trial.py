"""One trial: the settings Optuna suggests, trained by :func:`seqtool.pipeline.train` (the code
``train`` runs, with the task's own validation split), its validation score reported each epoch."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import optuna

from seqtool import pipeline
from seqtool.errors import UsageError
from seqtool.settings import SETTINGS, Settings, environment_settings
from seqtool.task import Task
from seqtool.training.progress import Progress
from seqtool.tuning.search import Search


def trial_model(models: Path, number: int) -> Path:
    """Where trial ``number`` writes its model."""
    return models / f"trial-{number}.model"


def run_trial(trial: optuna.Trial, search: Search, task: Task) -> float:
    """Train with the trial's settings; the model's validation ``search.metric`` is its value."""
    chosen = {**search.space.fixed, **{name: d.suggest(trial) for name, d in search.space.dimensions.items()}}
    chosen_settings = {name: value for name, value in chosen.items() if name in SETTINGS}
    # one model per trial: an ensemble's members would each report epochs 1, 2... to the pruner
    settings = Settings().merged(task.defaults).merged(environment_settings()).merged(chosen_settings).merged({"ensemble": 1})
    options = {name: value for name, value in chosen.items() if name not in SETTINGS}
    trial.set_user_attr("settings", settings.as_dict())  # the best trial's --config file is written from these
    card = pipeline.train(
        task, search.data, search.valid, trial_model(search.models, trial.number), settings, options,
        input_format=search.input_format, encoding=search.encoding, quiet=True, progress=EpochReporter(trial, search.metric),
    )
    return card.metrics[search.metric]


class EpochReporter(Progress):
    """The trainer's word after each epoch (it tells its :class:`Progress`), passed on to Optuna:
    the epoch's validation score is reported, and the trial stops here, pruned, when the pruner
    says so or the model has diverged. Says nothing on stderr: the search reports trials."""

    def __init__(self, trial: optuna.Trial, metric: str) -> None:
        super().__init__(quiet=True)
        self.trial = trial
        self.metric = metric

    def epoch_done(self, record: dict[str, Any], monitor: str) -> None:
        epoch, valid = record["epoch"], record["valid"]
        if not valid:
            raise UsageError("tuning scores each trial on validation examples, and none were held out of this data; give --valid FILE")
        if self.metric not in valid:
            raise UsageError(f"--metric {self.metric}: the task's validation reports {', '.join(valid)}")
        score = valid[self.metric]
        self.trial.report(score, epoch)
        if not (math.isfinite(valid["loss"]) and math.isfinite(score)):
            raise optuna.TrialPruned(f"diverged at epoch {epoch} (validation loss {valid['loss']})")
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {epoch}")
