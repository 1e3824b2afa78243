"""Trainer: the one training loop every task uses.

AdamW, gradient-norm clipping, length-bucketed batches, early stopping on a validation metric
with the best weights restored, learning-rate reduction on plateau, mixed precision on CUDA only.
The loop body is the plain PyTorch loop; benchmarks/trainer_overhead.py keeps it honest.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from seqtool.data.batching import Batch, bucket_batches, collate
from seqtool.errors import UsageError
from seqtool.nn.model import SequenceModel
from seqtool.settings import Settings
from seqtool.task import Example
from seqtool.train.metrics import Metrics
from seqtool.train.progress import Progress


@dataclass
class TrainingResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    best_metrics: dict[str, Any] = field(default_factory=dict)
    stopped_early: bool = False


def seed_everything(seed: int) -> None:
    """Same seed, same data, same machine: the same weights (CPU). Call before building a model."""
    torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda asked for, but this machine has no CUDA device; use --device cpu")
    return device


class Trainer:
    """Fits a :class:`SequenceModel` on encoded examples.

    ``monitor`` names the validation metric that decides early stopping and which weights are
    kept (``"loss"`` or any key the task's metrics return) and whether higher is better.
    """

    def __init__(
        self,
        model: SequenceModel,
        settings: Settings,
        *,
        monitor: tuple[str, str] = ("loss", "min"),
        metrics: Callable[[], Metrics] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.model = model
        self.settings = settings
        self.monitor, self.mode = monitor
        self.new_metrics = metrics
        self.progress = progress or Progress(quiet=True)
        self.device = resolve_device(settings.device)
        self.per_step = model.spec.output == "per_step"
        self.amp = self.device.type == "cuda"
        self.model.to(self.device)
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer, mode=self.mode, factor=0.5, patience=max(1, settings.patience // 2)
        )
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.generator = torch.Generator().manual_seed(settings.seed)

    def fit(self, train: Sequence[Example], valid: Sequence[Example]) -> TrainingResult:
        result = TrainingResult()
        best_score, best_state, stale = math.inf if self.mode == "min" else -math.inf, None, 0
        for epoch in range(1, self.settings.epochs + 1):
            started = time.perf_counter()
            train_loss = self.train_epoch(train, epoch)
            metrics = self.evaluate(valid) if valid else {"loss": train_loss}
            score = metrics.get(self.monitor)
            if score is None:
                raise UsageError(f"the task monitors {self.monitor!r}, which its metrics do not report")
            self.scheduler.step(score)
            record = {
                "epoch": epoch,
                "train_loss": train_loss,
                "valid": _scalars(metrics),
                "lr": self.optimizer.param_groups[0]["lr"],
                "seconds": round(time.perf_counter() - started, 3),
            }
            result.history.append(record)
            self.progress.epoch_done(record, self.monitor)
            if (score < best_score) if self.mode == "min" else (score > best_score):
                best_score, stale = score, 0
                best_state = copy.deepcopy(self.model.state_dict())
                result.best_epoch, result.best_metrics = epoch, metrics
            else:
                stale += 1
                if stale >= self.settings.patience:
                    result.stopped_early = True
                    break
        if best_state is not None:
            self.model.load_state_dict(best_state)
        return result

    def train_epoch(self, examples: Sequence[Example], epoch: int) -> float:
        self.model.train()
        batches = bucket_batches(examples, self.settings.batch_size, self.generator)
        total = torch.zeros((), device=self.device)
        with self.progress.task(f"epoch {epoch}/{self.settings.epochs}", len(batches)) as advance:
            for indices in batches:
                batch = collate([examples[i] for i in indices], self.per_step).to(self.device)
                total += self.step(batch).detach()
                advance()
        return total.item() / max(len(batches), 1)

    def step(self, batch: Batch) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(self.device.type, enabled=self.amp):
            loss = self.model.loss(self.model(batch.inputs, batch.lengths), batch)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss

    @torch.no_grad()
    def evaluate(self, examples: Sequence[Example]) -> dict[str, Any]:
        """Loss and the task's metrics on ``examples``, in eval mode."""
        self.model.eval()
        metrics = self.new_metrics() if self.new_metrics else None
        loss_sum, count = 0.0, 0
        generator = torch.Generator()  # batches are not shuffled, so any generator will do
        for indices in bucket_batches(examples, self.settings.batch_size, generator, shuffle=False):
            batch = collate([examples[i] for i in indices], self.per_step).to(self.device)
            outputs = self.model(batch.inputs, batch.lengths)
            loss_sum += self.model.loss(outputs, batch).item() * len(batch)
            count += len(batch)
            if metrics:
                metrics.update(outputs.float(), batch)
        return {"loss": loss_sum / max(count, 1), **(metrics.compute() if metrics else {})}


def _scalars(metrics: dict[str, Any]) -> dict[str, float]:
    """The numbers worth a line in the training history (not matrices or per-class tables)."""
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
