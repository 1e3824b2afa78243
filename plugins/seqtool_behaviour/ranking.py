"""Full-ranking next-event metrics (Recall@k, MRR@k, NDCG@k over every event, never sampled
negatives) for the model and, on the very same targets, the popularity and Markov baselines."""

from __future__ import annotations

import math
from typing import Any, Mapping

import torch

from seqtool import Batch, Fitted

#: ids 0 (padding) and 1 (unknown) are never recommended; an unknown target is always a miss
FIRST_REAL_ID = 2
#: rows ranked at once: bounds the [rows, vocabulary] temporaries whatever the batch size
CHUNK = 2048


def ranks(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """0-based rank of each target among all real events; ties go to the lower id (the more
    frequent event, as vocabulary ids follow frequency), so sparse baselines rank deterministically.
    Unknown or padding targets get rank = vocabulary size: a miss at any k."""
    scores = scores.float().clone()
    scores[:, :FIRST_REAL_ID] = -math.inf
    own = scores.gather(1, targets.unsqueeze(1))
    ids = torch.arange(scores.shape[1], device=scores.device).unsqueeze(0)
    rank = (scores > own).sum(1) + ((scores == own) & (ids < targets.unsqueeze(1))).sum(1)
    return torch.where(targets >= FIRST_REAL_ID, rank, torch.full_like(rank, scores.shape[1]))


class Popularity(Fitted):
    """Scores every event by how often it was a next event in training."""

    def __init__(self, counts: list[int]) -> None:
        self.counts = torch.tensor(counts, dtype=torch.float32)

    @classmethod
    def fit(cls, sequences: list[list[int]], size: int) -> "Popularity":
        counts = torch.zeros(size, dtype=torch.int64)
        for ids in sequences:
            counts += torch.bincount(torch.tensor(ids[1:], dtype=torch.int64), minlength=size)
        return cls(counts.tolist())

    def scores(self, previous: torch.Tensor) -> torch.Tensor:
        return self.counts.to(previous.device).expand(len(previous), -1)

    def state(self) -> dict[str, list[int]]:
        return {"counts": self.counts.long().tolist()}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "Popularity":
        return cls(state["counts"])


class Markov(Fitted):
    """First order: scores next events by how often they followed the last event in training
    (a sparse count matrix). Rows it never saw score zero everywhere, so the id tie-break falls
    back to popularity order."""

    def __init__(self, previous: list[int], following: list[int], counts: list[int], size: int) -> None:
        self.triples = (previous, following, counts)
        self.matrix = torch.sparse_coo_tensor(
            torch.tensor([previous, following], dtype=torch.int64).view(2, -1),
            torch.tensor(counts, dtype=torch.float32),
            (size, size),
            check_invariants=True,
        ).coalesce()

    @classmethod
    def fit(cls, sequences: list[list[int]], size: int) -> "Markov":
        pairs = torch.cat([torch.tensor(ids[:-1], dtype=torch.int64) * size + torch.tensor(ids[1:], dtype=torch.int64) for ids in sequences]) if sequences else torch.zeros(0, dtype=torch.int64)
        keys, counts = torch.unique(pairs, return_counts=True)
        return cls((keys // size).tolist(), (keys % size).tolist(), counts.tolist(), size)

    def scores(self, previous: torch.Tensor) -> torch.Tensor:
        return self.matrix.index_select(0, previous.cpu()).to_dense().to(previous.device)

    def state(self) -> dict[str, Any]:
        previous, following, counts = self.triples
        return {"previous": previous, "next": following, "count": counts, "size": self.matrix.shape[0]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "Markov":
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
        rank = rank.double()
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
    """The model's ranking metrics at the top level (``recall@1`` is accuracy@1, ``recall@k`` the
    hit rate) and the baselines' under ``baselines``, all over the steps the batch counts."""

    def __init__(self, top_k: int, popularity: Popularity, markov: Markov) -> None:
        ks = sorted({1, 5, top_k})
        self.baselines = {"most popular": popularity, "markov (1st order)": markov}
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
        return {
            **self.tallies["model"].compute(self.count),
            "count": self.count,
            "baselines": {name: self.tallies[name].compute(self.count) for name in self.baselines},
        }
