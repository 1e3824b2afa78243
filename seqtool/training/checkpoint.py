"""Training checkpoints: everything needed to continue a run as if it had never stopped.

A checkpoint holds the model, optimiser and scheduler states, the random-number states, the epoch
and the early-stopping state. It is written atomically after every epoch by the main process and
loaded with ``torch.load(weights_only=True)``, which refuses anything but tensors and plain data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import torch

from seqtool.errors import UsageError
from seqtool.io.atomic import atomic_path
from seqtool.training import distributed

FILE = "checkpoint.pt"


class Checkpointer:
    """Saves and restores the training state in ``directory``.

    ``fingerprint`` (task, data, settings) is stored with each checkpoint; resuming a different
    run from it is refused rather than silently producing a mixed model. Member ``k`` > 0 of an
    ensemble keeps its own ``checkpoint-k.pt`` next to the first member's ``checkpoint.pt``.
    """

    def __init__(self, directory: Path, fingerprint: Mapping[str, Any], member: int = 0) -> None:
        self.path = Path(directory) / (FILE if member == 0 else f"checkpoint-{member}.pt")
        self.fingerprint = json.dumps(fingerprint, sort_keys=True)

    def save(self, state: Mapping[str, Any]) -> None:
        if not distributed.is_main():
            return
        with atomic_path(self.path) as temporary:
            torch.save({**state, "fingerprint": self.fingerprint}, temporary)

    def load(self) -> dict[str, Any]:
        if not self.path.is_file():
            raise UsageError(f"--resume: no checkpoint in {self.path.parent}; train once with --checkpoint-dir {self.path.parent}")
        try:
            state = torch.load(self.path, weights_only=True)
        except Exception as error:
            raise UsageError(f"{self.path}: not a readable seqtool checkpoint ({type(error).__name__}); delete it to start over") from None
        if state.pop("fingerprint", None) != self.fingerprint:
            raise UsageError(
                f"{self.path} belongs to a run with other data or settings; use a fresh --checkpoint-dir, or resume "
                "with the same command line"
            )
        return state
