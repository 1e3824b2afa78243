"""The Python API: the CLI's verbs as functions.

    import seqtool

    seqtool.train("sentiment", "reviews.csv", "sent.model", valid="dev.csv", epochs=5)
    seqtool.tune("sentiment", "reviews.csv", "best.model", valid="dev.csv", trials=20, study="study.db")
    model = seqtool.load("sent.model")
    for result in model.predict([{"text": "a fine film"}, {"text": "dull"}]):
        print(result["label"], result["probability"])
    print(model.evaluate(records)["accuracy"], model.card.settings)

Both take a setting (``hidden``, ``epochs``...) or a task option (``text_col``...) as a keyword,
spelled as the long flag with underscores; the same rules and errors apply as on the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from seqtool.errors import UsageError
from seqtool.io.readers import input_format, read_records
from seqtool.model import Model
from seqtool.model import load as load_task_model
from seqtool.plugins import registry
from seqtool.settings import SETTING_NAMES, Settings, environment_settings
from seqtool.task import Task
from seqtool.training.artefact import read_card
from seqtool.training.card import ModelCard
from seqtool.types import Record

if TYPE_CHECKING:
    from seqtool.tuning.results import SearchResult


def load(path: str | Path, *, batch_size: int = 256, **options: Any) -> Model:
    """The model in ``path``, with its task found from its card; ``options`` override the task
    options it was trained with (``top_k=5``, say)."""
    task = registry().task(read_card(Path(path))["task"])
    _check_options(task, options, "predict")
    return load_task_model(task, Path(path), options, batch_size=batch_size)


def train(task: str, data: str | Path, output: str | Path, *, valid: str | Path | None = None, quiet: bool = True, **given: Any) -> ModelCard:
    """Train ``task`` on the file ``data`` as ``seqtool run TASK train`` does, write the model to
    ``output`` and return its card (:class:`~seqtool.training.card.ModelCard`: how the model was
    made, its validation metrics, each member's epochs)."""
    from seqtool import pipeline

    chosen = registry().task(task)
    settings = {k: v for k, v in given.items() if k in SETTING_NAMES}
    options = {k: v for k, v in given.items() if k not in SETTING_NAMES}
    _check_options(chosen, options, "train")
    merged = Settings().merged(chosen.defaults).merged(environment_settings()).merged(settings)
    return pipeline.train(chosen, str(data), str(valid) if valid else None, Path(output), merged, options, quiet=quiet)


def tune(
    task: str,
    data: str | Path,
    output: str | Path,
    *,
    valid: str | Path | None = None,
    space: str | Path | Mapping[str, Any] | None = None,
    trials: int | None = None,
    timeout: str | float | None = None,
    sampler: str = "tpe",
    pruner: str = "median",
    study: str | Path | None = None,
    jobs: int = 1,
    metric: str | None = None,
    best_config: str | Path | None = None,
    quiet: bool = True,
    **given: Any,
) -> "SearchResult":
    """Search settings for ``task`` as ``seqtool run TASK tune`` does: the best model to
    ``output``, its settings as TOML to ``best_config`` (default: ``output`` with .toml). ``space``
    is a TOML file or its dict (``{"hidden": {"low": 32, "high": 512, "log": True}}``); a setting
    or task option given as a keyword is fixed. Returns every trial, the best, and the files
    (:class:`~seqtool.tuning.results.SearchResult`)."""
    from seqtool.tuning.runner import tune as search

    return search(
        registry().task(task), str(data), Path(output), valid=str(valid) if valid else None,
        space=Path(space) if isinstance(space, (str, Path)) else space, given=given, trials=trials, timeout=timeout,
        sampler=sampler, pruner=pruner, study=Path(study) if study else None, jobs=jobs, metric=metric,
        best_config=Path(best_config) if best_config else None, quiet=quiet,
    )


def read(path: str | Path, *, format: str | None = None, encoding: str = "utf-8") -> Iterator[Record]:
    """The records of a file (csv, tsv, jsonl, lines or FASTA, by extension or ``format``; ``.gz``
    read transparently; ``-`` is stdin), lazily, as the command line reads them."""
    return read_records(str(path), input_format(str(path), format, "lines"), encoding=encoding)


def _check_options(task: Task, options: dict[str, Any], verb: str) -> None:
    known = {o.option.name for o in task.all_options() if verb in o.verbs}
    unknown = sorted(set(options) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        settings = "; or a setting: " + ", ".join(SETTING_NAMES) if verb == "train" else ""
        raise UsageError(f"{task.name} {verb}: unknown option {unknown[0]!r}; its options are: {allowed}{settings}")
