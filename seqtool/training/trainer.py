"""Trainer: the one training loop every task uses.

AdamW, gradient-norm clipping, length-bucketed batches, early stopping on a validation metric
with the best weights restored, learning-rate reduction on plateau, mixed precision on CUDA only.
The loop body is the plain PyTorch loop; benchmarks/trainer_overhead.py keeps it honest.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch
from torch.utils.data import DistributedSampler

from seqtool.data.batching import bucket_batches, collate
from seqtool.engine import Engine
from seqtool.errors import SeqtoolError, UsageError
from seqtool.nn.model import SequenceModel
from seqtool.runtime import AutoThreads
from seqtool.settings import Settings
from seqtool.training import distributed
from seqtool.training.checkpoint import Checkpointer
from seqtool.training.progress import Progress
from seqtool.types import Batch, Example, Metrics


class DivergedError(SeqtoolError):
    """The training loss is no longer a finite number: the weights are lost, so the run stops."""


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
    kept (``"loss"`` or any key the task's metrics return) and whether higher is better. Under
    torchrun the model is wrapped in DistributedDataParallel and each process trains on its
    DistributedSampler shard; with a ``checkpointer`` the state is saved after every epoch and
    :meth:`fit` can resume from it.
    """

    def __init__(
        self,
        model: SequenceModel,
        settings: Settings,
        *,
        monitor: tuple[str, str] = ("loss", "min"),
        metrics: Callable[[], Metrics] | None = None,
        progress: Progress | None = None,
        checkpointer: Checkpointer | None = None,
    ) -> None:
        self.model = model
        self.settings = settings
        self.monitor, self.mode = monitor
        self.new_metrics = metrics
        self.progress = progress or Progress(quiet=True)
        self.checkpointer = checkpointer
        self.device = distributed.device_for_this_process(resolve_device(settings.device))
        self.per_step = model.spec.output == "per_step"
        self.amp = self.device.type == "cuda"
        self.model.to(self.device)
        self.forward: torch.nn.Module = model
        if distributed.world_size() > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.forward = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer, mode=self.mode, factor=0.5, patience=max(1, settings.patience // 2)
        )
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.generator = torch.Generator().manual_seed(settings.seed)
        self.auto_threads = AutoThreads(settings.threads, self.progress.say)  # follows other jobs starting and ending

    def fit(self, train: Sequence[Example], valid: Sequence[Example], *, resume: bool = False) -> TrainingResult:
        state = _EarlyStopping(self.mode)
        first_epoch = 1
        if resume and self.checkpointer:
            first_epoch = self._restore(self.checkpointer.load(), state) + 1
            self.progress.say(f"resuming after epoch {first_epoch - 1} from {self.checkpointer.path}")
        for epoch in range(first_epoch, self.settings.epochs + 1):
            if state.stale >= self.settings.patience:
                break
            started = time.perf_counter()
            train_loss = self.train_epoch(train, epoch)
            metrics = self.evaluate(valid) if valid else {}
            # Without a validation set the training loss decides; it is not reported as "valid".
            score = metrics.get(self.monitor) if valid else train_loss
            if score is None:
                raise UsageError(f"the task monitors {self.monitor!r}, which its metrics do not report")
            score = distributed.from_main(score)  # one decision for every process
            self.scheduler.step(score)
            record = {
                "epoch": epoch,
                "train_loss": train_loss,
                "valid": scalars(metrics),
                "lr": self.optimizer.param_groups[0]["lr"],
                "seconds": round(time.perf_counter() - started, 3),
            }
            self.progress.epoch_done(record, self.monitor)  # first: a search prunes a diverged trial there
            self._check_finite("training", train_loss, epoch)
            self._check_finite("validation", metrics.get("loss", 0.0), epoch)
            state.update(epoch, score, metrics, record, self.model)
            if self.checkpointer:
                self.checkpointer.save(self._snapshot(epoch, state))
        state.result.stopped_early = state.stale >= self.settings.patience
        if state.best_weights is not None:
            self.model.load_state_dict(state.best_weights)
        return state.result

    def _check_finite(self, which: str, loss: float, epoch: int) -> None:
        """A NaN or infinite loss means weights that never recover; saying so beats writing a
        model that predicts NaN. Both losses are already read as numbers, so this costs no extra
        device sync."""
        if not math.isfinite(loss):
            raise DivergedError(
                f"training diverged: the {which} loss of epoch {epoch} is {loss}, not a finite number; "
                f"lower --lr (now {self.settings.lr:g}), or look for extreme values in the data"
            )

    def train_epoch(self, examples: Sequence[Example], epoch: int) -> float:
        self.forward.train()
        shard = DistributedSampler(
            examples, num_replicas=distributed.world_size(), rank=distributed.rank(), shuffle=True, seed=self.settings.seed
        )
        shard.set_epoch(epoch)
        mine = list(shard)
        batches = bucket_batches([examples[i] for i in mine], self.settings.batch_size, self.generator)
        total = torch.zeros((), device=self.device)
        with self.progress.task(f"epoch {epoch}/{self.settings.epochs}", len(batches)) as advance:
            for indices in batches:
                batch = collate([examples[mine[i]] for i in indices], self.per_step).to(self.device)
                total += self.step(batch).detach()
                advance()
                self.auto_threads.check()
        return total.item() / max(len(batches), 1)

    def step(self, batch: Batch) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(self.device.type, enabled=self.amp):
            loss = self.model.loss(self.forward(batch.inputs, batch.lengths), batch)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss

    def evaluate(self, examples: Sequence[Example]) -> dict[str, Any]:
        return validate(self.model, examples, self.settings.batch_size, self.new_metrics)

    def _snapshot(self, epoch: int, state: "_EarlyStopping") -> dict[str, Any]:
        return {
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "early_stopping": state.as_dict(),
        }

    def _restore(self, snapshot: dict[str, Any], state: "_EarlyStopping") -> int:
        self.model.load_state_dict(snapshot["model"])
        self.optimizer.load_state_dict(snapshot["optimizer"])
        self.scheduler.load_state_dict(snapshot["scheduler"])
        self.scaler.load_state_dict(snapshot["scaler"])
        self.generator.set_state(snapshot["generator"])
        torch.set_rng_state(snapshot["torch_rng"])
        state.load(snapshot["early_stopping"])
        return int(snapshot["epoch"])


def validate(
    model: torch.nn.Module,
    examples: Sequence[Example],
    batch_size: int,
    new_metrics: Callable[[], Metrics] | None = None,
) -> dict[str, Any]:
    """Loss and the task's metrics on ``examples``, in eval mode, through the one engine. Under
    torchrun every process scores the whole validation set, so any metric a task defines needs no
    cross-process reduction."""
    metrics = new_metrics() if new_metrics else None
    loss_sum, count = 0.0, 0
    for batch, outputs in Engine(model, batch_size=batch_size).run(examples):
        loss_sum += model.loss(outputs, batch).item() * len(batch)
        count += len(batch)
        if metrics:
            metrics.update(outputs, batch)
    return {"loss": loss_sum / max(count, 1), **(metrics.compute() if metrics else {})}


class _EarlyStopping:
    """The best score so far, its weights, and how many epochs since it improved."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.best_score = math.inf if mode == "min" else -math.inf
        #: the validation loss of the best epoch, which breaks ties in the score
        self.best_loss = math.inf
        self.best_weights: dict[str, torch.Tensor] | None = None
        self.stale = 0
        self.result = TrainingResult()

    def update(self, epoch: int, score: float, metrics: dict[str, Any], record: dict[str, Any], model: torch.nn.Module) -> None:
        self.result.history.append(record)
        loss = metrics.get("loss", math.inf)
        better = (score < self.best_score) if self.mode == "min" else (score > self.best_score)
        # A tie (accuracy 1.0 from early on small data) goes to the lower validation loss: the
        # earliest of the tied epochs is the least trained and the least confident.
        if better or (score == self.best_score and loss < self.best_loss):
            self.best_score, self.best_loss, self.stale = score, loss, 0
            self.best_weights = copy.deepcopy(model.state_dict())
            self.result.best_epoch, self.result.best_metrics = epoch, metrics
        else:
            self.stale += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "best_score": self.best_score,
            "best_loss": self.best_loss,
            "best_weights": self.best_weights,
            "stale": self.stale,
            "history": self.result.history,
            "best_epoch": self.result.best_epoch,
            "best_metrics": json.dumps(self.result.best_metrics),
        }

    def load(self, saved: dict[str, Any]) -> None:
        self.best_score, self.best_weights, self.stale = saved["best_score"], saved["best_weights"], saved["stale"]
        self.best_loss = saved.get("best_loss", math.inf)  # checkpoints written before ties were broken
        self.result.history = saved["history"]
        self.result.best_epoch = saved["best_epoch"]
        self.result.best_metrics = json.loads(saved["best_metrics"])


def scalars(metrics: dict[str, Any]) -> dict[str, float]:
    """The numbers worth a line in the training history (not matrices or per-class tables)."""
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
