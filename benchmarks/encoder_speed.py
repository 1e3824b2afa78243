"""RecurrentEncoder's padded path against torch's packed sequences, forward + backward, on CPU.

    python -m benchmarks.encoder_speed [--repeats 5] [--threads 1]

Three batch shapes, one per kind of task: protein chains (bi-GRU 2x64 over 41 features, 32
chains of 50-700 residues), review sentences (bi-LSTM 100 over 200-d embeddings, 64 sentences of
15-30 words) and event histories (GRU 100 over 64-d embeddings, 128 histories of 5-40 events).
The packed path is what the encoder ran before: pack_padded_sequence -> the same nn.RNNBase ->
pad_packed_sequence. Both give the same outputs and gradients (tests/test_model.py checks it).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqtool.nn.encoder import RecurrentEncoder

SHAPES = {
    "protein chains": dict(cell="gru", bidirectional=True, layers=2, hidden=64, features=41, batch=32, lengths=(50, 700)),
    "review sentences": dict(cell="lstm", bidirectional=True, layers=1, hidden=100, features=200, batch=64, lengths=(15, 30)),
    "event histories": dict(cell="gru", bidirectional=False, layers=1, hidden=100, features=64, batch=128, lengths=(5, 40)),
}


def packed(encoder: RecurrentEncoder, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    sequences = pack_padded_sequence(inputs, lengths, batch_first=True, enforce_sorted=False)
    steps, _ = pad_packed_sequence(encoder.rnn(sequences)[0], batch_first=True, total_length=inputs.shape[1])
    return steps


def seconds_per_batch(step, repeats: int) -> float:
    step()  # warm-up: allocator and kernel selection
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed batches per path (median reported; default 5)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print("| batch | padded (seqtool) ms | packed ms | speed-up |")
    print("|---|---|---|---|")
    for name, shape in SHAPES.items():
        encoder = RecurrentEncoder(shape["features"], cell=shape["cell"], hidden=shape["hidden"], layers=shape["layers"], bidirectional=shape["bidirectional"])
        lengths = torch.randint(*shape["lengths"], (shape["batch"],))
        inputs = torch.randn(shape["batch"], int(lengths.max()), shape["features"])

        def padded_step() -> None:
            encoder.zero_grad()
            encoder(inputs, lengths)[0].sum().backward()

        def packed_step() -> None:
            encoder.zero_grad()
            packed(encoder, inputs, lengths).sum().backward()

        fast, slow = seconds_per_batch(padded_step, args.repeats), seconds_per_batch(packed_step, args.repeats)
        print(f"| {name} | {fast * 1000:.0f} | {slow * 1000:.0f} | {slow / fast:.1f}x |", flush=True)
    print(f"\ntorch threads {args.threads}")


if __name__ == "__main__":
    main()
