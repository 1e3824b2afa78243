"""The members of a model: one or more SequenceModels trained from consecutive seeds, answering as
one :class:`~seqtool.nn.model.Ensemble` (a single model is an ensemble of one)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from seqtool.errors import Interrupted
from seqtool.nn.model import Ensemble, SequenceModel
from seqtool.settings import Settings
from seqtool.task import Adapter
from seqtool.training.checkpoint import Checkpointer
from seqtool.training.progress import Progress
from seqtool.training.trainer import Trainer, TrainingResult, scalars, seed_everything, validate
from seqtool.types import Example, ModelSpec

#: a member's seed -> its (training, validation) examples
Split = Callable[[int], tuple[Sequence[Example], Sequence[Example]]]


@dataclass
class TrainedMembers:
    model: Ensemble
    results: list[TrainingResult]
    #: the metric early stopping watched: the task's, or the training loss without validation data
    monitor: tuple[str, str]


def train_members(
    spec: ModelSpec,
    settings: Settings,
    adapter: Adapter,
    split: Split,
    *,
    monitor: tuple[str, str],
    progress: Progress,
    checkpoint_dir: Path | None = None,
    fingerprint: dict[str, Any] | None = None,
    resume: bool = False,
) -> TrainedMembers:
    """Train ``settings.ensemble`` members, member i from seed ``settings.seed + i`` on
    ``split(seed)``. Each checkpoints to its own file; ``resume`` continues from the member that
    was training (a later member that had not started starts afresh, and so does a run stopped
    before its first checkpoint, with a word)."""
    members, results = [], []
    watched = monitor
    for member in range(settings.ensemble):
        member_settings = settings.merged({"seed": settings.seed + member})
        train, valid = split(member_settings.seed)
        if settings.ensemble > 1:
            progress.say(f"member {member + 1} of {settings.ensemble} (seed {member_settings.seed})")
        seed_everything(member_settings.seed)
        model = SequenceModel(spec, member_settings)
        adapter.initialise(model)
        checkpointer = Checkpointer(checkpoint_dir, fingerprint or {}, member) if checkpoint_dir else None
        watched = monitor if valid else ("loss", "min")
        trainer = Trainer(model, member_settings, monitor=watched, metrics=adapter.metrics, progress=progress, checkpointer=checkpointer)
        resume_member = resume and checkpointer is not None and checkpointer.exists()
        if resume and member == 0 and not resume_member:  # killed before its first epoch ended
            progress.say(f"--resume: no checkpoint in {checkpoint_dir} yet, so training starts afresh")
        try:
            results.append(trainer.fit(train, valid, resume=resume_member))
        except KeyboardInterrupt:
            kept = (
                f"the checkpoint of the last finished epoch is in {checkpoint_dir}; add --resume to continue"
                if checkpoint_dir
                else "no model written (--checkpoint-dir keeps progress across interruptions)"
            )
            raise Interrupted(f"training interrupted: {kept}") from None
        members.append(model)
    ensemble = Ensemble(members)
    ensemble.eval()
    return TrainedMembers(ensemble, results, watched)


def ensemble_metrics(trained: TrainedMembers, shared_valid: Sequence[Example] | None, batch_size: int, new_metrics: Callable[[], Any]) -> dict[str, Any]:
    """The validation metrics the card reports: one member's best; the ensemble's on a shared
    validation file; otherwise (each member held out its own examples, so none is unseen by all)
    the members' own held-out scores, averaged."""
    results = trained.results
    if len(results) == 1:
        return results[0].best_metrics
    if shared_valid:
        return validate(trained.model, shared_valid, batch_size, new_metrics)
    return {name: sum(r.best_metrics[name] for r in results) / len(results) for name in scalars(results[0].best_metrics)}
