"""The search space: which settings and task options a search tries, over which values.

Every task gets a default space from its settings' declarations and its own defaults
(:func:`default_dimensions`). A TOML file (``--space``) changes it key by key, keys spelled as the
long options of ``train``::

    hidden = {low = 32, high = 512, log = true}   # a range (whole numbers for a whole-number setting)
    cell = ["lstm", "gru"]                        # a choice; with --sampler grid, one axis of the grid
    epochs = 20                                   # a fixed value: not searched

Light: Optuna is needed only by :meth:`Dimension.suggest`, which is handed the trial.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import click

from seqtool.errors import UsageError
from seqtool.settings import SETTINGS, Setting, Settings
from seqtool.task import Task

if TYPE_CHECKING:
    import optuna

#: the default search, around a task's own defaults. Sizes and rates: log-scaled, from the default
#: divided by the factor to the default times it (a good value is often a factor away, rarely
#: more). Others: a fixed range or choices, widened to hold the task's default.
_SCALED = {"hidden": 4, "embedding_dim": 2, "lr": 10, "batch_size": 2}
_RANGES = {"layers": (1, 3), "dropout": (0.0, 0.5)}
_CHOICES = {"cell": ("lstm", "gru"), "bidirectional": (False, True)}
#: what a range in the space file may say
_RANGE_KEYS = {"low", "high", "log"}


@dataclass(frozen=True)
class Dimension:
    """One searched key: a range from ``low`` to ``high`` (log-scaled or not; whole numbers when
    ``integer``) or a list of ``choices``."""

    name: str
    choices: tuple[Any, ...] = ()
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    integer: bool = False

    def suggest(self, trial: "optuna.Trial") -> Any:
        if self.choices:
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.integer:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def describe(self) -> Any:
        """As the space file writes it: a list, or ``{low, high, log}``."""
        if self.choices:
            return list(self.choices)
        number = int if self.integer else float
        return {"low": number(self.low), "high": number(self.high), "log": self.log}


@dataclass(frozen=True)
class Space:
    """The searched keys and the fixed ones (underscored names: ``batch_size``, ``text_col``)."""

    dimensions: dict[str, Dimension]
    fixed: dict[str, Any] = field(default_factory=dict)

    def grid(self) -> dict[str, list[Any]]:
        """Every searched key's choices, for grid search (a range is no grid)."""
        return {name: list(d.choices) for name, d in self.dimensions.items()}

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, for the model card and for the study's record of what it searches."""
        return {"search": {name: d.describe() for name, d in self.dimensions.items()}, "fixed": dict(self.fixed)}

    def difference(self, recorded: Mapping[str, Any]) -> str | None:
        """How ``recorded`` (an :meth:`as_dict` read back from JSON) differs from this space, for
        a message: the first key it searches or fixes otherwise; None when it is this space."""
        mine = json.loads(json.dumps(self.as_dict()))
        for part in ("search", "fixed"):
            before, now = recorded.get(part, {}), mine[part]
            for name in sorted(set(before) | set(now)):
                if before.get(name) != now.get(name):
                    return f"{_key(name)}: {json.dumps(before.get(name))} there, {json.dumps(now.get(name))} here"
        return None


def build_space(
    task: Task, defaults: Settings, source: Path | Mapping[str, Any] | None, given: Mapping[str, Any], *, grid: bool
) -> Space:
    """The space for ``task``: its default dimensions changed by ``source`` (a TOML file or its
    mapping), then ``given`` (command-line task options, Python keywords) fixed over both. A grid
    search takes only the lists of ``source``: ranges are no grid."""
    where = str(source) if isinstance(source, Path) else "space"
    entries = _read(source) if isinstance(source, Path) else dict(source or {})
    searched: dict[str, Dimension] = {}
    fixed: dict[str, Any] = {}
    for key, value in entries.items():
        entry = _entry(task, where, key, value)
        if isinstance(entry, Dimension):
            searched[entry.name] = entry
        else:
            fixed[_name(key)] = entry
    for key, value in given.items():
        fixed[_name(key)] = _entry(task, "arguments", key, value)
    if grid:
        ranges = [name for name, d in searched.items() if not d.choices]
        if ranges:
            raise UsageError(f"{where}: {_key(ranges[0])} is a range; --sampler grid needs a list of values, e.g. {_key(ranges[0])} = [..., ...]")
        if not searched:
            raise UsageError('--sampler grid searches the lists of a --space file; give one, e.g. hidden = [64, 128] and cell = ["lstm", "gru"]')
        dimensions = searched
    else:
        dimensions = {**default_dimensions(task, defaults), **searched}
    for name in fixed:
        dimensions.pop(name, None)
    return Space(dimensions, fixed)


def default_dimensions(task: Task, defaults: Settings) -> dict[str, Dimension]:
    """The settings every search tries unless told otherwise, around the task's defaults; only
    those the task offers (no embedding size for numeric input, no backward reading when causal)."""
    found = {}
    for name, spec in SETTINGS.items():
        if not spec.applies_to(task):
            continue
        default = getattr(defaults, name)
        if name in _SCALED:
            low, high = _clipped(spec, default / _SCALED[name], default * _SCALED[name])
            found[name] = Dimension(name, low=low, high=high, log=True, integer=spec.type is int)
        elif name in _RANGES:
            low, high = _RANGES[name]
            found[name] = Dimension(name, low=min(low, default), high=max(high, default), integer=spec.type is int)
        elif name in _CHOICES:
            choices = _CHOICES[name] if default in _CHOICES[name] else (*_CHOICES[name], default)
            found[name] = Dimension(name, choices=choices)
    return found


def _clipped(spec: Setting, low: float, high: float) -> tuple[float, float]:
    """``low`` and ``high`` inside what ``spec`` allows, rounded: whole numbers for a whole-number
    setting, else three significant digits (3e-4, not 0.00030000000000000003)."""
    if spec.type is int:
        low, high = max(1, round(low)), max(1, round(high))
    else:
        low, high = float(f"{low:.3g}"), float(f"{high:.3g}")
    if spec.low is not None:
        low = max(low, spec.low)
    if spec.high is not None:
        high = min(high, spec.high)
    return low, high


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise UsageError(f"{path}: cannot read the space file: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: not valid TOML: {error}") from None


def _entry(task: Task, where: str, key: str, value: Any) -> Dimension | Any:
    """One key of the space: a :class:`Dimension` for a range or a list, else the checked fixed value."""
    name = _name(key)
    target = _target(task, where, name)
    if name == "ensemble" and value != 1:
        raise UsageError(f"{where}: ensemble: each trial trains one model; train the best settings with --ensemble N afterwards")
    searched = isinstance(value, (dict, list))
    if searched and isinstance(target, Setting) and target.kind == "runtime":
        raise UsageError(f"{where}: {_key(name)} is where training runs, not what it learns, so it is not searched; give one value")
    if isinstance(value, dict):
        return _range(target, where, name, value)
    if isinstance(value, list):
        if not value:
            raise UsageError(f"{where}: {_key(name)} = []: list at least one value")
        return Dimension(name, choices=tuple(_checked(target, where, name, v) for v in value))
    return _checked(target, where, name, value)


def _range(target: Setting | click.Option, where: str, name: str, value: dict[str, Any]) -> Dimension:
    unknown = sorted(set(value) - _RANGE_KEYS)
    if unknown or "low" not in value or "high" not in value:
        problem = f"unknown key {unknown[0]!r}" if unknown else "a range needs low and high"
        raise UsageError(f"{where}: {_key(name)}: {problem}; write {_key(name)} = {{low = ..., high = ..., log = true}} or a list")
    kind = _number_type(target)
    if kind is None:
        raise UsageError(f"{where}: {_key(name)} is not a number, so it has no range; list its values instead")
    low, high = (_checked(target, where, name, value[end]) for end in ("low", "high"))
    log = value.get("log", False)
    if not isinstance(log, bool):
        raise UsageError(f"{where}: {_key(name)}: log = {json.dumps(log)}: expected true or false")
    if not low < high:
        raise UsageError(f"{where}: {_key(name)}: low ({low}) must be below high ({high})")
    if log and low <= 0:
        raise UsageError(f"{where}: {_key(name)}: a log-scaled range must start above 0, not at {low}")
    return Dimension(name, low=low, high=high, log=log, integer=kind is int)


def _target(task: Task, where: str, name: str) -> Setting | click.Option:
    """The setting or ``train`` option of ``task`` called ``name``."""
    spec = SETTINGS.get(name)
    if spec is not None:
        if not spec.applies_to(task):
            raise UsageError(f"{where}: {_key(name)} does not apply to task {task.name}; remove it")
        return spec
    for declared in task.all_options():
        if "train" in declared.verbs and declared.option.name == name:
            return declared.option
    raise UsageError(f"{where}: unknown key {_key(name)!r}; keys are the long option names of `seqtool run {task.name} train --help`")


def _checked(target: Setting | click.Option, where: str, name: str, value: Any) -> Any:
    """``value`` when the setting or option accepts it; else a one-line error saying what it takes."""
    if isinstance(target, Setting):
        if not target.accepts(value):
            raise UsageError(f"{where}: {_key(name)} = {json.dumps(value)}: expected {target.allowed()}")
        return float(value) if target.type is float else value
    try:
        return target.type.convert(value, target, None)
    except click.BadParameter as error:
        raise UsageError(f"{where}: {_key(name)} = {json.dumps(value)}: {error.message}") from None


def _number_type(target: Setting | click.Option) -> type | None:
    if isinstance(target, Setting):
        return target.type if target.type in (int, float) and not target.words else None
    if isinstance(target.type, click.types.IntParamType):
        return int
    if isinstance(target.type, click.types.FloatParamType):
        return float
    return None


def _name(key: str) -> str:
    return key.replace("-", "_")


def _key(name: str) -> str:
    """A name as the files and flags spell it: ``batch-size``."""
    return name.replace("_", "-")
