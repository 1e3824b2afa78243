"""Training throughput: one process against two under torchrun (DDP on gloo) on this machine.

    python -m benchmarks.distributed_throughput [--examples 8000] [--epochs 2]

Trains the sentiment task through the real command line on synthetic sentences (made here, in a
temporary folder) three ways: 1 process with 1 thread, 1 process with 2 threads, and torchrun
with 2 processes of 1 thread each. Reports the training time from the model card and examples
per second. Speed only: the data are synthetic.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.synthetic import write_sentiment

def train(data: Path, valid: Path, model: Path, epochs: int, processes: int, threads: int) -> dict:
    command = ["-m", "seqtool", "run", "sentiment", "train", str(data), "--valid", str(valid), "-o", str(model),
               "--epochs", str(epochs), "--patience", "99", "-q"]
    if processes > 1:
        command = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}", *command]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    subprocess.run([sys.executable, *command], check=True, env=env)
    return json.loads(subprocess.run([sys.executable, "-m", "seqtool", "info", str(model), "--json"], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "synthetic.csv"
        valid = Path(folder) / "valid.csv"
        write_sentiment(data, args.examples)
        write_sentiment(valid, 200)  # every process scores all of it, so keep it small
        print(f"sentiment task defaults, {args.examples} sentences, {args.epochs} epochs, {os.cpu_count()} cores\n")
        print("| run | training seconds (card) | epoch seconds | examples/s |")
        print("|---|---|---|---|")
        for label, processes, threads in [("1 process x 1 thread", 1, 1), ("1 process x 2 threads", 1, 2), ("torchrun 2 processes x 1 thread", 2, 1)]:
            card = train(data, valid, Path(folder) / "m.model", args.epochs, processes, threads)
            epoch_seconds = sum(h["seconds"] for h in card["training"]["members"][0]["history"])
            rate = args.examples * args.epochs / epoch_seconds
            print(f"| {label} | {card['training']['seconds']:.1f} | {epoch_seconds:.1f} | {rate:.0f} |", flush=True)


if __name__ == "__main__":
    main()
