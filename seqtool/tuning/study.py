"""The Optuna study a search keeps its trials in: an SQLite file, created or resumed, and the
sampler and pruner each search process uses with it."""

from __future__ import annotations

import contextlib
import random
import warnings
from pathlib import Path
from typing import Any, Iterator, Mapping

import optuna
from sqlalchemy.exc import SQLAlchemyError

from seqtool.errors import UsageError
from seqtool.tuning.space import Space

#: one study per file: a file is one search, resumed by running the same command again
STUDY_NAME = "seqtool"
#: a trial whose process was killed stops beating; after twice this many seconds the next trial
#: to start marks it failed, so it no longer shows as running
HEARTBEAT_SECONDS = 30
#: how long a process waits for another's write to the file before giving up (SQLite locks it whole)
LOCK_TIMEOUT_SECONDS = 60

SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "asha", "none")


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna's own log lines off for the block: the search says what happens, in its own words,
    and a failed trial's error is the one line every seqtool error is, not a logged traceback."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def storage(path: Path) -> optuna.storages.RDBStorage:
    """The study file at ``path``, made when missing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # the heartbeat is, in some versions
            return optuna.storages.RDBStorage(
                f"sqlite:///{path.resolve()}",
                engine_kwargs={"connect_args": {"timeout": LOCK_TIMEOUT_SECONDS}},
                heartbeat_interval=HEARTBEAT_SECONDS,
            )
    except SQLAlchemyError as error:
        raise UsageError(f"{path}: not a study file seqtool can use ({error.__class__.__name__}: {getattr(error, 'orig', error)}); give another --study path") from None


def open_study(path: Path, direction: str, record: Mapping[str, Any], space: Space) -> optuna.Study:
    """The study in ``path``: a new one that records what it searches (``record`` and the space),
    or the one a previous run left there when it searches the same; else a one-line error."""
    study = optuna.create_study(study_name=STUDY_NAME, storage=storage(path), direction=direction, load_if_exists=True)
    recorded = study.user_attrs
    if not recorded:
        for key, value in {**record, "space": space.as_dict()}.items():
            study.set_user_attr(key, value)
        return study
    for key, value in record.items():
        if recorded.get(key) != value:
            raise UsageError(f"{path}: this study searched with {key} {recorded.get(key)!r}, not {value!r}; resume it with the same command, or give a new --study file")
    difference = space.difference(recorded.get("space", {}))
    if difference:
        raise UsageError(f"{path}: this study searched another space ({difference}); resume it with the same --space, or give a new --study file")
    return study


def load_study(path: Path, sampler: optuna.samplers.BaseSampler, pruner: optuna.pruners.BasePruner) -> optuna.Study:
    return optuna.load_study(study_name=STUDY_NAME, storage=storage(path), sampler=sampler, pruner=pruner)


def make_sampler(name: str, space: Space, seed: int, started_with: int, process: int) -> optuna.samplers.BaseSampler:
    """The sampler for one search process. A grid is shuffled alike in every process (they split
    it by trial number); the others are seeded per process and per run, so that neither two
    processes nor a resumed run draw the same settings again."""
    if name == "grid":
        return optuna.samplers.GridSampler(space.grid(), seed=seed)
    drawn = random.Random(f"{seed}/{started_with}/{process}").getrandbits(32)
    return optuna.samplers.RandomSampler(seed=drawn) if name == "random" else optuna.samplers.TPESampler(seed=drawn)


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    """median: stop a trial whose best score so far is worse than the median of the finished
    trials at the same epoch, from its second epoch on, once 5 trials have finished. asha:
    successive halving, judged at epochs 1, 3, 9...: a trial goes on while in the best third."""
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2)
    if name == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    return optuna.pruners.NopPruner()
