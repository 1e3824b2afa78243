"""What one search is asked to do, in plain values (its extra processes receive it pickled), and
the readers of the command line's words for it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from seqtool.data.times import parse_duration
from seqtool.errors import UsageError
from seqtool.task import Task
from seqtool.tuning.space import Space

Direction = Literal["minimize", "maximize"]



@dataclass(frozen=True)
class Search:
    task: str
    data: str
    valid: str | None
    space: Space
    #: the validation metric to optimise, and whether higher is better
    metric: str
    direction: Direction
    sampler: str
    pruner: str
    #: the SQLite file that keeps the trials
    study: Path
    #: where trials write their models (the best one is kept until the search ends)
    models: Path
    #: stop when the study holds this many finished (complete or pruned) trials; None: no limit
    trials: int | None
    #: stop starting trials after this many seconds; None: no limit
    timeout: float | None
    #: search processes sharing the study
    jobs: int
    #: seeds the samplers (and, as a setting, every trial's training)
    seed: int
    input_format: str | None = None
    encoding: str = "utf-8"
    quiet: bool = False


def metric_and_direction(text: str | None, task: Task) -> tuple[str, Direction]:
    """``--metric``: a name, with ``:max`` or ``:min`` unless it is the task's monitor or loss;
    by default the metric the task's early stopping watches."""
    name, _, wanted = (text or task.monitor[0]).partition(":")
    known = {task.monitor[0]: task.monitor[1], "loss": "min"}
    mode = wanted or known.get(name)
    if mode not in ("min", "max"):
        raise UsageError(f"--metric {text}: say whether higher or lower is better: --metric {name}:max or {name}:min")
    return name, "maximize" if mode == "max" else "minimize"


def duration_seconds(text: str | float | None) -> float | None:
    """``--timeout``: ``90s``, ``30m``, ``2h``, ``1d`` (:func:`~seqtool.data.times.parse_duration`),
    or seconds as a number from Python."""
    if text is None or isinstance(text, (int, float)):
        return None if text is None else float(text)
    try:
        return parse_duration(text).total_seconds()
    except ValueError as error:
        raise UsageError(f"--timeout: {error}") from None
