"""seqtool plugin ``textgen``: a character-level (or word-level) recurrent language model that
learns a text and writes more of it (char-rnn style).

This module stays light (no torch): it only describes the task. The work is in
:mod:`seqtool_textgen.adapter`, imported when the task runs.
"""

from __future__ import annotations

from pathlib import Path

import click

import seqtool
from seqtool import SampleData, Task, option

SAMPLES = Path(__file__).parent / "sample_data"

TASK = Task(
    name="textgen",
    description=(
        "Plain text -> a language model over its characters (or words) that continues prompts. "
        "Trains on whole files (one text each) or one text per line; evaluate reports nats and bits "
        "per character beside a Kneser-Ney n-gram baseline; predict continues each input line."
    ),
    adapter="seqtool_textgen.adapter:TextgenAdapter",
    sample_data=SampleData(train=SAMPLES / "train.txt", valid=SAMPLES / "valid.txt", predict=SAMPLES / "prompts.txt"),
    defaults={
        "cell": "lstm",
        "bidirectional": False,
        "hidden": 256,
        "layers": 2,
        "embedding_dim": 64,
        "dropout": 0.1,
        "epochs": 20,
        # small batches and a brisk rate: the sample text is learnt within the demo's 20 epochs
        "batch_size": 16,
        "lr": 4e-3,
        "weight_decay": 0.0,
    },
    # what comes next: reading backwards would see the answer; the end of the text validates
    input="tokens",
    output="per_step",
    causal=True,
    split="temporal",
    options=[
        option("--per-line", verbs=("train", "evaluate"), is_flag=True, default=None, help="Each line is a text of its own (default: each file is one text)."),
        option("--unit", verbs=("train",), type=click.Choice(["char", "word"]), help="Model characters (the default) or words (runs of non-space characters; newlines are kept)."),
        option("--chunk", verbs=("train", "evaluate"), type=click.IntRange(2), help="Tokens read at once; long texts are read in consecutive chunks (default 256)."),
        option("--min-count", verbs=("train",), type=click.IntRange(1), help="Tokens seen fewer times in training become 'unknown' (default 1)."),
        option("--length", verbs=("predict", "demo"), type=click.IntRange(1), help="Most tokens to write after each prompt (default 200)."),
        option("--temperature", verbs=("predict", "demo"), type=click.FloatRange(0), help="Sampling temperature: 0 always takes the most likely token; below 1 is safer, above 1 wilder (default 1)."),
        option("--top-k", verbs=("predict", "demo"), type=click.IntRange(1), help="Sample among the k most likely tokens only (default: all)."),
        option("--seed", verbs=("predict",), type=int, help="Random seed of the sampling: the same prompt and seed give the same text (default 0)."),
        option("--stop", verbs=("predict", "demo"), help="End a continuation where this text appears, without it (in bash, $'\\n' stops at the end of a line)."),
    ],
    input_format="lines",
    output_format="jsonl",
    examples=[
        "seqtool run textgen demo",
        "seqtool run textgen train book.txt -o book.model",
        "seqtool run textgen evaluate -m book.model held_out.txt",
        "echo 'ROMEO:' | seqtool run textgen predict -m book.model --length 500 --temperature 0.8",
    ],
)


@seqtool.hookimpl
def register_tasks(register):
    register(TASK)
