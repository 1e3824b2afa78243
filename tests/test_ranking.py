"""Next-token ranking metrics and baselines on cases small enough to rank by hand: each expected
figure below is the textbook definition worked out on paper, so a change of definition (a
cut-off, the tie-break, how a miss counts) fails here."""

from __future__ import annotations

import math

import pytest
import torch

from seqtool import Batch, MarkovBaseline, PopularityBaseline, RankingMetrics, Vocabulary, top_tokens
from seqtool.training.ranking import ranks

PAD_UNK = [100.0, 100.0]  # padding and unknown scored highest: they must never be ranked

#: one row per step: (scores for ids 0..6, target id, the target's 1-based rank r, worked out by hand)
STEPS = [
    (PAD_UNK + [0.1, 0.9, 0.2, 0.3, 0.4], 3, 1),  # the best real score
    (PAD_UNK + [0.9, 0.8, 0.1, 0.5, 0.2], 5, 3),  # ids 2 and 3 score higher
    (PAD_UNK + [0.9, 0.8, 0.1, 0.5, 0.2], 1, None),  # unknown target: not a rankable token
    (PAD_UNK + [0.5, 0.5, 0.5, 0.1, 0.1], 4, 3),  # a three-way tie: the lower ids 2 and 3 go first
    (PAD_UNK + [0.9, 0.8, 0.7, 0.1, 0.2], 6, 4),
]


def batch_of(steps: list[tuple[list[float], int, int | None]], previous: list[int], counted: list[bool]) -> tuple[torch.Tensor, Batch]:
    """One sequence whose step t has ``steps[t]``'s scores and target and reads ``previous[t]``."""
    outputs = torch.tensor([scores for scores, _, _ in steps]).log_softmax(-1).unsqueeze(0)
    targets = torch.tensor([[target for _, target, _ in steps]])
    batch = Batch(torch.tensor([previous]), torch.tensor([len(steps)]), targets, torch.tensor([counted]), ["u"])
    return outputs, batch


def test_ranks_skip_padding_and_unknown_break_ties_by_id_and_miss_unknown_targets():
    scores = torch.tensor([scores for scores, _, _ in STEPS])
    targets = torch.tensor([target for _, target, _ in STEPS])
    expected = [math.inf if r is None else r - 1 for _, _, r in STEPS]
    assert ranks(scores, targets).tolist() == expected


def test_recall_mrr_and_ndcg_follow_their_single_target_definitions():
    outputs, batch = batch_of(STEPS, previous=[2] * len(STEPS), counted=[True] * len(STEPS))
    metrics = RankingMetrics(3)
    metrics.update(outputs, batch)
    result = metrics.compute()
    # r = 1, 3, miss, 3, 4 over 5 targets
    assert result["count"] == 5
    assert result["recall@1"] == pytest.approx(1 / 5)  # accuracy@1
    assert result["recall@3"] == pytest.approx(3 / 5)  # hit rate at top_k
    assert result["recall@5"] == pytest.approx(4 / 5)
    assert result["mrr"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 3 + 1 / 4) / 5)  # no cut-off; a miss adds 0
    assert result["mrr@3"] == pytest.approx((1 + 1 / 3 + 1 / 3) / 5)  # r > 3 counts 0
    assert result["ndcg@3"] == pytest.approx((1 / math.log2(2) + 1 / math.log2(4) + 1 / math.log2(4)) / 5)
    assert "baselines" not in result


def test_only_counted_steps_are_scored_and_batches_add_up():
    metrics = RankingMetrics(3)
    first, second = STEPS[:2], STEPS[2:]
    metrics.update(*batch_of(first, previous=[2, 2], counted=[True, False]))  # r = 3 left out
    metrics.update(*batch_of(second, previous=[2, 2, 2], counted=[True, True, True]))
    result = metrics.compute()
    assert result["count"] == 4
    assert result["recall@1"] == pytest.approx(1 / 4)
    assert result["mrr"] == pytest.approx((1 + 0 + 1 / 3 + 1 / 4) / 4)


def test_popularity_counts_next_tokens_and_markov_counts_pairs():
    sequences = [[2, 3, 4], [2, 3, 3], [4]]  # a one-token sequence has no next token
    popularity = PopularityBaseline.fit(sequences, 5)
    assert popularity.counts.tolist() == [0, 0, 0, 3, 1]  # first tokens are never a next token
    markov = MarkovBaseline.fit(sequences, 5)
    previous = torch.tensor([2, 3, 4])
    assert markov.scores(previous).tolist() == [[0, 0, 0, 2, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 0]]
    for baseline in (popularity, markov):
        restored = type(baseline).from_state(baseline.state())
        assert torch.equal(restored.scores(previous), baseline.scores(previous))


def test_baselines_are_scored_on_the_model_targets():
    popularity = PopularityBaseline([0, 0, 1, 5, 2])  # ranks 3, 4, 2
    markov = MarkovBaseline([2], [4], [1], 5)  # after 2 comes 4; after anything else, id order
    steps = [(PAD_UNK + [0.0, 1.0, 0.0], 3, 1), (PAD_UNK + [0.0, 0.0, 1.0], 4, 1), (PAD_UNK + [1.0, 0.0, 0.0], 2, 1)]
    outputs, batch = batch_of(steps, previous=[2, 3, 2], counted=[True, True, True])
    metrics = RankingMetrics(2, baselines={"most popular": popularity, "markov": markov})
    metrics.update(outputs, batch)
    result = metrics.compute()
    assert result["mrr"] == 1.0
    # popularity ranks 3, 4, 2: targets 3, 4, 2 are ranked 1, 2, 3
    assert result["baselines"]["most popular"]["mrr"] == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    assert result["baselines"]["most popular"]["recall@2"] == pytest.approx(2 / 3)
    # markov: after 2, 4 comes first and the rest tie in id order (2, 3): target 3 third, target 2
    # second; after 3 (never seen) all tie, so target 4 is third
    assert result["baselines"]["markov"]["mrr"] == pytest.approx((1 / 3 + 1 / 3 + 1 / 2) / 3)


def test_top_tokens_ranks_real_tokens_only_and_caps_k():
    vocabulary = Vocabulary(["a", "b", "c"])
    probabilities = torch.tensor([0.3, 0.3, 0.05, 0.25, 0.1])
    assert top_tokens(probabilities, vocabulary, 2) == [("b", pytest.approx(0.25)), ("c", pytest.approx(0.1))]
    assert [token for token, _ in top_tokens(probabilities, vocabulary, 10)] == ["b", "c", "a"]
