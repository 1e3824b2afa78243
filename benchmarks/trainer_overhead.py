"""The Trainer against a minimal hand-written PyTorch loop: same model, data and epochs.

    python -m benchmarks.trainer_overhead [--repeats 3] [--threads 1]

Three loops train the same SequenceModel (bidirectional LSTM, embedding input, pooled head) on the
same synthetic sequences (lengths 5-80) for the same number of epochs:

- "hand, same batches": the plain PyTorch loop fed the Trainer's own length-bucketed batches, so
  the difference to the Trainer is the Trainer's overhead alone;
- "hand, random batches": the loop as people usually write it (random batches, padded);
- "seqtool Trainer": seqtool's Trainer (no validation set, so no evaluation pass).

Runs are interleaved and the median of ``--repeats`` is reported, which keeps a busy machine from
favouring one side. Synthetic data: this measures speed, not accuracy.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from seqtool.data.batching import bucket_batches, collate
from seqtool.nn.model import SequenceModel
from seqtool.settings import Settings
from seqtool.types import Example, ModelSpec
from seqtool.training.trainer import Trainer, seed_everything

SPEC = ModelSpec("tokens", 5000, "pooled", 2, "classify")
SETTINGS = Settings(cell="lstm", bidirectional=True, hidden=128, embedding_dim=100, epochs=3, batch_size=32, patience=99)


def make_examples(n: int = 4000) -> list[Example]:
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(5, 81, (n,), generator=generator)
    return [
        Example(torch.randint(2, 5000, (int(length),), generator=generator), torch.tensor(int(length) % 2))
        for length in lengths
    ]


def fresh_model() -> SequenceModel:
    seed_everything(0)
    return SequenceModel(SPEC, SETTINGS)


def hand_loop(examples: list[Example], same_batches: bool) -> float:
    model = fresh_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=SETTINGS.lr, weight_decay=SETTINGS.weight_decay)
    generator = torch.Generator().manual_seed(SETTINGS.seed)
    started = time.perf_counter()
    for _ in range(SETTINGS.epochs):
        model.train()
        if same_batches:
            batches = bucket_batches(examples, SETTINGS.batch_size, generator)
        else:
            order = torch.randperm(len(examples), generator=generator).tolist()
            batches = [order[i : i + SETTINGS.batch_size] for i in range(0, len(order), SETTINGS.batch_size)]
        for indices in batches:
            batch = collate([examples[i] for i in indices], per_step=False)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(batch.inputs, batch.lengths), batch.target)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), SETTINGS.clip)
            optimizer.step()
    return time.perf_counter() - started


def trainer_loop(examples: list[Example]) -> float:
    model = fresh_model()
    started = time.perf_counter()
    Trainer(model, SETTINGS).fit(examples, [])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    examples = make_examples()
    runs: dict[str, list[float]] = {"hand, same batches": [], "hand, random batches": [], "seqtool Trainer": []}
    for _ in range(args.repeats):
        runs["hand, same batches"].append(hand_loop(examples, same_batches=True))
        runs["hand, random batches"].append(hand_loop(examples, same_batches=False))
        runs["seqtool Trainer"].append(trainer_loop(examples))
    base = statistics.median(runs["hand, same batches"])
    print(f"{len(examples)} sequences, {SETTINGS.epochs} epochs, bi-LSTM 128, {args.threads} thread(s), median of {args.repeats}\n")
    print("| loop | median wall time (s) | vs hand, same batches |")
    print("|---|---|---|")
    for name, times in runs.items():
        median = statistics.median(times)
        print(f"| {name} | {median:.2f} | {100 * (median / base - 1):+.1f}% |")


if __name__ == "__main__":
    main()
