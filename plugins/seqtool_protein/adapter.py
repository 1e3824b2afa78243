"""The protein-ss adapter: chain -> residue features -> (per-residue classifier) -> states.

Every chain arrives as one record, whatever the input: the core's readers make records of csv,
tsv and jsonl rows and of FASTA entries (an RCSB ss.txt pair is one record with a ``secstr``
field; a bare sequence has an empty id), and find the task's columns in them (``seq``, ``mask``,
``id``). The states column is found here, because which names it may have depends on ``--states``.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch

from seqtool import Adapter, DataError, Example, ModelSpec, Record, find_column
from seqtool_protein.features import FEATURES, InvalidResidue, encode
from seqtool_protein.metrics import SecondaryStructureMetrics
from seqtool_protein.states import InvalidLabel, alphabet, is_three_state, label_indices

#: the state column's names, in the order tried: a 3-state model takes 8-state labels and
#: reduces them, an 8-state model never takes 3-state ones (a core Column has one fixed order)
STATE_COLUMNS = {
    3: ("sst3", "ss3", "q3", "sst8", "ss8", "q8", "ss", "secstr", "dssp", "structure"),
    8: ("sst8", "ss8", "q8", "ss", "secstr", "dssp", "structure"),
}
LABELLED_FORMS = (
    "Labelled data is a csv/tsv/jsonl with seq and sst3 or sst8 columns (and an optional mask), "
    "or RCSB ss.txt-style FASTA pairs >ID:sequence then >ID:secstr."
)


class EmptyChain(ValueError):
    """A record with no residues: skippable with --skip-invalid like a bad letter."""


class ProteinAdapter(Adapter):
    """No declared state: ``states`` is a train option, and the model's card keeps those."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.states = int(self.options.get("states") or 3)
        #: chains read without an id, named seq1, seq2... in the order read
        self.unnamed = 0

    def fit(self, records: Sequence[Record]) -> None:
        if self.states == 8 and all(is_three_state(self._labels(record)) for record in records):
            raise DataError(
                f"{records[0].path}: --states 8 needs DSSP 8-state labels (H G I E B T S C), "
                "but the labels hold only H, E and C; name the 8-state column with --ss-col or train with --states 3"
            )

    def model_spec(self) -> ModelSpec:
        return ModelSpec(input="features", input_size=FEATURES, output="per_step", output_size=self.states, objective="classify")

    # -- records <-> tensors -------------------------------------------------------------------

    def encode(self, record: Record, *, labelled: bool) -> Example | None:
        if not record.table:
            raise DataError(f"{record.where}: protein-ss does not read plain lines; read FASTA or one sequence per line with --input-format fasta")
        chain = str(record.get("id") or "")
        if not chain:
            self.unnamed += 1
            chain = f"seq{self.unnamed}"
        try:
            return self._example(record, chain, labelled)
        except (InvalidResidue, InvalidLabel, EmptyChain) as error:
            if not self.options.get("skip_invalid"):
                raise DataError(f"{record.where}: chain {chain} has {error}; correct it, or pass --skip-invalid to skip such chains") from None
            what = "no residues" if isinstance(error, EmptyChain) else "letters that are not amino acids or DSSP states"
            self.skip(record, f"with {what} (--skip-invalid)")
            return None

    def _example(self, record: Record, chain: str, labelled: bool) -> Example:
        sequence = _text(record.get("seq")).strip()
        if not sequence:
            raise EmptyChain("an empty sequence")
        inputs = encode(sequence)
        if not labelled:
            return Example(inputs, meta=(chain, sequence))
        length = len(sequence)
        states, mask = self._labels(record), _text(record.get("mask")).strip()
        if len(states) != length:
            raise DataError(f"{record.where}: chain {chain} has {length} residues but {len(states)} state labels")
        if mask:
            if len(mask) != length:
                raise DataError(f"{record.where}: chain {chain} has {length} residues but a mask of {len(mask)}; the mask is one 0 or 1 per residue")
            if not set(mask) <= {"0", "1"}:
                raise DataError(f"{record.where}: chain {chain} has a mask with letters other than 0 and 1; 1 scores a residue, 0 leaves it out")
            counted = [flag == "1" for flag in mask]
        else:
            counted = [True] * length
        target = torch.tensor(label_indices(states, self.states, counted))
        return Example(inputs, target, torch.tensor(counted), meta=(chain, sequence))

    def _labels(self, record: Record) -> str:
        """The record's DSSP states, from the column --ss-col names or the first of
        :data:`STATE_COLUMNS` it has (looked up in each record: jsonl lines may differ)."""
        what = "8-state secondary structure (sst8)" if self.states == 8 else "secondary structure"
        try:
            column = find_column(record, self.options.get("ss_col"), STATE_COLUMNS[self.states], what=what, flag="--ss-col", source=record.where)
        except DataError as error:
            raise DataError(f"{error} {LABELLED_FORMS}") from None
        return _text(record[column])

    def decode(self, output: torch.Tensor, meta: tuple[str, str]) -> dict[str, Any]:
        letters = alphabet(self.states)
        chain, sequence = meta
        return {
            "id": chain,
            "sequence": sequence,
            "ss": "".join(letters[i] for i in output.argmax(-1).tolist()),
            "probabilities": [[round(p, 3) for p in row] for row in output.tolist()],
        }

    def metrics(self) -> SecondaryStructureMetrics:
        return SecondaryStructureMetrics(self.states)


def _text(value: Any) -> str:
    """A field as text; a jsonl list such as a mask ``[1, 1, 0]`` becomes ``"110"``."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return str(value)
