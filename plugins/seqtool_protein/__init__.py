"""seqtool plugin ``protein-ss``: amino-acid sequence -> secondary structure per residue (Q3 or Q8).

This module stays light (no torch): it only describes the task. The work is in
:mod:`seqtool_protein.adapter`, imported when the task runs.
"""

from __future__ import annotations

from pathlib import Path

import click

import seqtool
from seqtool import Column, SampleData, Task, option

SAMPLES = Path(__file__).parent / "sample_data"

TASK = Task(
    name="protein-ss",
    description=(
        "Amino-acid sequence -> secondary structure of every residue: 3 states (H helix, E strand, "
        "C coil) or the 8 DSSP states, with probabilities, from the sequence alone. Trains on "
        "csv/tsv/jsonl (id, seq, sst3 or sst8, optional 0/1 mask) or RCSB ss.txt-style FASTA pairs; "
        "predicts from FASTA or one sequence per line. Probabilities are in the order H, E, C "
        "(8 states: H, G, I, E, B, T, S, C)."
    ),
    adapter="seqtool_protein.adapter:ProteinAdapter",
    sample_data=SampleData(
        train=SAMPLES / "train.csv", valid=SAMPLES / "valid.csv", test=SAMPLES / "test.csv", predict=SAMPLES / "query.fasta"
    ),
    defaults={
        "cell": "gru",
        "bidirectional": True,
        "layers": 2,
        "hidden": 64,
        "dropout": 0.2,
        "epochs": 10,
        "batch_size": 32,
        "lr": 3e-3,
    },
    monitor=("accuracy", "max"),
    # numeric residue features in (one-hot plus BLOSUM62 row), a state for every residue out
    input="features",
    output="per_step",
    columns=[
        Column("seq", ("sequence", "aa", "primary"), what="amino-acid sequence"),
        Column("mask", ("valid", "observed"), what="0/1 mask per residue (0 keeps the residue out of training and scoring)", needed="optional"),
        Column("id", ("name", "chain", "pdb_id", "accession"), what="chain id", needed="optional"),
    ],
    options=[
        # not a Column: which names the states column may have depends on --states (seqtool_protein.adapter)
        option("--ss-col", verbs=("train", "evaluate"), help="Column holding the DSSP states (found automatically: sst3/sst8, ss, secstr...)."),
        option("--states", verbs=("train",), type=click.Choice(["3", "8"]), help="Predict 3 states (H/E/C) or the 8 DSSP states (default 3); 8-state labels are reduced to 3 as H,G,I->H; E,B->E; rest->C."),
        option("--skip-invalid", is_flag=True, default=None, help="Skip chains with letters that are not amino acids (or DSSP states) and count them, instead of stopping."),
    ],
    writers={
        "fasta": "seqtool_protein.writers:FastaWriter",
        "ss2": "seqtool_protein.writers:Ss2Writer",
        "pretty": "seqtool_protein.writers:PrettyWriter",
    },
    terminal_format="pretty",
    # stdin and .txt files: FASTA (RCSB ss.txt pairs too) or bare sequences, one per line
    input_format="fasta",
    examples=[
        "seqtool run protein-ss demo",
        "seqtool run protein-ss train train.csv --valid valid.csv -o ss.model",
        "seqtool run protein-ss train ss.txt --states 8 -o ss8.model",
        "seqtool run protein-ss evaluate -m ss.model cb513.csv --json",
        "seqtool run protein-ss predict -m ss.model query.fasta",
        "seqtool run protein-ss predict -m ss.model query.fasta --format fasta",
        "seqtool run protein-ss predict -m ss.model query.fasta --format ss2 -o query.ss2",
        "echo MKTAYIAKQRQISFVKSHFSRQ | seqtool run protein-ss predict -m ss.model --format fasta",
    ],
)


@seqtool.hookimpl
def register_tasks(register):
    register(TASK)
