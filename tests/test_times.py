"""Durations as options take them (a session gap, a search's timeout): one reader for all."""

from __future__ import annotations

import pytest

import seqtool


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("30m", 1800), ("1.5h", 5400), (" 2d ", 172800), ("1w", 604800)])
def test_durations_read_the_same_for_every_task_and_verb(text, seconds):
    assert seqtool.parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["30", "m", "-5m", "3 weeks", ""])
def test_a_duration_without_its_unit_is_refused_with_the_forms_it_takes(text):
    with pytest.raises(ValueError, match="90s, 30m, 2h, 1d, 1w"):
        seqtool.parse_duration(text)
