"""Model and training settings: core defaults < task defaults < --config file < command-line flags.

Each setting is declared once, on its :class:`Settings` field: type (the annotation; a ``Literal``
lists the choices), default, allowed range, help text, kind and the tasks it applies to. From that
one declaration come the command-line options (``seqtool.commands``), the checks in
:meth:`Settings.__post_init__` and the type checks of :func:`load_config`; :data:`SETTINGS` holds
it as one :class:`Setting` per name. A setting may also declare an environment variable
(``SEQTOOL_THREADS``), which sits between the defaults and the --config file.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Mapping, Union, get_args, get_origin, get_type_hints

from seqtool.errors import UsageError

Kind = Literal["model", "training", "runtime"]
"""``model``: shapes the network (changing it changes what is learnt); ``training``: how it is
learnt; ``runtime``: where it runs (never changes the result)."""

Cell = Literal["lstm", "gru", "rnn"]
Pooling = Literal["last", "mean", "max", "attention"]
Threads = Union[int, Literal["auto"]]

#: Task declarations (see :class:`seqtool.task.Task`) a setting needs to mean anything
TOKEN_INPUT: Mapping[str, Any] = MappingProxyType({"input": "tokens"})
POOLED_OUTPUT: Mapping[str, Any] = MappingProxyType({"output": "pooled"})
NOT_CAUSAL: Mapping[str, Any] = MappingProxyType({"causal": False})


@dataclass(frozen=True)
class Setting:
    """What one setting is and allows. Built from a :class:`Settings` field; read, not written."""

    name: str
    type: type  # bool, int, float or str
    default: Any
    kind: Kind
    help: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    #: the task declarations this setting needs, e.g. ``{"input": "tokens"}``; other tasks do not offer it
    requires: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: a bool setting's off switch on the command line (``--unidirectional``); default ``no-NAME``
    negative: str | None = None
    #: words a number setting also accepts (``auto``), from a ``Union[int, Literal[...]]`` annotation
    words: tuple[str, ...] = ()
    #: the environment variable that sets it (below --config and flags, above the defaults)
    env: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def negative_flag(self) -> str:
        return "--" + (self.negative or "no-" + self.name.replace("_", "-"))

    def applies_to(self, task: Any) -> bool:
        """Whether ``task`` (a :class:`seqtool.task.Task`) offers this setting."""
        return all(getattr(task, key) == wanted for key, wanted in self.requires.items())

    def allowed(self) -> str:
        """What the setting accepts, for messages: ``a whole number >= 1``, ``true or false``..."""
        if self.type is bool:
            return "true or false"
        if self.choices:
            return "one of " + ", ".join(json.dumps(c) for c in self.choices)
        noun = {int: "a whole number", float: "a number", str: "a string"}[self.type]
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.low_open else '>='} {_number(self.low)}")
        if self.high is not None:
            bounds.append(f"{'<' if self.high_open else '<='} {_number(self.high)}")
        words = "".join(f"{json.dumps(w)} or " for w in self.words)
        return f"{words}{noun} {' and '.join(bounds)}".strip()

    def accepts(self, value: Any) -> bool:
        """Type and range. Ints are accepted for a float setting; bools are not numbers here."""
        if self.type is bool:
            return isinstance(value, bool)
        if self.words and isinstance(value, str):
            return value in self.words
        if self.type is str:
            return isinstance(value, str) and (not self.choices or value in self.choices)
        if isinstance(value, bool) or not isinstance(value, (int, float) if self.type is float else int):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        if self.high is not None and (value >= self.high if self.high_open else value > self.high):
            return False
        return True

    def parse(self, text: str) -> Any:
        """A value from text (an environment variable, a command-line word), checked; raises
        ValueError saying what is allowed."""
        text = text.strip()
        value: Any = text
        try:
            if text in self.words or self.type is str:
                value = text
            elif self.type is bool:
                value = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}[text.lower()]
            else:
                value = self.type(text)
        except (KeyError, ValueError):
            pass
        if not self.accepts(value):
            raise ValueError(f"expected {self.allowed()}")
        return value


def setting(
    default: Any,
    kind: Kind,
    help: str,
    *,
    at_least: float | None = None,
    above: float | None = None,
    at_most: float | None = None,
    below: float | None = None,
    requires: Mapping[str, Any] = MappingProxyType({}),
    negative: str | None = None,
    env: str | None = None,
) -> Any:
    """Declare a :class:`Settings` field: its default, kind, help, range, the tasks it needs and
    the environment variable that sets it, if any."""
    declared = {
        "kind": kind,
        "help": help,
        "low": above if above is not None else at_least,
        "low_open": above is not None,
        "high": below if below is not None else at_most,
        "high_open": below is not None,
        "requires": MappingProxyType(dict(requires)),
        "negative": negative,
        "env": env,
    }
    return field(default=default, metadata={"setting": declared})


@dataclass(frozen=True)
class Settings:
    # the network
    cell: Cell = setting("lstm", "model", "Recurrent cell.")
    hidden: int = setting(128, "model", "Hidden units per direction and layer.", at_least=1)
    layers: int = setting(1, "model", "Stacked recurrent layers.", at_least=1)
    bidirectional: bool = setting(False, "model", "Read sequences in both directions or forward only.", requires=NOT_CAUSAL, negative="unidirectional")
    dropout: float = setting(0.0, "model", "Dropout on inputs, between layers and before the head.", at_least=0, below=1)
    token_dropout: float = setting(0.0, "model", "While training, replace this share of tokens by <unk>, so the model does not lean on single words.", at_least=0, below=1, requires=TOKEN_INPUT)
    embedding_dim: int = setting(100, "model", "Embedding size.", at_least=1, requires=TOKEN_INPUT)
    pooling: Pooling = setting("last", "model", "How a sequence becomes one vector.", requires=POOLED_OUTPUT)
    # training
    epochs: int = setting(10, "training", "Most epochs to train.", at_least=1)
    batch_size: int = setting(32, "training", "Sequences per batch.", at_least=1)
    lr: float = setting(1e-3, "training", "AdamW learning rate.", above=0)
    weight_decay: float = setting(0.01, "training", "AdamW weight decay.", at_least=0)
    patience: int = setting(3, "training", "Stop after this many epochs without a better validation metric.", at_least=1)
    clip: float = setting(5.0, "training", "Gradient-norm clipping.", above=0)
    seed: int = setting(0, "training", "Random seed: the same seed and data give the same model.")
    ensemble: int = setting(1, "training", "Train this many models from seeds seed, seed+1, ... and average their predictions (N times the training time).", at_least=1)
    # where it runs (checked against the machine when training starts)
    device: str = setting("auto", "runtime", "auto (CUDA when present), cpu, cuda or cuda:N.")
    threads: Threads = setting(
        "auto", "runtime",
        "Torch threads per process: N, or auto (OMP_NUM_THREADS when set, else the CPUs this process may use after affinity and any cgroup quota, shared among the seqtool processes running a model on this machine, torchrun's included, and re-shared as they start and end). Also SEQTOOL_THREADS.",
        at_least=1, env="SEQTOOL_THREADS",
    )

    def __post_init__(self) -> None:
        for name, spec in SETTINGS.items():
            value = getattr(self, name)
            if not spec.accepts(value):
                raise UsageError(f"setting {name} = {_show(value)}: expected {spec.allowed()}; change {spec.flag}")
            if spec.type is float and not isinstance(value, (float, str)):
                object.__setattr__(self, name, float(value))

    def merged(self, overrides: Mapping[str, Any]) -> "Settings":
        """A copy with ``overrides`` applied; ``None`` values mean "not given" and are ignored."""
        given = {_field_name(k): v for k, v in overrides.items() if v is not None}
        unknown = sorted(set(given) - set(SETTINGS))
        if unknown:
            raise UsageError(f"unknown setting {unknown[0]!r}; known settings: {', '.join(sorted(SETTINGS))}")
        return replace(self, **given)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _declarations() -> dict[str, Setting]:
    hints = get_type_hints(Settings)
    table = {}
    for f in fields(Settings):
        hint = hints[f.name]
        choices = get_args(hint) if get_origin(hint) is Literal else ()
        words: tuple[str, ...] = ()
        if get_origin(hint) is Union:  # a number or a word: Union[int, Literal["auto"]]
            literals = [a for a in get_args(hint) if get_origin(a) is Literal]
            words = tuple(w for a in literals for w in get_args(a))
            (hint,) = [a for a in get_args(hint) if get_origin(a) is not Literal]
        table[f.name] = Setting(name=f.name, type=str if choices else hint, default=f.default, choices=choices, words=words, **f.metadata["setting"])
    return table


#: every setting's declaration, in the order of the fields (network, training, runtime)
SETTINGS: Mapping[str, Setting] = MappingProxyType(_declarations())
SETTING_NAMES = tuple(SETTINGS)


def environment_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings given by environment variables (``SEQTOOL_THREADS=2``), checked; an empty
    variable counts as not set."""
    environ = os.environ if environ is None else environ
    values = {}
    for name, spec in SETTINGS.items():
        text = environ.get(spec.env or "", "").strip() if spec.env else ""
        if not text:
            continue
        try:
            values[name] = spec.parse(text)
        except ValueError as error:
            raise UsageError(f"{spec.env}={text}: {error}") from None
    return values


def load_config(path: Path) -> dict[str, Any]:
    """Settings and task options from a TOML file, keys as the long flags without dashes
    (``hidden = 256``, ``text-col = "review"``). Settings are checked here against their
    declarations (``bidirectional = "no"`` is refused, not read as true); task options and
    unknown keys pass through, to be checked against the task when applied."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise UsageError(f"{path}: cannot read the config file: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: not valid TOML: {error}") from None
    values = {}
    for key, value in data.items():
        name = _field_name(key)
        spec = SETTINGS.get(name)
        if spec is not None and not spec.accepts(value):
            raise UsageError(f"{path}: {key} = {_show(value)}: expected {spec.allowed()}")
        values[name] = value
    return values


def _field_name(key: str) -> str:
    return key.replace("-", "_")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _show(value: Any) -> str:
    """A value as TOML writes it (``"no"``, ``true``, ``1.5``, ``inf``), for messages."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)
