"""Residue features: a one-hot code plus the residue's BLOSUM62 row.

One-hot alone treats every pair of amino acids as equally different; the BLOSUM62 row tells the
network which residues substitute for each other in evolution, which is most of what a single
sequence (no alignment) can say about a residue's chemistry.
"""

from __future__ import annotations

import torch
from Bio.Align import substitution_matrices

STANDARD = "ARNDCQEGHILKMFPSTWYV"
#: ambiguity codes and rare residues, as the standard residues they stand for
STANDS_FOR = {"B": "DN", "Z": "EQ", "J": "IL", "U": "C", "O": "K"}
UNKNOWN = "X"
VALID = frozenset(STANDARD) | frozenset(STANDS_FOR) | {UNKNOWN}
#: one-hot over the 20 standard residues, an "unknown residue" flag, the 20 BLOSUM62 scores
FEATURES = len(STANDARD) + 1 + len(STANDARD)
#: BLOSUM62 scores run from -4 to 11; this scale puts most of them within [-1, 1] like the one-hot
BLOSUM_SCALE = 0.25


class InvalidResidue(ValueError):
    def __init__(self, position: int, letter: str) -> None:
        super().__init__(f"{letter!r} at position {position}, which is not an amino-acid letter")
        self.position = position
        self.letter = letter


def _table() -> torch.Tensor:
    """Feature rows indexed by the ASCII code of an upper-case residue letter."""
    blosum = substitution_matrices.load("BLOSUM62")
    table = torch.zeros(128, FEATURES)
    for letter in VALID:
        row = table[ord(letter)]
        members = STANDS_FOR.get(letter, letter)
        if letter == UNKNOWN:
            row[len(STANDARD)] = 1.0
        else:
            for member in members:
                row[STANDARD.index(member)] = 1.0 / len(members)
        # BLOSUM62 has its own rows for B, Z and X; U, O and J borrow what they stand for
        scored = [letter] if letter in blosum.alphabet else list(members)
        scores = [[blosum[m][s] for s in STANDARD] for m in scored]
        row[len(STANDARD) + 1 :] = torch.tensor(scores).mean(0) * BLOSUM_SCALE
    return table


TABLE = _table()


def encode(sequence: str) -> torch.Tensor:
    """``[T, FEATURES]`` float32 features; lower case counts as upper case.

    Raises :class:`InvalidResidue` (1-based position) for a letter that is not an amino acid.
    """
    upper = sequence.upper()
    if len(upper) != len(sequence) or not VALID.issuperset(upper):  # 'ß'.upper() is 'SS'
        position = next(i for i, letter in enumerate(sequence) if letter.upper() not in VALID)
        raise InvalidResidue(position + 1, sequence[position])
    return TABLE[torch.frombuffer(bytearray(upper.encode("ascii")), dtype=torch.uint8).long()]
