"""Secondary-structure states: the DSSP 8-state alphabet, its 3-state reduction, and label parsing.

Label strings come from several conventions: DSSP letters, RCSB ``ss.txt`` (a blank is a residue
DSSP left unassigned, i.e. coil), ``-`` or ``L`` for loop in older files, and ``P`` (polyproline)
from DSSP 4. All of those non-H/E letters mean coil in both alphabets.
"""

from __future__ import annotations

from typing import Sequence

#: DSSP 8-state alphabet, in the order of an 8-state model's outputs
Q8 = "HGIEBTSC"
#: 3-state alphabet, in the order of a 3-state model's outputs and of the jsonl probabilities
Q3 = "HEC"

#: the standard reduction (NetSurfP-2.0, CB513, TAPE): H,G,I -> H; E,B -> E; all else -> C
TO_Q3 = {"H": "H", "G": "H", "I": "H", "E": "E", "B": "E", "T": "C", "S": "C", "C": "C"}
#: letters that other conventions use for coil
COIL_ALIASES = {" ": "C", "-": "C", "L": "C", "P": "C"}
#: for each 8-state index, the index of its 3-state class
Q8_TO_Q3_INDEX = [Q3.index(TO_Q3[state]) for state in Q8]


class InvalidLabel(ValueError):
    def __init__(self, position: int, letter: str) -> None:
        super().__init__(f"state label {letter!r} at position {position}, which is not a DSSP state")
        self.position = position
        self.letter = letter


def alphabet(states: int) -> str:
    return Q8 if states == 8 else Q3


def label_indices(labels: str, states: int, counted: Sequence[bool]) -> list[int]:
    """State indices for ``labels`` in the 3- or 8-state alphabet. Positions that do not count
    (masked, e.g. unresolved residues carrying a placeholder) are not checked and get 0.

    Raises :class:`InvalidLabel` (1-based position) for a letter no convention knows.
    """
    states_alphabet = alphabet(states)
    indices = []
    for position, (letter, keep) in enumerate(zip(labels, counted), 1):
        if not keep:
            indices.append(0)
            continue
        state = COIL_ALIASES.get(letter) or letter.upper()
        if state not in TO_Q3:
            raise InvalidLabel(position, letter)
        indices.append(states_alphabet.index(state if states == 8 else TO_Q3[state]))
    return indices


def is_three_state(labels: str) -> bool:
    """True when a label string uses only letters a 3-state file would (H, E, C and coil aliases)."""
    return all((COIL_ALIASES.get(letter) or letter.upper()) in Q3 for letter in labels)
