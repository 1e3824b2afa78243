"""Ranking metrics and baselines for next-token tasks (the next event of a user, the next word of a
text): the model ranks every token of the vocabulary after each step, and the target's rank is
scored with the usual single-target definitions, over the full vocabulary (never sampled
negatives), for the model and, on the very same targets, for popularity and first-order Markov
baselines.

Ids follow :class:`~seqtool.Vocabulary`: 0 is padding and 1 unknown, so neither is ever ranked,
and an unknown target is a miss at any k.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Protocol

import torch

from seqtool.data.fitted import Fitted
from seqtool.data.vocabulary import Vocabulary
from seqtool.types import Batch

#: the first id of a real token: below it are the vocabulary's padding and unknown ids
FIRST_REAL_ID = 2
#: rows ranked at once: bounds the [rows, vocabulary] temporaries whatever the batch size
CHUNK = 2048


def ranks(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """0-based rank of each target (``[N]``) among all real tokens, by ``scores`` (``[N, V]``),
    as float64.

    Ties go to the lower id (the more frequent token, as vocabulary ids follow frequency), so a
    sparse baseline, whose scores tie often, ranks deterministically. An unknown or padding
    target is not among the ranked tokens: its rank is infinite, a miss at any k whose
    reciprocal rank is 0."""
    scores = scores.float().clone()
    scores[:, :FIRST_REAL_ID] = -math.inf
    own = scores.gather(1, targets.unsqueeze(1))
    ids = torch.arange(scores.shape[1], device=scores.device).unsqueeze(0)
    rank = (scores > own).sum(1) + ((scores == own) & (ids < targets.unsqueeze(1))).sum(1)
    return torch.where(targets >= FIRST_REAL_ID, rank.double(), math.inf)


def top_tokens(probabilities: torch.Tensor, vocabulary: Vocabulary, k: int) -> list[tuple[str, float]]:
    """The ``k`` most likely real tokens (never padding or unknown) after one step, best first,
    with their probabilities; ``probabilities`` is that step's ``[V]`` output."""
    scores, ids = probabilities[FIRST_REAL_ID:].topk(min(k, len(probabilities) - FIRST_REAL_ID))
    return list(zip(vocabulary.decode((ids + FIRST_REAL_ID).tolist()), scores.tolist()))


class Baseline(Protocol):
    """A ranker without a network: scores for every next token given each step's token."""

    def scores(self, previous: torch.Tensor) -> torch.Tensor:
        """``[N]`` token ids -> ``[N, V]`` scores of what follows each."""


class PopularityBaseline(Fitted):
    """Scores every token by how often it was a next token in training."""

    def __init__(self, counts: list[int]) -> None:
        self.counts = torch.tensor(counts, dtype=torch.float32)

    @classmethod
    def fit(cls, sequences: list[list[int]], size: int) -> "PopularityBaseline":
        """From the training sequences of ids; ``size`` is the vocabulary's."""
        counts = torch.zeros(size, dtype=torch.int64)
        for ids in sequences:
            counts += torch.bincount(torch.tensor(ids[1:], dtype=torch.int64), minlength=size)
        return cls(counts.tolist())

    def scores(self, previous: torch.Tensor) -> torch.Tensor:
        return self.counts.to(previous.device).expand(len(previous), -1)

    def state(self) -> dict[str, list[int]]:
        return {"counts": self.counts.long().tolist()}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "PopularityBaseline":
        return cls(state["counts"])


class MarkovBaseline(Fitted):
    """First order: scores next tokens by how often they followed the previous token in training
    (a sparse count matrix). Rows it never saw score zero everywhere, so the id tie-break of
    :func:`ranks` falls back to frequency order."""

    def __init__(self, previous: list[int], following: list[int], counts: list[int], size: int) -> None:
        self.triples = (previous, following, counts)
        self.matrix = torch.sparse_coo_tensor(
            torch.tensor([previous, following], dtype=torch.int64).view(2, -1),
            torch.tensor(counts, dtype=torch.float32),
            (size, size),
            check_invariants=True,
        ).coalesce()

    @classmethod
    def fit(cls, sequences: list[list[int]], size: int) -> "MarkovBaseline":
        """From the training sequences of ids; ``size`` is the vocabulary's."""
        pairs = torch.cat([torch.tensor(ids[:-1], dtype=torch.int64) * size + torch.tensor(ids[1:], dtype=torch.int64) for ids in sequences]) if sequences else torch.zeros(0, dtype=torch.int64)
        keys, counts = torch.unique(pairs, return_counts=True)
        return cls((keys // size).tolist(), (keys % size).tolist(), counts.tolist(), size)

    def scores(self, previous: torch.Tensor) -> torch.Tensor:
        return self.matrix.index_select(0, previous.cpu()).to_dense().to(previous.device)

    def state(self) -> dict[str, Any]:
        previous, following, counts = self.triples
        return {"previous": previous, "next": following, "count": counts, "size": self.matrix.shape[0]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "MarkovBaseline":
        return cls(state["previous"], state["next"], state["count"], state["size"])


class RankTally:
    """Running sums of hits, reciprocal ranks and discounted gains for one ranker."""

    def __init__(self, ks: list[int], top_k: int) -> None:
        self.ks, self.top_k = ks, top_k
        self.hits = {k: 0 for k in ks}
        self.reciprocal = 0.0
        self.reciprocal_at_k = 0.0
        self.gain_at_k = 0.0

    def add(self, rank: torch.Tensor) -> None:
        """Add a run of 0-based ranks (from :func:`ranks`)."""
        for k in self.ks:
            self.hits[k] += int((rank < k).sum())
        reciprocal = 1.0 / (rank + 1)
        within = rank < self.top_k
        self.reciprocal += float(reciprocal.sum())
        self.reciprocal_at_k += float(reciprocal[within].sum())
        self.gain_at_k += float((1.0 / torch.log2(rank[within] + 2)).sum())

    def compute(self, count: int) -> dict[str, float]:
        n = max(count, 1)
        k = self.top_k
        return {
            **{f"recall@{k_}": self.hits[k_] / n for k_ in self.ks},
            f"mrr@{k}": self.reciprocal_at_k / n,
            f"ndcg@{k}": self.gain_at_k / n,
            "mrr": self.reciprocal / n,
        }


class RankingMetrics:
    """Next-token ranking metrics over the steps a batch counts, one target per step, with r the
    target's 1-based rank among all real tokens (ties: see :func:`ranks`); an unknown target has
    no rank: a miss everywhere, 0 in every mean.

    - ``recall@k``: the fraction of targets with r <= k, for k in 1, 5 and ``top_k``. With one
      target per step this is also the hit rate HR@k, and ``recall@1`` is accuracy@1.
    - ``mrr``: mean reciprocal rank, the mean of 1/r over the full ranking (no cut-off).
    - ``mrr@{top_k}``: the same with 1/r counted as 0 when r > ``top_k`` (as GRU4Rec reports it).
    - ``ndcg@{top_k}``: with a single relevant token the ideal DCG is 1, so this is the mean of
      1/log2(r + 1) over targets with r <= ``top_k``, 0 otherwise.

    The model's scores are at the top level, each baseline's (a :class:`Baseline`, e.g.
    :class:`PopularityBaseline` and :class:`MarkovBaseline`) under ``baselines``, by name.
    Scores are the model's outputs (log-probabilities or logits: ranks are the same).
    """

    def __init__(self, top_k: int, baselines: Mapping[str, Baseline] = {}) -> None:
        ks = sorted({1, 5, top_k})
        self.baselines = dict(baselines)
        self.tallies = {name: RankTally(ks, top_k) for name in ["model", *self.baselines]}
        self.count = 0

    def update(self, outputs: torch.Tensor, batch: Batch) -> None:
        mask = batch.step_mask
        scores, targets, previous = outputs[mask], batch.target[mask], batch.inputs[mask]
        for start in range(0, len(targets), CHUNK):
            part = slice(start, start + CHUNK)
            self.tallies["model"].add(ranks(scores[part], targets[part]))
            for name, baseline in self.baselines.items():
                self.tallies[name].add(ranks(baseline.scores(previous[part]), targets[part]))
        self.count += len(targets)

    def compute(self) -> dict[str, Any]:
        metrics: dict[str, Any] = {**self.tallies["model"].compute(self.count), "count": self.count}
        if self.baselines:
            metrics["baselines"] = {name: self.tallies[name].compute(self.count) for name in self.baselines}
        return metrics
