"""Protein secondary structure (Q3/Q8) from the sequence alone, on CB513 and TS115.

    python -m benchmarks.protein [--states 3|8|both] [--epochs N] [--max-train N] [--threads 1]

Protocol: the protein-ss plugin's defaults (bidirectional GRU, 2 layers, one-hot + BLOSUM62
features, no alignment profiles) are trained through seqtool's own pipeline (what `seqtool run
protein-ss train/evaluate` runs) on the NetSurfP-2.0 training set, split=train, with early
stopping on its split=valid; unobserved residues (mask=0) are left out of training and scoring.
The models are then scored on CB513 (511 rows, mask = resolved AND CB513 segment) and TS115 with
their masks. An 8-state model is scored on Q8 and on Q3 (its predictions and the labels reduced
H,G,I->H; E,B->E; rest->C); a 3-state model on Q3. SOV is SOV'99 on 3 states, averaged per chain.

The plugin's default 10 epochs over the 9,712 training chains (2.5M residues) take about 18
minutes per model on one free CPU core, so both models fit the 45-minute budget.

Needs ../shared/datasets/protein_ss (or SEQTOOL_DATASETS=<folder holding protein_ss/>); without it
the benchmark says so and exits without failing.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import io
import sys
import tempfile
import time
from pathlib import Path
from benchmarks.datasets import DATASETS, located

PROTEIN = DATASETS / "protein_ss"
TRAIN = PROTEIN / "netsurfp2_train.csv.gz"
TESTS = {"CB513": PROTEIN / "cb513.csv", "TS115": PROTEIN / "ts115.csv"}


def split_training_set(folder: Path, max_train: int | None) -> tuple[Path, Path, int]:
    """train.csv and valid.csv from the NetSurfP-2.0 file's split column; returns the number of
    training residues (all of them go through the network; masked ones add no loss)."""
    paths = {"train": folder / "train.csv", "valid": folder / "valid.csv"}
    residues = 0
    with gzip.open(TRAIN, "rt", encoding="utf-8") as source:
        reader = csv.DictReader(source)
        handles = {name: open(path, "w", newline="", encoding="utf-8") for name, path in paths.items()}
        writers = {name: csv.DictWriter(handle, reader.fieldnames, lineterminator="\n") for name, handle in handles.items()}
        for writer in writers.values():
            writer.writeheader()
        kept = 0
        for row in reader:
            if row["split"] == "train":
                if max_train is not None and kept >= max_train:
                    continue
                kept += 1
                residues += len(row["seq"])
            writers[row["split"]].writerow(row)
        for handle in handles.values():
            handle.close()
    return paths["train"], paths["valid"], residues


def run(states: int, epochs: int | None, train_file: Path, valid_file: Path, train_residues: int, folder: Path) -> list[str]:
    from seqtool import pipeline
    from seqtool.plugins import registry
    from seqtool.settings import Settings

    task = registry().task("protein-ss")
    settings = Settings().merged(task.defaults).merged({"epochs": epochs})
    model = folder / f"ss{states}.model"
    started = time.perf_counter()
    card = pipeline.train(task, str(train_file), str(valid_file), model, settings, {"states": str(states)}, quiet=True)
    train_seconds = time.perf_counter() - started
    [member] = card.members
    history = member.history
    epoch_seconds = sum(epoch["seconds"] for epoch in history)
    speed = train_residues * len(history) / epoch_seconds
    print(
        f"{states}-state: {len(history)} epochs (best {member.best_epoch}), {train_seconds:.0f} s, "
        f"valid accuracy {card.metrics['accuracy']:.4f}, {speed:.0f} training residues/s",
        file=sys.stderr,
        flush=True,
    )
    rows = []
    for name, path in TESTS.items():
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            report = pipeline.evaluate(task, model, str(path), {}, as_json=True, quiet=True)
        seconds = time.perf_counter() - started
        metrics = report["metrics"]
        q8 = f"{metrics['q8'] * 100:.1f}" if "q8" in metrics else "–"
        rows.append(
            f"| {name} | {states}-state bi-GRU, {settings.layers}x{settings.hidden}, one-hot+BLOSUM62 | "
            f"{metrics['q3'] * 100:.1f} | {q8} | {metrics['sov3'] * 100:.1f} | {metrics['count']} | "
            f"{len(history)} ({member['best_epoch']}) | {train_seconds / 60:.1f} | {speed:.0f} | {seconds:.1f} |"
        )
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", choices=("3", "8", "both"), default="both", help="train a 3-state model, an 8-state one (scored on Q8 and Q3), or both (default)")
    parser.add_argument("--epochs", type=int, help="most epochs (default: the task's, 10)")
    parser.add_argument("--max-train", type=int, help="use only the first N training chains (for a quick look)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args()

    if located("protein_ss") is None:
        return
    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="seqtool-bench-") as name:
        folder = Path(name)
        train_file, valid_file, residues = split_training_set(folder, args.max_train)
        for states in (3, 8) if args.states == "both" else (int(args.states),):
            rows += run(states, args.epochs, train_file, valid_file, residues, folder)
    print("| test set | model | Q3 % | Q8 % | SOV3 % | residues scored | epochs (best) | train min | train residues/s | evaluate s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nwall time {time.perf_counter() - started:.0f} s, torch threads {args.threads}")


if __name__ == "__main__":
    main()
