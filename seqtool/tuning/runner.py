"""A search from start to end: the study opened or resumed, trials run in one process or several
sharing it, Ctrl-C handled, and the best trial written out."""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import optuna
from optuna.trial import FrozenTrial, TrialState

from seqtool.errors import Interrupted, SeqtoolError, UsageError
from seqtool.io.atomic import check_folder, check_output
from seqtool.jobs import running_model
from seqtool.plugins import registry
from seqtool.runtime import resolve_threads, threads_message
from seqtool.settings import Settings, environment_settings
from seqtool.task import Task
from seqtool.training.progress import Progress
from seqtool.tuning.results import FINISHED, SearchResult, save_best
from seqtool.tuning.search import Search, duration_seconds, metric_and_direction
from seqtool.tuning.space import build_space
from seqtool.tuning.study import PRUNERS, SAMPLERS, load_study, make_pruner, make_sampler, open_study, quiet_optuna
from seqtool.tuning.table import live_table, trial_line
from seqtool.tuning.trial import run_trial, trial_model

#: trials when neither --trials nor --timeout says how long to search (a grid: the whole grid)
DEFAULT_TRIALS = 20
#: how long an interrupted search waits for its other processes to stop before ending them
STOP_SECONDS = 10


def tune(
    task: Task,
    data: str,
    output: Path,
    *,
    valid: str | None = None,
    space: Path | Mapping[str, Any] | None = None,
    given: Mapping[str, Any] | None = None,
    trials: int | None = None,
    timeout: str | float | None = None,
    sampler: str = "tpe",
    pruner: str = "median",
    study: Path | None = None,
    jobs: int = 1,
    metric: str | None = None,
    best_config: Path | None = None,
    input_format: str | None = None,
    encoding: str = "utf-8",
    quiet: bool = False,
) -> SearchResult:
    """Search settings for ``task`` on ``data`` (scored on ``valid``, or the task's own hold-out
    of ``data``), write the best model to ``output`` and its settings to ``best_config`` (default:
    ``output`` with a .toml suffix). ``study``: an SQLite file that keeps the trials, so that a run
    interrupted, or asked for more ``trials``, continues where the last one ended."""
    if sampler not in SAMPLERS or pruner not in PRUNERS:
        raise UsageError(f"sampler {sampler!r}, pruner {pruner!r}: samplers are {', '.join(SAMPLERS)}; pruners {', '.join(PRUNERS)}")
    if (trials is not None and trials < 1) or jobs < 1:
        raise UsageError(f"trials ({trials}) and jobs ({jobs}) must be at least 1")
    defaults = Settings().merged(task.defaults).merged(environment_settings())
    searched = build_space(task, defaults, space, given or {}, grid=sampler == "grid")
    name, direction = metric_and_direction(metric, task)
    with tempfile.TemporaryDirectory(prefix="seqtool-tune-") as scratch:
        search = Search(
            task=task.name, data=data, valid=valid, space=searched, metric=name, direction=direction, sampler=sampler, pruner=pruner,
            study=study or Path(scratch) / "study.db",
            models=Path(f"{study}.models") if study else Path(scratch) / "models",
            trials=trials if trials is not None else _default_trials(sampler, searched.grid() if sampler == "grid" else {}, timeout),
            timeout=duration_seconds(timeout), jobs=jobs, seed=searched.fixed.get("seed", defaults.seed),
            input_format=input_format, encoding=encoding, quiet=quiet,
        )
        config = best_config or output.with_suffix(".toml")
        for path in (output, config):  # before the search: it never ends on a path it cannot write
            check_output(path, inputs=[source for source in (data, valid) if source])
        check_folder(search.models)
        with quiet_optuna():
            return _run(search, task, output, config, searched.fixed.get("threads", defaults.threads), kept=study is not None)


def _default_trials(sampler: str, grid: dict[str, list[Any]], timeout: Any) -> int | None:
    if sampler == "grid":
        return math.prod(len(values) for values in grid.values())
    return None if timeout is not None else DEFAULT_TRIALS


def _run(search: Search, task: Task, output: Path, config: Path, threads: int | str, *, kept: bool) -> SearchResult:
    started = time.perf_counter()
    say = Progress(quiet=search.quiet).say
    record = {"task": task.name, "data": search.data, "valid": search.valid, "metric": f"{search.metric} ({search.direction})"}
    study = open_study(search.study, search.direction, record, search.space)
    finished = len(study.get_trials(deepcopy=False, states=FINISHED))
    remaining = None if search.trials is None else search.trials - finished
    interrupted = False
    if remaining is not None and remaining <= 0:
        say(f"{search.study}: the study has {finished} finished trials already (--trials {search.trials}); ask for more trials to search further")
    else:
        say(_plan(search, finished, remaining, threads, kept))
        try:
            _search(search, task, study, finished, remaining)
        except (KeyboardInterrupt, Interrupted):
            interrupted = True
    if interrupted and not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise Interrupted(f"search interrupted before any trial finished{_kept(search, kept)}")
    result = save_best(search, task, study, output, config, time.perf_counter() - started)
    best, judged = result.best, sum(t.state in ("complete", "pruned") for t in result.trials)
    say(f"saved {output} (trial {best.number}, the best of {judged}: valid {search.metric} {best.value:.4f}) and its settings in {config}")
    if interrupted:
        raise Interrupted(f"search interrupted; {output} holds the best model so far{_kept(search, kept)}")
    return result


def _kept(search: Search, kept: bool) -> str:
    if kept:
        return f"; the finished trials are kept in {search.study}: run the same command to continue"
    return "; --study FILE keeps trials across interruptions"


def _plan(search: Search, finished: int, remaining: int | None, threads: int | str, kept: bool) -> str:
    """The first line: how long and how it searches, and the threads each process trains with."""
    budget = f"{remaining} trial{'s' if remaining != 1 else ''}" if remaining is not None else "trials"
    limit = f" for at most {search.timeout:g} s" if search.timeout is not None else ""
    resumed = f", after the {finished} already in {search.study}" if finished else ""
    study = f"; trials kept in {search.study}" if kept and not finished else ""
    pruning = "no pruning" if search.pruner == "none" else f"{search.pruner} pruning"
    processes = f"{search.jobs} processes, each " if search.jobs > 1 else ""
    using = threads_message(threads, resolve_threads(threads, search.jobs), search.jobs)
    return f"tuning {search.task}: {budget}{limit}{resumed} ({search.sampler} sampler, {pruning}){study}; {processes}{using}"


def _search(search: Search, task: Task, study: optuna.Study, finished: int, remaining: int | None) -> None:
    """Run the trials: ``remaining`` of them split among the processes (no limit: None)."""
    processes = search.jobs if remaining is None else min(search.jobs, remaining)
    shares = [None if remaining is None else remaining // processes + (i < remaining % processes) for i in range(processes)]
    live = not search.quiet and sys.stderr.isatty()
    lines = not search.quiet and not live
    spawn = multiprocessing.get_context("spawn")  # a forked torch can deadlock; a spawned process starts clean
    others = [spawn.Process(target=_process, args=(search, i, shares[i], finished, lines)) for i in range(1, processes)]
    for process in others:
        process.start()
    try:
        with live_table(study, search.metric) if live else contextlib.nullcontext():
            _work(search, task, 0, shares[0], finished, lines=lines)
    except (KeyboardInterrupt, Interrupted):
        _stop(others, STOP_SECONDS)  # Ctrl-C on a terminal reached them too: let them end their trials
        raise
    except BaseException:
        _stop(others, 0)
        raise
    for process in others:
        process.join()
    failed = [i for i, process in enumerate(others, start=1) if process.exitcode != 0]
    if failed:
        raise SeqtoolError(f"search process{'es' if len(failed) > 1 else ''} {', '.join(map(str, failed))} stopped with an error (above)")


def _work(search: Search, task: Task, process: int, trials: int | None, finished: int, *, lines: bool) -> None:
    """One search process: run trials until ``trials`` are done, the time is up or the sampler
    has no more (a grid)."""
    sampler = make_sampler(search.sampler, search.space, search.seed, finished, process)
    study = load_study(search.study, sampler, make_pruner(search.pruner))
    callbacks = [_keep_best_model(search)] + ([trial_line(search.metric)] if lines else [])
    with running_model():  # one registration for all its trials: other seqtool jobs leave it its share of the CPUs
        study.optimize(lambda trial: run_trial(trial, search, task), n_trials=trials, timeout=search.timeout, callbacks=callbacks)


def _process(search: Search, process: int, trials: int | None, finished: int, lines: bool) -> None:
    """The body of each extra process: its errors as one line, as the command line shows them."""
    try:
        with quiet_optuna():
            _work(search, registry().task(search.task), process, trials, finished, lines=lines)
    except (KeyboardInterrupt, Interrupted):
        sys.exit(130)
    except SeqtoolError as error:
        print(f"seqtool: error: search process {process}: {error}", file=sys.stderr)
        sys.exit(error.exit_code)


def _stop(processes: list[Any], wait: float) -> None:
    """End the other processes, each given ``wait`` seconds to end by itself."""
    for process in processes:
        process.join(wait)
        if process.is_alive():
            process.terminate()
            process.join()


def _keep_best_model(search: Search) -> Callable[[optuna.Study, FrozenTrial], None]:
    """An Optuna callback that deletes the models of finished trials that are not the best, so
    that the search holds one model, not one per trial."""

    def callback(study: optuna.Study, trial: FrozenTrial) -> None:
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if not complete:
            return
        best = study.best_trial.number
        for other in complete:
            if other.number != best:
                trial_model(search.models, other.number).unlink(missing_ok=True)

    return callback
