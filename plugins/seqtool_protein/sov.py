"""Segment overlap (SOV'99, Zemla et al. 1999, Proteins 34:220).

Q3 counts residues; SOV scores segments, so a prediction that breaks one helix into three short
ones, or shifts a strand by a residue, is told apart from one that gets the elements right.
"""

from __future__ import annotations

from typing import Sequence

#: marks a residue that belongs to no segment (masked out of scoring)
NOT_SCORED = -1


def segments(states: Sequence[int]) -> list[tuple[int, int, int]]:
    """Runs of one state as ``(state, start, end)`` with ``end`` exclusive; unscored residues
    end a run and start none."""
    runs = []
    start = 0
    for position in range(1, len(states) + 1):
        if position == len(states) or states[position] != states[start]:
            if states[start] != NOT_SCORED:
                runs.append((states[start], start, position))
            start = position
    return runs


def sov99(observed: Sequence[int], predicted: Sequence[int]) -> float | None:
    """SOV'99 of one chain as a fraction in [0, 1], over all states; None when nothing is scored.

    ``predicted`` must carry :data:`NOT_SCORED` wherever ``observed`` does.
    """
    predicted_runs = segments(predicted)
    score = 0.0
    normaliser = 0
    for state, start, end in segments(observed):
        length = end - start
        overlapping = [(s, e) for st, s, e in predicted_runs if st == state and s < end and e > start]
        if not overlapping:
            normaliser += length
        for other_start, other_end in overlapping:
            normaliser += length
            min_overlap = min(end, other_end) - max(start, other_start)
            max_overlap = max(end, other_end) - min(start, other_start)
            allowance = min(max_overlap - min_overlap, min_overlap, length // 2, (other_end - other_start) // 2)
            score += (min_overlap + allowance) / max_overlap * length
    return score / normaliser if normaliser else None
