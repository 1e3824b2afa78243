"""Output formats of protein-ss predictions besides jsonl/csv/tsv: FASTA and PSIPRED's ss2."""

from __future__ import annotations

from typing import Any, Mapping, TextIO

from seqtool_protein.states import Q3, Q8_TO_Q3_INDEX


class FastaWriter:
    """``>id`` then the predicted states on one line, ready for tools that read FASTA."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, record: Mapping[str, Any]) -> None:
        self.stream.write(f">{record['id']}\n{record['ss']}\n")

    def finish(self) -> None:
        pass


class Ss2Writer:
    """PSIPRED's VFORMAT (``.ss2``): per residue its number, letter, state and the probabilities
    of coil, helix and strand, in PSIPRED's column order and widths, so tools that read PSIPRED
    output read this. One block (header, blank line, rows) per chain; the header names the chain.

    An 8-state model's probabilities are summed into the three states by the DSSP reduction, and
    the state shown is the most probable of the three.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.blocks = 0

    def write(self, record: Mapping[str, Any]) -> None:
        if self.blocks:
            self.stream.write("\n")
        self.blocks += 1
        self.stream.write(f"# PSIPRED VFORMAT (seqtool protein-ss) {record['id']}\n\n")
        three_states = len(record["probabilities"][0]) == len(Q3)
        for number, (residue, probabilities, predicted) in enumerate(zip(record["sequence"], record["probabilities"], record["ss"]), 1):
            helix, strand, coil = _three_states(probabilities)
            state = predicted if three_states else Q3[max(range(3), key=(helix, strand, coil).__getitem__)]
            self.stream.write(f"{number:4d} {residue} {state}  {coil:6.3f} {helix:6.3f} {strand:6.3f}\n")

    def finish(self) -> None:
        pass


def _three_states(probabilities: list[float]) -> tuple[float, float, float]:
    """(helix, strand, coil) from 3- or 8-state probabilities."""
    if len(probabilities) == len(Q3):
        return tuple(probabilities)  # type: ignore[return-value]
    reduced = [0.0, 0.0, 0.0]
    for state, probability in enumerate(probabilities):
        reduced[Q8_TO_Q3_INDEX[state]] += probability
    return reduced[0], reduced[1], reduced[2]


class PrettyWriter:
    """For a person at a terminal: each chain's sequence with its predicted states under it, 60
    residues a row, helices red and strands yellow, so the elements stand out at a glance."""

    WIDTH = 60
    STYLES = {"H": "bold red", "G": "red", "I": "red", "E": "bold yellow", "B": "yellow"}

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console

        self.console = Console(file=stream, highlight=False, soft_wrap=True)

    def write(self, record: Mapping[str, Any]) -> None:
        from rich.text import Text

        sequence, states = record["sequence"], record["ss"]
        self.console.print(Text(f"{record['id']}  ({len(sequence)} residues)", style="bold"))
        for start in range(0, len(sequence), self.WIDTH):
            self.console.print(f"{start + 1:>6} {sequence[start : start + self.WIDTH]}")
            row = Text(" " * 7)
            for state in states[start : start + self.WIDTH]:
                row.append(state, style=self.STYLES.get(state, "dim"))
            self.console.print(row)

    def finish(self) -> None:
        pass
