"""The model card: how a model was made, stored as JSON in the model file's header.

Typed here so that what a card holds is written down once; the file keeps its plain-JSON layout,
which ``seqtool info`` reads without torch.
"""

from __future__ import annotations

import json
import math
import platform
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from seqtool import __version__
from seqtool.training.trainer import TrainingResult, scalars


@dataclass
class MemberCard:
    """One member of the model: its seed and how its training went."""

    seed: int
    best_epoch: int
    stopped_early: bool
    metrics: dict[str, float]
    history: list[dict[str, Any]]

    @classmethod
    def of(cls, seed: int, result: TrainingResult) -> "MemberCard":
        return cls(seed, result.best_epoch, result.stopped_early, scalars(result.best_metrics), result.history)


@dataclass
class ModelCard:
    task: str
    plugin: str
    plugin_version: str
    settings: dict[str, Any]
    model_spec: dict[str, Any]
    #: the task options given at train, reused by evaluate and predict unless given again
    options: dict[str, Any]
    #: the training file's columns, key -> the column's name there
    columns: dict[str, str | None]
    parameters: int
    #: the files and how many examples trained and validated
    data: dict[str, Any]
    processes: int
    seconds: float
    members: list[MemberCard]
    #: the validation metrics (see seqtool.training.ensemble.ensemble_metrics)
    metrics: dict[str, Any]
    seqtool_version: str = __version__
    torch_version: str = ""
    python_version: str = field(default_factory=platform.python_version)
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @classmethod
    def from_dict(cls, card: dict[str, Any]) -> "ModelCard":
        """The card of a model file (the layout :meth:`to_dict` writes; the file's own keys,
        such as its format version, are left out)."""
        known = {f.name for f in fields(cls)} - {"seconds", "members"}
        training = card.get("training", {})
        members = [MemberCard(**member) for member in training.get("members", [])]
        return cls(**{k: v for k, v in card.items() if k in known}, seconds=training.get("seconds", 0.0), members=members)

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout of the file: members and seconds under ``training``."""
        card = asdict(self)
        card["training"] = {"seconds": card.pop("seconds"), "members": card.pop("members")}
        card["metrics"] = json_safe(card["metrics"])
        return card


def json_safe(value: Any) -> Any:
    """Metrics as plain JSON (tensors and numpy numbers become Python numbers, NaN and infinity
    become null: JSON has no word for them)."""
    return finite(json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v))))


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float inside it (dicts, lists, tuples) made None, so
    that JSON written from it is JSON; anything else is returned as it is."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite(item) for item in value]
    if isinstance(value, tuple):
        return tuple(finite(item) for item in value)
    return value
