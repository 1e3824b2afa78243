"""Two trainings side by side: torch's default threads (before issue 24) against ``--threads auto``.

    python -m benchmarks.threads [--repeats 3] [--examples 16000] [--epochs 2]

Runs two ``seqtool run sentiment train`` processes at the same time on the same synthetic
sentences (made here, in a temporary folder; speed only, not accuracy), three ways:

- "before": what seqtool did before it set threads: torch's default, one intra-op thread per CPU it
  sees. Reproduced with ``--threads`` equal to ``os.cpu_count()`` and ``OMP_NUM_THREADS`` unset.
- "auto": the new default (no --threads; ``OMP_NUM_THREADS`` and ``SEQTOOL_THREADS`` unset).
- "shared": each job given its share of the CPUs, ``--threads`` = CPUs available // 2, which is
  what ``SEQTOOL_THREADS`` / ``--threads`` let a user do for jobs they start side by side.

``auto`` divides the CPUs this process may use (affinity, cgroup quota) among the seqtool
processes running a model on this machine (each registers itself while it runs, and a training
re-checks its share every few seconds), so the "auto" pair should take the threads and the time of
the "shared" pair. Other seqtool jobs running meanwhile count too: run it on a quiet machine. The
threads each run used are printed from the model cards (the count set once the data was read).

The pairs are interleaved (the order rotates every repeat) so a busy machine does not favour one
way, and the median of ``--repeats`` is reported. Each training is one member (``--ensemble 1``)
for ``--epochs`` full epochs (no early stop) with a 200-sentence validation file; the defaults
take about 20-40 s per training on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.synthetic import write_sentiment
from seqtool.runtime import available_cpus

JOBS = 2


def environment() -> dict[str, str]:
    """This environment without any thread setting, so each way is what it says."""
    return {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "SEQTOOL_THREADS", "MKL_NUM_THREADS")}


def train(data: Path, valid: Path, model: Path, epochs: int, threads: int | None) -> float:
    """One training through the real command line; returns its wall time."""
    command = [sys.executable, "-m", "seqtool", "run", "sentiment", "train", str(data), "--valid", str(valid), "-o", str(model),
               "--epochs", str(epochs), "--patience", "99", "--ensemble", "1", "-q"]
    if threads is not None:
        command += ["--threads", str(threads)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=environment())
    if result.returncode != 0:
        sys.exit(f"training failed ({' '.join(command)}):\n{result.stderr}")
    return time.perf_counter() - started


def card_threads(model: Path) -> int:
    result = subprocess.run([sys.executable, "-m", "seqtool", "info", str(model), "--json"], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)["settings"]["threads"]


def pair(folder: Path, data: Path, valid: Path, epochs: int, way: str, threads: int | None) -> tuple[float, list[float], list[int]]:
    """Two trainings started together: (wall time of the pair, of each job, threads each used)."""
    models = [folder / f"{way}-{job}.model" for job in range(JOBS)]
    started = time.perf_counter()
    with ThreadPoolExecutor(JOBS) as pool:
        walls = list(pool.map(lambda model: train(data, valid, model, epochs, threads), models))
    return time.perf_counter() - started, walls, [card_threads(model) for model in models]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="pairs of each way, interleaved (default 3)")
    parser.add_argument("--examples", type=int, default=16000, help="synthetic training sentences (default 16000)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per training (default 2)")
    args = parser.parse_args()
    cpus = available_cpus()
    ways = {"before": os.cpu_count() or 1, "auto": None, "shared": max(1, cpus // JOBS)}
    with tempfile.TemporaryDirectory(prefix="seqtool-threads-") as name:
        folder = Path(name)
        data, valid = folder / "train.csv", folder / "valid.csv"
        write_sentiment(data, args.examples, seed=0)
        write_sentiment(valid, 200, seed=1)
        print(f"{JOBS} sentiment trainings side by side, {args.examples} sentences, {args.epochs} epochs, ensemble 1; "
              f"os.cpu_count() {os.cpu_count()}, available to this process {cpus}\n")
        print("| repeat | way | --threads | threads used (cards) | pair wall s | each job wall s |")
        print("|---|---|---|---|---|---|")
        pairs: dict[str, list[float]] = {way: [] for way in ways}
        names = list(ways)
        for repeat in range(args.repeats):
            shift = repeat % len(names)
            for way in names[shift:] + names[:shift]:
                wall, walls, used = pair(folder, data, valid, args.epochs, way, ways[way])
                pairs[way].append(wall)
                flag = "(auto)" if ways[way] is None else str(ways[way])
                print(f"| {repeat + 1} | {way} | {flag} | {', '.join(map(str, used))} | {wall:.1f} | {', '.join(f'{w:.1f}' for w in walls)} |", flush=True)
        before = statistics.median(pairs["before"])
        print(f"\nmedian pair wall time of {args.repeats}, and against before:\n")
        print("| way | median pair wall s | / before |")
        print("|---|---|---|")
        for way in names:
            median = statistics.median(pairs[way])
            print(f"| {way} | {median:.1f} | {median / before:.2f} |")


if __name__ == "__main__":
    main()
