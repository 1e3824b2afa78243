"""Model and training settings: core defaults < task defaults < --config file < command-line flags."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from seqtool.errors import UsageError


@dataclass(frozen=True)
class Settings:
    # the network
    cell: str = "lstm"
    hidden: int = 128
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    token_dropout: float = 0.0
    embedding_dim: int = 100
    pooling: str = "last"
    # training
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01
    patience: int = 3
    clip: float = 5.0
    seed: int = 0
    ensemble: int = 1
    device: str = "auto"

    def __post_init__(self) -> None:
        checks = {
            "cell": self.cell in ("rnn", "lstm", "gru"),
            "pooling": self.pooling in ("last", "mean", "max", "attention"),
            "hidden": self.hidden >= 1,
            "layers": self.layers >= 1,
            "embedding_dim": self.embedding_dim >= 1,
            "dropout": 0.0 <= self.dropout < 1.0,
            "token_dropout": 0.0 <= self.token_dropout < 1.0,
            "epochs": self.epochs >= 1,
            "batch_size": self.batch_size >= 1,
            "lr": self.lr > 0,
            "patience": self.patience >= 1,
            "clip": self.clip > 0,
            "ensemble": self.ensemble >= 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise UsageError(f"invalid setting {bad[0]}={getattr(self, bad[0])!r}; see --help for allowed values")

    def merged(self, overrides: Mapping[str, Any]) -> "Settings":
        """A copy with ``overrides`` applied; ``None`` values mean "not given" and are ignored."""
        known = {f.name for f in fields(self)}
        given = {_field_name(k): v for k, v in overrides.items() if v is not None}
        unknown = sorted(set(given) - known)
        if unknown:
            raise UsageError(f"unknown setting {unknown[0]!r}; known settings: {', '.join(sorted(known))}")
        return replace(self, **given)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


SETTING_NAMES = tuple(f.name for f in fields(Settings))


def load_config(path: Path) -> dict[str, Any]:
    """Settings and task options from a TOML file, keys as the long flags without dashes
    (``hidden = 256``, ``text-col = "review"``). Unknown keys are reported when applied."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise UsageError(f"{path}: cannot read the config file: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: not valid TOML: {error}") from None
    return {_field_name(key): value for key, value in data.items()}


def _field_name(key: str) -> str:
    return key.replace("-", "_")
