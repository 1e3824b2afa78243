"""Training checkpoints: everything needed to continue a run as if it had never stopped.

A checkpoint holds the model, optimiser and scheduler states, the random-number states, the epoch
and the early-stopping state. It is written atomically after every epoch by the main process and
loaded with ``torch.load(weights_only=True)``, which refuses anything but tensors and plain data.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Mapping

import torch

from seqtool.errors import UsageError
from seqtool.io.atomic import write_file
from seqtool.training import distributed

FILE = "checkpoint.pt"
#: the fingerprint's data paths, compared as the files they name
PATHS = ("data", "valid")


class Checkpointer:
    """Saves and restores the training state in ``directory``.

    ``fingerprint`` (task, data, settings) is stored with each checkpoint; resuming a different
    run from it is refused rather than silently producing a mixed model. Member ``k`` > 0 of an
    ensemble keeps its own ``checkpoint-k.pt`` next to the first member's ``checkpoint.pt``.
    """

    def __init__(self, directory: Path, fingerprint: Mapping[str, Any], member: int = 0) -> None:
        self.path = Path(directory) / (FILE if member == 0 else f"checkpoint-{member}.pt")
        self.fingerprint = json.dumps(_resolved(fingerprint), sort_keys=True)

    def exists(self) -> bool:
        return self.path.is_file()

    def save(self, state: Mapping[str, Any]) -> None:
        if not distributed.is_main():
            return
        buffer = io.BytesIO()  # written whole by write_file: a full disk is one line naming the file
        torch.save({**state, "fingerprint": self.fingerprint}, buffer)
        write_file(self.path, buffer.getvalue())

    def load(self) -> dict[str, Any]:
        if not self.path.is_file():
            raise UsageError(f"--resume: no checkpoint in {self.path.parent}; train once with --checkpoint-dir {self.path.parent}")
        try:
            state = torch.load(self.path, weights_only=True)
        except Exception as error:
            raise UsageError(f"{self.path}: not a readable seqtool checkpoint ({type(error).__name__}); delete it to start over") from None
        saved = state.pop("fingerprint", None)
        differences = _differences(json.loads(saved) if isinstance(saved, str) else {}, json.loads(self.fingerprint))
        if differences:
            raise UsageError(
                f"{self.path} belongs to a run with other data or settings ({'; '.join(differences)}); "
                "use a fresh --checkpoint-dir, or resume with the same command line"
            )
        return state


def _resolved(fingerprint: Mapping[str, Any]) -> dict[str, Any]:
    """``fingerprint`` with its data paths made absolute: ``./x.csv`` and ``x.csv`` are one file."""
    return {
        key: str(Path(value).resolve()) if key in PATHS and isinstance(value, str) and value != "-" else value
        for key, value in fingerprint.items()
    }


def _differences(saved: Mapping[str, Any], now: Mapping[str, Any], prefix: str = "") -> list[str]:
    """What differs between the run that wrote a checkpoint and this one, one phrase per value
    (``settings.lr: 0.001 then, 0.01 now``); older checkpoints' relative paths are resolved here."""
    saved = _resolved(saved) if not prefix else saved
    found = []
    for key in sorted(set(saved) | set(now)):
        then, current = saved.get(key), now.get(key)
        if isinstance(then, dict) and isinstance(current, dict):
            found += _differences(then, current, f"{prefix}{key}.")
        elif then != current:
            found.append(f"{prefix}{key}: {json.dumps(then)} then, {json.dumps(current)} now")
    return found
