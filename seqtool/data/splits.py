"""Holding out validation examples when the user gives no ``--valid`` file.

Three ways, because one does not fit every task:

* ``random``: a seeded random fraction of the examples. Right for independent texts or
  proteins, where no example shares steps with another; the behaviour seqtool always had.
* ``temporal``: the latest examples of each series validate. For series and event logs, whose
  examples are overlapping sliding windows: a random choice would validate on steps the model
  trained on, and on the past of what it trained on. Follows scikit-learn's ``TimeSeriesSplit``
  with a ``gap``: training windows that reach into the validation steps are purged.
* ``group``: whole groups validate, so one user's (or symbol's, or file's) windows are all on
  one side. Follows scikit-learn's ``GroupShuffleSplit``, except that the fraction is counted
  in examples rather than in groups, so one big group cannot take most of the data.

Every split returns ``(train, valid)``, each in the input order of the examples.
"""

from __future__ import annotations

from typing import Hashable, Literal, Sequence, get_args

import torch

from seqtool.errors import UsageError
from seqtool.types import Example

Split = Literal["random", "temporal", "group"]

#: fewer examples than this and the random split holds none out: too few to spare any
MIN_RANDOM_HOLD_OUT = 20


def hold_out(examples: Sequence[Example], how: Split, *, fraction: float = 0.1, seed: int = 0) -> tuple[list[Example], list[Example]]:
    """Split ``examples`` into ``(train, valid)`` the way ``how`` names; see the module docstring.

    ``valid`` may be empty (too little data, too few groups, series too short): the caller then
    trains without validation. A temporal split drops the purged examples from both sides.
    """
    if how not in get_args(Split):
        raise UsageError(f"unknown validation split {how!r}; choose one of {', '.join(get_args(Split))}")
    if not 0 < fraction < 1:
        raise UsageError(f"the validation fraction must be between 0 and 1, not {fraction}")
    if how == "random":
        valid = _random(len(examples), fraction, seed)
        train = set(range(len(examples))) - valid
    elif how == "temporal":
        train, valid = _temporal(examples, fraction)
    else:
        valid = _group(examples, fraction, seed)
        train = set(range(len(examples))) - valid
    # by index, never `in` on examples: Example equality compares tensors
    return [e for i, e in enumerate(examples) if i in train], [e for i, e in enumerate(examples) if i in valid]


def _random(n: int, fraction: float, seed: int) -> set[int]:
    """The indices that validate; the same choice as seqtool's original ``_hold_out`` for a seed."""
    if n < MIN_RANDOM_HOLD_OUT:
        return set()
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    return set(order[: max(1, int(n * fraction))])


def _temporal(examples: Sequence[Example], fraction: float) -> tuple[set[int], set[int]]:
    """(train, valid) indices: per group, the last ``fraction`` of its examples (by the position
    they end at) validate; the training examples reaching into them are purged."""
    if all(e.span is None for e in examples):
        raise UsageError("this task's examples carry no positions (span), so a temporal split cannot be made; use split random")
    groups: dict[Hashable, list[int]] = {}
    train: set[int] = set()
    for i, e in enumerate(examples):
        if e.span is None:
            train.add(i)  # cannot be placed in its series, so it can not be validated on either
        else:
            groups.setdefault(e.group, []).append(i)  # group None is one group, like any other key
    valid: set[int] = set()
    for members in groups.values():
        spans = {i: examples[i].span for i in members}
        # the group's last `fraction` of examples by where they end (at least one) validate: a
        # cut in examples, not positions, so windows longer than the tail still give validation
        ends = sorted(end for _, end in spans.values())
        cut = ends[-max(1, round(len(ends) * fraction))]
        held = {i for i, (_, end) in spans.items() if end >= cut}
        # purge: a training example must end before the earliest validation step, or it would
        # have read (or be scored on) steps the validation examples read or predict
        boundary = min(spans[i][0] for i in held)
        kept = {i for i, (_, end) in spans.items() if end < boundary}
        if kept:
            train |= kept
            valid |= held
        else:  # too short to give both sides: all of it trains
            train.update(members)
    return train, valid


def _group(examples: Sequence[Example], fraction: float, seed: int) -> set[int]:
    """The indices that validate: whole groups, chosen at random, about ``fraction`` of the examples."""
    groups: dict[Hashable, list[int]] = {}
    for i, e in enumerate(examples):
        # an example without a group is a group of its own; object() never equals a user's key
        groups.setdefault(e.group if e.group is not None else object(), []).append(i)
    if len(groups) < 2:
        return set()
    members = list(groups.values())  # first-appearance order, so a seed always picks the same
    order = torch.randperm(len(members), generator=torch.Generator().manual_seed(seed)).tolist()
    target = fraction * len(examples)
    valid: list[int] = []
    # the last group in the shuffled order always trains, so training is never empty; the others
    # validate when they bring the count nearer the target, so no single big group overshoots it
    for g in order[:-1]:
        if abs(len(valid) + len(members[g]) - target) < abs(len(valid) - target):
            valid += members[g]
    if not valid:  # every group is far bigger than the target: still hold out one
        valid = members[order[0]]
    return set(valid)
