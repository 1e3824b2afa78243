"""The validation splits of seqtool.data.splits: no leakage across them, and determinism."""

from __future__ import annotations

import pytest
import torch

from seqtool.data.splits import hold_out
from seqtool.errors import UsageError
from seqtool.types import Example


def example(i: int, group=None, span: tuple[int, int] | None = None) -> Example:
    # meta carries the index: Examples cannot be compared with == (their tensors would be)
    return Example(torch.zeros(span[1] - span[0] + 1 if span else 3), meta=i, group=group, span=span)


def windows(lengths: dict[str, int], width: int = 5) -> list[Example]:
    """Sliding windows, stride 1, over series of the given lengths, interleaved across series."""
    per_series = {g: [(s, s + width - 1) for s in range(n - width + 1)] for g, n in lengths.items()}
    out = []
    while any(per_series.values()):
        for g, spans in per_series.items():
            if spans:
                out.append(example(len(out), g, spans.pop(0)))
    return out


def ids(examples: list[Example]) -> list[int]:
    return [e.meta for e in examples]


# --- temporal ---------------------------------------------------------------------------------

LENGTHS = {"a": 60, "b": 90, "c": 120}


def test_temporal_never_trains_on_validation_steps():
    examples = windows(LENGTHS)
    train, valid = hold_out(examples, "temporal")
    for t in train:
        for v in valid:
            if t.group == v.group:
                # t must end strictly before v starts: no overlap, no reaching into it
                assert t.span[1] < v.span[0], (t.span, v.span)


def test_temporal_validates_the_latest_part_of_every_series():
    examples = windows(LENGTHS)
    train, valid = hold_out(examples, "temporal", fraction=0.1)
    for g, n in LENGTHS.items():
        held = [v.span for v in valid if v.group == g]
        count = n - 4  # windows in the series
        first = count - round(count * 0.1)
        # exactly the latest tenth of the series' windows, the last window among them
        assert held == [(s, s + 4) for s in range(first, count)]
        kept = [t.span for t in train if t.group == g]
        assert kept == [(s, s + 4) for s in range(0, first - 4)]  # the straddlers are purged
    assert ids(train) == sorted(ids(train)) and ids(valid) == sorted(ids(valid))  # input order


def test_temporal_validates_windows_longer_than_the_tail_and_keeps_too_short_series_for_training():
    # "long": 30-step windows over 100 steps, longer than its last tenth, still validate;
    # "short": one window only, so nothing is left to train on: all of it trains
    examples = windows({"long": 100}, width=30) + windows({"short": 30}, width=30)
    train, valid = hold_out(examples, "temporal")
    assert [v.span for v in valid] == [(s, s + 29) for s in range(64, 71)]
    assert [t.span for t in train if t.group == "short"] == [(0, 29)]


def test_temporal_counts_examples_without_a_group_as_one_series():
    examples = windows({None: 60})
    train, valid = hold_out(examples, "temporal")
    assert len(valid) == 6 and len(train) == 56 - 6 - 4


def test_temporal_is_deterministic():
    examples = windows(LENGTHS)
    assert [ids(part) for part in hold_out(examples, "temporal", seed=0)] == [ids(part) for part in hold_out(examples, "temporal", seed=9)]


def test_temporal_without_spans_is_a_usage_error():
    examples = [example(i, group="a") for i in range(30)]
    with pytest.raises(UsageError, match="no positions.*use split random"):
        hold_out(examples, "temporal")


# --- group ------------------------------------------------------------------------------------


def grouped() -> list[Example]:
    sizes = [3, 8, 5, 12, 4, 9, 6, 7, 10, 2]
    return [example(i, f"user{g}") for i, g in enumerate(g for g, n in enumerate(sizes) for _ in range(n))]


def test_group_keeps_each_group_on_one_side():
    examples = grouped()
    for seed in range(10):
        train, valid = hold_out(examples, "group", seed=seed)
        assert valid and train
        assert not {e.group for e in train} & {e.group for e in valid}
        assert sorted(ids(train) + ids(valid)) == ids(examples)
        assert ids(train) == sorted(ids(train)) and ids(valid) == sorted(ids(valid))


def test_group_is_deterministic_per_seed_and_seeds_differ():
    examples = grouped()
    picks = [frozenset(e.group for e in hold_out(examples, "group", seed=s)[1]) for s in range(10)]
    assert picks[3] == frozenset(e.group for e in hold_out(examples, "group", seed=3)[1])
    assert len(set(picks)) > 1


def test_group_needs_two_groups_and_none_counts_alone():
    one = [example(i, "only") for i in range(40)]
    assert ids(hold_out(one, "group")[0]) == ids(one) and hold_out(one, "group")[1] == []
    loose = [example(i) for i in range(40)]  # group None: each its own group
    train, valid = hold_out(loose, "group")
    assert len(valid) == 4 and len(train) == 36


# --- random -----------------------------------------------------------------------------------


def today(n: int, seed: int) -> set[int]:
    """The rule of seqtool's original pipeline._hold_out, restated."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    return set(order[: max(1, int(n * 0.1))])


@pytest.mark.parametrize("n", [20, 25, 100])
def test_random_matches_the_original_rule(n):
    examples = [example(i) for i in range(n)]
    for seed in (0, 7):
        train, valid = hold_out(examples, "random", seed=seed)
        assert set(ids(valid)) == today(n, seed) and len(valid) == max(1, int(n * 0.1))
        assert ids(train) == sorted(set(range(n)) - today(n, seed))  # input order kept
        assert ids(valid) == sorted(ids(valid))
        assert ids(hold_out(examples, "random", seed=seed)[1]) == ids(valid)


def test_random_holds_nothing_out_below_twenty():
    examples = [example(i) for i in range(19)]
    train, valid = hold_out(examples, "random")
    assert ids(train) == list(range(19)) and valid == []


def test_bad_arguments_are_usage_errors():
    with pytest.raises(UsageError):
        hold_out([example(0)], "shuffled")  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        hold_out([example(0)], "random", fraction=1.5)


@pytest.mark.parametrize("length, size", [(1, 8), (8, 8), (9, 8), (100, 8), (100, 9)])
def test_warm_windows_count_every_step_once_and_start_warm(length, size):
    from seqtool import warm_windows

    counted = []
    for i, (start, end, counted_from) in enumerate(warm_windows(length, size)):
        assert 0 < end - start <= size
        assert (counted_from == 0) == (i == 0), "every window but the first re-reads warm-up"
        counted += range(start + counted_from, end)
    assert counted == list(range(length)), "each step counted exactly once, in order"
