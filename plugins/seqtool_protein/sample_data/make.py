"""Draws this plugin's sample data from the NetSurfP-2.0 training set: 160 PDB chains with DSSP
labels (see SOURCE.md). Deterministic; from the repository root run

    .venv/bin/python plugins/seqtool_protein/sample_data/make.py [path/to/netsurfp2_train.csv.gz]

Chains of 40-200 residues keep the demo quick. ``train`` and ``query.fasta`` come from the
set's train split, ``valid`` and ``test`` from its validation split, so no chain is in two files.
``ss.txt`` shows the RCSB layout (blank = coil) with the first test chains.
"""

from __future__ import annotations

import csv
import gzip
import random
import sys
from pathlib import Path

HERE = Path(__file__).parent
DEFAULT_SOURCE = HERE.parents[2].parent / "shared" / "datasets" / "protein_ss" / "netsurfp2_train.csv.gz"
COLUMNS = ["id", "seq", "sst8", "sst3", "mask"]
COUNTS = {"train": 100, "valid": 25, "test": 25}
QUERIES = 10
RCSB_CHAINS = 5
RCSB_WIDTH = 80


def rcsb_pair(row: dict[str, str]) -> str:
    """One chain as RCSB ss.txt writes it: ``>1ABC:A:sequence`` / ``>1ABC:A:secstr``, lines of
    80, coil and unobserved residues as blanks."""
    pdb, chain = row["id"].split("-", 1)
    states = "".join(" " if keep == "0" or state == "C" else state for state, keep in zip(row["sst8"], row["mask"]))
    lines = []
    for kind, text in (("sequence", row["seq"]), ("secstr", states)):
        lines.append(f">{pdb.upper()}:{chain}:{kind}")
        lines.extend(text[i : i + RCSB_WIDTH] for i in range(0, len(text), RCSB_WIDTH))
    return "\n".join(lines) + "\n"


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if 40 <= len(row["seq"]) <= 200]
    rng = random.Random(20261123)
    train_rows = rng.sample([r for r in rows if r["split"] == "train"], COUNTS["train"] + QUERIES)
    held_out = rng.sample([r for r in rows if r["split"] == "valid"], COUNTS["valid"] + COUNTS["test"])
    chosen = {
        "train": train_rows[: COUNTS["train"]],
        "valid": held_out[: COUNTS["valid"]],
        "test": held_out[COUNTS["valid"] :],
    }
    for name, selected in chosen.items():
        with open(HERE / f"{name}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows([row[c] for c in COLUMNS] for row in selected)
    with open(HERE / "query.fasta", "w", encoding="utf-8") as handle:
        handle.writelines(f">{row['id']}\n{row['seq']}\n" for row in train_rows[COUNTS["train"] :])
    with open(HERE / "ss.txt", "w", encoding="utf-8") as handle:
        handle.writelines(rcsb_pair(row) for row in chosen["test"][:RCSB_CHAINS])


if __name__ == "__main__":
    main()
