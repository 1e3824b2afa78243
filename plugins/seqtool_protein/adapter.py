"""The protein-ss adapter: chain -> residue features -> (per-residue classifier) -> states."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

import torch

from seqtool import Adapter, Batch, DataError, Example, ModelSpec, Record
from seqtool_protein.chains import Chain, chains
from seqtool_protein.features import FEATURES, InvalidResidue, encode
from seqtool_protein.metrics import SecondaryStructureMetrics
from seqtool_protein.states import InvalidLabel, alphabet, is_three_state, label_indices


class EmptyChain(ValueError):
    """A record with no residues: skippable with --skip-invalid like a bad letter."""


class ProteinAdapter(Adapter):
    """No declared state: ``states`` is a train option, and the model's card keeps those."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.states = int(self.options.get("states") or 3)

    def fit(self, records: Sequence[Record]) -> None:
        if self.states == 8:
            labels = [chain.states or "" for chain in self._chains(records, labelled=True)]
            if labels and all(is_three_state(text) for text in labels):
                raise DataError(
                    f"{records[0].path}: --states 8 needs DSSP 8-state labels (H G I E B T S C), "
                    "but the labels hold only H, E and C; name the 8-state column with --ss-col or train with --states 3"
                )

    def model_spec(self) -> ModelSpec:
        return ModelSpec(input="features", input_size=FEATURES, output="per_step", output_size=self.states, objective="classify")

    # -- records <-> tensors -------------------------------------------------------------------

    def _chains(self, records: Iterable[Record], *, labelled: bool) -> Iterator[Chain]:
        return chains(records, self.options, labelled=labelled, states=self.states)

    def examples(self, records: Iterable[Record], *, labelled: bool) -> Iterator[Example]:
        found = 0
        for chain in self._chains(records, labelled=labelled):
            found += 1
            try:
                example = self._example(chain, labelled)
            except (InvalidResidue, InvalidLabel, EmptyChain) as error:
                if not self.options.get("skip_invalid"):
                    raise DataError(f"{chain.where}: chain {chain.id} has {error}; correct it, or pass --skip-invalid to skip such chains") from None
                what = "no residues" if isinstance(error, EmptyChain) else "letters that are not amino acids or DSSP states"
                self.skip(chain, f"with {what} (--skip-invalid)")  # type: ignore[arg-type]
                continue
            yield example
        if not found:
            raise DataError("no protein chains in the input; give FASTA records, one sequence per line, or a table with a seq column")

    def _example(self, chain: Chain, labelled: bool) -> Example:
        if not chain.sequence:
            raise EmptyChain("an empty sequence")
        inputs = encode(chain.sequence)
        if not labelled:
            return Example(inputs, meta=(chain.id, chain.sequence))
        length = len(chain.sequence)
        states, mask = chain.states or "", chain.mask
        if len(states) != length:
            hint = f"; {chain.length_hint}" if chain.length_hint else ""
            raise DataError(f"{chain.where}: chain {chain.id} has {length} residues but {len(states)} state labels{hint}")
        if mask:
            if len(mask) != length:
                raise DataError(f"{chain.where}: chain {chain.id} has {length} residues but a mask of {len(mask)}; the mask is one 0 or 1 per residue")
            if not set(mask) <= {"0", "1"}:
                raise DataError(f"{chain.where}: chain {chain.id} has a mask with letters other than 0 and 1; 1 scores a residue, 0 leaves it out")
            counted = [flag == "1" for flag in mask]
        else:
            counted = [True] * length
        target = torch.tensor(label_indices(states, self.states, counted))
        return Example(inputs, target, torch.tensor(counted), meta=(chain.id, chain.sequence))

    def decode(self, outputs: torch.Tensor, batch: Batch) -> Iterator[dict[str, Any]]:
        letters = alphabet(self.states)
        for (chain_id, sequence), length, rows in zip(batch.meta, batch.lengths.tolist(), outputs.exp()):
            rows = rows[:length]
            yield {
                "id": chain_id,
                "sequence": sequence,
                "ss": "".join(letters[i] for i in rows.argmax(-1).tolist()),
                "probabilities": [[round(p, 3) for p in row] for row in rows.tolist()],
            }

    def metrics(self) -> SecondaryStructureMetrics:
        return SecondaryStructureMetrics(self.states)
